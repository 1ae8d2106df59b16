use std::collections::{HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use futures::StreamExt;
use tracing::Instrument;

use super::{
    clone_problem, deadline_from_now, key_id, run_request, tables_label, BatchOp, BatchOptions, Chunk, Pending,
};
use crate::error::build_error;
use crate::item::key_item;
use crate::key::IntoKey;
use crate::observe::op_span;
use crate::{Db, Error, Item, Model, Result};

/// DynamoDB's limit of keys per `BatchGetItem` request.
const KEYS_PER_REQUEST: usize = 100;

/// Reads any number of items by key, across tables, with `BatchGetItem`. Made by
/// [`Db::batch_get`]; [`Manager::get_many`](crate::Manager::get_many) is the one-model
/// shorthand.
///
/// Keys are checked when added, and a key added twice is read once. Requests of at most
/// 100 keys run [`concurrency`](Self::concurrency) at a time (DynamoDB's 16 MB response
/// limit shows up as unprocessed keys). Unprocessed keys, and requests throttled or
/// unavailable after the SDK's retries, are retried with exponential backoff and full
/// jitter until the [`deadline`](Self::deadline); keys still not read then are listed in
/// [`Error::BatchIncomplete`] (the items read by then are not returned: read again).
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String }
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "authors", hash_key = "name")]
/// # struct Author { name: String }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let mut found = db.batch_get().get_all::<Book, _>(["1", "2"]).get::<Author>("Le Guin").await?;
/// let books: Vec<Book> = found.models()?; // in the order the keys were added
/// let le_guin: Option<Author> = found.take("Le Guin")?; // or look one up by key
/// # Ok(()) }
/// ```
#[must_use = "a batch does nothing until it is awaited or sent"]
pub struct BatchGet<'a> {
    db: &'a Db,
    /// Per table: its key attribute names, and its keys in the order added.
    keys: Vec<TableKeys>,
    tables: Vec<(String, super::Prepare)>,
    /// The model of the last key added and its index in `keys`: keys of one model
    /// resolve their table name once, not once per key.
    last_model: Option<(std::any::TypeId, usize)>,
    consistent: bool,
    problem: Option<Error>,
    options: BatchOptions,
}

struct TableKeys {
    table: String,
    names: Vec<&'static str>,
    ids: HashSet<String>,
    order: Vec<(String, Item)>,
}

/// One table's keys and the items found for them.
#[derive(Debug, Default)]
struct Found {
    names: Vec<&'static str>,
    order: Vec<String>,
    items: HashMap<String, Item>,
}

/// The items a [`BatchGet`] read, by table and key.
#[derive(Debug, Default)]
pub struct BatchGetOutput {
    /// Per table: the key ids in the order added, and the items found by key id.
    tables: HashMap<String, Found>,
    db: Option<Db>,
    requests: usize,
}

impl<'a> BatchGet<'a> {
    pub(crate) fn new(db: &'a Db) -> Self {
        BatchGet {
            db,
            keys: Vec::new(),
            tables: Vec::new(),
            last_model: None,
            consistent: false,
            problem: None,
            options: BatchOptions::default(),
        }
    }

    /// Adds the key of an item of `M` to read.
    pub fn get<M: Model>(self, key: impl IntoKey<M::Key>) -> Self {
        self.get_key::<M>(key.into_key())
    }

    pub(crate) fn get_key<M: Model>(mut self, key: M::Key) -> Self {
        if self.problem.is_some() {
            return self;
        }
        let key = match key_item(M::SCHEMA, &key) {
            Ok(key) => key,
            Err(err) => {
                self.problem = Some(err);
                return self;
            }
        };
        let model = std::any::TypeId::of::<M>();
        let position = match self.last_model {
            Some((last, i)) if last == model => i,
            _ => {
                let table = self.db.table_name::<M>();
                let i = match self.keys.iter().position(|t| t.table == table) {
                    Some(i) => i,
                    None => {
                        let schema = M::SCHEMA;
                        self.tables.push((table.clone(), super::prepare::<M>));
                        self.keys.push(TableKeys {
                            table,
                            names: schema.key_names().collect(),
                            ids: HashSet::new(),
                            order: Vec::new(),
                        });
                        self.keys.len() - 1
                    }
                };
                self.last_model = Some((model, i));
                i
            }
        };
        let entry = &mut self.keys[position];
        let id = key_id(&key, &entry.names);
        if entry.ids.insert(id.clone()) {
            entry.order.push((id, key));
        }
        self
    }

    /// Adds the keys of items of `M` to read.
    pub fn get_all<M: Model, K: IntoKey<M::Key>>(self, keys: impl IntoIterator<Item = K>) -> Self {
        keys.into_iter().fold(self, |batch, key| batch.get::<M>(key))
    }

    /// Asks for strongly consistent reads.
    pub fn consistent_read(mut self, consistent: bool) -> Self {
        self.consistent = consistent;
        self
    }

    /// Requests in flight at once (default 4; at least 1).
    pub fn concurrency(mut self, requests: usize) -> Self {
        self.options.concurrency = requests.max(1);
        self
    }

    /// How long the batch may take, retries included (default 60 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.options.deadline = deadline;
        self
    }

    /// The keys split into requests of at most 100, across tables, in the order added.
    fn chunks(&self) -> Result<Vec<HashMap<String, KeysAndAttributes>>> {
        let keys = self
            .keys
            .iter()
            .enumerate()
            .flat_map(|(t, table)| table.order.iter().map(move |(_, key)| (t, key.clone())));
        self.split(keys)
    }

    /// Splits `(table index, key)` pairs into requests; each table name is copied once
    /// per request.
    fn split(&self, keys: impl Iterator<Item = (usize, Item)>) -> Result<Vec<HashMap<String, KeysAndAttributes>>> {
        let mut chunks = Vec::new();
        let mut current: Vec<(usize, Vec<Item>)> = Vec::new();
        let mut count = 0;
        for (table, key) in keys {
            if count == KEYS_PER_REQUEST {
                chunks.push(self.request(std::mem::take(&mut current))?);
                count = 0;
            }
            match current.iter_mut().find(|(t, _)| *t == table) {
                Some((_, keys)) => keys.push(key),
                None => current.push((table, vec![key])),
            }
            count += 1;
        }
        if count > 0 {
            chunks.push(self.request(current)?);
        }
        Ok(chunks)
    }

    fn request(&self, keys: Vec<(usize, Vec<Item>)>) -> Result<HashMap<String, KeysAndAttributes>> {
        keys.into_iter()
            .map(|(table, keys)| {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(self.consistent)
                    .build()
                    .map_err(build_error)?;
                Ok((self.keys[table].table.clone(), request))
            })
            .collect()
    }

    /// The requests this batch would send first, without sending anything.
    pub fn to_requests(&self) -> Result<Vec<HashMap<String, KeysAndAttributes>>> {
        if let Some(problem) = &self.problem {
            return Err(clone_problem(problem));
        }
        self.chunks()
    }

    /// Sends the batch.
    pub async fn send(mut self) -> Result<BatchGetOutput> {
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        let keys: usize = self.keys.iter().map(|t| t.order.len()).sum();
        // The keys move into the requests; their ids stay, in order, for the output.
        let mut orders: Vec<Vec<String>> = Vec::with_capacity(self.keys.len());
        let mut moved: Vec<(usize, Item)> = Vec::with_capacity(keys);
        for (t, table) in self.keys.iter_mut().enumerate() {
            let mut ids = Vec::with_capacity(table.order.len());
            for (id, key) in table.order.drain(..) {
                ids.push(id);
                moved.push((t, key));
            }
            orders.push(ids);
        }
        let chunks = self.split(moved.into_iter())?;
        let tables = tables_label(self.keys.iter().map(|t| &t.table));
        let span = op_span!(
            "dynorm.batch_get_item",
            "BatchGetItem",
            tables,
            keys = keys,
            requests = chunks.len(),
            aws.dynamodb.consistent_read = self.consistent
        );
        let db = self.db;
        let options = self.options;
        async move {
            let deadline = deadline_from_now(options.deadline);
            for (_, prepare) in &self.tables {
                prepare(db).await?;
            }
            let stop = AtomicBool::new(false);
            let results: Vec<Chunk> = futures::stream::iter(chunks)
                .map(|chunk| run_request(chunk, deadline, &stop, |pending| send_gets(db, pending)))
                .buffer_unordered(options.concurrency)
                .collect()
                .await;
            let mut output = BatchGetOutput {
                db: Some(db.clone()),
                ..BatchGetOutput::default()
            };
            for (table, ids) in self.keys.iter().zip(orders) {
                let found = Found {
                    names: table.names.clone(),
                    items: HashMap::with_capacity(ids.len()),
                    order: ids,
                };
                output.tables.insert(table.table.clone(), found);
            }
            let mut left = Vec::new();
            let mut cause = None;
            for chunk in results {
                output.requests += chunk.requests;
                left.extend(chunk.left);
                if cause.is_none() {
                    cause = chunk.cause;
                }
                for (table, items) in chunk.items {
                    if let Some(found) = output.tables.get_mut(&table) {
                        for item in items {
                            found.items.insert(key_id(&item, &found.names), item);
                        }
                    }
                }
            }
            if !left.is_empty() {
                return Err(Error::BatchIncomplete {
                    left,
                    cause: cause.map(Box::new),
                });
            }
            Ok(output)
        }
        .instrument(span)
        .await
    }
}

impl<'a> std::future::IntoFuture for BatchGet<'a> {
    type Output = Result<BatchGetOutput>;
    type IntoFuture = futures::future::BoxFuture<'a, Result<BatchGetOutput>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

impl BatchGetOutput {
    fn table<M: Model>(&mut self) -> Option<&mut Found> {
        let full = self.db.as_ref()?.table_name::<M>();
        self.tables.get_mut(&full)
    }

    /// Takes out every item of `M` that was found, in the order its keys were added;
    /// keys with no item are skipped. For an entity of a single-table design, the
    /// items of other entities read from the same table stay, for their own `models`.
    pub fn models<M: Model>(&mut self) -> Result<Vec<M>> {
        let Some(found) = self.table::<M>() else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(found.items.len());
        for id in &found.order {
            let mine = found
                .items
                .get(id)
                .is_some_and(|item| crate::template::is_of(M::SCHEMA, item));
            if let Some(item) = mine.then(|| found.items.remove(id)).flatten() {
                out.push(crate::hooks::load(item)?);
            }
        }
        Ok(out)
    }

    /// Takes out the item of `M` with this key; `None` when it was not found (or not
    /// asked for, or already taken).
    pub fn take<M: Model>(&mut self, key: impl IntoKey<M::Key>) -> Result<Option<M>> {
        let key = key_item(M::SCHEMA, &key.into_key())?;
        let Some(found) = self.table::<M>() else {
            return Ok(None);
        };
        let id = key_id(&key, &found.names);
        found.items.remove(&id).map(crate::hooks::load).transpose()
    }

    /// The item of `M` with this key, decoded from a copy (it stays in the output).
    pub(crate) fn find<M: Model>(&self, key: &M::Key) -> Result<Option<M>> {
        let key = key_item(M::SCHEMA, key)?;
        let Some(db) = &self.db else { return Ok(None) };
        let Some(found) = self.tables.get(&db.table_name::<M>()) else {
            return Ok(None);
        };
        let id = key_id(&key, &found.names);
        found.items.get(&id).cloned().map(crate::hooks::load).transpose()
    }

    /// How many items were found and not taken yet.
    pub fn len(&self) -> usize {
        self.tables.values().map(|found| found.items.len()).sum()
    }

    /// Whether no item is left to take.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `BatchGetItem` requests sent, retries included.
    pub fn requests(&self) -> usize {
        self.requests
    }
}

impl Pending for HashMap<String, KeysAndAttributes> {
    // Keys are small: a copy.
    type Kept = Self;

    fn keep(&self) -> Self::Kept {
        self.clone()
    }

    fn restore(kept: Self::Kept) -> Self {
        kept
    }

    fn describe(self) -> Vec<BatchOp> {
        self.into_iter()
            .flat_map(|(table, request)| {
                request.keys.into_iter().map(move |key| BatchOp::Get {
                    table: table.clone(),
                    key,
                })
            })
            .collect()
    }
}

/// Sends one `BatchGetItem`; answers with the items read and the keys DynamoDB left
/// unprocessed.
async fn send_gets(
    db: &Db,
    pending: HashMap<String, KeysAndAttributes>,
) -> Result<(Vec<(String, Vec<Item>)>, HashMap<String, KeysAndAttributes>)> {
    let label = tables_label(pending.keys());
    tracing::trace!(requests = ?pending, "batch_get_item");
    let mut ticket = db.ticket(crate::budget::Spend::Read).await;
    let out = db
        .read_client()
        .batch_get_item()
        .set_request_items(Some(pending))
        .set_return_consumed_capacity(db.capacity_mode())
        .send()
        .await
        .map_err(|e| ticket.fail(Error::from_sdk(e, &label)))?;
    ticket.settle(out.consumed_capacity());
    db.add_capacity(out.consumed_capacity());
    let mut unprocessed = out.unprocessed_keys.unwrap_or_default();
    unprocessed.retain(|_, request| !request.keys.is_empty());
    Ok((out.responses.unwrap_or_default().into_iter().collect(), unprocessed))
}

impl Db {
    /// A batch of reads by key, across tables; see [`BatchGet`].
    pub fn batch_get(&self) -> BatchGet<'_> {
        BatchGet::new(self)
    }
}
