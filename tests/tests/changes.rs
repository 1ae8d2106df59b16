//! Typed change streams: records of an insert, a modify and a remove read from
//! DynamoDB Local's stream through `aws-sdk-dynamodbstreams` decode into typed changes
//! (an old item migrated on the way), a reader resumes from its checkpoints, and
//! recorded Lambda events decode, a TTL expiry told apart from a delete, a keys-only
//! record, a collection's dispatch, and the partial batch failure response.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::backfill::MemoryCheckpoints;
use dynorm::changes::{batch_failures, handle_event, local_streams_client, records, Change, ChangeKind, StreamReader};
use dynorm::{BoxError, Collection, DynaModel, DynaTable, Item};
use dynorm_tests::{db, endpoint};
use serde::{Deserialize, Serialize};
use validator::Validate;

fn price_in_cents(item: &mut Item) -> Result<(), BoxError> {
    if let Some(AttributeValue::N(euros)) = item.remove("euros") {
        let cents = euros.parse::<u64>()? * 100;
        item.insert("cents".into(), AttributeValue::N(cents.to_string()));
    }
    Ok(())
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "orders", hash_key = "id", stream = "new_and_old_images")]
#[schema(version = 2, migrations = [price_in_cents])]
struct Order {
    id: String,
    cents: u64,
    #[serde(default)]
    status: String,
}

fn order(id: &str, cents: u64, status: &str) -> Order {
    Order {
        id: id.into(),
        cents,
        status: status.into(),
    }
}

#[tokio::test]
async fn local_stream_records_decode_into_typed_changes_and_the_reader_resumes() {
    let db = db("ch_local");
    Order::create_table(&db).await.unwrap();
    order("o1", 500, "new").put(&db).await.unwrap();
    Order::update_by_key(&db, "o1")
        .set(Order::fields().status(), "paid".to_owned())
        .await
        .unwrap();
    Order::delete_by_key(&db, "o1").await.unwrap();
    // An item written at version 1 by older code.
    db.client()
        .put_item()
        .table_name(db.table_name::<Order>())
        .item("id", AttributeValue::S("o2".into()))
        .item("euros", AttributeValue::N("7".into()))
        .send()
        .await
        .unwrap();

    let store = MemoryCheckpoints::new();
    let mut reader = StreamReader::for_table::<Order>(&db, local_streams_client(&endpoint()))
        .await
        .unwrap()
        .worker("consumer")
        .checkpoints(store.clone());
    let mut got = Vec::new();
    for _ in 0..50 {
        let batch = reader.next_batch().await.unwrap();
        for record in &batch.records {
            got.push(record.decode::<Order>().unwrap());
        }
        reader.commit(&batch).await.unwrap();
        if got.len() >= 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(
        got[0],
        Change::Inserted {
            keys: Item::from([("id".into(), AttributeValue::S("o1".into()))]),
            new: Some(order("o1", 500, "new")),
        }
    );
    match &got[1] {
        Change::Modified { old, new, .. } => {
            assert_eq!(old.as_ref(), Some(&order("o1", 500, "new")));
            assert_eq!(new.as_ref(), Some(&order("o1", 500, "paid")));
        }
        other => panic!("{other:?}"),
    }
    match &got[2] {
        Change::Removed { old, expired, .. } => {
            assert_eq!(old.as_ref(), Some(&order("o1", 500, "paid")));
            assert!(!expired, "a user's delete");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        got[3].new_item(),
        Some(&order("o2", 700, "")),
        "migrated from version 1"
    );

    // A reader started again under the same worker name, with the same checkpoints,
    // goes on after what was committed.
    order("o3", 100, "new").put(&db).await.unwrap();
    let mut again = StreamReader::for_table::<Order>(&db, local_streams_client(&endpoint()))
        .await
        .unwrap()
        .worker("consumer")
        .checkpoints(store);
    let mut more = Vec::new();
    for _ in 0..50 {
        let batch = again.next_batch().await.unwrap();
        more.extend(batch.records.iter().map(|r| r.decode::<Order>().unwrap()));
        again.commit(&batch).await.unwrap();
        if !more.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(more.len(), 1, "{more:?}");
    assert_eq!(more[0].kind(), ChangeKind::Insert);
    assert_eq!(more[0].new_item(), Some(&order("o3", 100, "new")));
}

/// A Lambda event as DynamoDB Streams delivers it: an insert, a TTL expiry and a
/// user's delete.
const EVENT: &str = r#"{
  "Records": [
    {
      "eventID": "1",
      "eventName": "INSERT",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "eu-west-1",
      "dynamodb": {
        "ApproximateCreationDateTime": 1764600000,
        "Keys": { "id": { "S": "o1" } },
        "NewImage": { "id": { "S": "o1" }, "euros": { "N": "3" } },
        "SequenceNumber": "111",
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"
    },
    {
      "eventID": "2",
      "eventName": "REMOVE",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "eu-west-1",
      "dynamodb": {
        "ApproximateCreationDateTime": 1764600001,
        "Keys": { "id": { "S": "o2" } },
        "OldImage": { "id": { "S": "o2" }, "cents": { "N": "900" }, "status": { "S": "stale" }, "_v": { "N": "2" } },
        "SequenceNumber": "222",
        "SizeBytes": 40,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "userIdentity": { "type": "Service", "principalId": "dynamodb.amazonaws.com" },
      "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"
    },
    {
      "eventID": "3",
      "eventName": "REMOVE",
      "eventVersion": "1.1",
      "eventSource": "aws:dynamodb",
      "awsRegion": "eu-west-1",
      "dynamodb": {
        "ApproximateCreationDateTime": 1764600002,
        "Keys": { "id": { "S": "o3" } },
        "OldImage": { "id": { "S": "o3" }, "cents": { "N": "100" }, "_v": { "N": "2" } },
        "SequenceNumber": "333",
        "SizeBytes": 30,
        "StreamViewType": "NEW_AND_OLD_IMAGES"
      },
      "eventSourceARN": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-12-01T00:00:00.000"
    }
  ]
}"#;

#[tokio::test]
async fn a_recorded_lambda_event_decodes_with_a_ttl_expiry_and_a_partial_batch_failure() {
    let event: Event = serde_json::from_str(EVENT).unwrap();
    let records = records(&event).unwrap();
    let changes: Vec<Change<Order>> = records.iter().map(|r| r.decode().unwrap()).collect();
    assert_eq!(changes[0].new_item(), Some(&order("o1", 300, "")), "migrated");
    assert!(changes[1].is_expiry(), "{:?}", changes[1]);
    assert_eq!(changes[1].old_item(), Some(&order("o2", 900, "stale")));
    assert!(!changes[2].is_expiry());
    assert_eq!(changes[2].kind(), ChangeKind::Remove);
    assert!(records[0].created.is_some());

    // The handler fails on the second record: Lambda is told to retry from it, and
    // the third is not processed.
    let mut seen = Vec::new();
    let response = handle_event(&event, |record| {
        seen.push(record.event_id.clone());
        async move {
            match record.decode::<Order>()? {
                Change::Removed { expired: true, .. } => Err::<(), BoxError>("cannot archive yet".into()),
                _ => Ok(()),
            }
        }
    })
    .await;
    assert_eq!(seen, ["1", "2"]);
    let failed: Vec<Option<String>> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect();
    assert_eq!(failed, [Some("222".to_owned())]);
    let json = serde_json::to_value(&response).unwrap();
    assert_eq!(json["batchItemFailures"][0]["itemIdentifier"], "222");
    assert!(batch_failures([]).batch_item_failures.is_empty());
}

#[derive(DynaTable)]
#[table(name = "shop", hash_key = "pk", range_key = "sk", stream = "keys_only")]
struct Shop {
    pk: String,
    sk: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Shop, name = "customer", pk = "CUSTOMER#{customer}", sk = "PROFILE")]
struct Customer {
    customer: String,
    email: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Shop, name = "cart", pk = "CUSTOMER#{customer}", sk = "CART#{cart}")]
struct Cart {
    customer: String,
    cart: String,
    items: u32,
}

#[derive(Collection, Debug, PartialEq)]
enum CustomerItems {
    Customer(Customer),
    Cart(Cart),
}

#[test]
fn records_of_a_single_table_dispatch_to_the_collection_and_keys_only_records_keep_their_keys() {
    let event: Event = serde_json::from_value(serde_json::json!({
        "Records": [
            {
                "eventID": "a", "eventName": "INSERT", "awsRegion": "eu-west-1",
                "dynamodb": {
                    "Keys": { "pk": { "S": "CUSTOMER#c1" }, "sk": { "S": "CART#k1" } },
                    "NewImage": {
                        "pk": { "S": "CUSTOMER#c1" }, "sk": { "S": "CART#k1" }, "_type": { "S": "cart" },
                        "customer": { "S": "c1" }, "cart": { "S": "k1" }, "items": { "N": "2" }
                    },
                    "SequenceNumber": "1", "SizeBytes": 10, "StreamViewType": "NEW_IMAGE"
                }
            },
            {
                "eventID": "b", "eventName": "MODIFY", "awsRegion": "eu-west-1",
                "dynamodb": {
                    "Keys": { "pk": { "S": "CUSTOMER#c1" }, "sk": { "S": "PROFILE" } },
                    "SequenceNumber": "2", "SizeBytes": 10, "StreamViewType": "KEYS_ONLY"
                }
            }
        ]
    }))
    .unwrap();
    let records = records(&event).unwrap();
    let first: Change<CustomerItems> = records[0].decode_collection().unwrap();
    assert_eq!(
        first.new_item(),
        Some(&CustomerItems::Cart(Cart {
            customer: "c1".into(),
            cart: "k1".into(),
            items: 2
        }))
    );
    assert_eq!(records[0].entity_type("_type"), Some("cart"));
    let second: Change<CustomerItems> = records[1].decode_collection().unwrap();
    assert_eq!(second.kind(), ChangeKind::Modify);
    assert_eq!((second.old_item(), second.new_item()), (None, None));
    assert_eq!(second.keys().get("sk"), Some(&AttributeValue::S("PROFILE".into())));
    assert_eq!(records[1].view, Some(dynorm::StreamView::KeysOnly));
}
