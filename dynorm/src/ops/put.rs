use aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure};
use tracing::Instrument;

use super::guard::{next_version, Guard};
use super::{after_write, build_error, into_future, write_failure};
use crate::expr::render::{within_limit, Placeholders};
use crate::expr::Condition;
use crate::hooks;
use crate::item::check_item;
use crate::model::model_to_item as to_item;
use crate::observe::op_span;
use crate::{Db, Item, Model, Result};

/// The request a whole-item write sends.
///
/// A model with a `#[dynorm(created_at)]` field is written with `UpdateItem`, so the
/// stored creation time survives the write (`if_not_exists`); every other model with
/// `PutItem`.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)]
pub enum WriteInput {
    /// A `PutItem` request.
    Put(PutItemInput),
    /// An `UpdateItem` request that sets every attribute of the item.
    Update(UpdateItemInput),
}

impl WriteInput {
    /// The `PutItem` input, when the write is one.
    pub fn as_put(&self) -> Option<&PutItemInput> {
        match self {
            WriteInput::Put(input) => Some(input),
            WriteInput::Update(_) => None,
        }
    }

    /// The `UpdateItem` input, when the write is one.
    pub fn as_update(&self) -> Option<&UpdateItemInput> {
        match self {
            WriteInput::Update(input) => Some(input),
            WriteInput::Put(_) => None,
        }
    }
}

/// A whole-item write before it is built or sent.
enum WriteBuilder {
    Put(PutItemInputBuilder),
    Update(UpdateItemInputBuilder),
}

impl WriteBuilder {
    fn build(self) -> Result<WriteInput> {
        Ok(match self {
            WriteBuilder::Put(b) => WriteInput::Put(b.build().map_err(build_error)?),
            WriteBuilder::Update(b) => WriteInput::Update(b.build().map_err(build_error)?),
        })
    }
}

/// Writes a whole item. Made by `DynaModel::put` and `DynaModel::put_unique`
/// (target [`Put`], the default), and by `DynaModel::save` ([`SaveItem`], target
/// [`Save`], which also refreshes the instance).
///
/// The model is validated with its `validator` rules and checked against DynamoDB's
/// limits (item size, key sizes, empty sets, non-finite numbers) before anything is sent.
///
/// A model with a `#[dynorm(version)]` field is written conditioned on the version it
/// holds (0 means new: an item with the key may only exist without a version) and stored
/// with the next version; a stale instance fails with
/// [`Error::VersionConflict`](crate::error::Error::VersionConflict). `put` leaves the
/// instance as it is; `save` refreshes it with what was stored.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct PutItem<'a, M: Model, W = Put<'a, M>> {
    db: &'a Db,
    target: W,
    guard: Guard<M>,
    check_version: bool,
}

/// Saves a whole instance: validates it, checks it, writes it and refreshes the instance
/// with what was stored (the new version and timestamps). Made by `DynaModel::save`.
pub type SaveItem<'a, M> = PutItem<'a, M, Save<'a, M>>;

/// The target of a put: the instance written, left as it is.
pub struct Put<'a, M>(&'a M);

/// The target of a save: the instance written, refreshed from what was stored.
pub struct Save<'a, M>(&'a mut M);

/// What a whole-item write does with the item it stored.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Nothing: the instance stays as it is.
    Dropped,
    /// The instance is refreshed from it.
    Refreshes,
}

/// The instance a whole-item write writes, and what becomes of it.
pub trait WriteTarget<M>: sealed::Sealed {
    /// The instance written.
    #[doc(hidden)]
    fn instance(&self) -> &M;
}

mod sealed {
    pub trait Sealed {}
    impl<M> Sealed for super::Put<'_, M> {}
    impl<M> Sealed for super::Save<'_, M> {}
}

impl<M> WriteTarget<M> for Put<'_, M> {
    fn instance(&self) -> &M {
        self.0
    }
}

impl<M> WriteTarget<M> for Save<'_, M> {
    fn instance(&self) -> &M {
        self.0
    }
}

impl<'a, M: Model> PutItem<'a, M, Put<'a, M>> {
    pub(crate) fn new(db: &'a Db, model: &'a M) -> Self {
        PutItem {
            db,
            target: Put(model),
            guard: Guard::new(),
            check_version: true,
        }
    }

    /// The instance written.
    pub(crate) fn model(&self) -> &'a M {
        self.target.0
    }

    /// Only write if no item has this key; otherwise fail with
    /// [`Error::AlreadyExists`](crate::error::Error::AlreadyExists).
    pub fn unique(mut self) -> Self {
        self.guard.unique = true;
        self
    }

    /// The SDK input this request sends, after validation and checks. Makes no network
    /// call.
    pub fn to_input(&self) -> Result<WriteInput> {
        self.input(Stored::Dropped)
    }

    /// Sends the request.
    pub async fn send(mut self) -> Result<()> {
        let table = self.db.table_name::<M>();
        let span = op_span!("dynorm.put_item", "PutItem", table, unique = self.guard.unique);
        async move {
            let model = self.target.0;
            hooks::before_save(model)?;
            // In a block, so that the input's place is not kept in the future while the
            // request is sent.
            let request = {
                let (input, _) = prepare(
                    model,
                    self.db,
                    table.clone(),
                    &mut self.guard,
                    self.check_version,
                    Stored::Dropped,
                )?;
                write_request(self.db, &table, input)
            };
            send_write::<M>(self.db, &table, request, &self.guard).await?;
            if M::CASCADES {
                after_write(&table, model.cascade_save(self.db).await)?;
            }
            hooks::after_save(model);
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl<'a, M: Model> PutItem<'a, M, Save<'a, M>> {
    pub(crate) fn new_save(db: &'a Db, model: &'a mut M) -> Self {
        PutItem {
            db,
            target: Save(model),
            guard: Guard::new(),
            check_version: true,
        }
    }

    /// The SDK input this request sends, after validation and checks. Makes no network
    /// call.
    pub fn to_input(&self) -> Result<WriteInput> {
        self.input(Stored::Refreshes)
    }

    /// Sends the request, and refreshes the instance with what was stored.
    pub async fn send(mut self) -> Result<()> {
        let table = self.db.table_name::<M>();
        let span = op_span!("dynorm.save", "PutItem", table);
        async move {
            let model = self.target.0;
            hooks::before_save(&*model)?;
            let (request, written) = {
                let (input, written) = prepare(
                    &*model,
                    self.db,
                    table.clone(),
                    &mut self.guard,
                    self.check_version,
                    Stored::Refreshes,
                )?;
                (write_request(self.db, &table, input), written)
            };
            let returned = send_write::<M>(self.db, &table, request, &self.guard).await?;
            if M::CASCADES {
                after_write(&table, model.cascade_save(self.db).await)?;
            }
            if let Some(item) = returned.or(written) {
                after_write(&table, super::refresh(model, item))?;
            }
            hooks::after_save(&*model);
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl<M: Model, W: WriteTarget<M>> PutItem<'_, M, W> {
    /// Only write if `condition` holds for the item in the table; otherwise fail with
    /// [`Error::ConditionFailed`](crate::error::Error::ConditionFailed), which carries
    /// the current item. Conditions given more than once are ANDed.
    pub fn condition(mut self, condition: Condition<M>) -> Self {
        self.guard.and(condition);
        self
    }

    /// Writes without checking the `#[dynorm(version)]` field: the item is overwritten
    /// whatever its version, and stored with this instance's version plus one.
    pub fn skip_version_check(mut self) -> Self {
        self.check_version = false;
        self
    }

    fn input(&self, stored: Stored) -> Result<WriteInput> {
        let mut guard = self.guard.clone();
        let table = self.db.table_name::<M>();
        prepare(
            self.target.instance(),
            self.db,
            table,
            &mut guard,
            self.check_version,
            stored,
        )?
        .0
        .build()
    }
}

into_future!(PutItem<Put>, ());
into_future!(PutItem<Save>, ());

/// Builds the write for a whole model: the item with its next version and timestamps,
/// and the conditions. Returns the input and, for a put, the item written (a save
/// refreshes the instance from it).
fn prepare<M: Model>(
    model: &M,
    db: &Db,
    table: String,
    guard: &mut Guard<M>,
    check_version: bool,
    stored: Stored,
) -> Result<(WriteBuilder, Option<Item>)> {
    model.validate()?;
    let schema = M::SCHEMA;
    let mut item = to_item(model)?;
    if let Some(attr) = schema.version_attribute {
        let current = model.version().unwrap_or(0);
        item.insert(attr.to_owned(), next_version::<M>(current, &table)?);
        if check_version {
            guard.expected_version = Some(current);
        }
    }
    if let Some((attr, now)) = M::SCHEMA.updated_at.map(|f| (f.attribute, (f.now)())) {
        item.insert(attr.to_owned(), now?);
    }
    let created_at = match M::SCHEMA.created_at.map(|f| (f.attribute, (f.now)())) {
        Some((attr, now)) => {
            let now = now?;
            // Checked with the value a new item would get.
            item.insert(attr.to_owned(), now.clone());
            Some((attr, now))
        }
        None => None,
    };
    check_item(M::SCHEMA, &item)?;

    let mut placeholders = Placeholders::default();
    let condition = guard.render(&mut placeholders)?;
    let on_failure = condition.as_ref().map(|_| ReturnValuesOnConditionCheckFailure::AllOld);

    let Some((created_attr, now)) = created_at else {
        let written = (stored == Stored::Refreshes).then(|| item.clone());
        let (names, values) = placeholders.into_maps();
        let input = PutItemInput::builder()
            .table_name(table)
            .set_item(Some(item))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure(on_failure)
            .set_return_consumed_capacity(db.capacity_mode());
        return Ok((WriteBuilder::Put(input), written));
    };

    // An UpdateItem that sets every attribute, keeps a stored creation time and removes
    // the model's attributes that this instance leaves out.
    let mut key = Item::with_capacity(2);
    for attr in schema.key_names() {
        if let Some(value) = item.remove(attr) {
            key.insert(attr.to_owned(), value);
        }
    }
    item.remove(created_attr);
    let mut set = Vec::with_capacity(item.len() + 1);
    let created = placeholders.name(created_attr);
    let now = placeholders.value(now);
    set.push(format!("{created} = if_not_exists({created}, {now})"));
    let (attributes, _) = (M::SCHEMA.attributes.names, M::SCHEMA.attributes.flattened);
    let mut remove = Vec::new();
    // An entity's index keys left out (a sparse index it no longer belongs to) go too.
    let index_keys = schema
        .entity
        .into_iter()
        .flat_map(|e| e.keys.iter().filter(|k| k.index.is_some()).map(|k| k.attribute));
    let mut removed: Vec<&str> = Vec::new();
    for attr in attributes.iter().copied().chain(index_keys) {
        let is_key = attr == schema.hash_key.name || schema.range_key.is_some_and(|k| k.name == attr);
        if !is_key && attr != created_attr && !item.contains_key(attr) && !removed.contains(&attr) {
            removed.push(attr);
            remove.push(placeholders.name(attr));
        }
    }
    let mut names: Vec<&String> = item.keys().collect();
    names.sort();
    for name in names {
        let value: AttributeValue = item[name].clone();
        let n = placeholders.name(name);
        let v = placeholders.value(value);
        set.push(format!("{n} = {v}"));
    }
    let mut expression = format!("SET {}", set.join(", "));
    if !remove.is_empty() {
        expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
    }
    let expression = within_limit(expression)?;
    let return_value = match stored {
        Stored::Refreshes => ReturnValue::AllNew,
        Stored::Dropped => ReturnValue::None,
    };
    let input = super::update::update_input(db, table, key, expression, condition, placeholders, return_value);
    Ok((WriteBuilder::Update(input), None))
}

/// What a whole-item write resolves to: the item DynamoDB returned (for an update), and
/// the capacity it consumed.
type Written = std::result::Result<(Option<Item>, Option<ConsumedCapacity>), super::WriteFailure>;

/// The request of a whole-item write, made but not sent: a pointer, where the input is
/// hundreds of bytes that the waits before sending would otherwise carry. A whole-item
/// write without a condition stores the same item when repeated.
fn write_request<'a>(db: &'a Db, table: &'a str, input: WriteBuilder) -> futures::future::BoxFuture<'a, Written> {
    match input {
        WriteBuilder::Put(input) => {
            tracing::trace!(input = ?input, "put_item");
            let idempotent = input.get_condition_expression().is_none();
            let sent = input.send_with(db.write_client(idempotent));
            Box::pin(async move {
                sent.await
                    .map(|out| (None, out.consumed_capacity))
                    .map_err(|e| write_failure(e, table, idempotent))
            })
        }
        WriteBuilder::Update(input) => {
            // A model with `created_at` is written with an UpdateItem: SET of every
            // attribute and `if_not_exists` of the creation time, harmless to repeat.
            let span = tracing::Span::current();
            span.record("db.operation.name", "UpdateItem");
            span.record("rpc.method", "UpdateItem");
            span.record("otel.name", format_args!("UpdateItem {table}"));
            tracing::trace!(input = ?input, "update_item");
            let idempotent = input.get_condition_expression().is_none();
            let sent = input.send_with(db.write_client(idempotent));
            Box::pin(async move {
                sent.await
                    .map(|out| (out.attributes, out.consumed_capacity))
                    .map_err(|e| write_failure(e, table, idempotent))
            })
        }
    }
}

/// Sends a whole-item write made by [`write_request`]; returns the item DynamoDB
/// returned, for an update.
async fn send_write<M: Model>(
    db: &Db,
    table: &str,
    request: futures::future::BoxFuture<'_, Written>,
    guard: &Guard<M>,
) -> Result<Option<Item>> {
    db.prepare::<M>(table).await?;
    let mut ticket = db.ticket(crate::budget::Spend::Write).await;
    match request.await {
        Ok((item, consumed)) => {
            db.record_capacity(consumed.as_ref());
            ticket.settle(consumed.as_ref());
            Ok(item)
        }
        Err(failure) => Err(ticket.fail(failure.into_error(table, guard))),
    }
}
