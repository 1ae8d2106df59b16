//! End-to-end throughput of dynorm against hand-written raw `aws-sdk-dynamodb` +
//! `serde_dynamo` code, in the same run against the same DynamoDB Local server, and the
//! peak memory of streaming a large scan. A bench program, not a test.
//!
//! ```text
//! scripts/dynamodb-local start        # prints the endpoint
//! DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo run --release -p dynorm-examples --bin bench
//! DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo run --release -p dynorm-examples --bin bench -- --quick
//! ```
//!
//! Progress goes to stderr; the results, markdown tables, to stdout (so
//! `... --bin bench > results.md` keeps only them).
//!
//! # Throughput
//!
//! Items are about 1 KB (a key, three small fields and a 940-byte string). Each side
//! writes into a fresh table of its own, and both sides do the same work with the same
//! concurrency:
//!
//! | operation | dynorm | raw SDK |
//! |---|---|---|
//! | single puts | `doc.put(&db).await`, one at a time | `put_item` with `serde_dynamo::to_item`, one at a time |
//! | concurrent puts | the same, 16 in flight (`try_for_each_concurrent`) | the same, 16 in flight |
//! | batch writes | `db.batch_write().put_all(..).concurrency(4).send()` | `BatchWriteItem` of 25 items, 4 requests in flight (`buffer_unordered`), `UnprocessedItems` sent again with backoff |
//! | batch gets | `db.batch_get().get_all(..).concurrency(4).send()`, then `models()` | `BatchGetItem` of 100 keys, 4 requests in flight, `UnprocessedKeys` sent again, `serde_dynamo::from_item` |
//! | scan | `Doc::scan(&db).recursive()` | the SDK's paginator (`into_paginator().items()`) + `from_item` |
//! | parallel scan | `Doc::scan(&db).segments(4)` | 4 concurrent loops (`try_join_all`, one task as dynorm's stream) with `Segment`/`TotalSegments`, following `LastEvaluatedKey`, + `from_item` |
//!
//! Scans decode every item and drop it; the batch gets collect the items, on both sides.
//! The writes go first (single puts, then concurrent puts, then batch writes, on distinct
//! keys), so the scans read everything written: 1.6 × `--items`.
//!
//! To cancel drift (the Java server's JIT warming up, its garbage collection, tables
//! growing), every row runs in rounds alternating raw, dynorm, dynorm, raw and dynorm,
//! raw, raw, dynorm: 8 rounds for writes and batch gets, each run on 1/16 of the items,
//! and 4 rounds for scans, each run over the whole table. A side's items/s is its items
//! over its total time. A warm-up on a scratch table runs every operation first (a quarter
//! of the counts), since DynamoDB Local's JIT takes a while to settle.
//!
//! Against a local server the server's own work dominates, and its speed wanders by
//! 10-30% from run to run, so the items/s ratios are noisy. Each row therefore also shows
//! the client's CPU time per item (all the bench's threads, from
//! `/proc/self/task/*/schedstat`, during that side's runs): what dynorm costs on top of
//! the SDK, whatever the server does.
//!
//! # Peak memory
//!
//! Then the peak resident set size of streaming a scan of `--rss-items` items (10,000
//! then 100,000 by default), for dynorm's recursive scan against the SDK's paginator, and
//! dynorm's segmented scan against the raw segment loops. One more table is seeded (raw
//! `BatchWriteItem`s) with the first count, and topped up to the next. Each scan runs in
//! a fresh child process (this program again, as `bench measure <kind> <table prefix>
//! <count>`), which reads `VmHWM` from `/proc/self/status` (so Linux only) once its
//! runtime and client are warm, and again after the scan. Items are decoded, counted and
//! dropped, never collected: a stream that holds about one page per segment stays flat as
//! the count grows.
//!
//! # Options
//!
//! * `--items N` (20,000): items of the batch writes and batch gets; the concurrent puts
//!   write N/2, the single puts N/10, and the scans read the 1.6 N items written.
//! * `--concurrency N` (16): puts in flight in the concurrent puts, on both sides.
//! * `--batch-concurrency N` (4, dynorm's default): requests in flight in the batch
//!   writes and gets, on both sides.
//! * `--segments N` (4): segments of the parallel scans.
//! * `--rounds N` (8): rounds of the write and batch get rows.
//! * `--rss-items 10000,100000`: the item counts of the memory part, measured in ascending order;
//!   `--no-rss` skips it.
//! * `--quick`: `--items 4000 --rss-items 5000,20000`, for a run of well under a minute.
//!
//! DynamoDB Local runs on the same machine and shares its cores with the bench, so the
//! figures compare client-side costs against a local server: they are not DynamoDB's
//! throughput. The bench needs `DYNAMODB_ENDPOINT` and never runs against real DynamoDB.
//! The report names the server DynamoDB Local 3.3.0 (what `scripts/dynamodb-local`
//! runs); set `DYNAMODB_LOCAL_VERSION` to name another. Every table the bench creates is
//! deleted at the end, also when a step fails or on Ctrl-C.

use std::collections::HashMap;
use std::error::Error;
use std::hint::black_box;
use std::ops::Range;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use dynorm::{Db, DynaModel, Item};
use futures::future;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use validator::Validate;

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// The length of each item's payload, which makes the item about 1 KB.
const PAYLOAD_LEN: usize = 940;
/// Writes per `BatchWriteItem` request: DynamoDB's maximum.
const WRITES_PER_BATCH: usize = 25;
/// Keys per `BatchGetItem` request: DynamoDB's maximum.
const KEYS_PER_BATCH: usize = 100;
/// Attempts at a batch request's unprocessed entries before giving up.
const BATCH_ATTEMPTS: u32 = 10;
/// `BatchWriteItem` requests in flight while seeding the memory part's table.
const SEED_CONCURRENCY: usize = 8;
/// The first argument that makes the program a measuring child.
const MEASURE: &str = "measure";
/// The line a measuring child prints its figures on.
const RESULT_TAG: &str = "bench_rss_result";
/// The server version the report names when `DYNAMODB_LOCAL_VERSION` is not set.
const DEFAULT_LOCAL_VERSION: &str = "3.3.0";
/// Rounds of the scan rows (each run reads the whole table).
const SCAN_ROUNDS: usize = 4;

/// One document, about 1 KB as stored.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "docs", hash_key = "id")]
struct Doc {
    id: String,
    owner: String,
    seq: u64,
    recorded_at: u64,
    payload: String,
}

impl Doc {
    /// The `n`th document; its payload differs from document to document.
    fn nth(n: usize) -> Doc {
        // A small xorshift generator seeded by `n`: cheap, deterministic filler text.
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
        let mut state = (n as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let payload = (0..PAYLOAD_LEN)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(ALPHABET[(state % ALPHABET.len() as u64) as usize])
            })
            .collect();
        Doc {
            id: format!("doc-{n:08}"),
            owner: format!("owner-{:03}", n % 500),
            seq: n as u64,
            recorded_at: 1_700_000_000_000 + n as u64 * 1_000,
            payload,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------

const USAGE: &str = "usage: bench [--items 20000] [--concurrency 16] [--batch-concurrency 4] [--segments 4] \
                     [--rounds 8] [--rss-items 10000,100000 | --no-rss] [--quick]";

/// The command line of a bench run.
#[derive(Debug, Clone)]
struct Options {
    /// Items of the batch writes and gets.
    items: usize,
    /// Puts in flight in the concurrent puts.
    concurrency: usize,
    /// Requests in flight in the batch writes and gets.
    batch_concurrency: usize,
    /// Segments of the parallel scans.
    segments: u32,
    /// Rounds of the write and batch get rows.
    rounds: usize,
    /// Item counts of the memory part, ascending; empty skips it.
    rss_counts: Vec<usize>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut items = None;
        let mut rss_counts = None;
        let mut quick = false;
        let mut options = Options {
            items: 20_000,
            concurrency: 16,
            batch_concurrency: 4,
            segments: 4,
            rounds: 8,
            rss_counts: vec![10_000, 100_000],
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| format!("{name} needs a value; {USAGE}"))
            };
            match name {
                "--items" => items = Some(count(name, &value()?)?),
                "--concurrency" => options.concurrency = count(name, &value()?)?,
                "--batch-concurrency" => options.batch_concurrency = count(name, &value()?)?,
                "--segments" => options.segments = u32::try_from(count(name, &value()?)?)?,
                "--rounds" => options.rounds = count(name, &value()?)?,
                "--rss-items" => {
                    let mut counts = value()?
                        .split(',')
                        .map(|n| count(name, n))
                        .collect::<Result<Vec<_>>>()?;
                    counts.sort_unstable();
                    counts.dedup();
                    rss_counts = Some(counts);
                }
                "--no-rss" => rss_counts = Some(Vec::new()),
                "--quick" => quick = true,
                "-h" | "--help" => return Err(USAGE.into()),
                other => return Err(format!("unknown argument `{other}`; {USAGE}").into()),
            }
        }
        if quick {
            options.items = 4_000;
            options.rss_counts = vec![5_000, 20_000];
        }
        options.items = items.unwrap_or(options.items);
        options.rss_counts = rss_counts.unwrap_or(options.rss_counts);
        if options.items < 20 {
            return Err("--items must be at least 20".into());
        }
        Ok(options)
    }

    /// Items of the single puts, the concurrent puts and the batch writes.
    fn counts(&self) -> (usize, usize, usize) {
        (self.items / 10, self.items / 2, self.items)
    }
}

/// A count of at least 1; `_` may separate thousands.
fn count(name: &str, text: &str) -> Result<usize> {
    match text.trim().replace('_', "").parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name} takes counts of at least 1, not `{text}`").into()),
    }
}

fn endpoint() -> Result<String> {
    std::env::var("DYNAMODB_ENDPOINT")
        .map_err(|_| "set DYNAMODB_ENDPOINT to a DynamoDB Local endpoint (scripts/dynamodb-local start)".into())
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE) {
        return match args.as_slice() {
            [_, kind, prefix, expected] => {
                let measurement = measure_scan(ScanKind::parse(kind)?, prefix, expected.parse()?).await?;
                println!("{}", measurement.to_line());
                Ok(())
            }
            _ => Err(format!("usage: bench {MEASURE} <kind> <table prefix> <item count>").into()),
        };
    }
    let options = Options::parse(&args)?;
    let endpoint = endpoint()?;
    let started = Instant::now();

    let millis = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis();
    let run = format!("bench-{}-{}", std::process::id(), millis % 1_000_000);
    // Each side has its own client (and so its own connection pool), configured alike.
    let dynorm = Db::local(&endpoint).with_table_prefix(format!("{run}-dynorm-"));
    let raw_db = Db::local(&endpoint).with_table_prefix(format!("{run}-raw-"));
    let warm = dynorm.with_table_prefix(format!("{run}-warmup-"));
    let rss = raw_db.with_table_prefix(format!("{run}-rss-"));
    let bench = Bench {
        options: options.clone(),
        raw: raw_db.client().clone(),
        raw_table: raw_db.table_name::<Doc>(),
        dynorm,
    };

    let mut tables = vec![bench.dynorm.clone(), raw_db, warm.clone()];
    if !options.rss_counts.is_empty() {
        tables.push(rss.clone());
    }
    let outcome = tokio::select! {
        outcome = run_all(&bench, &tables, &warm, &rss) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    let mut dropped = Ok(());
    for db in &tables {
        let table = db.table_name::<Doc>();
        match Doc::delete_table(db).allow_missing(true).await {
            Ok(()) => eprintln!("Deleted table `{table}`."),
            Err(err) => {
                eprintln!("Could not delete table `{table}`: {err}");
                dropped = Err(err);
            }
        }
    }
    let (rows, rss_rows) = outcome?;
    dropped?;
    print_report(&options, &endpoint, &rows, &rss_rows, started.elapsed())?;
    Ok(())
}

/// Creates the tables, warms up, and runs both parts.
async fn run_all(bench: &Bench, tables: &[Db], warm: &Db, rss: &Db) -> Result<(Vec<Row>, Vec<RssRow>)> {
    for db in tables {
        Doc::create_table(db).await?;
        eprintln!("Created table `{}`.", db.table_name::<Doc>());
    }

    eprintln!("Warming up (every operation, both sides, one scratch table)...");
    let warm_bench = Bench {
        options: bench.options.clone(),
        dynorm: warm.clone(),
        raw: bench.raw.clone(),
        raw_table: warm.table_name::<Doc>(),
    };
    // DynamoDB Local's JIT takes a while to settle: a quarter of the run, at least a few
    // hundred items per operation.
    let (single, concurrent, batch) = bench.options.counts();
    warm_bench
        .run_ops(
            (single / 4).max(200),
            (concurrent / 4).max(500),
            (batch / 4).max(1_000),
            false,
        )
        .await?;
    Doc::delete_table(warm).await?;
    eprintln!("Deleted table `{}`.", warm.table_name::<Doc>());

    let (single, concurrent, batch) = bench.options.counts();
    eprintln!("Throughput:");
    let rows = bench.run_ops(single, concurrent, batch, true).await?;

    let rss_rows = if bench.options.rss_counts.is_empty() {
        Vec::new()
    } else {
        run_rss(rss, &bench.options).await?
    };
    Ok((rows, rss_rows))
}

// ---------------------------------------------------------------------------------------
// Throughput
// ---------------------------------------------------------------------------------------

/// Which code does the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// Hand-written `aws-sdk-dynamodb` + `serde_dynamo`.
    Raw,
    /// dynorm.
    Dynorm,
}

/// One row of the throughput table.
#[derive(Debug, Clone, Copy)]
enum Op {
    SinglePuts,
    ConcurrentPuts,
    BatchWrite,
    BatchGet,
    Scan,
    SegmentedScan,
}

impl Op {
    fn label(self, options: &Options) -> String {
        match self {
            Op::SinglePuts => "single puts, one at a time".into(),
            Op::ConcurrentPuts => format!("concurrent puts, {} in flight", options.concurrency),
            Op::BatchWrite => format!("batch writes, {} requests in flight", options.batch_concurrency),
            Op::BatchGet => format!("batch gets, {} requests in flight", options.batch_concurrency),
            Op::Scan => "scan, recursive (1 segment)".into(),
            Op::SegmentedScan => format!("parallel scan, {} segments", options.segments),
        }
    }

    /// Whether each run reads the whole table (instead of its half of the items).
    fn whole_table(self) -> bool {
        matches!(self, Op::Scan | Op::SegmentedScan)
    }
}

/// Items handled by one side over one row, the time it took, and the CPU time the bench
/// process used meanwhile.
#[derive(Debug, Clone, Copy, Default)]
struct Tally {
    runs: usize,
    items: usize,
    secs: f64,
    /// `None` when `/proc/self/task/*/schedstat` cannot be read.
    cpu: Option<Duration>,
}

impl Tally {
    fn add(&mut self, items: usize, secs: f64, cpu: Option<Duration>) {
        self.cpu = match (self.runs, self.cpu, cpu) {
            (0, _, cpu) => cpu,
            (_, Some(total), Some(cpu)) => Some(total + cpu),
            _ => None,
        };
        self.runs += 1;
        self.items += items;
        self.secs += secs;
    }

    fn rate(self) -> f64 {
        self.items as f64 / self.secs.max(f64::EPSILON)
    }

    /// Client CPU time per item, in microseconds.
    fn cpu_per_item(self) -> Option<f64> {
        Some(self.cpu?.as_secs_f64() * 1e6 / self.items.max(1) as f64)
    }
}

/// The sides' runs of `rounds` rounds: raw, dynorm, dynorm, raw, then dynorm, raw, raw,
/// dynorm, and again. Drift in the server's speed (JIT, garbage collection, tables
/// growing) falls on both sides alike, and neither side always runs first.
fn schedule(rounds: usize) -> Vec<Side> {
    use Side::{Dynorm, Raw};
    (0..rounds)
        .flat_map(|r| {
            if r % 2 == 0 {
                [Raw, Dynorm, Dynorm, Raw]
            } else {
                [Dynorm, Raw, Raw, Dynorm]
            }
        })
        .collect()
}

/// CPU time used so far by this process's threads (`/proc/self/task/*/schedstat`, in
/// nanoseconds). The bench's threads live for the whole throughput part.
fn cpu_time() -> Option<Duration> {
    let mut nanos = 0u64;
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let Ok(text) = std::fs::read_to_string(task.ok()?.path().join("schedstat")) else {
            continue; // a thread that just ended
        };
        nanos += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(Duration::from_nanos(nanos))
}

/// What one row measured.
#[derive(Debug, Clone)]
struct Row {
    label: String,
    /// Items per side, as printed.
    items: String,
    raw: Tally,
    dynorm: Tally,
}

impl Row {
    /// dynorm's throughput over the raw code's: above 1, dynorm is faster.
    fn ratio(&self) -> f64 {
        self.dynorm.rate() / self.raw.rate().max(f64::EPSILON)
    }
}

/// The tables and clients of one side-by-side run.
#[derive(Clone)]
struct Bench {
    options: Options,
    /// dynorm's handle: its table is `<run>-dynorm-docs`.
    dynorm: Db,
    /// The raw side's client.
    raw: Client,
    /// The raw side's table.
    raw_table: String,
}

impl Bench {
    /// Runs every operation: `single` single puts, `concurrent` concurrent puts and
    /// `batch` batch writes (distinct keys), batch gets of the batch-written items, and
    /// both scans over all of them.
    async fn run_ops(&self, single: usize, concurrent: usize, batch: usize, report: bool) -> Result<Vec<Row>> {
        let docs: Vec<Doc> = (0..single + concurrent + batch).map(Doc::nth).collect();
        let (single_docs, rest) = docs.split_at(single);
        let (concurrent_docs, batch_docs) = rest.split_at(concurrent);
        let mut rows = Vec::new();
        for (op, part) in [
            (Op::SinglePuts, single_docs),
            (Op::ConcurrentPuts, concurrent_docs),
            (Op::BatchWrite, batch_docs),
            (Op::BatchGet, batch_docs),
            (Op::Scan, &docs[..]),
            (Op::SegmentedScan, &docs[..]),
        ] {
            let row = self.measure(op, part, docs.len()).await?;
            if report {
                eprintln!(
                    "  {:<38} {:>10} items: raw {:>6.0} items/s, dynorm {:>6.0} items/s, dynorm/raw {:.2}; \
                     CPU µs/item raw {:.1}, dynorm {:.1}",
                    row.label,
                    row.items,
                    row.raw.rate(),
                    row.dynorm.rate(),
                    row.ratio(),
                    row.raw.cpu_per_item().unwrap_or(f64::NAN),
                    row.dynorm.cpu_per_item().unwrap_or(f64::NAN),
                );
            }
            rows.push(row);
        }
        Ok(rows)
    }

    /// Runs one operation in rounds that alternate raw, dynorm, dynorm, raw with dynorm,
    /// raw, raw, dynorm. Writes and batch gets: each side takes `docs` in `2 × rounds`
    /// consecutive parts, one per run. Scans: every run reads the whole table of
    /// `table_items` items, in [`SCAN_ROUNDS`] rounds.
    async fn measure(&self, op: Op, docs: &[Doc], table_items: usize) -> Result<Row> {
        let rounds = if op.whole_table() {
            SCAN_ROUNDS
        } else {
            self.options.rounds.min(docs.len() / 2).max(1)
        };
        let parts = 2 * rounds;
        let part = |k: usize| &docs[k * docs.len() / parts..(k + 1) * docs.len() / parts];
        let mut raw = Tally::default();
        let mut dynorm = Tally::default();
        for side in schedule(rounds) {
            let tally = match side {
                Side::Raw => &mut raw,
                Side::Dynorm => &mut dynorm,
            };
            let docs = part(tally.runs);
            let cpu_before = cpu_time();
            let started = Instant::now();
            let items = self.run_once(op, side, docs).await?;
            let secs = started.elapsed().as_secs_f64();
            let cpu = cpu_time()
                .zip(cpu_before)
                .map(|(after, before)| after.saturating_sub(before));
            let expected = if op.whole_table() { table_items } else { docs.len() };
            if items != expected {
                return Err(format!(
                    "{}: {side:?} handled {items} items, expected {expected}",
                    op.label(&self.options)
                )
                .into());
            }
            tally.add(items, secs, cpu);
        }
        let items = if op.whole_table() {
            format!("{} × {}", 2 * rounds, thousands(table_items as f64))
        } else {
            thousands(docs.len() as f64)
        };
        Ok(Row {
            label: op.label(&self.options),
            items,
            raw,
            dynorm,
        })
    }

    /// One side's run of an operation; answers with the items written, read or scanned.
    async fn run_once(&self, op: Op, side: Side, docs: &[Doc]) -> Result<usize> {
        let (db, client, table) = (&self.dynorm, &self.raw, self.raw_table.as_str());
        let options = &self.options;
        match (op, side) {
            (Op::SinglePuts, Side::Dynorm) => {
                for doc in docs {
                    doc.put(db).await?;
                }
            }
            (Op::SinglePuts, Side::Raw) => {
                for doc in docs {
                    raw_put(client, table, doc).await?;
                }
            }
            (Op::ConcurrentPuts, Side::Dynorm) => {
                stream::iter(docs.iter().map(Ok::<_, BoxError>))
                    .try_for_each_concurrent(options.concurrency, |doc| async move {
                        doc.put(db).await?;
                        Ok(())
                    })
                    .await?;
            }
            (Op::ConcurrentPuts, Side::Raw) => {
                stream::iter(docs.iter().map(Ok::<_, BoxError>))
                    .try_for_each_concurrent(options.concurrency, |doc| raw_put(client, table, doc))
                    .await?;
            }
            (Op::BatchWrite, Side::Dynorm) => {
                let out = db
                    .batch_write()
                    .put_all(docs)
                    .concurrency(options.batch_concurrency)
                    .send()
                    .await?;
                return Ok(out.applied);
            }
            (Op::BatchWrite, Side::Raw) => {
                stream::iter(docs.chunks(WRITES_PER_BATCH))
                    .map(|chunk| raw_write_batch(client, table, chunk))
                    .buffer_unordered(options.batch_concurrency)
                    .try_for_each(|()| future::ready(Ok(())))
                    .await?;
            }
            (Op::BatchGet, Side::Dynorm) => {
                let mut out = db
                    .batch_get()
                    .get_all::<Doc, _>(docs.iter().map(|d| d.id.as_str()))
                    .concurrency(options.batch_concurrency)
                    .send()
                    .await?;
                let found: Vec<Doc> = out.models()?;
                return Ok(found.len());
            }
            (Op::BatchGet, Side::Raw) => {
                let found: Vec<Vec<Doc>> = stream::iter(docs.chunks(KEYS_PER_BATCH))
                    .map(|chunk| raw_get_batch(client, table, chunk))
                    .buffer_unordered(options.batch_concurrency)
                    .try_collect()
                    .await?;
                let found: Vec<Doc> = found.into_iter().flatten().collect();
                return Ok(found.len());
            }
            (Op::Scan | Op::SegmentedScan, side) => {
                let segments = match op {
                    Op::Scan => 1,
                    _ => options.segments,
                };
                return scan_all(ScanKind::new(side, segments), db, client, table).await;
            }
        }
        Ok(docs.len())
    }
}

/// A raw `PutItem` of one document.
async fn raw_put(client: &Client, table: &str, doc: &Doc) -> Result<()> {
    let item: Item = serde_dynamo::to_item(doc)?;
    client.put_item().table_name(table).set_item(Some(item)).send().await?;
    Ok(())
}

/// The pause before the `attempt`th try (from 1) at a batch's unprocessed entries.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis((25 << attempt.min(8)).min(5_000))
}

/// A raw `BatchWriteItem` of up to 25 documents, sending unprocessed items again.
async fn raw_write_batch(client: &Client, table: &str, docs: &[Doc]) -> Result<()> {
    let mut requests = docs
        .iter()
        .map(|doc| {
            let item: Item = serde_dynamo::to_item(doc)?;
            let put = PutRequest::builder().set_item(Some(item)).build()?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<Vec<_>>>()?;
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let out = client.batch_write_item().request_items(table, requests).send().await?;
        match out.unprocessed_items.and_then(|mut left| left.remove(table)) {
            Some(left) if !left.is_empty() => requests = left,
            _ => return Ok(()),
        }
    }
    Err(format!("DynamoDB left items unprocessed after {BATCH_ATTEMPTS} attempts").into())
}

/// A raw `BatchGetItem` of up to 100 documents' keys, asking again for unprocessed keys.
async fn raw_get_batch(client: &Client, table: &str, docs: &[Doc]) -> Result<Vec<Doc>> {
    let mut keys: Vec<Item> = docs
        .iter()
        .map(|d| HashMap::from([("id".to_owned(), AttributeValue::S(d.id.clone()))]))
        .collect();
    let mut found = Vec::with_capacity(keys.len());
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(backoff(attempt)).await;
        }
        let request = KeysAndAttributes::builder().set_keys(Some(keys)).build()?;
        let out = client.batch_get_item().request_items(table, request).send().await?;
        for item in out.responses.and_then(|mut r| r.remove(table)).unwrap_or_default() {
            found.push(serde_dynamo::from_item(item)?);
        }
        match out.unprocessed_keys.and_then(|mut left| left.remove(table)) {
            Some(left) if !left.keys.is_empty() => keys = left.keys,
            _ => return Ok(found),
        }
    }
    Err(format!("DynamoDB left keys unprocessed after {BATCH_ATTEMPTS} attempts").into())
}

// ---------------------------------------------------------------------------------------
// Scans, shared by the throughput rows and the memory children
// ---------------------------------------------------------------------------------------

/// A scan of the whole table: whose code, and how many segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ScanKind {
    side: Side,
    segments: u32,
}

impl ScanKind {
    fn new(side: Side, segments: u32) -> ScanKind {
        ScanKind { side, segments }
    }

    fn arg(self) -> String {
        let side = match self.side {
            Side::Raw => "raw",
            Side::Dynorm => "dynorm",
        };
        format!("{side}/{}", self.segments)
    }

    fn parse(arg: &str) -> Result<ScanKind> {
        let (side, segments) = arg
            .split_once('/')
            .ok_or_else(|| format!("unknown scan kind `{arg}`"))?;
        let side = match side {
            "raw" => Side::Raw,
            "dynorm" => Side::Dynorm,
            _ => return Err(format!("unknown scan kind `{arg}`").into()),
        };
        Ok(ScanKind {
            side,
            segments: segments.parse()?,
        })
    }
}

/// Streams the whole table, decoding each item into a [`Doc`] and dropping it; answers
/// with the item count. dynorm reads through `db`, the raw code through `client`/`table`.
async fn scan_all(kind: ScanKind, db: &Db, client: &Client, table: &str) -> Result<usize> {
    let mut items = 0;
    let mut payload_bytes = 0;
    match kind.side {
        Side::Dynorm => {
            let mut scan = if kind.segments > 1 {
                Doc::scan(db).segments(kind.segments)
            } else {
                Doc::scan(db).recursive()
            };
            while let Some(doc) = scan.next().await {
                payload_bytes += doc?.payload.len();
                items += 1;
            }
        }
        Side::Raw if kind.segments > 1 => {
            let segments = (0..kind.segments).map(|s| raw_scan_segment(client, table, s, kind.segments));
            for (count, bytes) in future::try_join_all(segments).await? {
                items += count;
                payload_bytes += bytes;
            }
        }
        Side::Raw => {
            let mut scan = client.scan().table_name(table).into_paginator().items().send();
            while let Some(item) = scan.next().await {
                let doc: Doc = serde_dynamo::from_item(item?)?;
                payload_bytes += doc.payload.len();
                items += 1;
            }
        }
    }
    black_box(payload_bytes);
    Ok(items)
}

/// One segment of a raw parallel scan: pages until `LastEvaluatedKey` runs out. Answers
/// with the items read and their payload bytes.
async fn raw_scan_segment(client: &Client, table: &str, segment: u32, total: u32) -> Result<(usize, usize)> {
    let (mut items, mut payload_bytes) = (0, 0);
    let mut start: Option<Item> = None;
    loop {
        let out = client
            .scan()
            .table_name(table)
            .segment(segment as i32)
            .total_segments(total as i32)
            .set_exclusive_start_key(start.take())
            .send()
            .await?;
        for item in out.items.unwrap_or_default() {
            let doc: Doc = serde_dynamo::from_item(item)?;
            payload_bytes += doc.payload.len();
            items += 1;
        }
        match out.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok((items, payload_bytes)),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Peak memory
// ---------------------------------------------------------------------------------------

/// What one child process measured.
#[derive(Debug, Clone, Copy)]
struct RssMeasurement {
    /// Items streamed.
    items: usize,
    /// Peak resident set size before the scan, in KiB.
    base_kib: u64,
    /// Peak resident set size after the scan, in KiB.
    peak_kib: u64,
    /// How long the scan took, in seconds.
    secs: f64,
}

impl RssMeasurement {
    fn peak_mib(self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    fn added_mib(self) -> f64 {
        self.peak_kib.saturating_sub(self.base_kib) as f64 / 1024.0
    }

    fn rate(self) -> f64 {
        self.items as f64 / self.secs.max(f64::EPSILON)
    }

    fn to_line(self) -> String {
        format!(
            "{RESULT_TAG} items={} base_kib={} peak_kib={} secs={}",
            self.items, self.base_kib, self.peak_kib, self.secs
        )
    }

    fn from_output(stdout: &str) -> Result<RssMeasurement> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT_TAG))
            .ok_or("the measuring process printed no result")?;
        let field = |name: &str| -> Result<&str> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .ok_or_else(|| format!("the result has no `{name}`: {line}").into())
        };
        Ok(RssMeasurement {
            items: field("items")?.parse()?,
            base_kib: field("base_kib")?.parse()?,
            peak_kib: field("peak_kib")?.parse()?,
            secs: field("secs")?.parse()?,
        })
    }
}

/// One row of the memory table: dynorm's scan and the raw code's alike, on one count.
#[derive(Debug, Clone)]
struct RssRow {
    label: String,
    items: usize,
    dynorm: RssMeasurement,
    raw: RssMeasurement,
}

/// Seeds the memory part's table with each count in turn, and measures the scans on it.
async fn run_rss(db: &Db, options: &Options) -> Result<Vec<RssRow>> {
    let mut styles = vec![(1, "recursive scan (raw: SDK paginator)".to_owned())];
    if options.segments > 1 {
        let n = options.segments;
        styles.push((n, format!("{n}-segment scan (raw: {n} segment loops)")));
    }
    let mut rows = Vec::new();
    let mut seeded = 0;
    for &count in &options.rss_counts {
        seed(db, seeded..count).await?;
        seeded = count;
        for &(segments, ref label) in &styles {
            let prefix = db.table_prefix();
            let dynorm = measure_in_child(ScanKind::new(Side::Dynorm, segments), prefix, count).await?;
            let raw = measure_in_child(ScanKind::new(Side::Raw, segments), prefix, count).await?;
            eprintln!(
                "  {label:<40} {count:>8} items: peak dynorm {:6.1} MiB (+{:.1}), raw {:6.1} MiB (+{:.1}); \
                 dynorm {:>6.0} items/s, raw {:>6.0} items/s",
                dynorm.peak_mib(),
                dynorm.added_mib(),
                raw.peak_mib(),
                raw.added_mib(),
                dynorm.rate(),
                raw.rate(),
            );
            rows.push(RssRow {
                label: label.clone(),
                items: count,
                dynorm,
                raw,
            });
        }
    }
    Ok(rows)
}

/// Writes documents `ids` with raw `BatchWriteItem`s, several requests at once.
async fn seed(db: &Db, ids: Range<usize>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let table = db.table_name::<Doc>();
    let client = db.client();
    let (total, end) = (ids.len(), ids.end);
    eprintln!("Seeding items {}..{end} into `{table}`...", ids.start);
    let started = Instant::now();
    let batches = ids
        .step_by(WRITES_PER_BATCH)
        .map(|start| start..(start + WRITES_PER_BATCH).min(end));
    let table = table.as_str();
    let mut writes = stream::iter(batches)
        .map(|batch| async move {
            let docs: Vec<Doc> = batch.map(Doc::nth).collect();
            raw_write_batch(client, table, &docs).await.map(|()| docs.len())
        })
        .buffer_unordered(SEED_CONCURRENCY);
    let (mut written, mut reported) = (0, 0);
    while let Some(batch) = writes.next().await {
        written += batch?;
        if written - reported >= 25_000 || written == total {
            reported = written;
            eprintln!(
                "  {written:>8} / {total} written ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// Runs this program again as `measure <kind> <prefix> <count>`, and reads its figures.
async fn measure_in_child(kind: ScanKind, prefix: &str, count: usize) -> Result<RssMeasurement> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([MEASURE, &kind.arg(), prefix, &count.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    if !output.status.success() {
        return Err(format!("the {} measurement failed ({})", kind.arg(), output.status).into());
    }
    RssMeasurement::from_output(&String::from_utf8_lossy(&output.stdout))
}

/// In the child: streams the whole table once and measures the peak RSS around it.
async fn measure_scan(kind: ScanKind, prefix: &str, expected: usize) -> Result<RssMeasurement> {
    let db = Db::local(endpoint()?).with_table_prefix(prefix);
    let table = db.table_name::<Doc>();
    // A first request warms the client (connection pool, endpoint resolution, signing),
    // so the baseline holds everything but the scan.
    db.client().describe_table().table_name(&table).send().await?;
    let base_kib = peak_rss_kib()?;
    let started = Instant::now();
    let items = scan_all(kind, &db, db.client(), &table).await?;
    let secs = started.elapsed().as_secs_f64();
    let peak_kib = peak_rss_kib()?;
    if items != expected {
        return Err(format!("the {} scan read {items} items, expected {expected}", kind.arg()).into());
    }
    Ok(RssMeasurement {
        items,
        base_kib,
        peak_kib,
        secs,
    })
}

/// The peak resident set size of this process so far (`VmHWM`), in KiB.
fn peak_rss_kib() -> Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|err| format!("cannot read /proc/self/status (this bench needs Linux): {err}"))?;
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .ok_or("/proc/self/status has no VmHWM line")?;
    Ok(line.trim().trim_end_matches("kB").trim().parse()?)
}

// ---------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------

/// The CPU model and the number of logical CPUs, from `/proc/cpuinfo`.
fn machine() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")?
                .split_once(':')
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cpus = info.lines().filter(|l| l.starts_with("processor")).count();
    let available = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{model}, {cpus} logical CPUs ({available} available to the bench)")
}

/// `n` rounded, with thousands separated by commas.
fn thousands(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn print_report(options: &Options, endpoint: &str, rows: &[Row], rss: &[RssRow], elapsed: Duration) -> Result<()> {
    let version = std::env::var("DYNAMODB_LOCAL_VERSION").unwrap_or_else(|_| DEFAULT_LOCAL_VERSION.to_owned());
    let item_size = dynorm::item_size(&dynorm::to_item(&Doc::nth(0))?);
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!();
    println!("## dynorm vs raw aws-sdk-dynamodb + serde_dynamo");
    println!();
    println!("- Machine: {}", machine());
    println!(
        "- Server: DynamoDB Local {version} (Java, in memory) at {endpoint}, on the same machine: the server and \
         the bench share the {cpus} cores, so these figures compare client-side costs against a local server; \
         they are not DynamoDB's throughput."
    );
    println!(
        "- Items: {item_size} bytes each (as DynamoDB counts item size); each side writes into its own fresh \
         table and has its own client."
    );
    println!(
        "- After a warm-up, each row ran in {} rounds alternating raw, dynorm, dynorm, raw and dynorm, raw, raw, \
         dynorm: writes and batch gets on 1/{} of the items per run, scans over the whole table per run \
         ({SCAN_ROUNDS} rounds). A side's items/s is its items over its total time.",
        options.rounds,
        2 * options.rounds
    );
    println!(
        "- **dynorm/raw = dynorm items/s ÷ raw items/s: above 1 means dynorm is faster, below 1 that it is \
         slower.**"
    );
    println!(
        "- CPU µs/item: CPU time of the bench process (all its threads: encoding, decoding, the SDK, HTTP) per \
         item during that side's runs; it is what the client costs, apart from the server. Lower is cheaper."
    );
    println!();
    println!(
        "| operation | items per side | raw SDK items/s | dynorm items/s | dynorm/raw | raw CPU µs/item | \
         dynorm CPU µs/item |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let micros = |t: Tally| {
        t.cpu_per_item()
            .map_or_else(|| "n/a".to_owned(), |us| format!("{us:.1}"))
    };
    for row in rows {
        println!(
            "| {} | {} | {} | {} | {:.2} | {} | {} |",
            row.label,
            row.items,
            thousands(row.raw.rate()),
            thousands(row.dynorm.rate()),
            row.ratio(),
            micros(row.raw),
            micros(row.dynorm),
        );
    }

    if !rss.is_empty() {
        println!();
        println!("### Peak RSS while streaming a scan");
        println!();
        println!(
            "Each scan ran alone in a fresh child process and decoded every item into the model, then dropped it. \
             Peak = `VmHWM` after the scan; in brackets, what the scan added to the warm process's peak. \
             **Peak dynorm/raw above 1 means dynorm used more memory; items/s dynorm/raw above 1 means \
             dynorm was faster.** Segmented scans: dynorm's `segments({})` against {} raw segment loops.",
            options.segments, options.segments
        );
        println!();
        println!(
            "| scan | items | dynorm peak MiB | raw peak MiB | peak dynorm/raw | dynorm items/s | raw items/s | \
             items/s dynorm/raw |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|---:|");
        for row in rss {
            println!(
                "| {} | {} | {:.1} (+{:.1}) | {:.1} (+{:.1}) | {:.2} | {} | {} | {:.2} |",
                row.label,
                thousands(row.items as f64),
                row.dynorm.peak_mib(),
                row.dynorm.added_mib(),
                row.raw.peak_mib(),
                row.raw.added_mib(),
                row.dynorm.peak_mib() / row.raw.peak_mib().max(f64::EPSILON),
                thousands(row.dynorm.rate()),
                thousands(row.raw.rate()),
                row.dynorm.rate() / row.raw.rate().max(f64::EPSILON),
            );
        }
        if let (Some(&small), Some(&large)) = (options.rss_counts.first(), options.rss_counts.last()) {
            if large > small {
                println!();
                for first in rss.iter().filter(|r| r.items == small) {
                    if let Some(last) = rss.iter().find(|r| r.items == large && r.label == first.label) {
                        println!(
                            "- {}: from {} to {} items, the peak moved {:+.1} MiB (dynorm) and {:+.1} MiB (raw).",
                            first.label,
                            thousands(small as f64),
                            thousands(large as f64),
                            last.dynorm.peak_mib() - first.dynorm.peak_mib(),
                            last.raw.peak_mib() - first.raw.peak_mib(),
                        );
                    }
                }
            }
        }
    }
    println!();
    println!(
        "Whole run, tables and seeding included: {:.0} s.",
        elapsed.as_secs_f64()
    );
    Ok(())
}
