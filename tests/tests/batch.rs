//! Batch writes and reads against DynamoDB Local: 10,000 items round-trip exactly,
//! mixed puts and deletes across two tables land exactly, requests are split at DynamoDB's
//! limits, and bad batches are refused before anything is sent.

use std::collections::BTreeMap;

use dynorm::batch::BatchOp;
use dynorm::{Db, DynaModel, Error};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "batch_readings", hash_key = "sensor", range_key = "at")]
struct Reading {
    sensor: String,
    at: u64,
    #[validate(range(max = 1000.0))]
    value: f64,
    #[serde(default)]
    note: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "batch_sensors", hash_key = "id")]
struct Sensor {
    id: String,
    site: String,
}

fn readings(n: usize) -> Vec<Reading> {
    (0..n)
        .map(|i| Reading {
            sensor: format!("s{}", i % 37),
            at: i as u64,
            value: (i % 1000) as f64 / 3.0,
            note: if i % 5 == 0 { format!("note {i}") } else { String::new() },
        })
        .collect()
}

async fn all<M: DynaModel + Ord>(db: &Db) -> Vec<M> {
    let mut items = M::scan(db).recursive().collect_all().await.unwrap();
    items.sort();
    items
}

impl Eq for Reading {}
impl PartialOrd for Reading {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Reading {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.sensor, self.at).cmp(&(&other.sensor, other.at))
    }
}
impl Eq for Sensor {}
impl PartialOrd for Sensor {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Sensor {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.id.cmp(&other.id)
    }
}

#[tokio::test]
async fn ten_thousand_items_round_trip() {
    let db = db("batch-10k");
    Reading::create_table(&db).await.unwrap();
    let items = readings(10_000);

    let out = db.batch_write().put_all(&items).concurrency(8).send().await.unwrap();
    assert_eq!(out.applied, 10_000);
    assert!(out.requests >= 400, "{} requests for 10,000 writes", out.requests);

    let mut expected = items.clone();
    expected.sort();
    assert_eq!(all::<Reading>(&db).await, expected);

    // A batch get of the same keys, in the order given, plus lookup by key.
    let keys: Vec<(String, u64)> = items.iter().rev().map(|r| (r.sensor.clone(), r.at)).collect();
    let mut found = db
        .batch_get()
        .get_all::<Reading, _>(keys.clone())
        .concurrency(8)
        .send()
        .await
        .unwrap();
    assert!(found.requests() >= 100);
    let one: Option<Reading> = found.take(("s3", 3u64)).unwrap();
    assert_eq!(one.as_ref(), Some(&items[3]));
    let rest: Vec<Reading> = found.models().unwrap();
    let mut in_order: Vec<Reading> = items.iter().rev().cloned().collect();
    in_order.retain(|r| !(r.sensor == "s3" && r.at == 3));
    assert_eq!(rest, in_order);
    assert!(found.is_empty());

    // The manager's get_many: key order, a missing key skipped, a duplicate read once.
    let mut some: Vec<(String, u64)> = keys[..250].to_vec();
    some.push(("s0".into(), 99_999));
    some.push(keys[0].clone());
    let got = Reading::objects(&db).get_many(some).await.unwrap();
    assert_eq!(got, items.iter().rev().take(250).cloned().collect::<Vec<_>>());
}

#[tokio::test]
async fn mixed_puts_and_deletes_across_two_tables() {
    let db = db("batch-mixed");
    Reading::create_table(&db).await.unwrap();
    Sensor::create_table(&db).await.unwrap();
    let items = readings(300);
    let sensors: Vec<Sensor> = (0..60)
        .map(|i| Sensor {
            id: format!("s{i}"),
            site: format!("site {}", i % 4),
        })
        .collect();
    db.batch_write().put_all(&items).put_all(&sensors).send().await.unwrap();

    // Delete every third reading and every other sensor, put new ones and replace some.
    let mut batch = db.batch_write();
    let mut expected_readings: BTreeMap<(String, u64), Reading> =
        items.iter().map(|r| ((r.sensor.clone(), r.at), r.clone())).collect();
    for r in items.iter().step_by(3) {
        batch = batch.delete::<Reading>((r.sensor.as_str(), r.at));
        expected_readings.remove(&(r.sensor.clone(), r.at));
    }
    for i in 300..340u64 {
        let r = Reading {
            sensor: "new".into(),
            at: i,
            value: 1.0,
            note: String::new(),
        };
        expected_readings.insert((r.sensor.clone(), r.at), r.clone());
        batch = batch.put(&r);
    }
    let mut expected_sensors: BTreeMap<String, Sensor> = sensors.iter().map(|s| (s.id.clone(), s.clone())).collect();
    for s in sensors.iter().step_by(2) {
        batch = batch.delete::<Sensor>(s.id.as_str());
        expected_sensors.remove(&s.id);
    }
    for s in sensors.iter().skip(1).step_by(4) {
        let moved = Sensor {
            site: "moved".into(),
            ..s.clone()
        };
        expected_sensors.insert(s.id.clone(), moved.clone());
        batch = batch.put(&moved);
    }
    let total = batch.len();
    let requests = batch.to_requests().unwrap();
    assert_eq!(requests.len(), total.div_ceil(25));
    assert!(requests.iter().all(|r| r.values().map(Vec::len).sum::<usize>() <= 25));
    assert!(requests.iter().any(|r| r.len() == 2), "some requests span both tables");
    let out = batch.send().await.unwrap();
    assert_eq!(out.applied, total);

    assert_eq!(
        all::<Reading>(&db).await,
        expected_readings.into_values().collect::<Vec<_>>()
    );
    assert_eq!(
        all::<Sensor>(&db).await,
        expected_sensors.into_values().collect::<Vec<_>>()
    );

    // A batch get across both tables.
    let mut found = db
        .batch_get()
        .get::<Sensor>("s1")
        .get::<Sensor>("s0")
        .get::<Reading>(("new", 301u64))
        .await
        .unwrap();
    assert_eq!(found.take::<Sensor>("s0").unwrap(), None, "deleted");
    assert_eq!(found.take::<Sensor>("s1").unwrap().unwrap().site, "moved");
    assert_eq!(found.models::<Reading>().unwrap().len(), 1);
}

#[tokio::test]
async fn large_items_are_split_and_land() {
    let db = db("batch-large");
    Reading::create_table(&db).await.unwrap();
    let big: Vec<Reading> = (0..60)
        .map(|i| Reading {
            sensor: "big".into(),
            at: i,
            value: 0.0,
            note: "x".repeat(350_000),
        })
        .collect();
    let batch = db.batch_write().put_all(&big);
    let requests = batch.to_requests().unwrap();
    let sizes: Vec<usize> = requests.iter().map(|r| r.values().map(Vec::len).sum()).collect();
    assert_eq!(sizes, [25, 25, 10]);
    batch.send().await.unwrap();
    assert_eq!(all::<Reading>(&db).await, big);

    // 250 keys make three BatchGetItem requests; 16 MB responses come back in parts
    // (unprocessed keys), which are followed.
    let keys: Vec<(&str, u64)> = (0..60).map(|i| ("big", i)).collect();
    let got = Reading::objects(&db).get_many(keys).await.unwrap();
    assert_eq!(got, big);
    let requests = db
        .batch_get()
        .get_all::<Reading, _>((0..250u64).map(|i| ("k", i)))
        .to_requests()
        .unwrap();
    assert_eq!(
        requests
            .iter()
            .map(|r| r.values().map(|k| k.keys.len()).sum::<usize>())
            .collect::<Vec<_>>(),
        [100, 100, 50]
    );
}

#[tokio::test]
async fn bad_batches_are_refused_before_sending() {
    let (db, log) = logged_db("batch-refused");
    let items = readings(10);

    // The same key twice, even as a put and a delete.
    let err = db
        .batch_write()
        .put_all(&items)
        .delete::<Reading>(("s3", 3u64))
        .send()
        .await
        .unwrap_err();
    match &err {
        Error::DuplicateKey { table, key } => {
            assert!(table.ends_with("batch_readings"));
            assert_eq!(
                key.get("at"),
                Some(&dynorm::aws_sdk_dynamodb::types::AttributeValue::N("3".into()))
            );
        }
        other => panic!("expected DuplicateKey, got {other:?}"),
    }

    // An invalid item anywhere in the batch.
    let mut bad = items.clone();
    bad[7].value = 5_000.0;
    let err = db.batch_write().put_all(&bad).send().await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");

    // An oversized item, an empty key.
    let mut huge = items[0].clone();
    huge.note = "x".repeat(500_000);
    let err = db.batch_write().put(&huge).send().await.unwrap_err();
    assert!(matches!(err, Error::ItemTooLarge { .. }), "{err:?}");
    let err = db.batch_write().delete::<Sensor>("").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err:?}");
    let err = db.batch_get().get::<Sensor>("").send().await.unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err:?}");

    assert!(log.is_empty(), "nothing was sent: {:?}", log.operations());

    // An empty batch sends nothing and succeeds.
    let out = db.batch_write().send().await.unwrap();
    assert_eq!((out.applied, out.requests), (0, 0));
    assert!(log.is_empty());
}

#[tokio::test]
async fn a_missing_table_stops_the_batch_and_lists_every_write() {
    let db = db("batch-missing");
    let items = readings(60);
    let err = db
        .batch_write()
        .put_all(&items)
        .concurrency(1)
        .send()
        .await
        .unwrap_err();
    match err {
        Error::BatchIncomplete { left, cause } => {
            assert_eq!(left.len(), 60, "nothing was applied");
            assert!(left.iter().all(|op| matches!(op, BatchOp::Put { .. })));
            assert!(
                matches!(
                    cause.as_deref(),
                    Some(Error::TableNotFound { .. }) | Some(Error::Service { .. })
                ),
                "{cause:?}"
            );
        }
        other => panic!("expected BatchIncomplete, got {other:?}"),
    }
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "batch_docs", hash_key = "id")]
struct Doc {
    id: String,
    text: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

#[tokio::test]
async fn a_versioned_batch_put_moves_the_version_on() {
    let db = db("batch-versions");
    Doc::create_table(&db).await.unwrap();
    let mut doc = Doc {
        id: "d".into(),
        text: "one".into(),
        version: 0,
    };
    doc.save(&db).await.unwrap();
    let stale = doc.clone();
    doc.text = "two".into();
    db.batch_write().put(&doc).await.unwrap();
    let stored = Doc::get(&db, "d").consistent_read(true).await.unwrap().unwrap();
    assert_eq!((stored.text.as_str(), stored.version), ("two", 2));
    // An instance read before the batch write now conflicts.
    let mut stale = stale;
    stale.text = "stale".into();
    assert!(matches!(stale.save(&db).await, Err(Error::VersionConflict { .. })));
}
