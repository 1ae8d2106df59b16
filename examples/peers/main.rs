//! The peer benchmark's dynorm side: the workload `bench/peers/peers.py` (PynamoDB,
//! boto3) and `bench/peers/peers.mjs` (ElectroDB) run, with dynorm, against the
//! DynamoDB Local at `DYNAMODB_ENDPOINT`. Prints one JSON line per measured operation:
//! library, operation, items, wall and CPU seconds (`getrusage`, every thread). Run it
//! through `bench/peers/run`, which runs every side against one server and prints the
//! table.
//!
//! ```text
//! peers TABLE_PREFIX ITEMS
//! ```

use std::error::Error;
use std::future::Future;
use std::time::Instant;

use dynorm::{Db, DynaModel};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "docs", hash_key = "pk", range_key = "sk")]
struct Doc {
    pk: String,
    sk: String,
    title: String,
    count: u64,
    active: bool,
    body: String,
}

const PAGE_ITEMS: usize = 1000;
const PAGE_READS: usize = 10;

fn doc(pk: String, sk: String, i: usize) -> Doc {
    Doc {
        pk,
        sk,
        title: format!("title {i}"),
        count: i as u64,
        active: i.is_multiple_of(2),
        body: "x".repeat(900),
    }
}

/// CPU time of the whole process (every thread), user and system.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

async fn measure<F: Future<Output = Result<(), Box<dyn Error>>>>(
    op: &str,
    items: usize,
    f: F,
) -> Result<(), Box<dyn Error>> {
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    f.await?;
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(r#"{{"lib": "dynorm", "op": "{op}", "items": {items}, "wall": {wall}, "cpu": {cpu}}}"#);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let prefix = args.next().ok_or("usage: peers TABLE_PREFIX ITEMS")?;
    let n: usize = args.next().ok_or("usage: peers TABLE_PREFIX ITEMS")?.parse()?;
    let endpoint = std::env::var("DYNAMODB_ENDPOINT")?;
    let db = Db::local(endpoint).with_table_prefix(prefix);
    let single = (n / 10).max(100);
    Doc::create_table(&db).await?;
    let result = run(&db, n, single).await;
    Doc::delete_table(&db).await?;
    result
}

async fn run(db: &Db, n: usize, single: usize) -> Result<(), Box<dyn Error>> {
    let keys: Vec<(String, String)> = (0..single)
        .map(|i| (format!("single-{}", i % 50), format!("{i:08}")))
        .collect();
    measure("put", single, async {
        for (i, (pk, sk)) in keys.iter().enumerate() {
            doc(pk.clone(), sk.clone(), i).put(db).await?;
        }
        Ok(())
    })
    .await?;
    measure("get", single, async {
        for (pk, sk) in &keys {
            Doc::get(db, (pk.as_str(), sk.as_str())).await?.ok_or("missing item")?;
        }
        Ok(())
    })
    .await?;
    measure("conditional update", single, async {
        for (pk, sk) in &keys {
            Doc::update_by_key(db, (pk.as_str(), sk.as_str()))
                .increment(Doc::fields().count(), 1u64)
                .condition(Doc::fields().pk().exists())
                .await?;
        }
        Ok(())
    })
    .await?;

    let page: Vec<Doc> = (0..PAGE_ITEMS)
        .map(|i| doc("page".into(), format!("{i:08}"), i))
        .collect();
    db.batch_write().put_all(&page).send().await?;
    measure("1 MB page query", PAGE_ITEMS * PAGE_READS, async {
        let mut count = 0;
        for _ in 0..PAGE_READS {
            count += Doc::query(db, "page").collect_all().await?.len();
        }
        if count == 0 {
            return Err("empty pages".into());
        }
        Ok(())
    })
    .await?;

    let docs: Vec<Doc> = (0..n)
        .map(|i| doc(format!("batch-{}", i % 100), format!("{i:08}"), i))
        .collect();
    measure("batch writes", n, async {
        db.batch_write().put_all(&docs).concurrency(1).send().await?;
        Ok(())
    })
    .await?;

    let total = single + PAGE_ITEMS + n;
    measure("4-segment scan", total, async {
        let mut stream = Doc::scan(db).segments(4);
        let mut count = 0;
        while let Some(doc) = stream.next().await {
            doc?;
            count += 1;
        }
        if count != total {
            return Err(format!("scanned {count} of {total}").into());
        }
        Ok(())
    })
    .await?;
    Ok(())
}
