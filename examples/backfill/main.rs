//! A backfill: a table of 100,000 customers written at schema version 1 (first and
//! last name apart) is migrated to version 2 (one `name`), with a progress bar. The
//! first run is stopped part way, as a deploy or a crash would stop it; the second
//! picks up from the checkpoints the first saved, and the end count shows every item
//! at version 2, migrated exactly once.
//!
//! Run it with `scripts/demo` (or `cargo run --release -p dynorm-examples --bin
//! backfill` with `DYNAMODB_ENDPOINT` set). `BACKFILL_ITEMS` sets the item count.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use dynorm::backfill::{Backfill, FileCheckpoints, Progress, Rewrite};
use dynorm::{BoxError, Db, DynaModel, Item};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// Version 1 stored `first_name` and `last_name`; version 2 stores `name`.
fn join_names(item: &mut Item) -> Result<(), BoxError> {
    let text = |v: Option<AttributeValue>| match v {
        Some(AttributeValue::S(s)) => s,
        _ => String::new(),
    };
    let first = text(item.remove("first_name"));
    let last = text(item.remove("last_name"));
    item.insert(
        "name".into(),
        AttributeValue::S(format!("{first} {last}").trim().to_owned()),
    );
    Ok(())
}

/// A customer, at schema version 2.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "customers", hash_key = "id")]
#[schema(version = 2, migrations = [join_names])]
struct Customer {
    id: String,
    name: String,
    /// How many times the backfill rewrote this customer: 1 for every item at the end.
    #[serde(default)]
    rewrites: u32,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// Writes `count` customers as version 1 did.
async fn seed(db: &Db, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let table = db.table_name::<Customer>();
    let chunks: Vec<Vec<usize>> = (0..count)
        .collect::<Vec<_>>()
        .chunks(25)
        .map(<[usize]>::to_vec)
        .collect();
    let results: Vec<Result<(), Box<dyn std::error::Error>>> = futures::stream::iter(chunks)
        .map(|chunk| {
            let table = table.clone();
            async move {
                let requests = chunk
                    .iter()
                    .map(|i| {
                        let item: Item = HashMap::from([
                            ("id".into(), s(&format!("c{i:07}"))),
                            ("first_name".into(), s("Ada")),
                            ("last_name".into(), s(&format!("Number {i}"))),
                        ]);
                        Ok(WriteRequest::builder()
                            .put_request(PutRequest::builder().set_item(Some(item)).build()?)
                            .build())
                    })
                    .collect::<Result<Vec<_>, Box<dyn std::error::Error>>>()?;
                let mut pending = HashMap::from([(table, requests)]);
                while !pending.is_empty() {
                    let out = db
                        .client()
                        .batch_write_item()
                        .set_request_items(Some(pending))
                        .send()
                        .await?;
                    pending = out.unprocessed_items.unwrap_or_default();
                    pending.retain(|_, r| !r.is_empty());
                }
                Ok(())
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    results.into_iter().collect()
}

fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::new(total);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {pos:>7}/{len:7} scanned  {msg}  [{elapsed_precise}, ~{eta} left]")
    {
        bar.set_style(style);
    }
    bar
}

fn show(bar: &ProgressBar, p: &Progress) {
    bar.set_position(p.scanned);
    bar.set_message(format!(
        "{} written, {} skipped, {:.0} items/s",
        p.written, p.skipped, p.items_per_second
    ));
}

/// Counts the stored customers by schema version and number of rewrites.
async fn census(db: &Db) -> Result<HashMap<(String, String), u64>, Box<dyn std::error::Error>> {
    let mut counts = HashMap::new();
    let mut start = None;
    loop {
        let page = db
            .client()
            .scan()
            .table_name(db.table_name::<Customer>())
            .projection_expression("#v, rewrites")
            .expression_attribute_names("#v", "_v")
            .set_exclusive_start_key(start)
            .send()
            .await?;
        for item in page.items() {
            let n = |name: &str| match item.get(name) {
                Some(AttributeValue::N(n)) => n.clone(),
                _ => "-".into(),
            };
            *counts.entry((n("_v"), n("rewrites"))).or_insert(0) += 1;
        }
        match page.last_evaluated_key {
            Some(key) if !key.is_empty() => start = Some(key),
            _ => return Ok(counts),
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").map_err(|_| "set DYNAMODB_ENDPOINT (scripts/demo does)")?;
    let count: usize = std::env::var("BACKFILL_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let run_id = format!("{}-{}", std::process::id(), Instant::now().elapsed().as_nanos());
    let db = Db::local(endpoint).with_table_prefix(format!("backfill-demo-{run_id}-"));
    let checkpoints = std::env::temp_dir().join(format!("dynorm-backfill-demo-{run_id}"));

    Customer::create_table(&db).await?;
    let started = Instant::now();
    seed(&db, count).await?;
    println!(
        "Wrote {count} customers at schema version 1 in {:.1}s.",
        started.elapsed().as_secs_f64()
    );

    // The first run is stopped once 40% of the items are written.
    println!("Backfill to version 2, run 1 (stopped part way):");
    let bar1 = bar(count as u64);
    let written = Arc::new(AtomicU64::new(0));
    let task = {
        let (db, dir, bar, written) = (db.clone(), checkpoints.clone(), bar1.clone(), Arc::clone(&written));
        tokio::spawn(async move {
            Backfill::<Customer>::new(&db, "customers-v2")
                .segments(8)
                .worker("demo")
                .checkpoints(FileCheckpoints::new(dir))
                .map(|c: &mut Customer| {
                    c.rewrites += 1;
                    Ok(Rewrite::Write)
                })
                .estimated_items(count as u64)
                .progress_every(Duration::from_millis(100))
                .on_progress(move |p| {
                    show(&bar, p);
                    written.store(p.written, Ordering::Relaxed);
                })
                .run()
                .await
        })
    };
    while written.load(Ordering::Relaxed) < (count as u64) * 2 / 5 && !task.is_finished() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    bar1.abandon_with_message("stopped");
    println!("  stopped after {} items written.", written.load(Ordering::Relaxed));

    println!("Run 2 (resumed from the checkpoints):");
    let bar2 = bar(count as u64);
    let shown = bar2.clone();
    let report = Backfill::<Customer>::new(&db, "customers-v2")
        .segments(8)
        .worker("demo")
        .checkpoints(FileCheckpoints::new(&checkpoints))
        .map(|c: &mut Customer| {
            c.rewrites += 1;
            Ok(Rewrite::Write)
        })
        .estimated_items(count as u64)
        .progress_every(Duration::from_millis(100))
        .on_progress(move |p| show(&shown, p))
        .run()
        .await?;
    bar2.finish();
    println!(
        "  scanned {}, wrote {}, skipped {} (written by run 1), failed {}, in {:.1}s; complete: {}.",
        report.scanned,
        report.written,
        report.skipped,
        report.failed,
        report.elapsed.as_secs_f64(),
        report.complete
    );

    let counts = census(&db).await?;
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort();
    println!("Stored customers by (schema version, rewrites):");
    for ((version, rewrites), n) in &rows {
        println!("  version {version}, rewritten {rewrites}x: {n}");
    }
    let exact = rows.len() == 1 && rows[0].0 == ("2".to_owned(), "1".to_owned()) && rows[0].1 == count as u64;
    let customer = Customer::get(&db, "c0000042").await?.ok_or("customer 42 is missing")?;
    println!("Customer 42 reads as {customer:?}.");

    Customer::delete_table(&db).await?;
    let _ = std::fs::remove_dir_all(&checkpoints);
    if !exact || !report.complete {
        return Err("the backfill did not migrate every item exactly once".into());
    }
    println!("Every item is at version 2, rewritten exactly once.");
    Ok(())
}
