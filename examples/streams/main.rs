//! Typed change streams, two ways:
//!
//! 1. A Lambda-style handler: `handler(event) -> DynamoDbEventResponse`, as a
//!    `lambda_runtime` function would be written, run here on recorded events
//!    (`events.json`: an insert, a modify of an item at schema version 1, a TTL expiry
//!    and a user's delete). It fails on the expiry once, to show the partial batch
//!    failure response Lambda retries from.
//! 2. A reader of DynamoDB Local's own stream through `aws-sdk-dynamodbstreams`,
//!    walking its shards and committing checkpoints.
//!
//! Run it with `scripts/demo`, or with `DYNAMODB_ENDPOINT` set.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use dynorm::aws_sdk_dynamodb::types::AttributeValue;
use dynorm::changes::{handle_event, local_streams_client, Change, StreamReader};
use dynorm::{BoxError, Db, DynaModel, Item};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// Version 1 stored whole euros; version 2 stores cents.
fn euros_to_cents(item: &mut Item) -> Result<(), BoxError> {
    if let Some(AttributeValue::N(euros)) = item.remove("euros") {
        let cents = euros.parse::<u64>()? * 100;
        item.insert("total".into(), AttributeValue::N(cents.to_string()));
    }
    Ok(())
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "orders", hash_key = "id", stream = "new_and_old_images", hooks)]
#[schema(version = 2, migrations = [euros_to_cents])]
struct Order {
    id: String,
    /// In cents.
    total: u64,
    status: String,
}

impl dynorm::Hooks for Order {
    fn after_load(&mut self) -> Result<(), BoxError> {
        self.status = self.status.to_uppercase();
        Ok(())
    }
}

/// Fails the first TTL expiry it sees, as a handler whose archive is briefly down would.
static ARCHIVE_DOWN: AtomicBool = AtomicBool::new(true);

/// What a Lambda function handling the orders table's stream looks like.
async fn handler(event: Event) -> DynamoDbEventResponse {
    handle_event(&event, |record| async move {
        match record.decode::<Order>()? {
            Change::Inserted { new: Some(order), .. } => println!("  new order {} of {} cents", order.id, order.total),
            Change::Modified {
                old: Some(old),
                new: Some(new),
                ..
            } => println!(
                "  order {}: {} -> {} ({} cents)",
                new.id, old.status, new.status, new.total
            ),
            Change::Removed { old, expired: true, .. } => {
                if ARCHIVE_DOWN.swap(false, Ordering::Relaxed) {
                    return Err::<(), BoxError>("the archive is unavailable".into());
                }
                println!("  expired (TTL), archived: {:?}", old.map(|o| o.id));
            }
            Change::Removed { keys, .. } => println!("  deleted by a user: {keys:?}"),
            other => println!("  {other:?}"),
        }
        Ok(())
    })
    .await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The handler, on recorded events.
    let mut event: Event = serde_json::from_str(include_str!("events.json"))?;
    println!("Lambda handler, recorded events:");
    let response = handler(event.clone()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .filter_map(|f| f.item_identifier.clone())
        .collect();
    println!("  response: retry from {failed:?}");
    // Lambda retries from the failed record.
    if let Some(first) = failed.first() {
        event
            .records
            .retain(|r| r.change.sequence_number.as_deref() >= Some(first.as_str()));
        println!("Lambda retries {} records:", event.records.len());
        let response = handler(event).await;
        println!("  response: {} failures", response.batch_item_failures.len());
    }

    // 2. A reader of DynamoDB Local's stream.
    let endpoint = std::env::var("DYNAMODB_ENDPOINT").map_err(|_| "set DYNAMODB_ENDPOINT (scripts/demo does)")?;
    let db = Db::local(endpoint.clone()).with_table_prefix(format!("streams-demo-{}-", std::process::id()));
    Order::create_table(&db).await?;
    let order = Order {
        id: "order-7".into(),
        total: 4200,
        status: "new".into(),
    };
    order.put(&db).await?;
    Order::update_by_key(&db, "order-7")
        .set(Order::fields().status(), "shipped".to_owned())
        .await?;
    Order::delete_by_key(&db, "order-7").await?;

    println!("DynamoDB Local's stream:");
    let mut reader = StreamReader::for_table::<Order>(&db, local_streams_client(&endpoint)).await?;
    let mut seen = 0;
    for _ in 0..50 {
        let batch = reader.next_batch().await?;
        for record in &batch.records {
            let change = record.decode::<Order>()?;
            println!(
                "  {:?} {:?}: {:?} -> {:?}",
                change.kind(),
                change.keys(),
                change.old_item(),
                change.new_item()
            );
            seen += 1;
        }
        reader.commit(&batch).await?;
        if seen >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Order::delete_table(&db).await?;
    if seen < 3 {
        return Err(format!("read {seen} of the 3 changes from the stream").into());
    }
    Ok(())
}
