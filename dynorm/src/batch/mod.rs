//! Batch reads and writes: any number of keys or writes, split into DynamoDB's request
//! limits, sent a few requests at a time, with what DynamoDB leaves unprocessed retried
//! (exponential backoff, full jitter) until a deadline. Nothing is dropped silently: a
//! batch that cannot finish fails with [`Error::BatchIncomplete`] listing every key or
//! write left.

mod get;
mod packed;
mod write;

use std::time::Duration;

pub use get::{BatchGet, BatchGetOutput};
pub use write::{BatchWrite, BatchWriteOutput};

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::{Error, Item, Result};

pub(crate) use crate::drift::{prepare, Prepare};

pub use crate::error::BatchOp;

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

/// Whether a failed batch request is worth sending again: throttling, unavailability,
/// and writes whose outcome is unknown but whose repeat is harmless (a batch's puts and
/// deletes carry no condition).
pub(crate) fn retryable(err: &Error) -> bool {
    matches!(
        err,
        Error::Throttled { .. } | Error::Unavailable { .. } | Error::OutcomeUnknown { idempotent: true, .. }
    )
}

/// A key's identity within a table, encoded explicitly (type tag, length, bytes), with
/// numbers normalised the way DynamoDB compares them ("1" and "1.0" are one key).
pub(crate) fn key_id(item: &Item, names: &[&str]) -> String {
    use aws_sdk_dynamodb::types::AttributeValue;
    use std::fmt::Write;
    let mut out = String::with_capacity(48);
    for name in names {
        match item.get(*name) {
            Some(AttributeValue::S(s)) => {
                let _ = write!(out, "S{}:{s}", s.len());
            }
            Some(AttributeValue::N(n)) => {
                let n = crate::value::normalize_number(n);
                let _ = write!(out, "N{}:{n}", n.len());
            }
            Some(AttributeValue::B(b)) => {
                out.push_str(&format!("B{}:", b.as_ref().len()));
                for byte in b.as_ref() {
                    let _ = write!(out, "{byte:02x}");
                }
            }
            Some(other) => {
                let _ = write!(out, "?{other:?}");
            }
            None => out.push('-'),
        }
        out.push('|');
    }
    out
}

/// When a batch that starts now must end; a deadline too far to represent means none.
pub(crate) fn deadline_from_now(deadline: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(deadline)
        .unwrap_or_else(|| now + Duration::from_secs(60 * 60 * 24 * 365 * 30))
}

/// The table name an error about one request names: the table, or the tables joined
/// when the request spans several.
pub(crate) fn tables_label<'t>(tables: impl Iterator<Item = &'t String>) -> String {
    let mut names: Vec<&str> = tables.map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    names.join(", ")
}

/// A problem found when a write was added, again for each call that reports it.
pub(crate) fn clone_problem(err: &Error) -> Error {
    match err {
        Error::Validation(e) => Error::Validation(e.clone()),
        Error::ItemTooLarge { size, limit } => Error::ItemTooLarge {
            size: *size,
            limit: *limit,
        },
        Error::InvalidKey { attribute, problem } => Error::InvalidKey {
            attribute: attribute.clone(),
            problem: *problem,
        },
        Error::InvalidItem { path, problem } => Error::InvalidItem {
            path: path.clone(),
            problem: *problem,
        },
        Error::InvalidExpression(m) => Error::InvalidExpression(m.clone()),
        Error::InvalidRequest(m) => Error::InvalidRequest(m.clone()),
        Error::Hook { model, hook, source } => Error::Hook {
            model,
            hook,
            source: source.to_string().into(),
        },
        other => Error::InvalidRequest(other.to_string()),
    }
}

/// How one request of a batch ended.
pub(crate) struct Chunk {
    /// The items read, by table (batch gets).
    pub items: Vec<(String, Vec<Item>)>,
    /// What was not applied or not read.
    pub left: Vec<BatchOp>,
    /// The error that stopped it, or the last retryable one when the deadline did.
    pub cause: Option<Error>,
    /// Requests sent, retries included.
    pub requests: usize,
}

/// What one batch request still has to do: writes or keys, by table.
pub(crate) trait Pending: Sized {
    /// What is kept while the request is out, to send it again or report it when it does
    /// not succeed.
    type Kept;
    /// Keeps what is pending, before it is handed to the SDK.
    fn keep(&self) -> Self::Kept;
    /// What was pending, from what was kept.
    fn restore(kept: Self::Kept) -> Self;
    /// Lists what is left, for [`Error::BatchIncomplete`].
    fn describe(self) -> Vec<BatchOp>;
}

/// Sends one request's entries until DynamoDB has processed them all, the deadline
/// passes, another request failed for good, or this one fails for good. `send` sends
/// what is pending and answers with the items read and what DynamoDB left unprocessed
/// (with no empty table); unprocessed entries, and throttled or unavailable requests,
/// are retried with backoff.
pub(crate) async fn run_request<P, F, Fut>(
    mut pending: HashMap<String, P>,
    deadline: tokio::time::Instant,
    stop: &AtomicBool,
    send: F,
) -> Chunk
where
    HashMap<String, P>: Pending,
    F: Fn(HashMap<String, P>) -> Fut,
    Fut: Future<Output = Result<(Vec<(String, Vec<Item>)>, HashMap<String, P>)>>,
{
    let mut chunk = Chunk {
        items: Vec::new(),
        left: Vec::new(),
        cause: None,
        requests: 0,
    };
    let mut last_error: Option<Error> = None;
    let mut round = 0;
    loop {
        let now = tokio::time::Instant::now();
        if stop.load(Ordering::Relaxed) || now >= deadline {
            chunk.left = pending.describe();
            chunk.cause = last_error;
            return chunk;
        }
        chunk.requests += 1;
        let kept = pending.keep();
        match tokio::time::timeout(deadline - now, send(pending)).await {
            // The request's fate is unknown: it is listed as not applied.
            Err(_elapsed) => {
                chunk.left = HashMap::restore(kept).describe();
                chunk.cause = last_error;
                return chunk;
            }
            Ok(Ok((items, unprocessed))) => {
                chunk.items.extend(items);
                pending = unprocessed;
                last_error = None;
                if pending.is_empty() {
                    return chunk;
                }
            }
            Ok(Err(err)) if !retryable(&err) => {
                stop.store(true, Ordering::Relaxed);
                chunk.left = HashMap::restore(kept).describe();
                chunk.cause = Some(err);
                return chunk;
            }
            Ok(Err(err)) => {
                tracing::debug!(error = %err, "batch request failed; retrying");
                pending = HashMap::restore(kept);
                last_error = Some(err);
            }
        }
        round += 1;
        let wait = backoff(round).min(deadline.saturating_duration_since(tokio::time::Instant::now()));
        tokio::time::sleep(wait).await;
    }
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

    #[test]
    fn key_ids_follow_dynamodb_equality() {
        use aws_sdk_dynamodb::primitives::Blob;
        use aws_sdk_dynamodb::types::AttributeValue;
        let id = |v: AttributeValue| key_id(&Item::from([("k".to_owned(), v)]), &["k"]);
        assert_eq!(id(AttributeValue::N("1".into())), id(AttributeValue::N("1.0".into())));
        assert_eq!(id(AttributeValue::N("10".into())), id(AttributeValue::N("1e1".into())));
        assert_ne!(id(AttributeValue::N("1".into())), id(AttributeValue::N("10".into())));
        assert_ne!(id(AttributeValue::N("1".into())), id(AttributeValue::S("1".into())));
        assert_ne!(id(AttributeValue::S("a|b".into())), id(AttributeValue::S("a".into())));
        assert_eq!(
            id(AttributeValue::B(Blob::new(vec![0, 255]))),
            id(AttributeValue::B(Blob::new(vec![0, 255])))
        );
        assert_ne!(
            id(AttributeValue::B(Blob::new(vec![1]))),
            id(AttributeValue::B(Blob::new(vec![1, 0])))
        );
        let two = |a: &str, b: &str| {
            key_id(
                &Item::from([
                    ("h".to_owned(), AttributeValue::S(a.into())),
                    ("r".to_owned(), AttributeValue::S(b.into())),
                ]),
                &["h", "r"],
            )
        };
        assert_ne!(two("a|", "b"), two("a", "|b"));
    }

    #[test]
    fn a_far_deadline_does_not_overflow() {
        let _ = deadline_from_now(Duration::MAX);
    }
}
