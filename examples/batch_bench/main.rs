//! Batch throughput against DynamoDB Local: 20,000 items written and read through
//! dynorm's batch API (concurrent requests) and through a plain loop of sequential raw
//! SDK `BatchWriteItem` / `BatchGetItem` calls, in the same run against the same server.
//! Prints items per second for each and the ratio. A bench program, not a test.
//!
//! ```text
//! scripts/dynamodb-local start        # prints the endpoint
//! DYNAMODB_ENDPOINT=http://127.0.0.1:8000 cargo run --release -p dynorm-examples --bin batch_bench
//! ```
//!
//! `--items N` and `--concurrency N` change the defaults (20,000 and 8). Each side
//! writes into a table of its own, created for the run and deleted after it.

use std::collections::HashMap;
use std::error::Error;
use std::time::Instant;

use dynorm::aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, PutRequest, WriteRequest};
use dynorm::{Db, DynaModel};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "batch-bench", hash_key = "id")]
struct Record {
    id: String,
    owner: String,
    count: u64,
    body: String,
}

fn arg(name: &str, default: usize) -> Result<usize, Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == name) {
        Some(i) => Ok(args.get(i + 1).ok_or(format!("{name} needs a value"))?.parse()?),
        None => Ok(default),
    }
}

async fn raw_write(db: &Db, table: &str, items: &[Record]) -> Result<(), Box<dyn Error>> {
    for chunk in items.chunks(25) {
        let mut requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|r| {
                let item = dynorm::to_item(r)?;
                Ok(WriteRequest::builder()
                    .put_request(PutRequest::builder().set_item(Some(item)).build()?)
                    .build())
            })
            .collect::<Result<_, Box<dyn Error>>>()?;
        while !requests.is_empty() {
            let out = db
                .client()
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await?;
            requests = out
                .unprocessed_items
                .and_then(|mut u| u.remove(table))
                .unwrap_or_default();
        }
    }
    Ok(())
}

async fn raw_read(db: &Db, table: &str, items: &[Record]) -> Result<usize, Box<dyn Error>> {
    let mut found = 0;
    for chunk in items.chunks(100) {
        let mut keys: Vec<HashMap<String, AttributeValue>> = chunk
            .iter()
            .map(|r| HashMap::from([("id".to_owned(), AttributeValue::S(r.id.clone()))]))
            .collect();
        while !keys.is_empty() {
            let request = KeysAndAttributes::builder().set_keys(Some(keys)).build()?;
            let out = db
                .client()
                .batch_get_item()
                .request_items(table, request)
                .send()
                .await?;
            for item in out.responses.and_then(|mut r| r.remove(table)).unwrap_or_default() {
                let _: Record = dynorm::from_item(item)?;
                found += 1;
            }
            keys = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(table))
                .map(|k| k.keys)
                .unwrap_or_default();
        }
    }
    Ok(found)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let n = arg("--items", 20_000)?;
    let concurrency = arg("--concurrency", 8)?;
    let endpoint =
        std::env::var("DYNAMODB_ENDPOINT").map_err(|_| "set DYNAMODB_ENDPOINT (scripts/dynamodb-local start)")?;
    let run = std::process::id();
    let ours = Db::local(&endpoint).with_table_prefix(format!("bench-{run}-dynorm-"));
    let raw = Db::local(&endpoint).with_table_prefix(format!("bench-{run}-raw-"));
    Record::create_table(&ours).await?;
    Record::create_table(&raw).await?;
    let items: Vec<Record> = (0..n)
        .map(|i| Record {
            id: format!("record-{i:06}"),
            owner: format!("owner-{}", i % 97),
            count: i as u64,
            body: "x".repeat(400),
        })
        .collect();

    let result = async {
        let raw_table = raw.table_name::<Record>();
        let t = Instant::now();
        raw_write(&raw, &raw_table, &items).await?;
        let raw_write_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        ours.batch_write()
            .put_all(&items)
            .concurrency(concurrency)
            .send()
            .await?;
        let ours_write_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let raw_found = raw_read(&raw, &raw_table, &items).await?;
        let raw_read_s = t.elapsed().as_secs_f64();

        let t = Instant::now();
        let mut found = ours
            .batch_get()
            .get_all::<Record, _>(items.iter().map(|r| r.id.as_str()))
            .concurrency(concurrency)
            .send()
            .await?;
        let ours_found: Vec<Record> = found.models()?;
        let ours_read_s = t.elapsed().as_secs_f64();
        if raw_found != n || ours_found.len() != n {
            return Err(format!("read back {raw_found} (raw) and {} (dynorm) of {n}", ours_found.len()).into());
        }

        println!("{n} items of ~500 bytes, dynorm with {concurrency} requests in flight, on {endpoint}");
        println!(
            "{:>8} | {:>14} | {:>14} | {:>12}",
            "", "raw loop it/s", "dynorm it/s", "dynorm/raw"
        );
        for (name, raw_s, ours_s) in [("write", raw_write_s, ours_write_s), ("read", raw_read_s, ours_read_s)] {
            let (raw_rate, ours_rate) = (n as f64 / raw_s, n as f64 / ours_s);
            println!(
                "{name:>8} | {raw_rate:>14.0} | {ours_rate:>14.0} | {:>12.2}",
                ours_rate / raw_rate
            );
        }
        Ok::<(), Box<dyn Error>>(())
    }
    .await;
    Record::delete_table(&ours).await?;
    Record::delete_table(&raw).await?;
    result
}
