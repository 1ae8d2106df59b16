//! Peak memory of a streamed scan: streaming every item of a table through
//! `Model::scan(&db).recursive()` should hold about one page (DynamoDB returns at most
//! 1 MB of items per page), so the peak resident set size must not grow with the item
//! count.
//!
//! The program creates a table of ~1 KB items (a key, a few small fields and a 900-byte
//! string), seeds it with raw `BatchWriteItem` requests, and for each item count (10,000
//! then 100,000 by default: the table is topped up between the two) streams the whole
//! table three times, each in a fresh child process so the figures cover one scan alone:
//!
//! * dynorm: `Model::scan(&db).recursive()`, decoding each item into the model;
//! * dynorm segmented: the same with `.segments(4)`, a parallel scan (one page per
//!   segment may be held);
//! * raw SDK: `client.scan().into_paginator().items().send()` with `serde_dynamo::from_item`,
//!   the baseline.
//!
//! Items are counted and dropped, never collected. Each child reads the peak resident set
//! size (`VmHWM` in `/proc/self/status`, so Linux only) once its runtime and client are
//! warm, and again after the scan; the table shows the peak after the scan and, in
//! brackets, how much the scan added. If the stream held more than a page, the dynorm
//! figures would grow with the item count while the raw SDK's stay flat.
//!
//! Run it against DynamoDB Local, in release mode:
//!
//! ```text
//! scripts/dynamodb-local start        # prints the endpoint
//! DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo run --release -p dynorm-examples --bin scan_rss
//! ```
//!
//! `--items 10000,30000` measures other counts (ascending; the table is topped up from one
//! to the next), and `--segments 8` another segment count (`--segments 1` skips the
//! segmented scan). Without `DYNAMODB_ENDPOINT` it uses the standard AWS configuration,
//! and creates (then deletes) an on-demand table there: it reads and writes every item,
//! which costs money on real DynamoDB. The table is deleted at the end.

use std::error::Error;
use std::ops::Range;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
use aws_sdk_dynamodb::Client;
use dynorm::{Db, DynaModel, Item};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use validator::Validate;

type BoxError = Box<dyn Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// The item counts measured when `--items` is not given.
const DEFAULT_COUNTS: [usize; 2] = [10_000, 100_000];
/// The segments of the parallel scan when `--segments` is not given.
const DEFAULT_SEGMENTS: u32 = 4;
/// The length of each item's payload, which makes the item about 1 KB.
const PAYLOAD_LEN: usize = 900;
/// Items per `BatchWriteItem` request: DynamoDB's maximum.
const BATCH: usize = 25;
/// `BatchWriteItem` requests in flight while seeding.
const CONCURRENT_BATCHES: usize = 8;
/// Attempts at writing a batch's unprocessed items before giving up.
const BATCH_ATTEMPTS: u32 = 10;
/// The first argument that makes the program a measuring child.
const MEASURE: &str = "measure";
/// The line a measuring child prints its figures on.
const RESULT_TAG: &str = "scan_rss_result";

/// One reading of a sensor, about 1 KB as stored.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "readings", hash_key = "id")]
struct Reading {
    id: String,
    sensor: String,
    seq: u64,
    recorded_at: u64,
    payload: String,
}

impl Reading {
    /// The `n`th seeded item; its payload differs from item to item.
    fn nth(n: usize) -> Reading {
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
        Reading {
            id: format!("reading-{n:08}"),
            sensor: format!("sensor-{:03}", n % 500),
            seq: n as u64,
            recorded_at: 1_700_000_000_000 + n as u64 * 1_000,
            payload,
        }
    }
}

/// Which scan a child process measures.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// `Model::scan(&db).recursive()`.
    Dynorm,
    /// `Model::scan(&db).segments(n)`.
    Segmented(u32),
    /// The SDK's scan paginator and `serde_dynamo::from_item`.
    Raw,
}

impl Kind {
    fn arg(self) -> String {
        match self {
            Kind::Dynorm => "dynorm".into(),
            Kind::Segmented(n) => format!("segments={n}"),
            Kind::Raw => "raw".into(),
        }
    }

    fn parse(arg: &str) -> Result<Kind> {
        match arg {
            "dynorm" => Ok(Kind::Dynorm),
            "raw" => Ok(Kind::Raw),
            other => match other.strip_prefix("segments=").map(str::parse) {
                Some(Ok(n)) => Ok(Kind::Segmented(n)),
                _ => Err(format!("unknown scan kind `{other}`").into()),
            },
        }
    }
}

/// What one child process measured.
#[derive(Debug, Clone, Copy)]
struct Measurement {
    /// Items streamed.
    items: usize,
    /// Peak resident set size before the scan, in KiB.
    base_kib: u64,
    /// Peak resident set size after the scan, in KiB.
    peak_kib: u64,
    /// How long the scan took, in seconds.
    secs: f64,
}

impl Measurement {
    fn peak_mib(&self) -> f64 {
        self.peak_kib as f64 / 1024.0
    }

    fn added_mib(&self) -> f64 {
        self.peak_kib.saturating_sub(self.base_kib) as f64 / 1024.0
    }

    fn items_per_sec(&self) -> f64 {
        self.items as f64 / self.secs.max(f64::EPSILON)
    }

    fn to_line(self) -> String {
        format!(
            "{RESULT_TAG} items={} base_kib={} peak_kib={} secs={}",
            self.items, self.base_kib, self.peak_kib, self.secs
        )
    }

    fn from_output(stdout: &str) -> Result<Measurement> {
        let line = stdout
            .lines()
            .find_map(|l| l.strip_prefix(RESULT_TAG))
            .ok_or("the measuring process printed no result")?;
        let field = |name: &str| -> Result<&str> {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .ok_or_else(|| format!("the result has no `{name}`: {line}").into())
        };
        Ok(Measurement {
            items: field("items")?.parse()?,
            base_kib: field("base_kib")?.parse()?,
            peak_kib: field("peak_kib")?.parse()?,
            secs: field("secs")?.parse()?,
        })
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(MEASURE) {
        return match args.as_slice() {
            [_, kind, prefix, expected] => {
                let measurement = measure(Kind::parse(kind)?, prefix, expected.parse()?).await?;
                println!("{}", measurement.to_line());
                Ok(())
            }
            _ => Err(format!("usage: scan_rss {MEASURE} <kind> <table prefix> <item count>").into()),
        };
    }
    let options = Options::parse(&args)?;

    let db = connect()
        .await?
        .with_table_prefix(format!("scan-rss-{}-", std::process::id()));
    let table = db.table_name::<Reading>();
    Reading::create_table(&db).await?;
    println!("Created table `{table}`.");
    let outcome = run(&db, &options).await;
    let dropped = Reading::delete_table(&db).await;
    match &dropped {
        Ok(_) => println!("Deleted table `{table}`."),
        Err(err) => eprintln!("Could not delete table `{table}`: {err}"),
    }
    outcome?;
    dropped?;
    Ok(())
}

/// The command line of the measuring run.
struct Options {
    counts: Vec<usize>,
    segments: u32,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let usage = "usage: scan_rss [--items 10000,100000] [--segments 4]";
        let mut options = Options {
            counts: DEFAULT_COUNTS.to_vec(),
            segments: DEFAULT_SEGMENTS,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) => (name, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || inline.clone().or_else(|| args.next().cloned()).ok_or(usage);
            match name {
                "--items" => {
                    let mut counts = value()?
                        .split(',')
                        .map(|n| n.trim().replace('_', "").parse::<usize>())
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(|err| format!("--items takes counts separated by commas: {err}"))?;
                    counts.sort_unstable();
                    counts.dedup();
                    if counts.first() == Some(&0) || counts.is_empty() {
                        return Err("--items takes counts of at least 1".into());
                    }
                    options.counts = counts;
                }
                "--segments" => {
                    options.segments = value()?
                        .parse()
                        .map_err(|err| format!("--segments takes a number: {err}"))?;
                    if options.segments == 0 {
                        return Err("--segments must be at least 1".into());
                    }
                }
                "-h" | "--help" => return Err(usage.into()),
                other => return Err(format!("unknown argument `{other}`; {usage}").into()),
            }
        }
        Ok(options)
    }
}

async fn connect() -> Result<Db> {
    Ok(match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) => Db::local(endpoint),
        Err(std::env::VarError::NotPresent) => Db::from_env().await,
        Err(err) => return Err(format!("DYNAMODB_ENDPOINT: {err}").into()),
    })
}

/// Seeds each count in turn and measures the three scans on it.
async fn run(db: &Db, options: &Options) -> Result<()> {
    let mut kinds = vec![Kind::Dynorm];
    if options.segments > 1 {
        kinds.push(Kind::Segmented(options.segments));
    }
    kinds.push(Kind::Raw);

    let mut rows = Vec::new();
    let mut seeded = 0;
    for &count in &options.counts {
        seed(db, seeded..count).await?;
        seeded = count;
        let mut row = Vec::new();
        for &kind in &kinds {
            let measurement = measure_in_child(kind, db.table_prefix(), count).await?;
            println!(
                "  {:<14} {count:>8} items: peak {:7.1} MiB (scan added {:6.1} MiB), {:8.0} items/s",
                label(kind),
                measurement.peak_mib(),
                measurement.added_mib(),
                measurement.items_per_sec(),
            );
            row.push(measurement);
        }
        rows.push((count, row));
    }
    print_table(&kinds, &rows);
    Ok(())
}

fn label(kind: Kind) -> String {
    match kind {
        Kind::Dynorm => "dynorm".into(),
        Kind::Segmented(n) => format!("dynorm {n} seg."),
        Kind::Raw => "raw SDK".into(),
    }
}

fn print_table(kinds: &[Kind], rows: &[(usize, Vec<Measurement>)]) {
    println!();
    println!("Peak RSS of one scan, in MiB (in brackets: what the scan added over the warm process)");
    print!("{:>9}", "items");
    for &kind in kinds {
        print!(" | {:>17}", label(kind));
    }
    print!(" | {:>10}", "dynorm/raw");
    for &kind in kinds {
        print!(" | {:>18}", format!("{} it/s", label(kind)));
    }
    println!();
    for (count, row) in rows {
        print!("{count:>9}");
        for m in row {
            print!(" | {:>17}", format!("{:.1} (+{:.1})", m.peak_mib(), m.added_mib()));
        }
        // The raw SDK is the last column.
        let (first, raw) = (row[0], row[row.len() - 1]);
        print!(" | {:>10.2}", first.peak_mib() / raw.peak_mib());
        for m in row {
            print!(" | {:>18.0}", m.items_per_sec());
        }
        println!();
    }
    if let [(small, first), .., (large, last)] = rows {
        println!();
        for (i, &kind) in kinds.iter().enumerate() {
            println!(
                "{}: from {small} to {large} items ({:.0}x), the peak went from {:.1} to {:.1} MiB ({:+.1} MiB).",
                label(kind),
                *large as f64 / *small as f64,
                first[i].peak_mib(),
                last[i].peak_mib(),
                last[i].peak_mib() - first[i].peak_mib(),
            );
        }
    }
}

/// Writes items `ids` with `BatchWriteItem`, several requests at once.
async fn seed(db: &Db, ids: Range<usize>) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let table = db.table_name::<Reading>();
    let client = db.client();
    let (total, end) = (ids.len(), ids.end);
    println!("Seeding items {}..{end} of ~1 KB into `{table}`...", ids.start);
    let started = Instant::now();
    let batches = ids.step_by(BATCH).map(|start| start..(start + BATCH).min(end));
    let mut writes = stream::iter(batches)
        .map(|batch| write_batch(client, &table, batch))
        .buffer_unordered(CONCURRENT_BATCHES);
    let (mut written, mut reported) = (0, 0);
    while let Some(batch) = writes.next().await {
        written += batch?;
        if written - reported >= 20_000 || written == total {
            reported = written;
            println!(
                "  {written:>8} / {total} written ({:.1} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "Seeded {total} items in {secs:.1} s ({:.0} items/s).",
        total as f64 / secs
    );
    Ok(())
}

/// Writes one batch, retrying its unprocessed items with a growing pause.
async fn write_batch(client: &Client, table: &str, ids: Range<usize>) -> Result<usize> {
    let count = ids.len();
    let mut requests = ids
        .map(|n| {
            let item: Item = serde_dynamo::to_item(Reading::nth(n))?;
            let put = PutRequest::builder().set_item(Some(item)).build()?;
            Ok(WriteRequest::builder().put_request(put).build())
        })
        .collect::<Result<Vec<_>>>()?;
    for attempt in 0..BATCH_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(50 << attempt.min(5))).await;
        }
        let out = client.batch_write_item().request_items(table, requests).send().await?;
        match out.unprocessed_items.and_then(|mut left| left.remove(table)) {
            Some(left) if !left.is_empty() => requests = left,
            _ => return Ok(count),
        }
    }
    Err(format!("DynamoDB left items unprocessed after {BATCH_ATTEMPTS} attempts").into())
}

/// Runs this program again as `measure <kind> <prefix> <count>`, and reads its figures.
async fn measure_in_child(kind: Kind, prefix: &str, count: usize) -> Result<Measurement> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args([MEASURE, &kind.arg(), prefix, &count.to_string()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit());
    let output = tokio::task::spawn_blocking(move || command.output()).await??;
    if !output.status.success() {
        return Err(format!("the {} measurement failed ({})", label(kind), output.status).into());
    }
    Measurement::from_output(&String::from_utf8_lossy(&output.stdout))
}

/// In the child: streams the whole table once and measures the peak RSS around it.
async fn measure(kind: Kind, prefix: &str, expected: usize) -> Result<Measurement> {
    let db = connect().await?.with_table_prefix(prefix);
    let table = db.table_name::<Reading>();
    // A first request warms the client (connection pool, endpoint resolution, signing),
    // so the baseline holds everything but the scan.
    db.client().describe_table().table_name(&table).send().await?;
    let base_kib = peak_rss_kib()?;

    let started = Instant::now();
    let mut items = 0;
    let mut payload_bytes = 0;
    match kind {
        Kind::Dynorm | Kind::Segmented(_) => {
            let mut scan = match kind {
                Kind::Segmented(n) => Reading::scan(&db).segments(n),
                _ => Reading::scan(&db).recursive(),
            };
            while let Some(reading) = scan.next().await {
                payload_bytes += reading?.payload.len();
                items += 1;
            }
        }
        Kind::Raw => {
            let mut scan = db.client().scan().table_name(&table).into_paginator().items().send();
            while let Some(item) = scan.next().await {
                let reading: Reading = serde_dynamo::from_item(item?)?;
                payload_bytes += reading.payload.len();
                items += 1;
            }
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let peak_kib = peak_rss_kib()?;

    std::hint::black_box(payload_bytes);
    if items != expected {
        return Err(format!("the {} scan read {items} items, expected {expected}", label(kind)).into());
    }
    Ok(Measurement {
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
    let kib = line.trim().trim_end_matches("kB").trim().parse()?;
    Ok(kib)
}
