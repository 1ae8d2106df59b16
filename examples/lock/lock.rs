//! DynamORM's lock recipe: a table of named locks, taken and released with
//! consistent reads and conditional updates.
//!
//! A lock is one item, keyed by the lock's `name` and the `key` of what it guards. Taking
//! it is a conditional update that only succeeds when the lock is free (absent, released,
//! or expired); releasing it is a conditional update that only succeeds for the holder.
//! DynamoDB evaluates the condition and the write atomically, so two contenders can
//! never both succeed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use dynorm::ops::ReturnValues;
use dynorm::{Db, DynaModel, Error};
use serde::{Deserialize, Serialize};

/// One lock: `locked` with its `holder` while taken, until `expires` (epoch milliseconds).
#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "locks", hash_key = "name", range_key = "key")]
pub struct Lock {
    /// The lock's name, such as `"invoice"`.
    pub name: String,
    /// What the lock guards, such as an invoice id.
    pub key: String,
    /// Whether the lock is taken.
    pub locked: bool,
    /// Who holds it; empty when free.
    #[serde(default)]
    pub holder: String,
    /// When a holder that never released it loses it, in epoch milliseconds.
    #[serde(default)]
    pub expires: u64,
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Tries to take the lock `(name, key)` for `holder`, for at most `lease`. Resolves to
/// `false` when someone else holds it.
pub async fn lock(db: &Db, name: &str, key: &str, holder: &str, lease: Duration) -> dynorm::Result<bool> {
    // A consistent read first spares a write when the lock is visibly taken.
    if let Some(current) = Lock::get(db, (name, key)).consistent_read(true).await? {
        if current.locked && current.expires > now_millis() {
            return Ok(false);
        }
    }
    let f = Lock::fields();
    let now = now_millis();
    let free = f.locked().not_exists() | f.locked().eq(false) | f.expires().lt(now);
    let taken = Lock::update_by_key(db, (name, key))
        .set(f.locked(), true)
        .set(f.holder(), holder)
        .set(f.expires(), now + lease.as_millis() as u64)
        .condition(free)
        .return_values(ReturnValues::None)
        .await;
    match taken {
        Ok(_) => Ok(true),
        Err(Error::ConditionFailed { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Releases the lock `(name, key)` if `holder` holds it. Resolves to `false` when it
/// does not (it expired and someone else took it).
pub async fn unlock(db: &Db, name: &str, key: &str, holder: &str) -> dynorm::Result<bool> {
    let f = Lock::fields();
    let released = Lock::update_by_key(db, (name, key))
        .set(f.locked(), false)
        .set(f.holder(), "")
        .condition(f.locked().eq(true) & f.holder().eq(holder))
        .return_values(ReturnValues::None)
        .await;
    match released {
        Ok(_) => Ok(true),
        Err(Error::ConditionFailed { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}
