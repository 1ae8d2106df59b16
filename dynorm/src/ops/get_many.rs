use std::collections::HashMap;
use std::marker::PhantomData;
use std::time::Duration;

use aws_sdk_dynamodb::types::KeysAndAttributes;
use futures::StreamExt;
use tracing::Instrument;

use super::{build_error, into_future};
use crate::item::{from_item, key_item};
use crate::{Db, DynaModel, Error, Item, Result};

/// DynamoDB's limit of keys per `BatchGetItem` request.
const KEYS_PER_REQUEST: usize = 100;
/// Requests in flight at once.
const CONCURRENCY: usize = 4;
/// Rounds of retrying unprocessed keys before giving up.
const ROUNDS: u32 = 8;

/// Reads many items by key with `BatchGetItem`. Made by
/// [`Manager::get_many`](crate::Manager::get_many).
///
/// Keys are checked first, duplicates are read once, and requests of 100 keys run a few
/// at a time. Keys DynamoDB leaves unprocessed are retried with exponential backoff and
/// jitter; if some remain after the retries, the call fails with
/// [`Error::Unprocessed`] listing every key left, across all requests, so nothing is
/// dropped silently.
///
/// Resolves to the items found, **in the order of the keys given**; keys with no item
/// are skipped.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct GetMany<'a, M: DynaModel> {
    db: &'a Db,
    keys: Vec<M::Key>,
    consistent_read: bool,
    _model: PhantomData<fn() -> M>,
}

/// An item's key as a map key: DynamoDB key values are strings, numbers and binaries,
/// whose debug form is exact.
fn key_id(item: &Item, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("{:?}", item.get(*n)))
        .collect::<Vec<_>>()
        .join("\u{0}")
}

/// Exponential backoff with full jitter: a random delay up to 25 ms × 2^round.
fn backoff(round: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    let cap = 25u64 << round.min(10);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(round);
    Duration::from_millis(hasher.finish() % (cap + 1))
}

impl<'a, M: DynaModel> GetMany<'a, M> {
    pub(crate) fn new(db: &'a Db, keys: Vec<M::Key>) -> Self {
        GetMany {
            db,
            keys,
            consistent_read: false,
            _model: PhantomData,
        }
    }

    /// Asks for strongly consistent reads.
    pub fn consistent_read(mut self, consistent: bool) -> Self {
        self.consistent_read = consistent;
        self
    }

    /// Sends the requests.
    pub async fn send(self) -> Result<Vec<M>> {
        let table = self.db.table_name::<M>();
        let schema = M::schema();
        let names: Vec<&str> = std::iter::once(schema.hash_key.name)
            .chain(schema.range_key.map(|k| k.name))
            .collect();
        let keys = self.keys.iter().map(key_item::<M>).collect::<Result<Vec<_>>>()?;
        let mut order = Vec::with_capacity(keys.len());
        let mut unique = Vec::with_capacity(keys.len());
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            let id = key_id(&key, &names);
            if seen.insert(id.clone()) {
                unique.push(key);
            }
            order.push(id);
        }
        let span = tracing::debug_span!("dynorm.batch_get_item", table = %table, keys = unique.len());
        let db = self.db;
        let consistent = self.consistent_read;
        let results: Vec<Result<Vec<Item>>> = async {
            db.prepare::<M>(&table).await?;
            let chunks: Vec<Vec<Item>> = unique.chunks(KEYS_PER_REQUEST).map(<[Item]>::to_vec).collect();
            Ok::<_, Error>(
                futures::stream::iter(chunks)
                    .map(|chunk| fetch(db, &table, chunk, consistent))
                    .buffer_unordered(CONCURRENCY)
                    .collect()
                    .await,
            )
        }
        .instrument(span)
        .await?;
        // Every request runs to its end, so the error lists every key left unprocessed.
        let mut found = Vec::with_capacity(results.len());
        let mut left = Vec::new();
        for result in results {
            match result {
                Ok(items) => found.push(items),
                Err(Error::Unprocessed { keys, .. }) => left.extend(keys),
                Err(other) => return Err(other),
            }
        }
        if !left.is_empty() {
            return Err(Error::Unprocessed { table, keys: left });
        }
        let mut by_key: HashMap<String, Item> = found
            .into_iter()
            .flatten()
            .map(|item| (key_id(&item, &names), item))
            .collect();
        let mut out = Vec::with_capacity(by_key.len());
        for id in order {
            if let Some(item) = by_key.remove(&id) {
                out.push(from_item(item)?);
            }
        }
        Ok(out)
    }
}

/// One request of at most 100 keys, with its unprocessed keys retried.
async fn fetch(db: &Db, table: &str, mut keys: Vec<Item>, consistent: bool) -> Result<Vec<Item>> {
    let mut items = Vec::with_capacity(keys.len());
    for round in 0..=ROUNDS {
        if round > 0 {
            tokio::time::sleep(backoff(round)).await;
        }
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(consistent)
            .build()
            .map_err(build_error)?;
        let out = db
            .client()
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|e| Error::from_sdk(e, table))?;
        items.extend(out.responses.and_then(|mut r| r.remove(table)).unwrap_or_default());
        keys = out
            .unprocessed_keys
            .and_then(|mut u| u.remove(table))
            .map(|k| k.keys)
            .unwrap_or_default();
        if keys.is_empty() {
            return Ok(items);
        }
    }
    Err(Error::Unprocessed {
        table: table.to_owned(),
        keys,
    })
}

into_future!(GetMany, Vec<M>);
