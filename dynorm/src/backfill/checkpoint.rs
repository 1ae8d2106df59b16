//! Where a backfill keeps its place: one checkpoint per segment, behind a lease, in a
//! [`CheckpointStore`]. Three stores come with dynorm: [`MemoryCheckpoints`] (one
//! process), [`FileCheckpoints`] (a JSON file per run, shared by the processes of one
//! machine) and [`TableCheckpoints`] (a DynamoDB table, shared by processes and Lambda
//! invocations anywhere).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType as SdkKeyType, ReturnValue,
    ScalarAttributeType, TableStatus,
};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::{Db, Error, Item, Result};

/// The saved progress of one segment of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Checkpoint {
    /// How many segments the run has; a run resumed with another number is refused.
    pub segments: u32,
    /// Where the segment's scan goes on: its last evaluated key, encoded. `None` before
    /// the first page.
    pub position: Option<String>,
    /// The segment is finished.
    pub done: bool,
    /// Items read, written, skipped and failed in this segment so far.
    pub scanned: u64,
    /// Items written.
    pub written: u64,
    /// Items left as they were (current already, nothing changed, or skipped by the
    /// function).
    pub skipped: u64,
    /// Items that failed (reported in the run's [`Report`](super::Report)).
    pub failed: u64,
}

/// Who asks for a segment, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    /// The run's name.
    pub run: &'a str,
    /// The segment.
    pub segment: u32,
    /// The worker claiming it.
    pub worker: &'a str,
    /// How long the claim holds without a save.
    pub lease: Duration,
}

/// Where a backfill saves its checkpoints. Implementations must make `claim` and
/// `save` atomic with respect to other workers: that is all the coordination workers
/// of one run have.
pub trait CheckpointStore: Send + Sync {
    /// Claims a segment: if no worker holds it, `claim.worker` holds it already, or
    /// the holder's lease has run out, the segment is now `claim.worker`'s until
    /// `claim.lease` from now, and its checkpoint (the default for a new one) is
    /// returned. `None` when another worker holds it.
    fn claim(&self, claim: &Claim<'_>) -> impl Future<Output = Result<Option<Checkpoint>>> + Send;

    /// Saves a segment's checkpoint and renews the lease, if `claim.worker` still holds
    /// it; otherwise [`Error::LeaseLost`].
    fn save(&self, claim: &Claim<'_>, checkpoint: &Checkpoint) -> impl Future<Output = Result<()>> + Send;

    /// Every saved checkpoint of a run, by segment.
    fn load(&self, run: &str) -> impl Future<Output = Result<Vec<(u32, Checkpoint)>>> + Send;
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn lease_until(lease: Duration) -> u64 {
    now_ms().saturating_add(lease.as_millis() as u64)
}

/// A segment as a store keeps it: its holder, the lease and the checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Held {
    owner: Option<String>,
    lease_until_ms: u64,
    checkpoint: Checkpoint,
}

impl Held {
    fn claimable_by(&self, worker: &str) -> bool {
        match &self.owner {
            None => true,
            Some(owner) => owner == worker || self.lease_until_ms < now_ms(),
        }
    }
}

/// Checkpoints in memory: for a run in one process (its workers are tasks), and tests.
/// Cloning shares it.
#[derive(Debug, Clone, Default)]
pub struct MemoryCheckpoints {
    runs: Arc<Mutex<HashMap<String, HashMap<u32, Held>>>>,
}

impl MemoryCheckpoints {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl CheckpointStore for MemoryCheckpoints {
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<Checkpoint>> {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let held = runs
            .entry(claim.run.to_owned())
            .or_default()
            .entry(claim.segment)
            .or_default();
        Ok(take(held, claim))
    }

    async fn save(&self, claim: &Claim<'_>, checkpoint: &Checkpoint) -> Result<()> {
        let mut runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        let held = runs
            .entry(claim.run.to_owned())
            .or_default()
            .entry(claim.segment)
            .or_default();
        keep(held, claim, checkpoint)
    }

    async fn load(&self, run: &str) -> Result<Vec<(u32, Checkpoint)>> {
        let runs = self.runs.lock().unwrap_or_else(|e| e.into_inner());
        Ok(listed(runs.get(run)))
    }
}

fn take(held: &mut Held, claim: &Claim<'_>) -> Option<Checkpoint> {
    if !held.claimable_by(claim.worker) {
        return None;
    }
    held.owner = Some(claim.worker.to_owned());
    held.lease_until_ms = lease_until(claim.lease);
    Some(held.checkpoint.clone())
}

fn keep(held: &mut Held, claim: &Claim<'_>, checkpoint: &Checkpoint) -> Result<()> {
    if held.owner.as_deref() != Some(claim.worker) {
        return Err(Error::LeaseLost {
            run: claim.run.to_owned(),
            segment: claim.segment,
        });
    }
    held.lease_until_ms = lease_until(claim.lease);
    held.checkpoint = checkpoint.clone();
    Ok(())
}

fn listed(segments: Option<&HashMap<u32, Held>>) -> Vec<(u32, Checkpoint)> {
    let mut out: Vec<(u32, Checkpoint)> = segments
        .into_iter()
        .flatten()
        .map(|(segment, held)| (*segment, held.checkpoint.clone()))
        .collect();
    out.sort_by_key(|(segment, _)| *segment);
    out
}

/// Checkpoints in a JSON file per run (`{dir}/{run}.json`), shared by the processes
/// of one machine: each claim and save holds an exclusive lock on `{run}.lock` (an
/// operating-system file lock, released if the process dies) while it reads and
/// rewrites the file, and the file is replaced whole (written, synced, renamed), so a
/// process killed part way leaves the last complete state.
#[derive(Debug, Clone)]
pub struct FileCheckpoints {
    dir: PathBuf,
}

impl FileCheckpoints {
    /// A store in `dir`, created when first used.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        FileCheckpoints { dir: dir.into() }
    }

    fn paths(&self, run: &str) -> Result<(PathBuf, PathBuf)> {
        check_run_name(run)?;
        Ok((
            self.dir.join(format!("{run}.json")),
            self.dir.join(format!("{run}.lock")),
        ))
    }

    async fn with_file<T>(
        &self,
        run: &str,
        change: impl FnOnce(&mut HashMap<u32, Held>) -> Result<(T, bool)>,
    ) -> Result<T> {
        let failed = |source: BoxedError| Error::Checkpoint {
            run: run.to_owned(),
            source,
        };
        let io = |e: std::io::Error| failed(Box::new(e));
        let (file, lock_path) = self.paths(run)?;
        std::fs::create_dir_all(&self.dir).map_err(io)?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io)?;
        loop {
            match lock.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => tokio::time::sleep(Duration::from_millis(2)).await,
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
        let mut segments: HashMap<u32, Held> = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| failed(Box::new(e)))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashMap::new(),
            Err(e) => return Err(io(e)),
        };
        let (out, changed) = change(&mut segments)?;
        if changed {
            use std::io::Write;
            let json = serde_json::to_vec(&segments).map_err(|e| failed(Box::new(e)))?;
            let tmp = file.with_extension(format!("json.{}", std::process::id()));
            let mut f = std::fs::File::create(&tmp).map_err(io)?;
            f.write_all(&json).map_err(io)?;
            f.sync_all().map_err(io)?;
            drop(f);
            std::fs::rename(&tmp, &file).map_err(io)?;
        }
        // Unlocked when `lock` is dropped.
        drop(lock);
        Ok(out)
    }
}

type BoxedError = crate::BoxError;

impl CheckpointStore for FileCheckpoints {
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<Checkpoint>> {
        self.with_file(claim.run, |segments| {
            let taken = take(segments.entry(claim.segment).or_default(), claim);
            let changed = taken.is_some();
            Ok((taken, changed))
        })
        .await
    }

    async fn save(&self, claim: &Claim<'_>, checkpoint: &Checkpoint) -> Result<()> {
        self.with_file(claim.run, |segments| {
            keep(segments.entry(claim.segment).or_default(), claim, checkpoint).map(|()| ((), true))
        })
        .await
    }

    async fn load(&self, run: &str) -> Result<Vec<(u32, Checkpoint)>> {
        self.with_file(run, |segments| Ok((listed(Some(segments)), false)))
            .await
    }
}

fn check_run_name(run: &str) -> Result<()> {
    let ok = !run.is_empty()
        && run.len() <= 200
        && run
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !run.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidRequest(format!(
            "invalid run name `{run}`: use 1 to 200 letters, digits, `-`, `_` and `.`, not starting with `.`"
        )))
    }
}

/// Checkpoints in a DynamoDB table (hash key `run`, range key `segment`), shared by
/// every process and Lambda invocation of a run: claims and saves are conditional
/// writes on the holder and its lease.
#[derive(Debug, Clone)]
pub struct TableCheckpoints {
    db: Db,
    table: String,
}

impl TableCheckpoints {
    /// A store in the table `name` (the handle's prefix applies).
    pub fn new(db: &Db, name: &str) -> Self {
        TableCheckpoints {
            db: db.clone(),
            table: db.resolve_table_name(name),
        }
    }

    /// The full table name.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// Creates the table (on demand) if it does not exist, and waits until it is
    /// ACTIVE.
    pub async fn ensure_table(&self) -> Result<()> {
        let client = self.db.client();
        let exists = client.describe_table().table_name(&self.table).send().await;
        match exists {
            Ok(_) => {}
            Err(err) => {
                let err = Error::from_sdk(err, &self.table);
                if !matches!(err, Error::TableNotFound { .. }) {
                    return Err(err);
                }
                let attr = |name: &str, t| {
                    AttributeDefinition::builder()
                        .attribute_name(name)
                        .attribute_type(t)
                        .build()
                        .map_err(Error::Build)
                };
                let key = |name: &str, t| {
                    KeySchemaElement::builder()
                        .attribute_name(name)
                        .key_type(t)
                        .build()
                        .map_err(Error::Build)
                };
                let created = client
                    .create_table()
                    .table_name(&self.table)
                    .attribute_definitions(attr("run", ScalarAttributeType::S)?)
                    .attribute_definitions(attr("segment", ScalarAttributeType::N)?)
                    .key_schema(key("run", SdkKeyType::Hash)?)
                    .key_schema(key("segment", SdkKeyType::Range)?)
                    .billing_mode(BillingMode::PayPerRequest)
                    .send()
                    .await;
                if let Err(err) = created {
                    let err = Error::from_sdk(err, &self.table);
                    if !matches!(err, Error::TableExists { .. }) {
                        return Err(err);
                    }
                }
            }
        }
        let deadline = std::time::Instant::now() + self.db.table_wait_timeout();
        loop {
            let out = client
                .describe_table()
                .table_name(&self.table)
                .send()
                .await
                .map_err(|e| Error::from_sdk(e, &self.table))?;
            if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(Error::WaitTimeout {
                    table: self.table.clone(),
                    wanted: TableStatus::Active,
                    waited: self.db.table_wait_timeout(),
                });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn n(value: u64) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn checkpoint_from(item: &Item) -> Checkpoint {
    let num = |name: &str| match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().unwrap_or(0),
        _ => 0,
    };
    Checkpoint {
        segments: num("segments") as u32,
        position: match item.get("position") {
            Some(AttributeValue::S(p)) => Some(p.clone()),
            _ => None,
        },
        done: matches!(item.get("done"), Some(AttributeValue::Bool(true))),
        scanned: num("scanned"),
        written: num("written"),
        skipped: num("skipped"),
        failed: num("failed"),
    }
}

impl TableCheckpoints {
    /// An update of the item of a claim's segment.
    fn segment_update(
        &self,
        claim: &Claim<'_>,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.db
            .client()
            .update_item()
            .table_name(&self.table)
            .key("run", AttributeValue::S(claim.run.to_owned()))
            .key("segment", n(u64::from(claim.segment)))
    }
}

impl CheckpointStore for TableCheckpoints {
    async fn claim(&self, claim: &Claim<'_>) -> Result<Option<Checkpoint>> {
        let out = self
            .segment_update(claim)
            .update_expression("SET #o = :w, #l = :until")
            .condition_expression("attribute_not_exists(#o) OR #o = :w OR #l < :now")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_names("#l", "lease_until_ms")
            .expression_attribute_values(":w", AttributeValue::S(claim.worker.to_owned()))
            .expression_attribute_values(":until", n(lease_until(claim.lease)))
            .expression_attribute_values(":now", n(now_ms()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match out {
            Ok(out) => Ok(Some(checkpoint_from(&out.attributes.unwrap_or_default()))),
            Err(err) => match Error::from_sdk(err, &self.table) {
                Error::ConditionFailed { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn save(&self, claim: &Claim<'_>, checkpoint: &Checkpoint) -> Result<()> {
        let mut update = self
            .segment_update(claim)
            .condition_expression("#o = :w")
            .expression_attribute_names("#o", "owner")
            .expression_attribute_names("#l", "lease_until_ms")
            .expression_attribute_values(":w", AttributeValue::S(claim.worker.to_owned()))
            .expression_attribute_values(":until", n(lease_until(claim.lease)))
            .expression_attribute_names("#segments", "segments")
            .expression_attribute_names("#done", "done")
            .expression_attribute_names("#scanned", "scanned")
            .expression_attribute_names("#written", "written")
            .expression_attribute_names("#skipped", "skipped")
            .expression_attribute_names("#failed", "failed")
            .expression_attribute_values(":segments", n(u64::from(checkpoint.segments)))
            .expression_attribute_values(":done", AttributeValue::Bool(checkpoint.done))
            .expression_attribute_values(":scanned", n(checkpoint.scanned))
            .expression_attribute_values(":written", n(checkpoint.written))
            .expression_attribute_values(":skipped", n(checkpoint.skipped))
            .expression_attribute_values(":failed", n(checkpoint.failed));
        let sets = "SET #l = :until, #segments = :segments, #done = :done, #scanned = :scanned, #written = :written, #skipped = :skipped, #failed = :failed";
        update = match &checkpoint.position {
            Some(position) => update
                .update_expression(format!("{sets}, #p = :p"))
                .expression_attribute_names("#p", "position")
                .expression_attribute_values(":p", AttributeValue::S(position.clone())),
            None => update
                .update_expression(format!("{sets} REMOVE #p"))
                .expression_attribute_names("#p", "position"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(err) => match Error::from_sdk(err, &self.table) {
                Error::ConditionFailed { .. } => Err(Error::LeaseLost {
                    run: claim.run.to_owned(),
                    segment: claim.segment,
                }),
                other => Err(other),
            },
        }
    }

    async fn load(&self, run: &str) -> Result<Vec<(u32, Checkpoint)>> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .db
                .client()
                .query()
                .table_name(&self.table)
                .key_condition_expression("#r = :r")
                .expression_attribute_names("#r", "run")
                .expression_attribute_values(":r", AttributeValue::S(run.to_owned()))
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| Error::from_sdk(e, &self.table))?;
            for item in page.items() {
                if let Some(AttributeValue::N(segment)) = item.get("segment") {
                    if let Ok(segment) = segment.parse::<u32>() {
                        out.push((segment, checkpoint_from(item)));
                    }
                }
            }
            match page.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => return Ok(out),
            }
        }
    }
}

/// A scan position (a last evaluated key) as text: JSON of its attributes, each
/// `{"S": ..}`, `{"N": ..}` or `{"B": base64}`.
pub(crate) fn encode_position(key: &Item) -> Result<String> {
    let mut map = serde_json::Map::new();
    let mut names: Vec<&String> = key.keys().collect();
    names.sort();
    for name in names {
        let value = match &key[name] {
            AttributeValue::S(s) => serde_json::json!({ "S": s }),
            AttributeValue::N(n) => serde_json::json!({ "N": n }),
            AttributeValue::B(b) => {
                serde_json::json!({ "B": base64::engine::general_purpose::STANDARD.encode(b.as_ref()) })
            }
            other => {
                return Err(Error::InvalidRequest(format!(
                    "a scan position holds only key values, not a {} value",
                    crate::value::type_name(other)
                )))
            }
        };
        map.insert(name.clone(), value);
    }
    Ok(serde_json::Value::Object(map).to_string())
}

/// The last evaluated key a position holds.
pub(crate) fn decode_position(run: &str, text: &str) -> Result<Item> {
    let bad = |why: &str| Error::Checkpoint {
        run: run.to_owned(),
        source: format!("unreadable scan position: {why}").into(),
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| bad("not JSON"))?;
    let object = value.as_object().ok_or_else(|| bad("not an object"))?;
    let mut key = Item::new();
    for (name, value) in object {
        let (kind, inner) = value
            .as_object()
            .and_then(|o| o.iter().next())
            .ok_or_else(|| bad("a value is not typed"))?;
        let text = inner.as_str().ok_or_else(|| bad("a value is not text"))?;
        let value = match kind.as_str() {
            "S" => AttributeValue::S(text.to_owned()),
            "N" => AttributeValue::N(text.to_owned()),
            "B" => AttributeValue::B(
                base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| bad("bad base64"))?
                    .into(),
            ),
            _ => return Err(bad("unknown type")),
        };
        key.insert(name.clone(), value);
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_round_trip() {
        let key: Item = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("a\"b".into())),
            ("n".to_owned(), AttributeValue::N("12".into())),
            ("b".to_owned(), AttributeValue::B(vec![0u8, 255].into())),
        ]);
        let text = encode_position(&key).unwrap();
        assert_eq!(decode_position("r", &text).unwrap(), key);
        assert!(decode_position("r", "{").is_err());
    }

    #[tokio::test]
    async fn a_held_segment_is_refused_until_its_lease_runs_out() {
        let store = MemoryCheckpoints::new();
        let claim = |worker, lease| Claim {
            run: "r",
            segment: 0,
            worker,
            lease,
        };
        assert!(store
            .claim(&claim("a", Duration::from_millis(50)))
            .await
            .unwrap()
            .is_some());
        assert!(store
            .claim(&claim("b", Duration::from_secs(1)))
            .await
            .unwrap()
            .is_none());
        assert!(store
            .claim(&claim("a", Duration::from_millis(50)))
            .await
            .unwrap()
            .is_some());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(store
            .claim(&claim("b", Duration::from_secs(1)))
            .await
            .unwrap()
            .is_some());
        let err = store
            .save(&claim("a", Duration::from_secs(1)), &Checkpoint::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::LeaseLost { segment: 0, .. }));
    }

    #[tokio::test]
    async fn the_file_store_keeps_checkpoints_across_instances() {
        let dir = std::env::temp_dir().join(format!("dynorm-ckpt-{}", std::process::id()));
        let claim = Claim {
            run: "run-1",
            segment: 3,
            worker: "w",
            lease: Duration::from_secs(5),
        };
        let store = FileCheckpoints::new(&dir);
        store.claim(&claim).await.unwrap().unwrap();
        let cp = Checkpoint {
            segments: 4,
            position: Some("{}".into()),
            scanned: 7,
            ..Checkpoint::default()
        };
        store.save(&claim, &cp).await.unwrap();
        let again = FileCheckpoints::new(&dir);
        assert_eq!(again.load("run-1").await.unwrap(), vec![(3, cp.clone())]);
        assert_eq!(again.claim(&claim).await.unwrap(), Some(cp));
        assert!(again.load("../x").await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
