//! The backfill runner against DynamoDB Local: 20,000 items migrated from version 1 to
//! 2, the run aborted part way and resumed from its file checkpoints, every item
//! migrated exactly once while a concurrent writer's changes survive; two workers
//! sharing the segments through a DynamoDB checkpoint table; the capacity budget held
//! over a run, measured from the consumed capacity DynamoDB reported.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use dynorm::backfill::{Backfill, FileCheckpoints, Rewrite, TableCheckpoints};
use dynorm::{BoxError, CapacityBudget, Db, DynaModel, Item};
use dynorm_tests::db;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use validator::Validate;

/// Version 1 called the title `name`.
fn name_to_title(item: &mut Item) -> Result<(), BoxError> {
    if let Some(name) = item.remove("name") {
        item.insert("title".into(), name);
    }
    Ok(())
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "docs", hash_key = "id")]
#[schema(version = 2, migrations = [name_to_title])]
struct Doc {
    id: String,
    title: String,
    /// How many times the backfill's function ran on the item.
    #[serde(default)]
    migrations: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    padding: Option<String>,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn id(i: usize) -> String {
    format!("doc-{i:06}")
}

/// Writes `count` items at version 1, raw.
async fn seed_v1(db: &Db, count: usize, padding: usize) {
    let table = db.table_name::<Doc>();
    let chunks: Vec<Vec<usize>> = (0..count)
        .collect::<Vec<_>>()
        .chunks(25)
        .map(<[usize]>::to_vec)
        .collect();
    futures::stream::iter(chunks)
        .map(|chunk| {
            let table = table.clone();
            async move {
                let requests: Vec<WriteRequest> = chunk
                    .iter()
                    .map(|i| {
                        let mut item: Item =
                            HashMap::from([("id".into(), s(&id(*i))), ("name".into(), s(&format!("title {i}")))]);
                        if padding > 0 {
                            item.insert("padding".into(), s(&"x".repeat(padding)));
                        }
                        WriteRequest::builder()
                            .put_request(PutRequest::builder().set_item(Some(item)).build().unwrap())
                            .build()
                    })
                    .collect();
                let mut pending = HashMap::from([(table.clone(), requests)]);
                while !pending.is_empty() {
                    let out = db
                        .client()
                        .batch_write_item()
                        .set_request_items(Some(pending))
                        .send()
                        .await
                        .unwrap();
                    pending = out.unprocessed_items.unwrap_or_default();
                    pending.retain(|_, r| !r.is_empty());
                }
            }
        })
        .buffer_unordered(8)
        .collect::<Vec<()>>()
        .await;
}

async fn all_raw(db: &Db) -> Vec<Item> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = db
            .client()
            .scan()
            .table_name(db.table_name::<Doc>())
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .unwrap();
        out.extend(page.items.unwrap_or_default());
        match page.last_evaluated_key {
            Some(k) if !k.is_empty() => start = Some(k),
            _ => return out,
        }
    }
}

fn count_up(doc: &mut Doc) -> Result<Rewrite, BoxError> {
    doc.migrations += 1;
    Ok(Rewrite::Write)
}

#[tokio::test]
async fn an_aborted_backfill_resumes_and_migrates_every_item_once_keeping_concurrent_changes() {
    let db = db("bf_resume");
    Doc::create_table(&db).await.unwrap();
    const N: usize = 20_000;
    seed_v1(&db, N, 0).await;
    let dir = std::env::temp_dir().join(format!("dynorm-bf-{}", dynorm_tests::unique_prefix("resume")));
    let run = "docs-v2";

    // The first run is aborted once 4,000 items are written.
    let written = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&written);
    let task = {
        let (db, dir) = (db.clone(), dir.clone());
        tokio::spawn(async move {
            Backfill::<Doc>::new(&db, run)
                .segments(8)
                .worker("w1")
                .checkpoints(FileCheckpoints::new(&dir))
                .map(count_up)
                .progress_every(Duration::from_millis(20))
                .on_progress(move |p| seen.store(p.written, Ordering::Relaxed))
                .run()
                .await
        })
    };
    // Meanwhile an old writer changes items: one attribute the migration does not
    // touch, and one it does (only while the item is still at version 1).
    let writer = {
        let db = db.clone();
        tokio::spawn(async move {
            let table = db.table_name::<Doc>();
            let mut renamed = Vec::new();
            for i in (0..N).step_by(40) {
                db.client()
                    .update_item()
                    .table_name(&table)
                    .key("id", s(&id(i)))
                    .update_expression("SET extra = :e")
                    .expression_attribute_values(":e", s(&format!("kept {i}")))
                    .send()
                    .await
                    .unwrap();
                let changed = db
                    .client()
                    .update_item()
                    .table_name(&table)
                    .key("id", s(&id(i + 1)))
                    .update_expression("SET #n = :n")
                    .condition_expression("attribute_not_exists(#v)")
                    .expression_attribute_names("#n", "name")
                    .expression_attribute_names("#v", "_v")
                    .expression_attribute_values(":n", s(&format!("renamed {}", i + 1)))
                    .send()
                    .await;
                if changed.is_ok() {
                    renamed.push(i + 1);
                }
            }
            renamed
        })
    };
    while written.load(Ordering::Relaxed) < 4_000 {
        assert!(!task.is_finished(), "the run ended before it was aborted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
    let renamed = writer.await.unwrap();
    assert!(!renamed.is_empty());

    // The second run goes on from the checkpoints.
    let second = Backfill::<Doc>::new(&db, run)
        .segments(8)
        .worker("w1")
        .checkpoints(FileCheckpoints::new(&dir))
        .map(count_up)
        .run()
        .await
        .unwrap();
    assert!(second.complete, "{second:?}");
    assert_eq!(second.failed, 0, "{:?}", second.failures);
    assert!(
        (second.scanned as usize) < N - 3_000,
        "resumed, not restarted: {} scanned",
        second.scanned
    );

    let items = all_raw(&db).await;
    assert_eq!(items.len(), N);
    for item in &items {
        assert_eq!(item.get("_v"), Some(&AttributeValue::N("2".into())), "{item:?}");
        assert_eq!(item.get("migrations"), Some(&AttributeValue::N("1".into())), "{item:?}");
        assert!(!item.contains_key("name"), "{item:?}");
    }
    let by_id: HashMap<&str, &Item> = items
        .iter()
        .map(|i| (i.get("id").and_then(|v| v.as_s().ok()).unwrap().as_str(), i))
        .collect();
    for i in (0..N).step_by(40) {
        assert_eq!(by_id[id(i).as_str()].get("extra"), Some(&s(&format!("kept {i}"))));
    }
    for i in renamed {
        assert_eq!(by_id[id(i).as_str()].get("title"), Some(&s(&format!("renamed {i}"))));
    }
    // A third run finds nothing left to do.
    let third = Backfill::<Doc>::new(&db, run)
        .segments(8)
        .worker("w1")
        .checkpoints(FileCheckpoints::new(&dir))
        .run()
        .await
        .unwrap();
    assert_eq!((third.scanned, third.written, third.complete), (0, 0, true));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_workers_share_the_segments_and_process_each_item_once() {
    let db = db("bf_workers");
    Doc::create_table(&db).await.unwrap();
    const N: usize = 4_000;
    seed_v1(&db, N, 0).await;
    let store = TableCheckpoints::new(&db, "backfill-checkpoints");
    store.ensure_table().await.unwrap();
    let worker = |name: &'static str| {
        Backfill::<Doc>::new(&db, "shared")
            .segments(8)
            .parallel(2)
            .worker(name)
            .checkpoints(store.clone())
            .map(count_up)
            .run()
    };
    let (a, b) = futures::join!(worker("a"), worker("b"));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.written + b.written, N as u64, "{a:?} {b:?}");
    assert!(a.written > 0 && b.written > 0, "both worked: {a:?} {b:?}");
    let mut segments: Vec<u32> = a
        .segments_processed
        .iter()
        .chain(&b.segments_processed)
        .copied()
        .collect();
    segments.sort_unstable();
    assert_eq!(segments, (0..8).collect::<Vec<_>>());
    assert!(a.complete || b.complete);
    let items = all_raw(&db).await;
    assert_eq!(items.len(), N);
    assert!(items
        .iter()
        .all(|i| i.get("migrations") == Some(&AttributeValue::N("1".into()))));
}

#[tokio::test]
async fn the_capacity_budget_holds_over_a_run() {
    let db = db("bf_budget");
    Doc::create_table(&db).await.unwrap();
    seed_v1(&db, 2_000, 1_500).await;
    let (read, write) = (40.0, 300.0);
    let budget = CapacityBudget::new(read, write);
    let report = Backfill::<Doc>::new(&db, "budget")
        .segments(4)
        .page_size(50)
        .budget(&budget)
        .run()
        .await
        .unwrap();
    assert!(report.complete);
    assert_eq!(report.written, 2_000);
    let secs = report.elapsed.as_secs_f64();
    let (read_rate, write_rate) = (report.read_units / secs, report.write_units / secs);
    assert!(report.write_units > 0.0 && report.read_units > 0.0, "{report:?}");
    eprintln!("budget {read}/{write} units/s: read {read_rate:.1}, write {write_rate:.1} over {secs:.1}s");
    assert!(read_rate <= read * 1.1, "read {read_rate:.1} units/s over {secs:.1}s");
    assert!(
        write_rate <= write * 1.1,
        "write {write_rate:.1} units/s over {secs:.1}s"
    );
    // Held, not undershot by far: the writes were the bound.
    assert!(
        write_rate >= write * 0.6,
        "write {write_rate:.1} units/s over {secs:.1}s"
    );
    assert_eq!(budget.write_units(), report.write_units);
}

#[tokio::test]
async fn reads_and_batch_writes_of_a_handle_take_the_same_budget() {
    let db = db("bf_handle_budget");
    Doc::create_table(&db).await.unwrap();
    let write = 200.0;
    let budget = CapacityBudget::writes(write);
    let limited = db.with_capacity_budget(&budget);
    let docs: Vec<Doc> = (0..1_000)
        .map(|i| Doc {
            id: id(i),
            title: format!("title {i}"),
            migrations: 0,
            padding: Some("p".repeat(1_200)),
        })
        .collect();
    let started = std::time::Instant::now();
    limited.batch_write().put_all(&docs).send().await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    let rate = budget.write_units() / secs;
    eprintln!("batch writes under {write} units/s: {rate:.1} units/s over {secs:.1}s");
    assert!(budget.write_units() >= 1_000.0, "{}", budget.write_units());
    assert!(rate <= write * 1.1, "{rate:.1} units/s over {secs:.1}s");
    // Reads of the same handle are measured too (no read limit set).
    let got = Doc::get(&limited, id(7)).await.unwrap();
    assert!(got.is_some());
    assert!(budget.read_units() > 0.0);
}
