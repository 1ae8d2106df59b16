use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use aws_sdk_dynamodb::types::{DeleteRequest, PutRequest, WriteRequest};
use futures::StreamExt;
use tracing::Instrument;

use super::{
    clone_problem, deadline_from_now, key_id, run_request, tables_label, BatchOp, BatchOptions, Chunk, Pending,
};
use crate::error::build_error;
use crate::hooks::{self, AfterHook};
use crate::item::{check_item, key_item};
use crate::key::IntoKey;
use crate::model::model_to_item as to_item;
use crate::observe::op_span;
use crate::{Db, Error, Item, Model, Result};

/// DynamoDB's limits of one `BatchWriteItem` request.
const WRITES_PER_REQUEST: usize = 25;
const BYTES_PER_REQUEST: usize = 16 * 1024 * 1024;

/// Puts and deletes of any number of items, across tables, with `BatchWriteItem`.
/// Made by [`Db::batch_write`].
///
/// Every put is validated and checked (size, keys, values) when it is added; the first
/// problem is returned by [`send`](Self::send) before any request goes out, as is a key
/// that appears twice in one batch (DynamoDB rejects those). Writes are sent in requests
/// of at most 25 items and 16 MB, [`concurrency`](Self::concurrency) requests at a time;
/// items DynamoDB leaves unprocessed, and requests throttled or unavailable after the
/// SDK's retries, are sent again with exponential backoff and full jitter until the
/// [`deadline`](Self::deadline). What is still not applied then is listed in
/// [`Error::BatchIncomplete`].
///
/// Batch writes take no conditions: a put replaces the item whole. A versioned model's
/// put stores the next version without checking the held one (as
/// `put(..).skip_version_check()`), `updated_at` is set to now, and `created_at` is
/// written as the instance holds it. Use a transaction or [`save`](DynaModel::save) for
/// checked versioned writes.
///
/// When the batch fails, the entries listed in [`Error::BatchIncomplete`] were not
/// confirmed: most were not applied, but those of a request whose answer was lost (a
/// timeout, a dropped connection) may have been. Batch writes are idempotent, so sending
/// them again is safe.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String }
/// # async fn run(db: Db, books: Vec<Book>) -> dynorm::Result<()> {
/// let written = db.batch_write().put_all(&books).delete::<Book>("0-00-000000-0").send().await?;
/// # Ok(()) }
/// ```
#[must_use = "a batch does nothing until it is awaited or sent"]
pub struct BatchWrite<'a> {
    db: &'a Db,
    ops: Vec<Entry>,
    tables: Vec<TargetTable>,
    /// The model of the last write added and its table's index: a batch of one model
    /// resolves its table name once, not once per write.
    last_model: Option<(std::any::TypeId, usize)>,
    problem: Option<Error>,
    options: BatchOptions,
}

/// A table the batch writes to.
struct TargetTable {
    name: String,
    prepare: super::Prepare,
    key_names: Vec<&'static str>,
}

struct Entry {
    /// The index of its table in `tables`.
    table: usize,
    key: String,
    /// Taken when the batch is sent.
    request: Option<WriteRequest>,
    size: usize,
    /// The model's `after_save` or `after_delete`, run once the write is applied.
    after: Option<AfterHook>,
}

/// What a finished batch write did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchWriteOutput {
    /// Writes applied: every write of the batch.
    pub applied: usize,
    /// `BatchWriteItem` requests sent, retries included.
    pub requests: usize,
}

impl<'a> BatchWrite<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        BatchWrite {
            db,
            ops: Vec::new(),
            tables: Vec::new(),
            last_model: None,
            problem: None,
            options: BatchOptions::default(),
        }
    }

    /// The index of `M`'s table, added when new.
    fn table_of<M: Model>(&mut self) -> usize {
        let model = std::any::TypeId::of::<M>();
        if let Some((last, index)) = self.last_model {
            if last == model {
                return index;
            }
        }
        let table = self.db.table_name::<M>();
        let index = match self.tables.iter().position(|t| t.name == table) {
            Some(index) => index,
            None => {
                self.tables.push(TargetTable {
                    name: table,
                    prepare: super::prepare::<M>,
                    key_names: Self::key_names::<M>(),
                });
                self.tables.len() - 1
            }
        };
        self.last_model = Some((model, index));
        index
    }

    fn add(&mut self, table: usize, key: String, request: WriteRequest, size: usize, after: Option<AfterHook>) {
        self.ops.push(Entry {
            table,
            key,
            request: Some(request),
            size,
            after,
        });
    }

    fn key_names<M: Model>() -> Vec<&'static str> {
        M::SCHEMA.key_names().collect()
    }

    /// Adds a put of `model`, replacing any item with its key.
    pub fn put<M: Model>(mut self, model: &M) -> Self {
        if self.problem.is_some() {
            return self;
        }
        match hooks::before_save(model).and_then(|()| encode(model)) {
            Ok((item, size)) => {
                let table = self.table_of::<M>();
                let key = key_id(&item, &self.tables[table].key_names);
                let after = hooks::after_save_item::<M>(&item);
                let put = PutRequest::builder().set_item(Some(item)).build();
                match put {
                    Ok(put) => self.add(
                        table,
                        key,
                        WriteRequest::builder().put_request(put).build(),
                        size,
                        after,
                    ),
                    Err(err) => self.problem = Some(build_error(err)),
                }
            }
            Err(err) => self.problem = Some(err),
        }
        self
    }

    /// Adds a put of every model.
    pub fn put_all<'m, M: Model>(self, models: impl IntoIterator<Item = &'m M>) -> Self {
        models.into_iter().fold(self, |batch, model| batch.put(model))
    }

    /// Adds a delete of the item with this key. Deleting a missing item succeeds.
    pub fn delete<M: Model>(mut self, key: impl IntoKey<M::Key>) -> Self {
        if self.problem.is_some() {
            return self;
        }
        let key = key.into_key();
        match hooks::before_delete::<M>(&key, None).and_then(|()| key_item(M::SCHEMA, &key)) {
            Ok(item) => {
                let table = self.table_of::<M>();
                let id = key_id(&item, &self.tables[table].key_names);
                let size = crate::item_size(&item);
                let after = hooks::after_key::<M>(&key, true);
                match DeleteRequest::builder().set_key(Some(item)).build() {
                    Ok(delete) => self.add(
                        table,
                        id,
                        WriteRequest::builder().delete_request(delete).build(),
                        size,
                        after,
                    ),
                    Err(err) => self.problem = Some(build_error(err)),
                }
            }
            Err(err) => self.problem = Some(err),
        }
        self
    }

    /// Adds a delete of every key.
    pub fn delete_all<M: Model, K: IntoKey<M::Key>>(self, keys: impl IntoIterator<Item = K>) -> Self {
        keys.into_iter().fold(self, |batch, key| batch.delete::<M>(key))
    }

    /// Requests in flight at once (default 4; at least 1).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.options.concurrency = requests.max(1);
        self
    }

    /// How long the batch may take, retries included (default 60 s). When it passes,
    /// the writes not applied are returned in [`Error::BatchIncomplete`].
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.options.deadline = deadline;
        self
    }

    /// How many writes the batch holds.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch holds no write.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The requests this batch would send first, without sending anything: at most 25
    /// writes and 16 MB each. Fails as [`send`](Self::send) would before sending.
    pub fn to_requests(&self) -> Result<Vec<HashMap<String, Vec<WriteRequest>>>> {
        self.check()?;
        let mut ops = self.ops.iter();
        Ok(self
            .chunk_lengths()
            .into_iter()
            .map(|n| {
                group(
                    &self.tables,
                    ops.by_ref()
                        .take(n)
                        .filter_map(|op| Some((op.table, op.request.clone()?))),
                )
            })
            .collect())
    }

    fn check(&self) -> Result<()> {
        if let Some(problem) = &self.problem {
            return Err(clone_problem(problem));
        }
        let mut seen = HashSet::with_capacity(self.ops.len());
        for op in &self.ops {
            if !seen.insert((op.table, op.key.as_str())) {
                let request = op.request.as_ref();
                let key = match (
                    request.and_then(|r| r.put_request.as_ref()),
                    request.and_then(|r| r.delete_request.as_ref()),
                ) {
                    (Some(put), _) => put.item.clone(),
                    (_, Some(delete)) => delete.key.clone(),
                    _ => Item::new(),
                };
                return Err(Error::DuplicateKey {
                    table: self.tables[op.table].name.clone(),
                    key,
                });
            }
        }
        Ok(())
    }

    /// How many writes go in each request: at most 25 and 16 MB each, in the order added.
    fn chunk_lengths(&self) -> Vec<usize> {
        let mut lengths = Vec::new();
        let (mut current, mut bytes) = (0, 0);
        for op in &self.ops {
            if current == WRITES_PER_REQUEST || (bytes + op.size > BYTES_PER_REQUEST && current > 0) {
                lengths.push(current);
                (current, bytes) = (0, 0);
            }
            bytes += op.size;
            current += 1;
        }
        if current > 0 {
            lengths.push(current);
        }
        lengths
    }

    /// The requests to send, the writes moved into them.
    fn take_requests(&mut self) -> Vec<HashMap<String, Vec<WriteRequest>>> {
        let lengths = self.chunk_lengths();
        let tables = &self.tables;
        let mut ops = self.ops.iter_mut();
        lengths
            .into_iter()
            .map(|n| {
                group(
                    tables,
                    ops.by_ref()
                        .take(n)
                        .filter_map(|op| Some((op.table, op.request.take()?))),
                )
            })
            .collect()
    }

    /// Sends the batch. The `after_*` [`Hooks`](crate::Hooks) of the writes applied run
    /// before it returns, also when it fails with [`Error::BatchIncomplete`].
    pub async fn send(mut self) -> Result<BatchWriteOutput> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        self.check()?;
        let total = self.ops.len();
        let chunks = self.take_requests();
        let db = self.db;
        let options = self.options;
        let tables = tables_label(self.tables.iter().map(|t| &t.name));
        let span = op_span!(
            "dynorm.batch_write_item",
            "BatchWriteItem",
            tables,
            writes = total,
            requests = chunks.len()
        );
        async move {
            let deadline = deadline_from_now(options.deadline);
            for table in &self.tables {
                (table.prepare)(db).await?;
            }
            let stop = AtomicBool::new(false);
            let results: Vec<Chunk> = futures::stream::iter(chunks)
                .map(|chunk| run_request(chunk, deadline, &stop, |pending| send_writes(db, pending)))
                .buffer_unordered(options.concurrency)
                .collect()
                .await;
            let mut left = Vec::new();
            let mut cause = None;
            let mut requests = 0;
            for chunk in results {
                requests += chunk.requests;
                left.extend(chunk.left);
                if cause.is_none() {
                    cause = chunk.cause;
                }
            }
            run_after_hooks(&mut self.ops, &self.tables, &left);
            if left.is_empty() {
                Ok(BatchWriteOutput {
                    applied: total,
                    requests,
                })
            } else {
                Err(Error::BatchIncomplete {
                    left,
                    cause: cause.map(Box::new),
                })
            }
        }
        .instrument(span)
        .await
    }
}

impl<'a> std::future::IntoFuture for BatchWrite<'a> {
    type Output = Result<BatchWriteOutput>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<BatchWriteOutput>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// Runs the `after_*` hooks of the writes applied: those not in `left`.
fn run_after_hooks(ops: &mut [Entry], tables: &[TargetTable], left: &[BatchOp]) {
    if ops.iter().all(|op| op.after.is_none()) {
        return;
    }
    let left_ids: Vec<(&str, String)> = left
        .iter()
        .filter_map(|op| {
            let (table, item) = match op {
                BatchOp::Put { table, item } => (table, item),
                BatchOp::Delete { table, key } => (table, key),
                BatchOp::Get { .. } => return None,
            };
            let names = &tables.iter().find(|t| t.name == *table)?.key_names;
            Some((table.as_str(), key_id(item, names)))
        })
        .collect();
    let not_applied: HashSet<(&str, &str)> = left_ids.iter().map(|(t, k)| (*t, k.as_str())).collect();
    for op in ops {
        if let Some(after) = op.after.take() {
            if !not_applied.contains(&(tables[op.table].name.as_str(), op.key.as_str())) {
                after();
            }
        }
    }
}

/// A request's writes by table name; each name is copied once per request.
fn group(
    tables: &[TargetTable],
    chunk: impl Iterator<Item = (usize, WriteRequest)>,
) -> HashMap<String, Vec<WriteRequest>> {
    let mut by_index: Vec<(usize, Vec<WriteRequest>)> = Vec::with_capacity(1);
    for (table, request) in chunk {
        match by_index.iter_mut().find(|(t, _)| *t == table) {
            Some((_, requests)) => requests.push(request),
            None => {
                let mut requests = Vec::with_capacity(WRITES_PER_REQUEST);
                requests.push(request);
                by_index.push((table, requests));
            }
        }
    }
    by_index
        .into_iter()
        .map(|(table, requests)| (tables[table].name.clone(), requests))
        .collect()
}

impl Pending for HashMap<String, Vec<WriteRequest>> {
    type Kept = super::packed::Packed;

    fn keep(&self) -> Self::Kept {
        super::packed::Packed::of(self)
    }

    fn restore(kept: Self::Kept) -> Self {
        kept.unpack()
    }

    fn describe(self) -> Vec<BatchOp> {
        let mut out = Vec::new();
        for (table, requests) in self {
            for request in requests {
                if let Some(put) = request.put_request {
                    out.push(BatchOp::Put {
                        table: table.clone(),
                        item: put.item,
                    });
                } else if let Some(delete) = request.delete_request {
                    out.push(BatchOp::Delete {
                        table: table.clone(),
                        key: delete.key,
                    });
                }
            }
        }
        out
    }
}

/// Sends one `BatchWriteItem`; answers with what DynamoDB left unprocessed.
async fn send_writes(
    db: &Db,
    pending: HashMap<String, Vec<WriteRequest>>,
) -> Result<(Vec<(String, Vec<Item>)>, HashMap<String, Vec<WriteRequest>>)> {
    let label = tables_label(pending.keys());
    tracing::trace!(requests = ?pending, "batch_write_item");
    let mut ticket = db.ticket(crate::budget::Spend::Write).await;
    let out = db
        .write_client(true)
        .batch_write_item()
        .set_request_items(Some(pending))
        .set_return_consumed_capacity(db.capacity_mode())
        .send()
        .await
        // Puts and deletes without conditions: a repeat is harmless.
        .map_err(|e| ticket.fail(Error::from_sdk_write(e, &label, true)))?;
    ticket.settle(out.consumed_capacity());
    db.add_capacity(out.consumed_capacity());
    let mut unprocessed = out.unprocessed_items.unwrap_or_default();
    unprocessed.retain(|_, requests| !requests.is_empty());
    Ok((Vec::new(), unprocessed))
}

/// A model encoded for a batch put: validated, the next version and `updated_at` set,
/// checked.
fn encode<M: Model>(model: &M) -> Result<(Item, usize)> {
    model.validate()?;
    let mut item = to_item(model)?;
    if let Some(attr) = M::SCHEMA.version_attribute {
        // As `put(..).skip_version_check()`: no check, but the version moves on, so
        // instances read before this write see a conflict when they save.
        item.insert(
            attr.to_owned(),
            crate::ops::guard::next_version::<M>(model.version().unwrap_or(0), M::SCHEMA.name)?,
        );
    }
    if let Some((attr, now)) = M::SCHEMA.updated_at.map(|f| (f.attribute, (f.now)())) {
        item.insert(attr.to_owned(), now?);
    }
    let size = check_item(M::SCHEMA, &item)?;
    Ok((item, size))
}

impl Db {
    /// A batch of puts and deletes, across tables; see [`BatchWrite`].
    pub fn batch_write(&self) -> BatchWrite<'_> {
        BatchWrite::new(self)
    }
}
