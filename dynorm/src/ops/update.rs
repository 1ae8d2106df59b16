use std::future::Future;

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;
use tracing::Instrument;

use super::guard::{next_version, Guard};
use super::{after_write, build_error, into_future, refresh, write_failure};
use crate::expr::apply::apply;
use crate::expr::render::Placeholders;
use crate::expr::{Action, Condition, List, Numeric, Path, Segment, Set, Update, ValueOf};
use crate::hooks;
use crate::item::key_item;
use crate::observe::op_span;
use crate::{Db, Model, Result};

/// What an update resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReturnValues {
    /// The item after the update (the default).
    #[default]
    AllNew,
    /// The item before the update; `None` when the update created it.
    AllOld,
    /// Nothing: the update resolves to `None`.
    None,
}

/// Updates one item with SET, REMOVE, ADD and DELETE actions on typed paths.
///
/// One builder for every update, whose target `Tg` decides what it resolves to:
/// - [`ByKey`] (the default): made by `DynaModel::update_by_key` and the manager's
///   `update` and `partial_update`; resolves to the item
///   [`return_values`](UpdateItem::return_values) asks for.
/// - [`OnInstance`]: made by `DynaModel::update` on an instance, which is refreshed
///   from the updated item (`ALL_NEW`); resolves to `()`, and has no `return_values`.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String, views: u64, tags: Vec<String> }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let f = Book::fields();
/// let updated = Book::update_by_key(&db, "isbn-1")
///     .increment(f.views(), 1)
///     .append(f.tags(), ["classic"])
///     .condition(f.isbn().exists())
///     .await?;
/// # Ok(()) }
/// ```
///
/// Versioned models: an instance's update is conditioned on its version and stores the
/// next one; an update by key increments the version (`ADD`) and checks it only when
/// given [`expect_version`](UpdateItem::expect_version). `#[dynorm(updated_at)]` is set,
/// and `#[dynorm(created_at)]` set only where absent.
///
/// # Validation
///
/// An **instance's update** ([`OnInstance`], also as part of a transaction) is checked
/// against the model's `validator` rules before anything is sent: its actions are
/// applied to a copy of the instance's item, as DynamoDB would apply them (SET, SET
/// `if_not_exists`, REMOVE, increments and number ADD, computed exactly, `list_append`,
/// set ADD and DELETE), the copy is decoded into the model and validated, and a copy
/// that breaks a rule fails with [`Error::Validation`](crate::Error::Validation). The
/// copy starts from the instance, not from the stored item: an action whose effect the
/// instance cannot tell (a path through an attribute it lacks, arithmetic on an
/// attribute that is no number) is left out of it, and DynamoDB decides it. A copy the
/// model cannot decode (a REMOVE of a field without a default) is refused with
/// [`Error::Decode`](crate::Error::Decode), since the instance could not
/// be refreshed from the result. `.to_input()` runs the same check.
///
/// An **update by key** ([`ByKey`]: `update_by_key`, the manager's `update` and
/// `partial_update`) is **not validated**: there is no item to apply it to, and
/// `validator` rules belong to whole instances. Validate the values you set yourself,
/// or read the item and update the instance instead.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel, Error};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, #[validate(length(min = 1))] title: String }
/// # async fn run(db: Db, mut book: Book) -> dynorm::Result<()> {
/// let f = Book::fields();
/// match book.update(&db).set(f.title(), "").await {
///     Err(Error::Validation(errors)) => {} // nothing was sent; `book` is unchanged
///     other => panic!("{other:?}"),
/// }
/// // Sent as is: an update by key is not validated.
/// Book::update_by_key(&db, "isbn-1").set(f.title(), "").await?;
/// # Ok(()) }
/// ```
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct UpdateItem<'a, M: Model, Tg = ByKey> {
    db: &'a Db,
    key: M::Key,
    update: Update<M>,
    guard: Guard<M>,
    check_version: bool,
    target: Tg,
}

/// The target of an update by key: it resolves to the item its `return_values` asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct ByKey {
    return_values: ReturnValues,
}

/// The target of an instance's update: the instance, refreshed from the updated item.
pub struct OnInstance<'a, M> {
    model: &'a mut M,
}

/// The target of a tracked instance's partial save, which runs the save hooks.
pub(crate) struct OnTracked<'a, M> {
    model: &'a mut M,
}

/// What an update's target tells the request: the item it asks DynamoDB to return, and
/// the instance its hooks see.
pub trait UpdateTarget<M>: sealed::Sealed {
    /// The `ReturnValues` the request asks for.
    #[doc(hidden)]
    fn return_value(&self) -> ReturnValue;
    /// The instance updated, if any.
    #[doc(hidden)]
    fn instance(&self) -> Option<&M>;
    /// The instance whose copy, with the update applied, must pass the model's
    /// `validator` rules before the update is sent, if any.
    #[doc(hidden)]
    fn validated(&self) -> Option<&M>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::ByKey {}
    impl<M> Sealed for super::OnInstance<'_, M> {}
    impl<M> Sealed for super::OnTracked<'_, M> {}
}

impl<M> UpdateTarget<M> for ByKey {
    fn return_value(&self) -> ReturnValue {
        match self.return_values {
            ReturnValues::AllNew => ReturnValue::AllNew,
            ReturnValues::AllOld => ReturnValue::AllOld,
            ReturnValues::None => ReturnValue::None,
        }
    }
    fn instance(&self) -> Option<&M> {
        None
    }
    fn validated(&self) -> Option<&M> {
        // No item to apply the update to.
        None
    }
}

impl<M> UpdateTarget<M> for OnInstance<'_, M> {
    fn return_value(&self) -> ReturnValue {
        // The instance is refreshed from the new item (its version, its timestamps).
        ReturnValue::AllNew
    }
    fn instance(&self) -> Option<&M> {
        Some(self.model)
    }
    fn validated(&self) -> Option<&M> {
        Some(self.model)
    }
}

impl<M> UpdateTarget<M> for OnTracked<'_, M> {
    fn return_value(&self) -> ReturnValue {
        ReturnValue::AllNew
    }
    fn instance(&self) -> Option<&M> {
        Some(self.model)
    }
    fn validated(&self) -> Option<&M> {
        // The partial save validated the instance, which the update brings the item to.
        None
    }
}

impl<'a, M: Model> UpdateItem<'a, M, ByKey> {
    pub(crate) fn for_key(db: &'a Db, key: M::Key) -> Self {
        UpdateItem {
            db,
            key,
            update: Update::new(),
            guard: Guard::new(),
            check_version: true,
            target: ByKey::default(),
        }
    }

    /// What the update resolves to: the new item (default), the old one, or nothing.
    pub fn return_values(mut self, return_values: ReturnValues) -> Self {
        self.target.return_values = return_values;
        self
    }

    /// Sends the request, not validated (see [Validation](UpdateItem#validation)).
    /// Resolves to the item [`return_values`](Self::return_values) asks for. Once
    /// DynamoDB has applied the update, a failure to decode that item is
    /// [`Error::Applied`](crate::error::Error::Applied).
    // Not an `async fn`: the future is the instrumented block alone, without a second
    // place for `self` and the span around it (see `send_request_for`).
    pub fn send(self) -> impl Future<Output = Result<Option<M>>> + Send + 'a {
        let span = op_span!("dynorm.update_item", "UpdateItem", self.db.table_name::<M>());
        async move {
            hooks::before_update::<M>(&self.key, None)?;
            let (table, key, item) = self.send_request().await?;
            let returned = after_write(&table, item.map(hooks::load::<M>).transpose())?;
            hooks::after_update(&key, returned.as_ref());
            Ok(returned)
        }
        .instrument(span)
    }
}

impl<'a, M: Model> UpdateItem<'a, M, OnInstance<'a, M>> {
    pub(crate) fn for_instance(db: &'a Db, model: &'a mut M) -> Self {
        let mut guard = Guard::new();
        guard.expected_version = model.version();
        UpdateItem {
            db,
            key: model.key(),
            update: Update::new(),
            guard,
            check_version: true,
            target: OnInstance { model },
        }
    }

    /// Validates the instance with the update applied (see [Validation](UpdateItem#validation)),
    /// sends the request, and refreshes the instance from the updated item. Once
    /// DynamoDB has applied the update, a failure to decode that item is
    /// [`Error::Applied`](crate::error::Error::Applied) (the instance is then unchanged).
    pub fn send(self) -> impl Future<Output = Result<()>> + Send + 'a {
        let span = op_span!("dynorm.update_item", "UpdateItem", self.db.table_name::<M>());
        async move {
            hooks::before_update(&self.key, Some(&*self.target.model))?;
            let (request, OnInstance { model }) = self.split();
            let (table, key, item) = request
                .send_request_for(ReturnValue::AllNew, Some(&*model), Some(&*model))
                .await?;
            if let Some(new) = item {
                after_write(&table, refresh(model, new))?;
            }
            hooks::after_update(&key, Some(&*model));
            Ok(())
        }
        .instrument(span)
    }
}

impl<'a, M: Model> UpdateItem<'a, M, OnTracked<'a, M>> {
    /// The partial save of a tracked instance: `update` brings the stored item to it.
    pub(crate) fn for_tracked(db: &'a Db, model: &'a mut M, update: Update<M>) -> Self {
        let UpdateItem { key, guard, .. } = UpdateItem::for_instance(db, &mut *model);
        UpdateItem {
            db,
            key,
            update,
            guard,
            check_version: true,
            target: OnTracked { model },
        }
    }

    /// Sends the save and refreshes the instance; runs the save hooks.
    pub(crate) async fn send(self) -> Result<()> {
        self.send_planned(|_| {}).await
    }

    /// Sends the save and refreshes the instance; runs the save hooks. `on_stored` sees
    /// the item as stored after the update (`ALL_NEW`) before the instance is refreshed
    /// from it (a partial save compares it with what it planned).
    pub(crate) fn send_planned(
        self,
        on_stored: impl FnOnce(&crate::Item) + Send + 'a,
    ) -> impl Future<Output = Result<()>> + Send + 'a {
        let span = op_span!("dynorm.update_item", "UpdateItem", self.db.table_name::<M>());
        async move {
            hooks::before_save(&*self.target.model)?;
            let (request, OnTracked { model }) = self.split();
            let (table, _, item) = request
                .send_request_for(ReturnValue::AllNew, None, Some(&*model))
                .await?;
            if let Some(new) = item {
                on_stored(&new);
                after_write(&table, refresh(model, new))?;
            }
            hooks::after_save(&*model);
            Ok(())
        }
        .instrument(span)
    }
}

impl<'a, M: Model, Tg: UpdateTarget<M>> UpdateItem<'a, M, Tg> {
    /// The key this update is for, and the instance its hooks see.
    pub(crate) fn hook_target(&self) -> (&M::Key, Option<&M>) {
        (&self.key, self.target.instance())
    }

    /// The request and its target, apart.
    fn split(self) -> (UpdateItem<'a, M, ()>, Tg) {
        let request = UpdateItem {
            db: self.db,
            key: self.key,
            update: self.update,
            guard: self.guard,
            check_version: self.check_version,
            target: (),
        };
        (request, self.target)
    }

    fn with(mut self, f: impl FnOnce(Update<M>) -> Update<M>) -> Self {
        self.update = f(std::mem::take(&mut self.update));
        self
    }

    /// Adds the actions of a prepared [`Update`].
    pub fn apply(self, update: Update<M>) -> Self {
        self.with(|u| u.merge(update))
    }

    /// `SET path = value`.
    pub fn set<T>(self, path: Path<M, T>, value: impl ValueOf<T>) -> Self {
        self.with(|u| u.set(path, value))
    }

    /// `SET path = if_not_exists(path, value)`.
    pub fn set_if_not_exists<T>(self, path: Path<M, T>, value: impl ValueOf<T>) -> Self {
        self.with(|u| u.set_if_not_exists(path, value))
    }

    /// `REMOVE path`.
    pub fn remove<T>(self, path: Path<M, T>) -> Self {
        self.with(|u| u.remove(path))
    }

    /// Adds `by` to a number; an absent attribute counts as 0.
    pub fn increment<T: Numeric>(self, path: Path<M, T>, by: impl ValueOf<T>) -> Self {
        self.with(|u| u.increment(path, by))
    }

    /// Subtracts `by` from a number; an absent attribute counts as 0.
    pub fn decrement<T: Numeric>(self, path: Path<M, T>, by: impl ValueOf<T>) -> Self {
        self.with(|u| u.decrement(path, by))
    }

    /// `ADD path n` on a number.
    pub fn add<T: Numeric>(self, path: Path<M, T>, n: impl ValueOf<T>) -> Self {
        self.with(|u| u.add(path, n))
    }

    /// `ADD path {elements}` on a set.
    pub fn add_to_set<T: Set, E: ValueOf<T::Element>>(
        self,
        path: Path<M, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        self.with(|u| u.add_to_set(path, elements))
    }

    /// `DELETE path {elements}` on a set.
    pub fn delete_from_set<T: Set, E: ValueOf<T::Element>>(
        self,
        path: Path<M, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        self.with(|u| u.delete_from_set(path, elements))
    }

    /// Appends to a list; an absent list counts as empty.
    pub fn append<T: List, E: ValueOf<T::Element>>(self, path: Path<M, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.with(|u| u.append(path, items))
    }

    /// Prepends to a list; an absent list counts as empty.
    pub fn prepend<T: List, E: ValueOf<T::Element>>(self, path: Path<M, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.with(|u| u.prepend(path, items))
    }

    /// Only update if `condition` holds; otherwise fail with
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed), which carries the
    /// current item. Conditions given more than once are ANDed.
    pub fn condition(mut self, condition: Condition<M>) -> Self {
        self.guard.and(condition);
        self
    }

    /// Only update if the item's `#[dynorm(version)]` field is `version` (0: the item
    /// must not exist), and store `version + 1`.
    pub fn expect_version(mut self, version: u64) -> Self {
        self.guard.expected_version = Some(version);
        self.check_version = true;
        self
    }

    /// Updates whatever the item's version; the version is still incremented.
    pub fn skip_version_check(mut self) -> Self {
        self.check_version = false;
        self
    }

    /// The SDK input this request sends, after the checks sending makes (an instance's
    /// update is validated). Makes no network call.
    pub fn to_input(&self) -> Result<UpdateItemInput> {
        let mut guard = self.guard.clone();
        let (input, _) = request_input(
            self.db,
            self.db.table_name::<M>(),
            &self.key,
            self.update.clone(),
            &mut guard,
            self.check_version,
            self.target.return_value(),
            self.target.validated(),
            self.target.instance(),
        )?;
        input.build().map_err(build_error)
    }
}

impl<M: Model, Tg> UpdateItem<'_, M, Tg> {
    /// Sends the request as it is, asking for `return_value`, once the update applied to
    /// `validated` (an instance) passes the model's rules; answers with the table, the
    /// key and the item DynamoDB returned.
    async fn send_request_for(
        self,
        return_value: ReturnValue,
        validated: Option<&M>,
        instance: Option<&M>,
    ) -> Result<(String, M::Key, Option<crate::Item>)> {
        let table = self.db.table_name::<M>();
        let mut guard = self.guard;
        // The request is made (not sent) before the waits below, in a block, so that they
        // hold a pointer rather than the input's hundreds of bytes.
        let (request, idempotent) = {
            let (input, idempotent) = request_input(
                self.db,
                table.clone(),
                &self.key,
                self.update,
                &mut guard,
                self.check_version,
                return_value,
                validated,
                instance,
            )?;
            tracing::trace!(input = ?input, "update_item");
            (Box::pin(input.send_with(self.db.write_client(idempotent))), idempotent)
        };
        self.db.prepare::<M>(&table).await?;
        let mut ticket = self.db.ticket(crate::budget::Spend::Write).await;
        let output = request
            .await
            .map_err(|e| ticket.fail(write_failure(e, &table, idempotent).into_error(&table, &guard)))?;
        ticket.settle(output.consumed_capacity());
        self.db.record_capacity(output.consumed_capacity());
        Ok((table, self.key, output.attributes))
    }
}

impl<'a, M: Model> UpdateItem<'a, M, ByKey> {
    fn send_request(self) -> impl Future<Output = Result<(String, M::Key, Option<crate::Item>)>> + Send + 'a {
        let return_value = UpdateTarget::<M>::return_value(&self.target);
        self.send_request_for(return_value, None, None)
    }
}

/// The request of an update, and whether sending it twice is harmless: no condition, and
/// only actions that set values rather than add to them. With `validated`, the update is
/// refused unless that instance with the update applied passes the model's rules.
#[allow(clippy::too_many_arguments)]
fn request_input<M: Model>(
    db: &Db,
    table: String,
    key: &M::Key,
    update: Update<M>,
    guard: &mut Guard<M>,
    check_version: bool,
    return_value: ReturnValue,
    validated: Option<&M>,
    instance: Option<&M>,
) -> Result<(UpdateItemInputBuilder, bool)> {
    let schema = M::SCHEMA;
    let key_fields = key;
    let key = key_item(schema, key)?;
    let mut update = update;
    refuse_key_updates::<M>(&update.actions)?;
    if let Some(entity) = schema.entity {
        let key_values = crate::PrimaryKey::field_values(key_fields);
        // The instance, when there is one, gives the fields the update leaves as they are
        // (encoded only when an index key must be computed from them).
        let encode = instance.map(|model| move || crate::model::model_to_item(model));
        let encode = encode.as_ref().map(|f| f as &dyn Fn() -> Result<crate::Item>);
        for action in index_key_actions(entity, &update.actions, &key_values, encode)? {
            update.push_action(action);
        }
    }
    if let Some(attr) = schema.version_attribute {
        let path = vec![Segment::Name(attr.into())];
        match (check_version, guard.expected_version) {
            (true, Some(expected)) => update.push_action(Action::Set(path, next_version::<M>(expected, &table)?)),
            _ => {
                guard.expected_version = None;
                guard.version_capped = true;
                update.push_action(Action::Add(path, AttributeValue::N("1".into())));
            }
        }
    } else {
        guard.expected_version = None;
    }
    if let Some(field) = schema.updated_at {
        update.push_action(Action::Set(vec![Segment::Name(field.attribute.into())], (field.now)()?));
    }
    if let Some(field) = schema.created_at {
        update.push_action(Action::SetIfNotExists(
            vec![Segment::Name(field.attribute.into())],
            (field.now)()?,
        ));
    }
    if let Some(version) = schema.schema_version {
        update.push_action(Action::Set(
            vec![Segment::Name(version.attribute.into())],
            crate::migrate::version_value(version.current),
        ));
    }
    // An entity's update writes its type (an upsert creates a typed item) and applies
    // only to an item of that type, or to none.
    let entity_type = schema.entity;
    if let Some(entity) = entity_type {
        let path = vec![Segment::Name(entity.type_attribute.into())];
        update.push_action(Action::Set(path, AttributeValue::S(entity.type_name.to_owned())));
        // The key's fields are fields of the item too: an update that creates the item
        // writes them, so that it reads back as the entity.
        for (name, value) in entity
            .key_fields
            .iter()
            .zip(crate::PrimaryKey::field_values(key_fields))
        {
            let is_table_key = *name == schema.hash_key.name || schema.range_key.is_some_and(|r| r.name == *name);
            if !is_table_key {
                update.push_action(Action::Set(vec![Segment::Name((*name).into())], value));
            }
        }
    }
    let repeatable = update.actions.iter().all(Action::is_idempotent);
    let actions = validated.map(|_| update.actions.clone());
    let mut placeholders = Placeholders::default();
    let expression = placeholders.update(update)?;
    let mut condition = guard.render(&mut placeholders)?;
    if let (Some(model), Some(actions)) = (validated, actions) {
        validate_updated(model, &actions)?;
    }
    // The type condition holds again on a repeat: it does not make the write unsafe to
    // resend.
    let idempotent = repeatable && condition.is_none();
    if let Some(entity) = entity_type {
        guard.entity_type = true;
        let name = placeholders.name(entity.type_attribute);
        let value = placeholders.value(AttributeValue::S(entity.type_name.to_owned()));
        let typed = format!("attribute_not_exists({name}) OR {name} = {value}");
        condition = Some(match condition {
            Some(c) => format!("({c}) AND ({typed})"),
            None => typed,
        });
    }
    // An update applies to an item at the model's schema version, or to none: writing
    // the current shape into an older item would mix the two.
    if let Some(version) = schema.schema_version {
        guard.schema_version = true;
        let hash = placeholders.name(schema.hash_key.name);
        let name = placeholders.name(version.attribute);
        let value = placeholders.value(crate::migrate::version_value(version.current));
        let mut current = format!("attribute_not_exists({hash}) OR {name} = {value}");
        if version.default == version.current {
            current.push_str(&format!(" OR attribute_not_exists({name})"));
        }
        condition = Some(match condition {
            Some(c) => format!("({c}) AND ({current})"),
            None => current,
        });
    }
    let input = update_input(db, table, key, expression, condition, placeholders, return_value);
    Ok((input, idempotent))
}

/// Refuses an instance's update whose result breaks the model's `validator` rules
/// ([`Error::Validation`](crate::Error::Validation)): the actions are applied to the
/// instance's item, as far as they can be computed here (see [`apply`]), and the result
/// is decoded into the model and validated. A result the model cannot decode (a REMOVE
/// of a field without a default) is refused with
/// [`Error::Decode`](crate::Error::Decode): the instance could not be
/// refreshed from it.
fn validate_updated<M: Model>(model: &M, actions: &[Action]) -> Result<()> {
    let mut item = crate::model::model_to_item(model)?;
    apply(&mut item, actions);
    let updated: M = crate::model::model_from_item(item)?;
    updated.validate()?;
    Ok(())
}

/// An `UpdateItem` input from its rendered expressions: the current item comes back when
/// the condition fails.
pub(super) fn update_input(
    db: &Db,
    table: String,
    key: crate::Item,
    expression: String,
    condition: Option<String>,
    placeholders: Placeholders,
    return_value: ReturnValue,
) -> UpdateItemInputBuilder {
    let on_failure = condition.as_ref().map(|_| ReturnValuesOnConditionCheckFailure::AllOld);
    let (names, values) = placeholders.into_maps();
    UpdateItemInput::builder()
        .table_name(table)
        .set_key(Some(key))
        .update_expression(expression)
        .set_condition_expression(condition)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .set_return_values_on_condition_check_failure(on_failure)
        .return_values(return_value)
        .set_return_consumed_capacity(db.capacity_mode())
}

/// Refuses an update of the primary key attributes, which DynamoDB cannot change (an item
/// is moved by a put under the new key and a delete of the old one).
fn refuse_key_updates<M: Model>(actions: &[Action]) -> Result<()> {
    let schema = M::SCHEMA;
    for action in actions {
        if let [Segment::Name(name)] = action.segments() {
            let is_key = name == schema.hash_key.name || schema.range_key.is_some_and(|r| name == r.name);
            if is_key {
                return Err(crate::Error::InvalidExpression(format!(
                    "an update cannot change the key attribute `{name}`; put the item under the new key and delete the old one"
                )));
            }
        }
    }
    Ok(())
}

/// The actions that keep an entity's index keys in step with an update of the fields
/// they are made of: each index key whose template has a field the update changes is
/// set again from the update's new values and the item's key, or removed with its index
/// partner when the update removes one of its fields (the item leaves the sparse
/// index). An update that changes such a field without giving every other field of the
/// template is refused: the new key cannot be computed without reading the item.
fn index_key_actions(
    entity: &crate::schema::EntitySchema,
    actions: &[Action],
    key_values: &[AttributeValue],
    encode_instance: Option<&dyn Fn() -> Result<crate::Item>>,
) -> Result<Vec<Action>> {
    use std::collections::HashMap;
    let mut set: HashMap<&str, &AttributeValue> = HashMap::new();
    let mut removed: Vec<&str> = Vec::new();
    let mut touched: Vec<&str> = Vec::new();
    for action in actions {
        let Some(Segment::Name(name)) = action.segments().first() else {
            continue;
        };
        touched.push(name);
        match action {
            Action::Set(segments, value) if segments.len() == 1 => {
                set.insert(name, value);
            }
            Action::Remove(segments) if segments.len() == 1 => removed.push(name),
            _ => {}
        }
    }
    let mut out = Vec::new();
    let mut done: Vec<&str> = Vec::new();
    let mut instance_item = None;
    for index in entity.keys.iter().filter_map(|k| k.index) {
        if done.contains(&index) {
            continue;
        }
        done.push(index);
        let keys: Vec<&crate::schema::ComputedKey> = entity.keys.iter().filter(|k| k.index == Some(index)).collect();
        // A partial save already sets the index keys it computed from the whole item.
        if keys.iter().any(|k| touched.contains(&k.attribute)) {
            continue;
        }
        let fields: Vec<&'static str> = keys.iter().flat_map(|k| k.template.fields()).collect();
        let Some(changed) = fields.iter().find(|f| touched.contains(*f)).copied() else {
            continue;
        };
        // Both keys of the index are written again (or removed) together.
        if fields.iter().any(|f| removed.contains(f)) {
            out.extend(
                keys.iter()
                    .map(|k| Action::Remove(vec![Segment::Name(k.attribute.into())])),
            );
            continue;
        }
        if instance_item.is_none() {
            instance_item = encode_instance.map(|encode| encode()).transpose()?;
        }
        let instance = instance_item.as_ref();
        // The entity's key fields are part of the key, never updated.
        let known = |f: &&str| {
            set.contains_key(f) || entity.key_fields.contains(f) || instance.is_some_and(|i| i.contains_key(*f))
        };
        let unknown = fields.iter().find(|f| !known(f));
        if let Some(field) = unknown {
            return Err(crate::Error::InvalidRequest(format!(
                "this update changes `{changed}`, which the keys of the index `{index}` are made of, but not `{field}`: \
                 set every field of that index's templates in the same update (or save the whole instance), so its keys can be rewritten"
            )));
        }
        let value_of = |_: usize, name: &'static str| match set.get(name) {
            Some(value) => Some(*value),
            None => entity
                .key_fields
                .iter()
                .position(|f| *f == name)
                .and_then(|at| key_values.get(at))
                .or_else(|| instance.and_then(|i| i.get(name))),
        };
        let mut rendered = Vec::with_capacity(keys.len());
        for key in &keys {
            let value =
                crate::template::render_value(&key.template, value_of).map_err(|problem| crate::Error::InvalidKey {
                    attribute: key.attribute.to_owned(),
                    problem,
                })?;
            rendered.push((key.attribute, value));
        }
        if rendered.iter().all(|(_, v)| v.is_some()) {
            out.extend(
                rendered
                    .into_iter()
                    .filter_map(|(a, v)| Some(Action::Set(vec![Segment::Name(a.into())], v?))),
            );
        } else {
            // A field set to null: the item leaves the sparse index.
            out.extend(
                keys.iter()
                    .map(|k| Action::Remove(vec![Segment::Name(k.attribute.into())])),
            );
        }
    }
    Ok(out)
}

impl<'a, M: Model> std::future::IntoFuture for UpdateItem<'a, M, ByKey> {
    type Output = Result<Option<M>>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<Option<M>>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

into_future!(UpdateItem<OnInstance>, ());
into_future!(UpdateItem<OnTracked>, ());
