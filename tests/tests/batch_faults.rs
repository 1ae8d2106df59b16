//! What DynamoDB Local cannot show about batches, with aws-smithy-mocks: a server that
//! leaves items unprocessed for several rounds, one that never processes them, and
//! throttling. Nothing may be lost or reported twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::batch_write_item::{BatchWriteItemError, BatchWriteItemOutput};
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes, WriteRequest};
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use dynorm::batch::BatchOp;
use dynorm::{Db, DynaModel, Error};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "events", hash_key = "id")]
struct Event {
    id: String,
    body: String,
}

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| Event {
            id: format!("e{i:04}"),
            body: format!("body {i}"),
        })
        .collect()
}

fn id_of(request: &WriteRequest) -> String {
    let item = request.put_request.as_ref().map(|p| &p.item).unwrap();
    match item.get("id") {
        Some(AttributeValue::S(s)) => s.clone(),
        other => panic!("no id: {other:?}"),
    }
}

/// Items whose number is even are left unprocessed the first five times they are sent.
fn stubborn(id: &str) -> bool {
    id[1..].parse::<u32>().unwrap() % 2 == 0
}

#[tokio::test(start_paused = true)]
async fn half_unprocessed_for_five_rounds_loses_nothing() {
    let applied: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let write = {
        let (applied, seen) = (applied.clone(), seen.clone());
        mock!(Client::batch_write_item).then_compute_output(move |input| {
            let mut unprocessed: HashMap<String, Vec<WriteRequest>> = HashMap::new();
            for (table, requests) in input.request_items().unwrap() {
                for request in requests {
                    let id = id_of(request);
                    let mut seen = seen.lock().unwrap();
                    let times = seen.entry(id.clone()).or_default();
                    *times += 1;
                    if stubborn(&id) && *times <= 5 {
                        unprocessed.entry(table.clone()).or_default().push(request.clone());
                    } else {
                        applied.lock().unwrap().push(id);
                    }
                }
            }
            BatchWriteItemOutput::builder()
                .set_unprocessed_items(Some(unprocessed))
                .build()
        })
    };
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write]));
    let items = events(500);
    let out = db.batch_write().put_all(&items).send().await.unwrap();
    assert_eq!(out.applied, 500);

    let applied = applied.lock().unwrap();
    let unique: HashSet<&String> = applied.iter().collect();
    assert_eq!(applied.len(), 500, "each item applied exactly once");
    assert_eq!(unique.len(), 500);
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|(id, n)| if stubborn(id) { *n == 6 } else { *n == 1 }));
    assert_eq!(out.requests, write.num_calls());
    assert!(write.num_calls() >= 20 + 5 * 10, "{} requests", write.num_calls());
}

#[tokio::test(start_paused = true)]
async fn a_server_that_never_processes_gives_every_write_back_after_the_deadline() {
    let write = mock!(Client::batch_write_item).then_compute_output(|input| {
        BatchWriteItemOutput::builder()
            .set_unprocessed_items(input.request_items().cloned())
            .build()
    });
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write]));
    let items = events(120);
    let started = tokio::time::Instant::now();
    let err = db
        .batch_write()
        .put_all(&items)
        .delete::<Event>("gone")
        .deadline(Duration::from_secs(10))
        .send()
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(16),
        "{waited:?}"
    );
    let Error::BatchIncomplete { left, cause } = err else {
        panic!("expected BatchIncomplete, got {err:?}");
    };
    assert!(cause.is_none(), "the deadline stopped it: {cause:?}");
    let mut ids: Vec<String> = left
        .iter()
        .map(|op| match op {
            BatchOp::Put { item, .. } | BatchOp::Delete { key: item, .. } => match item.get("id") {
                Some(AttributeValue::S(s)) => s.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    ids.sort();
    let mut expected: Vec<String> = items.iter().map(|e| e.id.clone()).collect();
    expected.push("gone".into());
    expected.sort();
    assert_eq!(ids, expected, "every write listed once");
    assert!(
        write.num_calls() >= 5 * 4,
        "each of the 5 requests retried: {}",
        write.num_calls()
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_past_the_deadline_is_reported_as_the_cause() {
    let write = mock!(Client::batch_write_item).then_error(|| {
        BatchWriteItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .meta(
                    ErrorMetadata::builder()
                        .code("ProvisionedThroughputExceededException")
                        .build(),
                )
                .build(),
        )
    });
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&write]));
    let started = tokio::time::Instant::now();
    let err = db
        .batch_write()
        .put_all(&events(30))
        .deadline(Duration::from_secs(5))
        .send()
        .await
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(5),
        "retried until the deadline"
    );
    assert!(
        write.num_calls() > 2 * 3,
        "each request retried past the SDK's 3 attempts: {}",
        write.num_calls()
    );
    let Error::BatchIncomplete { left, cause } = err else {
        panic!("expected BatchIncomplete, got {err:?}");
    };
    assert_eq!(left.len(), 30);
    assert!(matches!(cause.as_deref(), Some(Error::Throttled { .. })), "{cause:?}");
    // Every write comes back whole, as it was to be written, after many resends.
    let mut returned: Vec<Event> = left
        .into_iter()
        .map(|op| match op {
            BatchOp::Put { item, .. } => Event::from_item(item).unwrap(),
            other => panic!("a put was left, not {other:?}"),
        })
        .collect();
    returned.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(returned, events(30));
}

#[tokio::test(start_paused = true)]
async fn batch_gets_follow_unprocessed_keys() {
    let seen: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let get = {
        let seen = seen.clone();
        mock!(Client::batch_get_item).then_compute_output(move |input| {
            let mut responses: HashMap<String, Vec<HashMap<String, AttributeValue>>> = HashMap::new();
            let mut unprocessed: HashMap<String, KeysAndAttributes> = HashMap::new();
            for (table, request) in input.request_items().unwrap() {
                for key in request.keys() {
                    let Some(AttributeValue::S(id)) = key.get("id") else {
                        panic!()
                    };
                    let mut seen = seen.lock().unwrap();
                    let times = seen.entry(id.clone()).or_default();
                    *times += 1;
                    if stubborn(id) && *times <= 5 {
                        let entry = unprocessed
                            .entry(table.clone())
                            .or_insert_with(|| KeysAndAttributes::builder().keys(HashMap::new()).build().unwrap());
                        entry.keys.push(key.clone());
                    } else if id != "e9999" {
                        let mut item = key.clone();
                        item.insert("body".into(), AttributeValue::S(format!("body of {id}")));
                        responses.entry(table.clone()).or_default().push(item);
                    }
                }
            }
            for request in unprocessed.values_mut() {
                request.keys.retain(|k| !k.is_empty());
            }
            BatchGetItemOutput::builder()
                .set_responses(Some(responses))
                .set_unprocessed_keys(Some(unprocessed))
                .build()
        })
    };
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get]));
    let mut keys: Vec<String> = (0..250).map(|i| format!("e{i:04}")).collect();
    keys.push("e9999".into());
    let got = Event::objects(&db).get_many(keys.clone()).await.unwrap();
    assert_eq!(got.len(), 250, "the missing key is skipped");
    assert!(got
        .iter()
        .zip(&keys)
        .all(|(e, k)| &e.id == k && e.body == format!("body of {k}")));
}

#[tokio::test(start_paused = true)]
async fn a_transaction_conflict_is_a_typed_cancellation() {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;
    use aws_sdk_dynamodb::types::CancellationReason;
    use dynorm::transact::CancelCode;

    let tx = mock!(Client::transact_write_items).then_error(|| {
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .message("Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]")
                .cancellation_reasons(CancellationReason::builder().code("None").build())
                .cancellation_reasons(
                    CancellationReason::builder()
                        .code("TransactionConflict")
                        .message("Transaction is ongoing for the item")
                        .build(),
                )
                .meta(ErrorMetadata::builder().code("TransactionCanceledException").build())
                .build(),
        )
    });
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&tx]));
    let items = events(2);
    let err = db
        .transact_write()
        .write(items[0].put(&db))
        .write(items[1].put(&db))
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("expected TransactionCanceled, got {err:?}");
    };
    assert_eq!(reasons[0].code, CancelCode::None);
    assert_eq!(reasons[1].code, CancelCode::TransactionConflict);
    assert_eq!(reasons[1].index, 1);
    assert_eq!(reasons[1].table, "events");
    assert!(err.to_string().contains("TransactionConflict"), "{err}");
}

#[tokio::test(start_paused = true)]
async fn a_batch_get_past_its_deadline_lists_every_key_left() {
    let get = mock!(Client::batch_get_item).then_compute_output(|input| {
        BatchGetItemOutput::builder()
            .set_unprocessed_keys(input.request_items().cloned())
            .build()
    });
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get]));
    let keys: Vec<String> = (0..150).map(|i| format!("e{i:04}")).collect();
    let err = Event::objects(&db)
        .get_many(keys.clone())
        .deadline(Duration::from_secs(3))
        .await
        .unwrap_err();
    let Error::BatchIncomplete { left, .. } = err else {
        panic!("expected BatchIncomplete, got {err:?}");
    };
    let mut ids: Vec<String> = left
        .iter()
        .map(|op| match op {
            BatchOp::Get { key, .. } => match key.get("id") {
                Some(AttributeValue::S(s)) => s.clone(),
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        })
        .collect();
    ids.sort();
    assert_eq!(ids, keys);
}
