//! Optimistic locking with `#[dynorm(version)]`, and automatic timestamps.

use std::sync::Arc;

use dynorm::{DynaModel, Error, Tracked};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "lock_counters", hash_key = "id")]
struct Counter {
    id: String,
    value: u64,
    #[serde(default)]
    note: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

fn counter(id: &str) -> Counter {
    Counter {
        id: id.into(),
        value: 0,
        note: String::new(),
        version: 0,
    }
}

async fn stored(db: &dynorm::Db, id: &str) -> Counter {
    Counter::get(db, id).consistent_read(true).await.unwrap().unwrap()
}

#[tokio::test]
async fn versions_guard_every_write() {
    let db = db("versions_guard");
    Counter::ensure_table(&db).await.unwrap();
    let f = Counter::fields();

    let mut mine = counter("c1");
    mine.save(&db).await.unwrap();
    assert_eq!(
        mine.version, 1,
        "the first save stores version 1 and refreshes the instance"
    );
    assert_eq!(stored(&db, "c1").await.version, 1);

    // A second new instance with the same key: the first write requires no item.
    let mut other = counter("c1");
    let err = other.save(&db).await.unwrap_err();
    match &err {
        Error::VersionConflict {
            expected: 0,
            item: Some(_),
            ..
        } => {}
        e => panic!("expected VersionConflict, got {e:?}"),
    }
    let current: Counter = err.current_item().unwrap().unwrap();
    assert_eq!(current.version, 1);

    // Two readers; the first to write wins.
    let mut a = stored(&db, "c1").await;
    let mut b = stored(&db, "c1").await;
    a.value = 10;
    a.save(&db).await.unwrap();
    assert_eq!(a.version, 2);
    b.value = 20;
    let err = b.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 1, .. }), "{err:?}");
    assert_eq!(stored(&db, "c1").await.value, 10);

    // put is checked the same way, without touching the instance.
    let err = b.put(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { .. }), "{err:?}");
    // The explicit way around the check.
    b.put(&db).skip_version_check().await.unwrap();
    assert_eq!(stored(&db, "c1").await.value, 20);
    assert_eq!(
        stored(&db, "c1").await.version,
        2,
        "b held version 1; the write stores 2"
    );

    // Instance updates are checked and increment.
    let mut c = stored(&db, "c1").await;
    c.update(&db).increment(f.value(), 1).await.unwrap();
    assert_eq!((c.value, c.version), (21, 3));
    let mut stale = a.clone();
    let err = stale.update(&db).increment(f.value(), 1).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { .. }), "{err:?}");
    // Updates by key increment the version, and check it when asked.
    let new = Counter::update_by_key(&db, "c1")
        .set(f.note(), "n")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.version, 4);
    let err = Counter::update_by_key(&db, "c1")
        .set(f.note(), "m")
        .expect_version(3)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 3, .. }), "{err:?}");

    // A stale delete fails and deletes nothing; a current one succeeds.
    let err = c.delete(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 3, .. }), "{err:?}");
    assert!(Counter::get(&db, "c1").await.unwrap().is_some());
    let current = stored(&db, "c1").await;
    current.delete(&db).await.unwrap();
    assert!(Counter::get(&db, "c1").await.unwrap().is_none());
}

#[tokio::test]
async fn tracked_saves_are_versioned() {
    let db = db("versions_tracked");
    Counter::ensure_table(&db).await.unwrap();
    counter("c2").save(&db).await.unwrap();

    let mut a = Counter::get(&db, "c2").tracked().await.unwrap().unwrap();
    let mut b = Counter::get(&db, "c2").tracked().await.unwrap().unwrap();
    a.value = 1;
    assert!(a.save(&db).await.unwrap());
    assert_eq!(a.version, 2);
    b.note = "late".into();
    let err = b.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 1, .. }), "{err:?}");
    // Nothing changed: no request, no new version.
    assert!(!a.save(&db).await.unwrap());
    assert_eq!(stored(&db, "c2").await.version, 2);
}

/// 50 tasks each do 10 read-modify-write increments of one counter, retrying on
/// conflicts. No update may be lost: the counter ends at 500, as does its version
/// (the counter does not exist at first, so its first write is one of the 500).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_increments_lose_nothing() {
    let db = Arc::new(db("versions_concurrent"));
    Counter::ensure_table(&db).await.unwrap();
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..10 {
                loop {
                    let mut current = Counter::get(&db, "hot")
                        .consistent_read(true)
                        .await
                        .unwrap()
                        .unwrap_or_else(|| counter("hot"));
                    current.value += 1;
                    match current.save(&db).await {
                        Ok(()) => break,
                        Err(Error::VersionConflict { .. }) => conflicts += 1,
                        Err(e) => panic!("unexpected error: {e:?}"),
                    }
                }
            }
            conflicts
        }));
    }
    let mut conflicts = 0;
    for task in tasks {
        conflicts += task.await.unwrap();
    }
    let end = stored(&db, "hot").await;
    assert_eq!(end.value, 500, "after {conflicts} conflicts");
    assert_eq!(end.version, 500);
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "lock_stamped", hash_key = "id")]
struct Stamped {
    id: String,
    body: String,
    #[dynorm(created_at)]
    #[serde(default)]
    created: String,
    #[dynorm(updated_at)]
    #[serde(default)]
    updated: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extra: Option<String>,
}

fn stamped(body: &str) -> Stamped {
    Stamped {
        id: "s1".into(),
        body: body.into(),
        created: String::new(),
        updated: 0,
        extra: None,
    }
}

#[tokio::test]
async fn created_at_is_set_once_and_updated_at_always() {
    let db = db("timestamps");
    Stamped::ensure_table(&db).await.unwrap();
    let f = Stamped::fields();

    let mut first = stamped("one");
    first.extra = Some("x".into());
    first.save(&db).await.unwrap();
    assert_eq!(
        first.created.len(),
        "2026-11-21T10:15:30.123Z".len(),
        "{}",
        first.created
    );
    assert!(first.updated > 1_700_000_000);
    let created = first.created.clone();
    let load = || async { Stamped::get(&db, "s1").consistent_read(true).await.unwrap().unwrap() };
    assert_eq!(load().await, first);

    // An upsert of a fresh instance keeps the stored creation time, and removes the
    // attributes the new instance leaves out.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    stamped("two").put(&db).await.unwrap();
    let now = load().await;
    assert_eq!(
        (now.body.as_str(), now.created.as_str(), now.extra.as_deref()),
        ("two", created.as_str(), None)
    );

    // Neither a partial save nor an update overwrites it.
    let mut tracked = Stamped::get(&db, "s1").tracked().await.unwrap().unwrap();
    tracked.body = "three".into();
    tracked.created = "1999-01-01T00:00:00.000Z".into();
    tracked.save(&db).await.unwrap();
    assert_eq!(tracked.created, created, "refreshed from the stored item");
    Stamped::update_by_key(&db, "s1").set(f.body(), "four").await.unwrap();
    let now = load().await;
    assert_eq!((now.body.as_str(), now.created.as_str()), ("four", created.as_str()));

    // created_at is also set by an update that creates the item.
    let made = Stamped::update_by_key(&db, "s2")
        .set(f.body(), "new")
        .await
        .unwrap()
        .unwrap();
    assert!(!made.created.is_empty() && made.updated > 0);
}

#[tokio::test]
async fn a_tracked_new_instance_is_created_then_diffed() {
    let db = db("tracked_new");
    Counter::ensure_table(&db).await.unwrap();
    let mut tracked = Tracked::new(counter("c3"));
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(tracked.version, 1);
    tracked.value = 7;
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(&stored(&db, "c3").await, &*tracked);
    assert_eq!(tracked.version, 2);
}

#[tokio::test]
async fn items_written_without_a_version_take_a_first_versioned_write() {
    let db = db("versions_adopt");
    Counter::ensure_table(&db).await.unwrap();
    // Written by another program: no version attribute.
    let mut item = dynorm::to_item(&counter("c4")).unwrap();
    item.remove("version");
    db.client()
        .put_item()
        .table_name(db.table_name::<Counter>())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let mut a = stored(&db, "c4").await;
    let mut b = stored(&db, "c4").await;
    assert_eq!(a.version, 0);
    a.value = 1;
    a.save(&db).await.unwrap();
    assert_eq!(a.version, 1);
    b.value = 2;
    let err = b.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 0, .. }), "{err:?}");

    // An instance update refreshes the instance (it has no `return_values`: the new item
    // is what it reads back).
    let f = Counter::fields();
    a.update(&db).increment(f.value(), 1).await.unwrap();
    assert_eq!((a.value, a.version), (2, 2));
    a.value = 5;
    a.save(&db).await.unwrap();
    assert_eq!(stored(&db, "c4").await.value, 5);
}
