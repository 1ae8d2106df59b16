//! Batch reads and writes: any number of keys or writes, split into DynamoDB's request
//! limits, sent a few requests at a time, with what DynamoDB leaves unprocessed retried
//! (exponential backoff, full jitter) until a deadline. Nothing is dropped silently: a
//! batch that cannot finish fails with [`Error::BatchIncomplete`] listing every key or
//! write left.

mod get;
mod write;

use std::time::Duration;

pub use get::{BatchGet, BatchGetOutput};
pub use write::{BatchWrite, BatchWriteOutput};

use futures::future::BoxFuture;

use crate::{Db, DynaModel, Error, Item, Result};

/// Makes sure a model's table is ready (created on first use when the handle
/// auto-creates tables).
pub(crate) type Prepare = for<'d> fn(&'d Db) -> BoxFuture<'d, Result<()>>;

pub(crate) fn prepare<M: DynaModel>(db: &Db) -> BoxFuture<'_, Result<()>> {
    Box::pin(async move { db.prepare::<M>(&db.table_name::<M>()).await })
}

/// One entry of a batch, as [`Error::BatchIncomplete`] reports it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum BatchOp {
    /// A put of this item.
    Put {
        /// The full table name.
        table: String,
        /// The item.
        item: Item,
    },
    /// A delete of the item with this key.
    Delete {
        /// The full table name.
        table: String,
        /// The key.
        key: Item,
    },
    /// A read of the item with this key.
    Get {
        /// The full table name.
        table: String,
        /// The key.
        key: Item,
    },
}

/// How a batch runs: requests in flight at once, and how long it may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchOptions {
    pub concurrency: usize,
    pub deadline: Duration,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            concurrency: 4,
            deadline: Duration::from_secs(60),
        }
    }
}

/// Exponential backoff with full jitter: a random delay between 0 and
/// 25 ms × 2^round, capped at 5 s.
pub(crate) fn backoff(round: u32) -> Duration {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SALT: AtomicU64 = AtomicU64::new(0);
    let cap = (25u64 << round.min(8)).min(5_000);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(SALT.fetch_add(1, Ordering::Relaxed));
    Duration::from_millis(hasher.finish() % (cap + 1))
}

/// Whether a failed batch request is worth sending again: throttling and unavailability.
pub(crate) fn retryable(err: &Error) -> bool {
    matches!(err, Error::Throttled { .. } | Error::Unavailable { .. })
}

/// A key's identity within a table: key values are strings, numbers and binaries, whose
/// debug forms are exact. Numbers are normalised the way DynamoDB stores them.
pub(crate) fn key_id(item: &Item, names: &[&str]) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    let mut out = String::new();
    for name in names {
        match item.get(*name) {
            Some(AttributeValue::N(n)) => out.push_str(&format!("N{}", crate::item::normalize_number(n))),
            other => out.push_str(&format!("{other:?}")),
        }
        out.push('\u{0}');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_its_cap() {
        for round in 0..20 {
            let cap = (25u64 << round.min(8)).min(5_000);
            for _ in 0..50 {
                assert!(backoff(round) <= Duration::from_millis(cap));
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| backoff(6)).collect();
        assert!(spread.len() > 10, "jittered: {spread:?}");
    }
}
