//! Transactions: all-or-nothing writes (`TransactWriteItems`) and consistent reads of
//! several items (`TransactGetItems`), across tables.

use std::collections::HashSet;
use std::marker::PhantomData;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::transact_get_items::TransactGetItemsError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::CancellationReason;
use aws_sdk_dynamodb::types::{
    ConditionCheck as SdkConditionCheck, Delete, Get, Put, ReturnValuesOnConditionCheckFailure, TransactGetItem,
    TransactWriteItem, Update,
};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use tracing::Instrument;

use crate::batch::{key_id, prepare, Prepare};
use crate::error::build_error;
pub use crate::error::{CancelCode, CancelReason};
use crate::expr::render::Placeholders;
use crate::expr::Condition;
use crate::hooks::{self, AfterHook};
use crate::item::key_item;
use crate::key::IntoKey;
use crate::observe::op_span;
use crate::ops::{DeleteItem, GetItem, PutItem, UpdateItem, WriteInput};
use crate::value::item_size;
use crate::{Db, Error, Item, Model, Result};

/// DynamoDB's limits of one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;
/// The total size of a transaction's items, in bytes.
pub const MAX_TRANSACTION_BYTES: usize = 4 * 1024 * 1024;

/// One write of a transaction, with what dynorm checks about it.
pub struct TransactEntry {
    item: TransactWriteItem,
    table: String,
    key: String,
    key_item: Item,
    size: usize,
    prepare: Prepare,
    /// The model's `after_*` hook, run once the transaction is applied.
    after: Option<AfterHook>,
}

/// What can go into a [`TransactWrite`]: the builders of `put`, `put_unique`,
/// `update`/`update_by_key` and `delete`/`delete_by_key`, with their conditions (and
/// version checks: a versioned model's write is conditioned on its version and stores
/// the next one), and [`ConditionCheck`].
///
/// A transaction does not refresh instances: after an instance `update` or a versioned
/// `put` in a transaction, read the item again for its new version.
pub trait TransactOp {
    /// The write as a transaction item.
    fn into_entry(self) -> Result<TransactEntry>;
}

fn on_failure(condition: &Option<String>) -> Option<ReturnValuesOnConditionCheckFailure> {
    condition.as_ref().map(|_| ReturnValuesOnConditionCheckFailure::AllOld)
}

fn key_of<M: Model>(item: &Item) -> String {
    let names: Vec<&str> = M::SCHEMA.key_names().collect();
    key_id(item, &names)
}

fn entry<M: Model>(item: TransactWriteItem, table: String, key: &Item, size: usize) -> TransactEntry {
    let schema = M::SCHEMA;
    let key_item = key
        .iter()
        .filter(|(name, _)| *name == schema.hash_key.name || schema.range_key.is_some_and(|r| r.name == *name))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    TransactEntry {
        item,
        table,
        key: key_of::<M>(key),
        key_item,
        size,
        prepare: prepare::<M>,
        after: None,
    }
}

impl<M: Model> TransactOp for PutItem<'_, M> {
    fn into_entry(self) -> Result<TransactEntry> {
        hooks::before_save(self.model())?;
        let after = if hooks::enabled::<M>() {
            hooks::after_save_item::<M>(&crate::model::model_to_item(self.model())?)
        } else {
            None
        };
        let entry = match self.to_input()? {
            WriteInput::Put(input) => {
                let item = input.item.unwrap_or_default();
                let size = item_size(&item);
                let key = item.clone();
                let table = input.table_name.unwrap_or_default();
                let put = Put::builder()
                    .table_name(&table)
                    .set_item(Some(item))
                    .set_return_values_on_condition_check_failure(on_failure(&input.condition_expression))
                    .set_condition_expression(input.condition_expression)
                    .set_expression_attribute_names(input.expression_attribute_names)
                    .set_expression_attribute_values(input.expression_attribute_values)
                    .build()
                    .map_err(build_error)?;
                entry::<M>(TransactWriteItem::builder().put(put).build(), table, &key, size)
            }
            WriteInput::Update(input) => update_entry::<M>(input)?,
        };
        Ok(TransactEntry { after, ..entry })
    }
}

fn update_entry<M: Model>(input: aws_sdk_dynamodb::operation::update_item::UpdateItemInput) -> Result<TransactEntry> {
    let key = input.key.unwrap_or_default();
    let size = item_size(&key)
        + input
            .expression_attribute_values
            .as_ref()
            .map_or(0, |v| v.values().map(crate::value_size).sum());
    let table = input.table_name.unwrap_or_default();
    let update = Update::builder()
        .table_name(&table)
        .set_key(Some(key.clone()))
        .set_update_expression(input.update_expression)
        .set_return_values_on_condition_check_failure(on_failure(&input.condition_expression))
        .set_condition_expression(input.condition_expression)
        .set_expression_attribute_names(input.expression_attribute_names)
        .set_expression_attribute_values(input.expression_attribute_values)
        .build()
        .map_err(build_error)?;
    Ok(entry::<M>(
        TransactWriteItem::builder().update(update).build(),
        table,
        &key,
        size,
    ))
}

impl<M: Model, T: crate::ops::UpdateTarget<M>> TransactOp for UpdateItem<'_, M, T> {
    fn into_entry(self) -> Result<TransactEntry> {
        let (key, instance) = self.hook_target();
        hooks::before_update(key, instance)?;
        Ok(TransactEntry {
            after: hooks::after_key::<M>(key, false),
            ..update_entry::<M>(self.to_input()?)?
        })
    }
}

impl<M: Model> TransactOp for DeleteItem<'_, M> {
    fn into_entry(self) -> Result<TransactEntry> {
        let (key, instance) = self.hook_target();
        hooks::before_delete(key, instance)?;
        let after = hooks::after_key::<M>(key, true);
        let input = self.to_input()?;
        let key = input.key.unwrap_or_default();
        let size = item_size(&key);
        let table = input.table_name.unwrap_or_default();
        let delete = Delete::builder()
            .table_name(&table)
            .set_key(Some(key.clone()))
            .set_return_values_on_condition_check_failure(on_failure(&input.condition_expression))
            .set_condition_expression(input.condition_expression)
            .set_expression_attribute_names(input.expression_attribute_names)
            .set_expression_attribute_values(input.expression_attribute_values)
            .build()
            .map_err(build_error)?;
        Ok(TransactEntry {
            after,
            ..entry::<M>(TransactWriteItem::builder().delete(delete).build(), table, &key, size)
        })
    }
}

/// A condition on an item that a transaction requires without writing it: the
/// transaction is cancelled when it does not hold.
#[must_use = "a condition check does nothing until it is added to a transaction"]
pub struct ConditionCheck<'a, M: Model> {
    db: &'a Db,
    key: M::Key,
    condition: Condition<M>,
}

impl<'a, M: Model> ConditionCheck<'a, M> {
    /// Requires `condition` to hold for the item with `key`.
    pub fn new(db: &'a Db, key: impl IntoKey<M::Key>, condition: Condition<M>) -> Self {
        ConditionCheck {
            db,
            key: key.into_key(),
            condition,
        }
    }
}

impl<M: Model> TransactOp for ConditionCheck<'_, M> {
    fn into_entry(self) -> Result<TransactEntry> {
        let key = key_item(M::SCHEMA, &self.key)?;
        let mut placeholders = Placeholders::default();
        let condition = placeholders.condition(self.condition)?;
        let (names, values) = placeholders.into_maps();
        let table = self.db.table_name::<M>();
        let size = item_size(&key);
        let check = SdkConditionCheck::builder()
            .table_name(&table)
            .set_key(Some(key.clone()))
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(build_error)?;
        Ok(entry::<M>(
            TransactWriteItem::builder().condition_check(check).build(),
            table,
            &key,
            size,
        ))
    }
}

/// An all-or-nothing group of writes across tables (`TransactWriteItems`). Made by
/// [`Db::transact_write`].
///
/// Add the builders of single-item writes with [`write`](Self::write): their conditions
/// and version checks come along. Before anything is sent, dynorm checks each write
/// (validation, sizes, keys), DynamoDB's limits of 100 items and 4 MB, and that no item
/// appears twice ([`Error::TransactionTooLarge`], [`Error::DuplicateKey`]). The size is
/// counted from what dynorm sends (whole items for puts; keys and values for updates,
/// deletes and condition checks), so DynamoDB, which counts the items touched, can still
/// refuse an update of a large item. A cancelled transaction is
/// [`Error::TransactionCanceled`] with the reason for each item, and the item as it is
/// when a condition failed.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # use dynorm::transact::ConditionCheck;
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "accounts", hash_key = "id")]
/// # struct Account { id: String, balance: i64 }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let f = Account::fields();
/// db.transact_write()
///     .write(Account::update_by_key(&db, "alice").decrement(f.balance(), 10).condition(f.balance().ge(10)))
///     .write(Account::update_by_key(&db, "bob").increment(f.balance(), 10).condition(f.id().exists()))
///     .token("transfer-42") // a retry with the same token is applied once
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a transaction does nothing until it is awaited or sent"]
pub struct TransactWrite<'a> {
    db: &'a Db,
    entries: Vec<TransactEntry>,
    problem: Option<Error>,
    token: Option<String>,
}

impl<'a> TransactWrite<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        TransactWrite {
            db,
            entries: Vec::new(),
            problem: None,
            token: None,
        }
    }

    /// Adds a write: a put, update or delete builder, or a [`ConditionCheck`].
    pub fn write(mut self, op: impl TransactOp) -> Self {
        if self.problem.is_none() {
            match op.into_entry() {
                Ok(entry) => self.entries.push(entry),
                Err(err) => self.problem = Some(err),
            }
        }
        self
    }

    /// An idempotency token (`ClientRequestToken`): a transaction sent again with the same
    /// token within 10 minutes is applied once. Without one, dynorm sends a random token
    /// of its own, so the SDK's resend of an attempt that got no answer is applied once;
    /// give your own to be able to resend the transaction yourself after
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown).
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The transaction items, after the client-side checks, without sending anything.
    pub fn to_items(&self) -> Result<Vec<TransactWriteItem>> {
        self.check()?;
        Ok(self.entries.iter().map(|e| e.item.clone()).collect())
    }

    fn check(&self) -> Result<()> {
        if let Some(problem) = &self.problem {
            return Err(crate::batch::clone_problem(problem));
        }
        if self.entries.is_empty() {
            return Err(Error::InvalidRequest("a transaction needs at least one write".into()));
        }
        let bytes: usize = self.entries.iter().map(|e| e.size).sum();
        if self.entries.len() > MAX_TRANSACTION_ITEMS || bytes > MAX_TRANSACTION_BYTES {
            return Err(Error::TransactionTooLarge {
                items: self.entries.len(),
                bytes,
            });
        }
        let mut seen = HashSet::new();
        for entry in &self.entries {
            if !seen.insert((entry.table.as_str(), entry.key.as_str())) {
                return Err(Error::DuplicateKey {
                    table: entry.table.clone(),
                    key: entry.key_item.clone(),
                });
            }
        }
        Ok(())
    }

    /// Sends the transaction.
    pub async fn send(mut self) -> Result<()> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        self.check()?;
        let tables = crate::batch::tables_label(self.entries.iter().map(|e| &e.table));
        let span = op_span!(
            "dynorm.transact_write_items",
            "TransactWriteItems",
            tables,
            items = self.entries.len()
        );
        let db = self.db;
        async move {
            let mut prepared: Vec<&str> = Vec::new();
            for entry in &self.entries {
                if !prepared.contains(&entry.table.as_str()) {
                    (entry.prepare)(db).await?;
                    prepared.push(&entry.table);
                }
            }
            let tables: Vec<String> = self.entries.iter().map(|e| e.table.clone()).collect();
            let (items, after): (Vec<_>, Vec<_>) = self.entries.into_iter().map(|e| (e.item, e.after)).unzip();
            tracing::trace!(items = ?items, "transact_write_items");
            // Always sent with a token, so the SDK's own resend of an attempt that got no
            // answer is applied once. Only a token the caller chose lets the caller resend.
            let idempotent = self.token.is_some();
            let token = self.token.unwrap_or_else(fresh_token);
            let mut ticket = db.ticket(crate::budget::Spend::Write).await;
            let out = db
                .write_client(true)
                .transact_write_items()
                .set_transact_items(Some(items))
                .client_request_token(token)
                .set_return_consumed_capacity(db.capacity_mode())
                .send()
                .await
                .map_err(|err| transact_error(err, &tables, Some(idempotent)))?;
            ticket.settle(out.consumed_capacity());
            db.record_capacity(out.consumed_capacity());
            after.into_iter().flatten().for_each(|hook| hook());
            Ok(())
        }
        .instrument(span)
        .await
    }
}

impl<'a> std::future::IntoFuture for TransactWrite<'a> {
    type Output = Result<()>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<()>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The SDK errors of the transaction operations, which carry cancellation reasons.
trait CancelableError: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static {
    fn is_canceled(&self) -> bool;
    fn into_reasons(self) -> Option<Vec<CancellationReason>>;
}

macro_rules! cancelable_error {
    ($error:ident) => {
        impl CancelableError for $error {
            fn is_canceled(&self) -> bool {
                matches!(self, $error::TransactionCanceledException(_))
            }
            fn into_reasons(self) -> Option<Vec<CancellationReason>> {
                match self {
                    $error::TransactionCanceledException(inner) => inner.cancellation_reasons,
                    _ => None,
                }
            }
        }
    };
}
cancelable_error!(TransactWriteItemsError);
cancelable_error!(TransactGetItemsError);

impl Db {
    /// An all-or-nothing group of writes; see [`TransactWrite`].
    pub fn transact_write(&self) -> TransactWrite<'_> {
        TransactWrite::new(self)
    }

    /// A consistent read of several items; see [`TransactGet`].
    pub fn transact_get(&self) -> TransactGet<'_> {
        TransactGet::new(self)
    }
}

/// A random idempotency token, 32 hexadecimal digits (DynamoDB takes up to 36).
fn fresh_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let half = || {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        if let Ok(since) = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            hasher.write_u128(since.as_nanos());
        }
        hasher.finish()
    };
    format!("{:016x}{:016x}", half(), half())
}

/// A cancellation with its reasons, or the error as any other request's. `write` is
/// `Some(idempotent)` for a write transaction, `None` for a read.
fn transact_error<E: CancelableError>(err: SdkError<E, HttpResponse>, tables: &[String], write: Option<bool>) -> Error {
    let label = || crate::batch::tables_label(tables.iter());
    match err {
        SdkError::ServiceError(ctx) if ctx.err().is_canceled() => canceled(ctx.into_err().into_reasons(), tables),
        other => match write {
            Some(idempotent) => Error::from_sdk_write(other, &label(), idempotent),
            None => Error::from_sdk(other, &label()),
        },
    }
}

fn canceled(reasons: Option<Vec<CancellationReason>>, tables: &[String]) -> Error {
    let reasons = reasons
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, reason)| CancelReason {
            index,
            table: tables.get(index).cloned().unwrap_or_default(),
            code: reason.code.as_deref().map_or(CancelCode::None, CancelCode::parse),
            message: reason.message,
            item: reason.item,
        })
        .collect();
    Error::TransactionCanceled { reasons }
}

/// A consistent read of several items across tables (`TransactGetItems`): the items
/// as they were at one moment. Made by [`Db::transact_get`]; add reads with
/// [`get`](Self::get) and pick the results up by position with
/// [`TransactGetOutput::take`].
#[must_use = "a transaction does nothing until it is awaited or sent"]
pub struct TransactGet<'a> {
    db: &'a Db,
    gets: Vec<(TransactGetItem, Prepare, String)>,
    problem: Option<Error>,
}

/// A typed handle on one read of a [`TransactGet`], to take its result.
#[derive(Debug)]
pub struct Slot<M> {
    index: usize,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for Slot<M> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<M> Copy for Slot<M> {}

impl<'a> TransactGet<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        TransactGet {
            db,
            gets: Vec::new(),
            problem: None,
        }
    }

    /// Adds a read of the item with `key`; the returned [`Slot`] takes its result.
    pub fn get<M: Model>(&mut self, key: impl IntoKey<M::Key>) -> Slot<M> {
        let index = self.gets.len();
        let slot = Slot {
            index,
            _model: PhantomData,
        };
        let table = self.db.table_name::<M>();
        let built = key_item(M::SCHEMA, &key.into_key()).and_then(|key| {
            Get::builder()
                .table_name(&table)
                .set_key(Some(key))
                .build()
                .map_err(build_error)
        });
        match built {
            Ok(get) => self
                .gets
                .push((TransactGetItem::builder().get(get).build(), prepare::<M>, table)),
            Err(err) => {
                self.problem.get_or_insert(err);
                // Keep positions aligned; the transaction will not be sent.
                self.gets
                    .push((TransactGetItem::builder().build(), prepare::<M>, table));
            }
        }
        slot
    }

    /// Adds a read from a [`GetItem`] builder (`Book::get(&db, key)`).
    pub fn read<M: Model>(&mut self, get: GetItem<'_, M>) -> Result<Slot<M>> {
        let input = get.to_input()?;
        let index = self.gets.len();
        let table = input.table_name.unwrap_or_default();
        let get = Get::builder()
            .table_name(&table)
            .set_key(input.key)
            .build()
            .map_err(build_error)?;
        self.gets
            .push((TransactGetItem::builder().get(get).build(), prepare::<M>, table));
        Ok(Slot {
            index,
            _model: PhantomData,
        })
    }

    /// Sends the reads.
    pub async fn send(self) -> Result<TransactGetOutput> {
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        if self.gets.is_empty() || self.gets.len() > MAX_TRANSACTION_ITEMS {
            return Err(Error::InvalidRequest(format!(
                "a transaction reads 1 to {MAX_TRANSACTION_ITEMS} items, not {}",
                self.gets.len()
            )));
        }
        let db = self.db;
        let tables = crate::batch::tables_label(self.gets.iter().map(|(_, _, t)| t));
        let span = op_span!(
            "dynorm.transact_get_items",
            "TransactGetItems",
            tables,
            items = self.gets.len()
        );
        async move {
            let mut prepared: Vec<String> = Vec::new();
            for (_, prepare, table) in &self.gets {
                if !prepared.contains(table) {
                    prepare(db).await?;
                    prepared.push(table.clone());
                }
            }
            let tables: Vec<String> = self.gets.iter().map(|(_, _, t)| t.clone()).collect();
            let mut ticket = db.ticket(crate::budget::Spend::Read).await;
            let out = db
                .read_client()
                .transact_get_items()
                .set_transact_items(Some(self.gets.into_iter().map(|(g, _, _)| g).collect()))
                .set_return_consumed_capacity(db.capacity_mode())
                .send()
                .await
                .map_err(|err| transact_error(err, &tables, None))?;
            ticket.settle(out.consumed_capacity());
            db.record_capacity(out.consumed_capacity());
            Ok(TransactGetOutput {
                items: out.responses.unwrap_or_default().into_iter().map(|r| r.item).collect(),
            })
        }
        .instrument(span)
        .await
    }
}

impl<'a> std::future::IntoFuture for TransactGet<'a> {
    type Output = Result<TransactGetOutput>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<TransactGetOutput>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// The items a [`TransactGet`] read, in the order the reads were added.
#[derive(Debug)]
pub struct TransactGetOutput {
    items: Vec<Option<Item>>,
}

impl TransactGetOutput {
    /// Takes the result of one read: `None` when the item does not exist (or was taken).
    pub fn take<M: Model>(&mut self, slot: Slot<M>) -> Result<Option<M>> {
        match self.items.get_mut(slot.index).and_then(Option::take) {
            Some(item) => Ok(Some(crate::hooks::load(item)?)),
            None => Ok(None),
        }
    }
}
