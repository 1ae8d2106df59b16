//! DynamoDB Local killed in the middle of a batch write: the call returns a typed error
//! within its deadline (no panic, no hang), and every write it did not list as left is
//! in the table once the server restarts on the same database file.
//!
//! This test runs its own server (through `scripts/dynamodb-local`, with `-dbPath` and a
//! port of its own), so it can kill and restart it without disturbing other tests.

use std::time::{Duration, Instant};

use dynorm::batch::BatchOp;
use dynorm::{Db, DynaModel, Error};
use dynorm_tests::OwnServer;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "fault_items", hash_key = "id")]
struct Item {
    id: String,
    body: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_batch_loses_nothing_reported_written() {
    let server = OwnServer::new("fault");
    let endpoint = server.start();
    let db = Db::local(&endpoint);
    Item::create_table(&db).await.unwrap();

    let items: Vec<Item> = (0..30_000)
        .map(|i| Item {
            id: format!("item-{i:05}"),
            body: "b".repeat(200),
        })
        .collect();
    let deadline = Duration::from_secs(8);
    let batch_started = Instant::now();
    let batch = {
        let db = db.clone();
        let items = items.clone();
        tokio::spawn(async move {
            db.batch_write()
                .put_all(&items)
                .concurrency(4)
                .deadline(deadline)
                .send()
                .await
        })
    };
    // Let some writes land, then kill the server mid-batch.
    let waiting = Instant::now();
    while Item::scan(&db).recursive().count().await.unwrap() < 200 {
        assert!(waiting.elapsed() < Duration::from_secs(30), "no writes landed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!batch.is_finished(), "the batch should still be running");
    server.kill();
    let started = Instant::now();

    let result = batch.await.expect("the batch task does not panic");
    let elapsed = started.elapsed();
    let total = batch_started.elapsed();
    assert!(
        total < deadline + Duration::from_secs(3),
        "returned {total:?} after the batch started"
    );
    assert!(
        elapsed < deadline + Duration::from_secs(5),
        "returned after {elapsed:?}"
    );
    let Err(Error::BatchIncomplete { left, cause }) = result else {
        panic!("expected BatchIncomplete, got {result:?}");
    };
    assert!(!left.is_empty() && left.len() < items.len(), "{} left", left.len());
    // The last request that failed: refused a connection, or (when a request was in
    // flight at the kill) of unknown outcome; its writes are listed in `left` either way.
    assert!(
        cause.is_none()
            || matches!(
                cause.as_deref(),
                Some(Error::Unavailable { .. } | Error::OutcomeUnknown { idempotent: true, .. })
            ),
        "{cause:?}"
    );
    let left_ids: std::collections::HashSet<String> = left
        .iter()
        .map(|op| match op {
            BatchOp::Put { item, .. } => match item.get("id") {
                Some(dynorm::aws_sdk_dynamodb::types::AttributeValue::S(s)) => s.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(left_ids.len(), left.len(), "each write listed once");
    eprintln!(
        "killed mid-batch: {} reported written, {} left, returned {elapsed:?} after the kill ({cause:?})",
        items.len() - left.len(),
        left.len()
    );

    // Restart on the same database file: every write not listed as left is there.
    let endpoint = server.start();
    let db = Db::local(&endpoint);
    let reported: Vec<&Item> = items.iter().filter(|i| !left_ids.contains(&i.id)).collect();
    let keys: Vec<&str> = reported.iter().map(|i| i.id.as_str()).collect();
    let found = Item::objects(&db).get_many(keys).await.unwrap();
    assert_eq!(found.len(), reported.len(), "every write reported as applied survived");
    assert!(found.iter().zip(&reported).all(|(a, b)| a == *b));
}
