//! Rewriting a whole table: a segmented scan whose items pass through the model's
//! migrations and a function of yours, written back with conditional writes, within a
//! capacity budget, with checkpoints to resume from and to share the work between
//! processes.
//!
//! ```no_run
//! # use dynorm::{DynaModel, Db};
//! # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
//! # #[table(name = "users", hash_key = "id")]
//! # #[schema(version = 2, migrations = [add_plan])]
//! # struct User { id: String, plan: String }
//! # fn add_plan(item: &mut dynorm::Item) -> Result<(), dynorm::BoxError> { Ok(()) }
//! # async fn run(db: Db) -> dynorm::Result<()> {
//! use dynorm::backfill::{Backfill, FileCheckpoints};
//! use dynorm::CapacityBudget;
//!
//! // Every item below version 2 is migrated and written back, at most 200 read and
//! // 100 write units per second; killed and run again, it goes on where it was.
//! let report = Backfill::<User>::new(&db, "users-v2")
//!     .segments(8)
//!     .budget(&CapacityBudget::new(200.0, 100.0))
//!     .checkpoints(FileCheckpoints::new("checkpoints"))
//!     .on_progress(|p| eprintln!("{p}"))
//!     .run()
//!     .await?;
//! assert!(report.complete);
//! # Ok(()) }
//! ```
//!
//! **What is written.** Each item is read as stored, migrated and decoded (the load
//! hooks run), given to the function of [`map`](Backfill::map), validated and encoded.
//! What differs from the stored item is written with an `UpdateItem` conditioned on
//! every attribute it changes still holding the value that was read (and on the
//! `#[dynorm(version)]` attribute, which it increments). A concurrent change to one of
//! them fails the condition, and the item is read again (strongly consistent) and
//! processed from there: a concurrent change is never overwritten. A concurrent change
//! to any other attribute is kept.
//!
//! **Exactly once.** For a model with `#[schema]`, only items below the current version
//! are processed (unless [`all_items`](Backfill::all_items)), and each write moves an
//! item to the current version: an item a killed run wrote is skipped when the page is
//! read again. Without `#[schema]`, every item is given to the function, so a run resumed
//! after a kill gives it the items of the segments' last unsaved pages again: make the
//! function idempotent.
//!
//! **Checkpoints and workers.** Each segment's position is saved after every page, in
//! a [`CheckpointStore`]. Workers (processes, tasks, Lambda invocations) of one run
//! claim segments through the store, each segment behind a lease that every save renews;
//! a worker that stops leaves its segments to be claimed by another once the lease
//! runs out. Run the same run with the same worker name to resume at once.

mod checkpoint;

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity, Select};
use futures::{StreamExt, TryStreamExt};

pub use checkpoint::{Checkpoint, CheckpointStore, Claim, FileCheckpoints, MemoryCheckpoints, TableCheckpoints};

use crate::budget::{CapacityBudget, Spend};
use crate::{BoxError, Db, Error, Item, Model, Result};

/// What the function of [`Backfill::map`] decides for an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// Write the item as the function left it (if it differs from what is stored).
    Write,
    /// Leave the item as it is stored.
    Skip,
}

type MapFn<M> = dyn Fn(&mut M) -> std::result::Result<Rewrite, BoxError> + Send + Sync;
type ProgressFn = dyn Fn(&Progress) + Send + Sync;

/// How many times an item whose write met a concurrent change is read and processed
/// again before it counts as failed.
const MAX_CONFLICTS: u32 = 10;
/// How many times a throttled request is retried (after the SDK's own retries).
const MAX_THROTTLED: u32 = 20;

/// A backfill of the table of `M`. Made by [`Backfill::new`]; run by
/// [`run`](Backfill::run).
#[must_use = "a backfill does nothing until it is run"]
pub struct Backfill<'a, M: Model, S: CheckpointStore = MemoryCheckpoints> {
    db: &'a Db,
    run: String,
    worker: String,
    segments: u32,
    parallel: usize,
    writes_in_flight: usize,
    page_size: i32,
    lease: Duration,
    budget: Option<CapacityBudget>,
    store: S,
    map: Option<Arc<MapFn<M>>>,
    progress: Option<Arc<ProgressFn>>,
    progress_every: Duration,
    only_outdated: bool,
    estimated_items: Option<u64>,
}

impl<'a, M: Model> Backfill<'a, M> {
    /// A backfill named `run` (the checkpoints' key: letters, digits, `-`, `_`, `.`),
    /// with 4 segments, checkpoints in memory, and no budget beyond the handle's.
    pub fn new(db: &'a Db, run: impl Into<String>) -> Self {
        Backfill {
            db,
            run: run.into(),
            worker: default_worker("backfill"),
            segments: 4,
            parallel: 4,
            writes_in_flight: 8,
            page_size: 100,
            lease: Duration::from_secs(60),
            budget: db.capacity_budget().cloned(),
            store: MemoryCheckpoints::new(),
            map: None,
            progress: None,
            progress_every: Duration::from_secs(1),
            only_outdated: M::SCHEMA.schema_version.is_some(),
            estimated_items: None,
        }
    }
}

/// A worker name no other worker has: the host, the process, the time and a count, so
/// tasks of one process and Lambda invocations (whose process ids repeat) differ.
pub(crate) fn default_worker(kind: &str) -> String {
    static COUNT: AtomicU64 = AtomicU64::new(0);
    let host = std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_STREAM_NAME"))
        .unwrap_or_else(|_| "local".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{kind}-{host}-{}-{nanos:x}-{}",
        std::process::id(),
        COUNT.fetch_add(1, Ordering::Relaxed)
    )
}

impl<'a, M: Model, S: CheckpointStore> Backfill<'a, M, S> {
    /// Saves checkpoints in `store` (a file or DynamoDB table to resume from, or to
    /// share between workers).
    pub fn checkpoints<T: CheckpointStore>(self, store: T) -> Backfill<'a, M, T> {
        Backfill {
            db: self.db,
            run: self.run,
            worker: self.worker,
            segments: self.segments,
            parallel: self.parallel,
            writes_in_flight: self.writes_in_flight,
            page_size: self.page_size,
            lease: self.lease,
            budget: self.budget,
            store,
            map: self.map,
            progress: self.progress,
            progress_every: self.progress_every,
            only_outdated: self.only_outdated,
            estimated_items: self.estimated_items,
        }
    }

    /// The number of scan segments the run is split into (4 by default, at most
    /// 1,000,000). Every worker of a run must give the same number.
    pub fn segments(mut self, n: u32) -> Self {
        self.segments = n;
        self
    }

    /// How many segments this worker scans at once (4 by default).
    pub fn parallel(mut self, n: usize) -> Self {
        self.parallel = n.max(1);
        self
    }

    /// How many writes one segment has in flight at once (8 by default).
    pub fn writes_in_flight(mut self, n: usize) -> Self {
        self.writes_in_flight = n.max(1);
        self
    }

    /// Items per scan page, and so between checkpoints (100 by default).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, i32::MAX as u32) as i32;
        self
    }

    /// This worker's name in the checkpoint store (by default one no other worker has).
    /// A worker that runs again under its own name takes back its segments at once;
    /// under another name (as with the default), once their lease has run out. Two
    /// live workers must not share a name.
    pub fn worker(mut self, name: impl Into<String>) -> Self {
        self.worker = name.into();
        self
    }

    /// How long a claimed segment stays this worker's without a checkpoint saved (60 s
    /// by default); a worker that stops gives its segments up after this long.
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// Keeps the run's reads and writes within `budget` (shared with whatever else
    /// uses it).
    pub fn budget(mut self, budget: &CapacityBudget) -> Self {
        self.budget = Some(budget.clone());
        self
    }

    /// Gives every item to `f` after its migrations: it changes the item and says
    /// whether to write it.
    pub fn map<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut M) -> std::result::Result<Rewrite, BoxError> + Send + Sync + 'static,
    {
        self.map = Some(Arc::new(f));
        self
    }

    /// Processes every item, not only those below the model's schema version.
    pub fn all_items(mut self) -> Self {
        self.only_outdated = false;
        self
    }

    /// Calls `f` with the run's progress about once every
    /// [`progress_every`](Self::progress_every), and at the end.
    pub fn on_progress<F>(mut self, f: F) -> Self
    where
        F: Fn(&Progress) + Send + Sync + 'static,
    {
        self.progress = Some(Arc::new(f));
        self
    }

    /// How often progress is reported (1 s by default).
    pub fn progress_every(mut self, every: Duration) -> Self {
        self.progress_every = every;
        self
    }

    /// The number of items the table holds, for the estimate of the time left
    /// (`DescribeTable`'s item count by default).
    pub fn estimated_items(mut self, n: u64) -> Self {
        self.estimated_items = Some(n);
        self
    }

    /// Runs this worker's share of the backfill: claims segments until none is left
    /// to claim, and processes each to its end. Resolves to what it did; the items that
    /// failed are in the report, not an error. Fails on what stops the run: the checkpoint
    /// store, a scan that keeps failing, a lost lease.
    pub async fn run(self) -> Result<Report> {
        if self.segments == 0 || self.segments > 1_000_000 {
            return Err(Error::InvalidRequest(format!(
                "a backfill has 1 to 1000000 segments, not {}",
                self.segments
            )));
        }
        if self.worker.is_empty() {
            return Err(Error::InvalidRequest("a backfill worker needs a name".into()));
        }
        let table = self.db.table_name::<M>();
        let db = match &self.budget {
            Some(budget) => self.db.with_capacity_budget(budget),
            None => self.db.clone(),
        };
        db.prepare::<M>(&table).await?;
        let previous = self.store.load(&self.run).await?;
        let baseline = Counts::default();
        for (_, cp) in &previous {
            baseline.add(cp.scanned, cp.written, cp.skipped, cp.failed);
        }
        let estimated = match self.estimated_items {
            Some(n) => Some(n),
            None => db
                .client()
                .describe_table()
                .table_name(&table)
                .send()
                .await
                .ok()
                .and_then(|out| out.table().and_then(|t| t.item_count()))
                .map(|n| n.max(0) as u64),
        };
        let shared = Shared {
            started: Instant::now(),
            counts: Counts::default(),
            baseline,
            segments_done: AtomicU64::new(previous.iter().filter(|(_, cp)| cp.done).count() as u64),
            failures: Mutex::new(Vec::new()),
            last_report: Mutex::new(Instant::now()),
            estimated,
            read_units: Mutex::new(0.0),
            write_units: Mutex::new(0.0),
        };
        let runner = Runner {
            backfill: &self,
            db,
            table,
            shared: &shared,
        };
        tracing::info!(run = %self.run, worker = %self.worker, table = %runner.table, segments = self.segments, "dynorm: backfill started");
        // Each worker starts at its own place, so workers meet on fewer claims.
        let offset = self
            .worker
            .bytes()
            .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
            % self.segments;
        let order: Vec<u32> = (0..self.segments).map(|i| (i + offset) % self.segments).collect();
        let outcomes: Vec<(u32, SegmentEnd)> = futures::stream::iter(order)
            .map(|segment| {
                let runner = &runner;
                async move { runner.segment(segment).await.map(|end| (segment, end)) }
            })
            .buffer_unordered(self.parallel)
            .try_collect()
            .await?;
        let mut held = Vec::new();
        let mut lost = Vec::new();
        let mut processed = Vec::new();
        for (segment, end) in outcomes {
            match end {
                SegmentEnd::Processed => processed.push(segment),
                SegmentEnd::Held => held.push(segment),
                SegmentEnd::Lost => lost.push(segment),
                SegmentEnd::DoneBefore => {}
            }
        }
        held.sort_unstable();
        processed.sort_unstable();
        let complete = self
            .store
            .load(&self.run)
            .await?
            .iter()
            .filter(|(_, cp)| cp.done)
            .count() as u32
            == self.segments;
        let progress = runner.progress();
        runner.report_progress(&progress, true);
        let counts = &shared.counts;
        let report = Report {
            scanned: counts.scanned.load(Ordering::Relaxed),
            written: counts.written.load(Ordering::Relaxed),
            skipped: counts.skipped.load(Ordering::Relaxed),
            failed: counts.failed.load(Ordering::Relaxed),
            failures: std::mem::take(&mut *shared.failures.lock().unwrap_or_else(|e| e.into_inner())),
            segments_processed: processed,
            segments_held: held,
            segments_lost: lost,
            complete,
            read_units: *shared.read_units.lock().unwrap_or_else(|e| e.into_inner()),
            write_units: *shared.write_units.lock().unwrap_or_else(|e| e.into_inner()),
            elapsed: shared.started.elapsed(),
        };
        tracing::info!(run = %self.run, worker = %self.worker, written = report.written, skipped = report.skipped, failed = report.failed, complete, "dynorm: backfill finished");
        Ok(report)
    }
}

/// How one segment's turn ended.
enum SegmentEnd {
    /// This worker processed it to its end.
    Processed,
    /// Another worker holds it.
    Held,
    /// It was finished before this run.
    DoneBefore,
    /// Another worker claimed it while this one worked on it (its lease ran out).
    Lost,
}

#[derive(Default)]
struct Counts {
    scanned: AtomicU64,
    written: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
}

impl Counts {
    fn add(&self, scanned: u64, written: u64, skipped: u64, failed: u64) {
        self.scanned.fetch_add(scanned, Ordering::Relaxed);
        self.written.fetch_add(written, Ordering::Relaxed);
        self.skipped.fetch_add(skipped, Ordering::Relaxed);
        self.failed.fetch_add(failed, Ordering::Relaxed);
    }
}

struct Shared {
    started: Instant,
    counts: Counts,
    /// What the checkpoints held when this run started.
    baseline: Counts,
    segments_done: AtomicU64,
    failures: Mutex<Vec<Failure>>,
    last_report: Mutex<Instant>,
    estimated: Option<u64>,
    read_units: Mutex<f64>,
    write_units: Mutex<f64>,
}

/// The most failed items a report lists (all are counted).
const MAX_LISTED_FAILURES: usize = 1000;

struct Runner<'r, 'a, M: Model, S: CheckpointStore> {
    backfill: &'r Backfill<'a, M, S>,
    db: Db,
    table: String,
    shared: &'r Shared,
}

/// The outcome of one item.
enum Outcome {
    Written,
    Skipped,
    Failed(Failure),
}

impl<M: Model, S: CheckpointStore> Runner<'_, '_, M, S> {
    async fn segment(&self, segment: u32) -> Result<SegmentEnd> {
        let b = self.backfill;
        let claim = Claim {
            run: &b.run,
            segment,
            worker: &b.worker,
            lease: b.lease,
        };
        let Some(mut cp) = b.store.claim(&claim).await? else {
            return Ok(SegmentEnd::Held);
        };
        if cp.segments != 0 && cp.segments != b.segments {
            return Err(Error::InvalidRequest(format!(
                "run `{}` was started with {} segments, not {}",
                b.run, cp.segments, b.segments
            )));
        }
        if cp.done {
            return Ok(SegmentEnd::DoneBefore);
        }
        cp.segments = b.segments;
        let mut start = match &cp.position {
            Some(p) => Some(checkpoint::decode_position(&b.run, p)?),
            None => None,
        };
        tracing::debug!(run = %b.run, segment, resumed = start.is_some(), "dynorm: backfill segment claimed");
        let mut saved = Instant::now();
        loop {
            let (items, scanned, last) = self.scan_page(segment, start.take()).await?;
            self.shared.counts.add(scanned, 0, 0, 0);
            cp.scanned += scanned;
            // Items in chunks, the lease renewed between them while the page takes long
            // (a tight budget), so another worker does not claim the segment meanwhile.
            let mut outcomes: Vec<Outcome> = Vec::with_capacity(items.len());
            let mut items = items.into_iter().peekable();
            while items.peek().is_some() {
                let chunk: Vec<Item> = items.by_ref().take(b.writes_in_flight * 4).collect();
                let done: Vec<Outcome> = futures::stream::iter(chunk)
                    .map(|item| self.item(item))
                    .buffer_unordered(b.writes_in_flight)
                    .collect()
                    .await;
                outcomes.extend(done);
                if items.peek().is_some() && saved.elapsed() > b.lease / 3 {
                    match b.store.save(&claim, &cp).await {
                        Ok(()) => saved = Instant::now(),
                        Err(Error::LeaseLost { .. }) => return Ok(self.lost(segment)),
                        Err(err) => return Err(err),
                    }
                }
            }
            for outcome in outcomes {
                match outcome {
                    Outcome::Written => {
                        cp.written += 1;
                        self.shared.counts.add(0, 1, 0, 0);
                    }
                    Outcome::Skipped => {
                        cp.skipped += 1;
                        self.shared.counts.add(0, 0, 1, 0);
                    }
                    Outcome::Failed(failure) => {
                        cp.failed += 1;
                        self.shared.counts.add(0, 0, 0, 1);
                        tracing::warn!(run = %b.run, segment, error = %failure.error, "dynorm: backfill item failed");
                        let mut failures = self.shared.failures.lock().unwrap_or_else(|e| e.into_inner());
                        if failures.len() < MAX_LISTED_FAILURES {
                            failures.push(failure);
                        }
                    }
                }
            }
            cp.done = last.is_none();
            cp.position = last.as_ref().map(checkpoint::encode_position).transpose()?;
            match b.store.save(&claim, &cp).await {
                Ok(()) => saved = Instant::now(),
                Err(Error::LeaseLost { .. }) => return Ok(self.lost(segment)),
                Err(err) => return Err(err),
            }
            if cp.done {
                self.shared.segments_done.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(run = %b.run, segment, "dynorm: backfill segment finished");
            }
            self.maybe_report();
            match last {
                Some(key) => start = Some(key),
                None => return Ok(SegmentEnd::Processed),
            }
        }
    }

    fn lost(&self, segment: u32) -> SegmentEnd {
        tracing::warn!(run = %self.backfill.run, worker = %self.backfill.worker, segment, "dynorm: another worker claimed the segment; leaving it");
        SegmentEnd::Lost
    }

    /// One page of the segment: its items, how many it read, and where it ends.
    async fn scan_page(&self, segment: u32, start: Option<Item>) -> Result<(Vec<Item>, u64, Option<Item>)> {
        let b = self.backfill;
        let mut throttled = 0;
        loop {
            let mut scan = self
                .db
                .client()
                .scan()
                .table_name(&self.table)
                .segment(segment as i32)
                .total_segments(b.segments as i32)
                .limit(b.page_size)
                .select(Select::AllAttributes)
                .set_exclusive_start_key(start.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            if let Some(entity) = M::SCHEMA.entity {
                scan = scan
                    .filter_expression("#t = :t")
                    .expression_attribute_names("#t", entity.type_attribute)
                    .expression_attribute_values(":t", AttributeValue::S(entity.type_name.to_owned()));
            }
            let mut ticket = self.db.ticket(Spend::Read).await;
            match scan.send().await {
                Ok(out) => {
                    let units: f64 = out.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0);
                    *self.shared.read_units.lock().unwrap_or_else(|e| e.into_inner()) += units;
                    ticket.settle(out.consumed_capacity());
                    let scanned = out.scanned_count().max(0) as u64;
                    let last = out.last_evaluated_key.filter(|k| !k.is_empty());
                    return Ok((out.items.unwrap_or_default(), scanned, last));
                }
                Err(err) => {
                    let err = Error::from_sdk(err, &self.table);
                    if matches!(err, Error::Throttled { .. }) && throttled < MAX_THROTTLED {
                        throttled += 1;
                        ticket.throttled();
                        tokio::time::sleep(backoff(throttled)).await;
                        continue;
                    }
                    return Err(err);
                }
            }
        }
    }

    /// Processes one item to its outcome.
    async fn item(&self, mut stored: Item) -> Outcome {
        let key = key_of::<M>(&stored);
        let fail = |error: Error| {
            Outcome::Failed(Failure {
                key: key.clone(),
                error,
            })
        };
        let mut throttled = 0;
        let mut conflicts = 0;
        loop {
            if self.backfill.only_outdated {
                match crate::migrate::stored_version::<M>(&stored) {
                    Ok(Some(v)) if Some(v) == M::SCHEMA.schema_version.map(|s| s.current) => return Outcome::Skipped,
                    Ok(_) => {}
                    Err(err) => return fail(err),
                }
            }
            let mut migrated = stored.clone();
            let (model, new) =
                match crate::migrate::migrate::<M>(&mut migrated).and_then(|_| self.rewrite(migrated.clone())) {
                    Ok(Some(rewritten)) => rewritten,
                    Ok(None) => return Outcome::Skipped,
                    Err(err) => return fail(err),
                };
            let input = match crate::migrate::rewrite_input(
                self.table.clone(),
                M::SCHEMA,
                &stored,
                &new,
                &|name| crate::migrate::removable::<M>(&migrated, name),
                M::SCHEMA.version_attribute.is_some(),
            ) {
                Ok(Some(input)) => input.return_consumed_capacity(ReturnConsumedCapacity::Total),
                Ok(None) => return Outcome::Skipped,
                Err(err) => return fail(err),
            };
            let mut ticket = self.db.ticket(Spend::Write).await;
            match input.send_with(self.db.write_client(false)).await {
                Ok(out) => {
                    let units: f64 = out.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0);
                    *self.shared.write_units.lock().unwrap_or_else(|e| e.into_inner()) += units;
                    ticket.settle(out.consumed_capacity());
                    crate::hooks::after_save(&model);
                    return Outcome::Written;
                }
                Err(err) => {
                    let err = Error::from_sdk_write(err, &self.table, false);
                    match err {
                        Error::ConditionFailed { .. } if conflicts < MAX_CONFLICTS => {
                            // Charged: a failed condition consumes write capacity too.
                            ticket.settle_none();
                            conflicts += 1;
                            match self.read_again(&key).await {
                                Ok(Some(fresh)) => stored = fresh,
                                Ok(None) => return Outcome::Skipped,
                                Err(err) => return fail(err),
                            }
                        }
                        // The write may or may not have been applied: read the item again
                        // and go on from what is stored (a write that was applied left it
                        // current, and it is skipped).
                        Error::OutcomeUnknown { .. } | Error::Unavailable { .. } if conflicts < MAX_CONFLICTS => {
                            conflicts += 1;
                            tokio::time::sleep(backoff(conflicts)).await;
                            match self.read_again(&key).await {
                                Ok(Some(fresh)) => stored = fresh,
                                Ok(None) => return Outcome::Skipped,
                                Err(err) => return fail(err),
                            }
                        }
                        Error::Throttled { .. } if throttled < MAX_THROTTLED => {
                            throttled += 1;
                            ticket.throttled();
                            tokio::time::sleep(backoff(throttled)).await;
                        }
                        other => return fail(other),
                    }
                }
            }
        }
    }

    /// The item as it should be stored, and the instance it encodes: decoded (migrated
    /// already; `before_load` runs, `after_load` does not, as what it changes is for
    /// readers, not for the table), given to the function, validated, given to
    /// `before_save`, encoded. `None` when the function skips it.
    fn rewrite(&self, mut stored: Item) -> Result<Option<(M, Item)>> {
        crate::hooks::before_load::<M>(&mut stored)?;
        let mut model: M = crate::model::decode_current(stored)?;
        if let Some(map) = &self.backfill.map {
            let decided = map(&mut model).map_err(|source| Error::Hook {
                model: std::any::type_name::<M>(),
                hook: "backfill map",
                source,
            })?;
            if decided == Rewrite::Skip {
                return Ok(None);
            }
        }
        model.validate()?;
        crate::hooks::before_save(&model)?;
        let item = crate::model::model_to_item(&model)?;
        Ok(Some((model, item)))
    }

    /// The item with `key`, read strongly consistent after a write met a concurrent
    /// change.
    async fn read_again(&self, key: &Item) -> Result<Option<Item>> {
        let mut ticket = self.db.ticket(Spend::Read).await;
        let out = self
            .db
            .client()
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| Error::from_sdk(e, &self.table))?;
        let units: f64 = out.consumed_capacity().and_then(|c| c.capacity_units()).unwrap_or(0.0);
        *self.shared.read_units.lock().unwrap_or_else(|e| e.into_inner()) += units;
        ticket.settle(out.consumed_capacity());
        Ok(out.item)
    }

    fn progress(&self) -> Progress {
        let (c, base) = (&self.shared.counts, &self.shared.baseline);
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let elapsed = self.shared.started.elapsed();
        let scanned_now = get(&c.scanned);
        let rate = if elapsed.as_secs_f64() > 0.0 {
            scanned_now as f64 / elapsed.as_secs_f64()
        } else {
            0.0
        };
        let scanned = get(&base.scanned) + scanned_now;
        let eta = match (self.shared.estimated, rate > 0.0) {
            (Some(total), true) => Some(Duration::from_secs_f64(total.saturating_sub(scanned) as f64 / rate)),
            _ => None,
        };
        Progress {
            scanned,
            written: get(&base.written) + get(&c.written),
            skipped: get(&base.skipped) + get(&c.skipped),
            failed: get(&base.failed) + get(&c.failed),
            items_per_second: rate,
            estimated_items: self.shared.estimated,
            eta,
            elapsed,
            segments_done: self.shared.segments_done.load(Ordering::Relaxed) as u32,
            segments: self.backfill.segments,
            read_units: *self.shared.read_units.lock().unwrap_or_else(|e| e.into_inner()),
            write_units: *self.shared.write_units.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    fn maybe_report(&self) {
        {
            let mut last = self.shared.last_report.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < self.backfill.progress_every {
                return;
            }
            *last = Instant::now();
        }
        let progress = self.progress();
        self.report_progress(&progress, false);
    }

    fn report_progress(&self, progress: &Progress, last: bool) {
        tracing::info!(
            run = %self.backfill.run,
            scanned = progress.scanned,
            written = progress.written,
            skipped = progress.skipped,
            failed = progress.failed,
            items_per_second = progress.items_per_second,
            eta_seconds = progress.eta.map(|d| d.as_secs()),
            last,
            "dynorm: backfill progress"
        );
        if let Some(f) = &self.backfill.progress {
            f(progress);
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((25u64 << attempt.min(7)).min(2_000))
}

/// The table key attributes of a stored item.
fn key_of<M: Model>(item: &Item) -> Item {
    let schema = M::SCHEMA;
    std::iter::once(schema.hash_key)
        .chain(schema.range_key)
        .filter_map(|k| item.get(k.name).map(|v| (k.name.to_owned(), v.clone())))
        .collect()
}

/// A backfill's progress: the whole run's counts (this worker's since it started,
/// plus what the checkpoints held when it started), its rate and an estimate of the
/// time left.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// Items read.
    pub scanned: u64,
    /// Items written.
    pub written: u64,
    /// Items left as they were.
    pub skipped: u64,
    /// Items that failed.
    pub failed: u64,
    /// Items this worker reads per second.
    pub items_per_second: f64,
    /// The table's item count, if known.
    pub estimated_items: Option<u64>,
    /// The time left at this worker's rate, if the item count is known.
    pub eta: Option<Duration>,
    /// Time since this worker started.
    pub elapsed: Duration,
    /// Segments finished, by any worker.
    pub segments_done: u32,
    /// Segments in all.
    pub segments: u32,
    /// Read units this worker consumed, as DynamoDB reported them.
    pub read_units: f64,
    /// Write units this worker consumed.
    pub write_units: f64,
}

impl Progress {
    /// The share of the estimated items read, from 0 to 1, if the item count is known.
    pub fn fraction(&self) -> Option<f64> {
        self.estimated_items
            .filter(|n| *n > 0)
            .map(|n| (self.scanned as f64 / n as f64).min(1.0))
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} scanned, {} written, {} skipped, {} failed; {:.0} items/s; {}/{} segments",
            self.scanned,
            self.written,
            self.skipped,
            self.failed,
            self.items_per_second,
            self.segments_done,
            self.segments
        )?;
        if let Some(eta) = self.eta {
            write!(f, "; about {}s left", eta.as_secs())?;
        }
        Ok(())
    }
}

/// An item a backfill could not rewrite, and why.
#[derive(Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The item's key.
    pub key: Item,
    /// What failed: a migration, the decode, the function, validation or the write.
    pub error: Error,
}

/// What one worker's run did.
#[derive(Debug)]
#[non_exhaustive]
pub struct Report {
    /// Items this worker read.
    pub scanned: u64,
    /// Items it wrote.
    pub written: u64,
    /// Items it left as they were.
    pub skipped: u64,
    /// Items that failed; the first 1000 are in `failures`.
    pub failed: u64,
    /// The items that failed, and why.
    pub failures: Vec<Failure>,
    /// The segments this worker processed to their end.
    pub segments_processed: Vec<u32>,
    /// The segments another worker held when this one tried to claim them.
    pub segments_held: Vec<u32>,
    /// The segments another worker claimed while this one worked on them (its lease
    /// ran out between two checkpoints): that worker goes on from the last checkpoint.
    pub segments_lost: Vec<u32>,
    /// Every segment of the run is finished (by any worker).
    pub complete: bool,
    /// Read units this worker consumed, as DynamoDB reported them.
    pub read_units: f64,
    /// Write units it consumed.
    pub write_units: f64,
    /// How long it ran.
    pub elapsed: Duration,
}
