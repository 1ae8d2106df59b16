//! Model hooks (`#[table(hooks)]` + `impl Hooks`): which operations run which hook, in
//! what order, and what a refusing hook stops.

use std::sync::Mutex;

use dynorm::aws_sdk_dynamodb::types::AttributeValue;
use dynorm::transact::ConditionCheck;
use dynorm::{BoxError, DynaModel, Error, Hooks, Index, Item, Tracked};
use dynorm_tests::{db, logged_db};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "hook_accounts", hash_key = "id", hooks)]
#[global_index(name = "by-owner", hash_key = "owner")]
struct Account {
    id: String,
    owner: String,
    #[serde(default)]
    balance: i64,
    /// Set by `after_load`: not stored.
    #[serde(skip)]
    loaded: bool,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

/// What the hooks saw, for every test of this binary; each test uses ids of its own
/// prefix and reads back only those.
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn log(event: String) {
    EVENTS.lock().unwrap().push(event);
}

/// The events about ids starting with `prefix`, and forgets them.
fn events(prefix: &str) -> Vec<String> {
    let mut all = EVENTS.lock().unwrap();
    let (mine, rest): (Vec<String>, Vec<String>) = all
        .drain(..)
        .partition(|e| e.split(' ').nth(1).is_some_and(|id| id.starts_with(prefix)));
    *all = rest;
    mine
}

impl Hooks for Account {
    fn before_save(&self) -> Result<(), BoxError> {
        log(format!("before_save {} v{}", self.id, self.version));
        if self.balance < 0 {
            return Err(format!("{} would be overdrawn", self.id).into());
        }
        Ok(())
    }

    fn after_save(&self) {
        log(format!("after_save {} v{}", self.id, self.version));
    }

    fn before_update(key: &String, instance: Option<&Self>) -> Result<(), BoxError> {
        log(format!("before_update {key} instance={}", instance.is_some()));
        if key.contains("frozen") {
            return Err("frozen accounts do not change".into());
        }
        Ok(())
    }

    fn after_update(key: &String, item: Option<&Self>) {
        log(format!("after_update {key} balance={:?}", item.map(|a| a.balance)));
    }

    fn before_delete(key: &String, instance: Option<&Self>) -> Result<(), BoxError> {
        log(format!("before_delete {key} instance={}", instance.is_some()));
        if key.contains("keep") {
            return Err("kept accounts are never deleted".into());
        }
        Ok(())
    }

    fn after_delete(key: &String, instance: Option<&Self>) {
        log(format!("after_delete {key} instance={}", instance.is_some()));
    }

    fn before_load(item: &mut Item) -> Result<(), BoxError> {
        // Items of an older shape kept the owner in `user`.
        if let Some(user) = item.remove("user") {
            item.entry("owner".into()).or_insert(user);
        }
        let id = item.get("id").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        log(format!("before_load {id}"));
        Ok(())
    }

    fn after_load(&mut self) -> Result<(), BoxError> {
        log(format!("after_load {}", self.id));
        if self.owner == "corrupt" {
            return Err(format!("{} has a corrupt owner", self.id).into());
        }
        self.loaded = true;
        Ok(())
    }
}

fn account(id: &str, balance: i64) -> Account {
    Account {
        id: id.into(),
        owner: "ada".into(),
        balance,
        ..Account::default()
    }
}

fn refused(err: Error, expected: &str) {
    match err {
        Error::Hook { hook, model, .. } => {
            assert_eq!(hook, expected);
            assert!(model.ends_with("Account"), "{model}");
        }
        other => panic!("expected a refusal by {expected}, got {other:?}"),
    }
}

#[tokio::test]
async fn single_item_operations_run_their_hooks_in_order() {
    let db = db("hooks_single");
    Account::ensure_table(&db).await.unwrap();
    let f = Account::fields();

    let mut a = account("one-a", 10);
    a.save(&db).await.unwrap();
    assert!(a.loaded, "the instance a save refreshes is loaded through the hooks");
    assert_eq!(
        events("one-"),
        [
            "before_save one-a v0",
            "before_load one-a",
            "after_load one-a",
            "after_save one-a v1",
        ]
    );

    account("one-b", 5).put(&db).await.unwrap();
    assert_eq!(events("one-"), ["before_save one-b v0", "after_save one-b v0"]);

    let got = Account::get(&db, "one-a").consistent_read(true).await.unwrap().unwrap();
    assert!(got.loaded);
    assert_eq!(events("one-"), ["before_load one-a", "after_load one-a"]);
    assert_eq!(Account::get(&db, "one-missing").await.unwrap(), None);
    assert!(events("one-").is_empty(), "nothing loaded, no load hook");

    a.update(&db).increment(f.balance(), 5).await.unwrap();
    assert_eq!(a.balance, 15);
    let update_events = events("one-");
    assert_eq!(update_events.first().unwrap(), "before_update one-a instance=true");
    assert_eq!(update_events.last().unwrap(), "after_update one-a balance=Some(15)");

    Account::update_by_key(&db, "one-b")
        .decrement(f.balance(), 1)
        .await
        .unwrap();
    let update_events = events("one-");
    assert_eq!(update_events.first().unwrap(), "before_update one-b instance=false");
    assert_eq!(update_events.last().unwrap(), "after_update one-b balance=Some(4)");

    a.delete(&db).await.unwrap();
    Account::delete_by_key(&db, "one-b").await.unwrap();
    assert_eq!(
        events("one-"),
        [
            "before_delete one-a instance=true",
            "after_delete one-a instance=true",
            "before_delete one-b instance=false",
            "after_delete one-b instance=false",
        ]
    );
}

#[tokio::test]
async fn a_refusing_hook_stops_the_operation_before_any_request() {
    let (db, requests) = logged_db("hooks_refuse");
    Account::ensure_table(&db).await.unwrap();
    let f = Account::fields();
    account("no-frozen", 10).put(&db).await.unwrap();
    account("no-keep", 10).put(&db).await.unwrap();
    events("no-");
    requests.clear();

    refused(account("no-over", -1).put(&db).await.unwrap_err(), "before_save");
    refused(account("no-over", -1).save(&db).await.unwrap_err(), "before_save");
    refused(
        Account::update_by_key(&db, "no-frozen")
            .set(f.balance(), 0)
            .await
            .unwrap_err(),
        "before_update",
    );
    refused(
        Account::delete_by_key(&db, "no-keep").await.unwrap_err(),
        "before_delete",
    );
    refused(
        db.batch_write()
            .put(&account("no-b1", 1))
            .put(&account("no-b2", -2))
            .send()
            .await
            .unwrap_err(),
        "before_save",
    );
    refused(
        db.transact_write()
            .write(account("no-t1", 1).put(&db))
            .write(Account::delete_by_key(&db, "no-keep"))
            .send()
            .await
            .unwrap_err(),
        "before_delete",
    );
    assert!(
        requests.is_empty(),
        "refused before sending: {:?}",
        requests.operations()
    );
    assert!(events("no-").iter().all(|e| !e.starts_with("after_")));

    let frozen = Account::get(&db, "no-frozen")
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(frozen.balance, 10);
    assert!(Account::get(&db, "no-keep").await.unwrap().is_some());
    assert!(Account::get(&db, "no-over").await.unwrap().is_none());
    assert!(Account::get(&db, "no-b1").await.unwrap().is_none());
}

#[tokio::test]
async fn every_read_loads_through_the_hooks() {
    let db = db("hooks_load");
    Account::ensure_table(&db).await.unwrap();
    let table = db.table_name::<Account>();
    // Two items of the old shape (`user`, not `owner`), and one the hook rejects.
    for (id, user) in [("ld-1", "grace"), ("ld-2", "grace"), ("ld-3", "corrupt")] {
        db.client()
            .put_item()
            .table_name(&table)
            .item("id", AttributeValue::S(id.into()))
            .item("user", AttributeValue::S(user.into()))
            .item("owner", AttributeValue::S(user.into()))
            .send()
            .await
            .unwrap();
    }
    let s = |v: &str| AttributeValue::S(v.into());
    db.client()
        .update_item()
        .table_name(&table)
        .key("id", s("ld-1"))
        .update_expression("REMOVE #o")
        .expression_attribute_names("#o", "owner")
        .send()
        .await
        .unwrap();

    let one = Account::get(&db, "ld-1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(
        (one.owner.as_str(), one.loaded),
        ("grace", true),
        "migrated by before_load"
    );

    // A scan: the rejected item fails alone.
    let results: Vec<_> = Account::scan(&db).consistent_read(true).collect().await;
    let (ok, failed): (Vec<_>, Vec<_>) = results.into_iter().partition(Result::is_ok);
    assert_eq!(ok.len(), 2);
    assert!(ok.iter().all(|a| a.as_ref().unwrap().loaded));
    assert_eq!(failed.len(), 1);
    refused(failed.into_iter().next().unwrap().unwrap_err(), "after_load");

    let by_owner = Account::by_owner().query(&db, "grace").collect_all().await.unwrap();
    assert_eq!(by_owner.len(), 1, "ld-1 has no owner attribute stored; ld-2 has");
    assert!(by_owner[0].loaded);

    let mut got = db
        .batch_get()
        .get::<Account>("ld-1")
        .get::<Account>("ld-2")
        .send()
        .await
        .unwrap();
    let models = got.models::<Account>().unwrap();
    assert_eq!(models.len(), 2);
    assert!(models.iter().all(|a| a.loaded && a.owner == "grace"));

    let mut reads = db.transact_get();
    let slot = reads.get::<Account>("ld-1");
    let mut out = reads.send().await.unwrap();
    let read = out.take(slot).unwrap().unwrap();
    assert!(read.loaded && read.owner == "grace");

    // A tracked load keeps what before_load upgraded: the next save writes it.
    let mut tracked: Tracked<Account> = Account::get(&db, "ld-1")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    assert!(tracked.loaded);
    tracked.balance = 3;
    assert!(tracked.save(&db).await.unwrap());
    let raw = db
        .client()
        .get_item()
        .table_name(&table)
        .key("id", s("ld-1"))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw.get("owner"), Some(&s("grace")));
    assert_eq!(raw.get("balance"), Some(&AttributeValue::N("3".into())));
}

#[tokio::test]
async fn a_tracked_save_runs_the_save_hooks() {
    let db = db("hooks_tracked");
    Account::ensure_table(&db).await.unwrap();
    let mut tracked = Tracked::new(account("tr-1", 1));
    tracked.save(&db).await.unwrap();
    let first = events("tr-");
    assert_eq!(first.first().unwrap(), "before_save tr-1 v0");
    assert_eq!(first.last().unwrap(), "after_save tr-1 v1");

    tracked.balance = 2;
    tracked.save(&db).await.unwrap();
    let partial = events("tr-");
    assert_eq!(partial.first().unwrap(), "before_save tr-1 v1");
    assert_eq!(partial.last().unwrap(), "after_save tr-1 v2");
    assert!(partial.iter().all(|e| !e.contains("update")), "{partial:?}");

    tracked.balance = -5;
    refused(tracked.save(&db).await.unwrap_err(), "before_save");
}

#[tokio::test]
async fn batches_and_transactions_run_hooks_for_what_was_applied() {
    let db = db("hooks_batch");
    Account::ensure_table(&db).await.unwrap();
    let f = Account::fields();

    let accounts: Vec<Account> = (1..=3).map(|i| account(&format!("bt-{i}"), i)).collect();
    db.batch_write().put_all(&accounts).send().await.unwrap();
    let mut batch_events = events("bt-");
    batch_events.sort();
    assert_eq!(
        batch_events,
        [
            "after_save bt-1 v1",
            "after_save bt-2 v1",
            "after_save bt-3 v1",
            "before_save bt-1 v0",
            "before_save bt-2 v0",
            "before_save bt-3 v0",
        ],
        "after_save gets the item as written, with its next version"
    );

    db.batch_write().delete::<Account>("bt-3").send().await.unwrap();
    assert_eq!(
        events("bt-"),
        ["before_delete bt-3 instance=false", "after_delete bt-3 instance=false"]
    );

    db.transact_write()
        .write(Account::update_by_key(&db, "bt-1").increment(f.balance(), 1))
        .write(account("bt-4", 4).put(&db))
        .write(Account::delete_by_key(&db, "bt-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        events("bt-"),
        [
            "before_update bt-1 instance=false",
            "before_save bt-4 v0",
            "before_delete bt-2 instance=false",
            "after_update bt-1 balance=None",
            "after_save bt-4 v0",
            "after_delete bt-2 instance=false",
        ]
    );

    // A cancelled transaction runs the before hooks only.
    let err = db
        .transact_write()
        .write(account("bt-5", 5).put(&db))
        .write(ConditionCheck::<Account>::new(&db, "bt-missing", f.id().exists()))
        .send()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::TransactionCanceled { .. }), "{err:?}");
    assert_eq!(events("bt-"), ["before_save bt-5 v0"]);

    // A batch stopped by a missing table runs no after hook.
    let missing = db.with_table_prefix("hooks-missing-table-");
    let err = missing.batch_write().put(&account("bt-6", 6)).send().await.unwrap_err();
    assert!(matches!(err, Error::BatchIncomplete { .. }), "{err:?}");
    assert_eq!(events("bt-"), ["before_save bt-6 v0"]);
}
