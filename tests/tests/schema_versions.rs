//! Schema versions against DynamoDB Local: items written at versions 1, 2 and 3 read as
//! the current model through every read path (get, query, scan, batch and transactional
//! gets, a relationship, a collection, `from_item`, `Tracked`), the version every write
//! stores, the optional write-back conditioned on the item being unchanged, and the
//! typed errors of an update on an outdated item, an unreadable version and a failed step.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::rel::OneToMany;
use dynorm::{BoxError, Db, DynaModel, DynaTable, Error, Item, Tracked};
use dynorm_tests::{db, logged_db};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use validator::Validate;

/// Version 1 stored `name` as one string; version 2 splits it.
fn split_name(item: &mut Item) -> Result<(), BoxError> {
    if let Some(AttributeValue::S(name)) = item.remove("name") {
        let (first, last) = name.split_once(' ').ok_or("a name without a space")?;
        item.insert("first_name".into(), AttributeValue::S(first.into()));
        item.insert("last_name".into(), AttributeValue::S(last.into()));
    }
    Ok(())
}

/// Version 2 stored `credits` as a string; version 3 stores a number.
fn credits_as_number(item: &mut Item) -> Result<(), BoxError> {
    if let Some(AttributeValue::S(credits)) = item.remove("credits") {
        let n: u32 = credits.trim().parse()?;
        item.insert("credits".into(), AttributeValue::N(n.to_string()));
    }
    Ok(())
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "accounts", hash_key = "owner", range_key = "id")]
#[schema(version = 3, migrations = [split_name, credits_as_number])]
struct Account {
    owner: String,
    id: String,
    first_name: String,
    last_name: String,
    credits: u32,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "owners", hash_key = "name")]
struct Owner {
    name: String,
    #[serde(skip)]
    #[dynorm(one_to_many(hash = "{name}"))]
    accounts: OneToMany<Account>,
}

/// The same table, read by a model that writes back what it migrates.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "accounts", hash_key = "owner", range_key = "id")]
#[schema(version = 3, migrations = [split_name, credits_as_number], write_back)]
struct WrittenBack {
    owner: String,
    id: String,
    first_name: String,
    last_name: String,
    credits: u32,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u32) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An item as each version stored it: version 1 without the attribute (its default).
fn stored(version: u32, owner: &str, id: &str) -> Item {
    let mut item: Item = HashMap::from([("owner".into(), s(owner)), ("id".into(), s(id))]);
    match version {
        1 => {
            item.insert("name".into(), s("Ada Lovelace"));
            item.insert("credits".into(), s("12"));
        }
        2 => {
            item.insert("_v".into(), n(2));
            item.insert("first_name".into(), s("Ada"));
            item.insert("last_name".into(), s("Lovelace"));
            item.insert("credits".into(), s(" 12"));
        }
        _ => {
            item.insert("_v".into(), n(3));
            item.insert("first_name".into(), s("Ada"));
            item.insert("last_name".into(), s("Lovelace"));
            item.insert("credits".into(), n(12));
        }
    }
    item
}

fn current(owner: &str, id: &str) -> Account {
    Account {
        owner: owner.into(),
        id: id.into(),
        first_name: "Ada".into(),
        last_name: "Lovelace".into(),
        credits: 12,
    }
}

async fn put_raw(db: &Db, table: &str, item: Item) {
    db.client()
        .put_item()
        .table_name(table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

async fn raw(db: &Db, table: &str, owner: &str, id: &str) -> Item {
    db.client()
        .get_item()
        .table_name(table)
        .key("owner", s(owner))
        .key("id", s(id))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap()
}

async fn three_versions(db: &Db) -> String {
    Account::create_table(db).await.unwrap();
    let table = db.table_name::<Account>();
    for v in 1..=3 {
        put_raw(db, &table, stored(v, "ada", &format!("a{v}"))).await;
    }
    table
}

#[tokio::test]
async fn items_of_every_version_read_as_the_current_model_on_every_read_path() {
    let db = db("sv_paths");
    let table = three_versions(&db).await;
    let expected: Vec<Account> = (1..=3).map(|v| current("ada", &format!("a{v}"))).collect();

    // get
    for (v, want) in (1..=3).zip(&expected) {
        let got = Account::get(&db, ("ada", format!("a{v}"))).await.unwrap();
        assert_eq!(got.as_ref(), Some(want), "version {v}");
    }
    // query and scan
    let queried: Vec<Account> = Account::query(&db, "ada").collect_all().await.unwrap();
    assert_eq!(queried, expected);
    let mut scanned: Vec<Account> = Account::scan(&db).recursive().collect_all().await.unwrap();
    scanned.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(scanned, expected);
    // a projection reads the version attribute too, and is migrated (the attributes a
    // step reads must be in it: here `credits`, a string before version 3)
    #[derive(Deserialize, Debug, PartialEq)]
    struct Credits {
        id: String,
        credits: u32,
    }
    let credits: Vec<Credits> = Account::query(&db, "ada")
        .specific_attributes(Account::fields().credits())
        .read_as::<Credits>()
        .collect_all()
        .await
        .unwrap();
    assert!(credits.iter().all(|p| p.credits == 12), "{credits:?}");
    // batch get
    let mut found = db
        .batch_get()
        .get_all::<Account, _>((1..=3).map(|v| ("ada".to_owned(), format!("a{v}"))))
        .send()
        .await
        .unwrap();
    assert_eq!(found.models::<Account>().unwrap(), expected);
    // transactional get
    let mut tx = db.transact_get();
    let first = tx.get::<Account>(("ada", "a1"));
    let second = tx.get::<Account>(("ada", "a2"));
    let mut out = tx.send().await.unwrap();
    assert_eq!(out.take(first).unwrap().as_ref(), Some(&expected[0]));
    assert_eq!(out.take(second).unwrap().as_ref(), Some(&expected[1]));
    // a relationship
    Owner::create_table(&db).await.unwrap();
    let owner = Owner {
        name: "ada".into(),
        accounts: OneToMany::default(),
    };
    let related: Vec<Account> = owner.accounts(&db).collect_all().await.unwrap();
    assert_eq!(related, expected);
    // from_item
    assert_eq!(Account::from_item(stored(1, "ada", "a1")).unwrap(), expected[0]);

    // Reads change nothing stored.
    assert!(!raw(&db, &table, "ada", "a1").await.contains_key("_v"));
}

#[tokio::test]
async fn every_write_stores_the_current_version() {
    let db = db("sv_writes");
    Account::create_table(&db).await.unwrap();
    let table = db.table_name::<Account>();
    current("bo", "p").put(&db).await.unwrap();
    assert_eq!(raw(&db, &table, "bo", "p").await.get("_v"), Some(&n(3)));
    assert_eq!(
        current("bo", "p").to_item().unwrap().get("_v"),
        Some(&n(3)),
        "to_item has it too"
    );
    db.batch_write().put(&current("bo", "q")).await.unwrap();
    assert_eq!(raw(&db, &table, "bo", "q").await.get("_v"), Some(&n(3)));
    Account::update_by_key(&db, ("bo", "q"))
        .set(Account::fields().credits(), 5)
        .await
        .unwrap();
    let item = raw(&db, &table, "bo", "q").await;
    assert_eq!((item.get("_v"), item.get("credits")), (Some(&n(3)), Some(&n(5))));
}

#[tokio::test]
async fn an_update_of_an_outdated_item_is_refused_and_a_tracked_save_rewrites_it() {
    let (db, log) = logged_db("sv_update");
    let table = three_versions(&db).await;
    let err = Account::update_by_key(&db, ("ada", "a1"))
        .set(Account::fields().credits(), 99)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::OutdatedItem {
                stored: 1,
                current: 3,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !raw(&db, &table, "ada", "a1").await.contains_key("first_name"),
        "nothing written"
    );
    // The current item updates as usual.
    Account::update_by_key(&db, ("ada", "a3"))
        .set(Account::fields().credits(), 13)
        .await
        .unwrap();
    assert_eq!(raw(&db, &table, "ada", "a3").await.get("credits"), Some(&n(13)));

    // A tracked instance of a migrated item rewrites it at the current version, with
    // one update conditioned on the item as read.
    let mut tracked: Tracked<Account> = Account::get(&db, ("ada", "a1")).tracked().await.unwrap().unwrap();
    tracked.credits = 20;
    log.clear();
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(log.operations(), ["UpdateItem"]);
    // Saved again, it sends what changed, as usual.
    tracked.credits = 21;
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(raw(&db, &table, "ada", "a1").await.get("credits"), Some(&n(21)));
    tracked.credits = 20;
    assert!(tracked.save(&db).await.unwrap());
    // A concurrent change between the read and the save fails the rewrite.
    let mut stale: Tracked<Account> = Account::get(&db, ("ada", "a2")).tracked().await.unwrap().unwrap();
    let mut changed = stored(2, "ada", "a2");
    changed.insert("credits".into(), s("13"));
    put_raw(&db, &table, changed).await;
    stale.credits = 99;
    let err = stale.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err:?}");
    assert_eq!(raw(&db, &table, "ada", "a2").await.get("credits"), Some(&s("13")));
    let item = raw(&db, &table, "ada", "a1").await;
    assert_eq!(item.get("_v"), Some(&n(3)));
    assert_eq!(item.get("credits"), Some(&n(20)));
    assert!(!item.contains_key("name"), "the old attribute is gone: {item:?}");
}

#[tokio::test]
async fn write_back_stores_the_migrated_item_unless_it_changed() {
    let (db, log) = logged_db("sv_write_back");
    let table = three_versions(&db).await;
    log.clear();
    let got = WrittenBack::get(&db, ("ada", "a1")).await.unwrap().unwrap();
    assert_eq!(got.credits, 12);
    assert_eq!(log.operations(), ["GetItem", "UpdateItem"]);
    let item = raw(&db, &table, "ada", "a1").await;
    assert_eq!(item.get("_v"), Some(&n(3)));
    assert_eq!(item.get("credits"), Some(&n(12)));
    assert_eq!(item.get("first_name"), Some(&s("Ada")));
    assert!(!item.contains_key("name"));
    // A current item is not written.
    log.clear();
    WrittenBack::get(&db, ("ada", "a1")).await.unwrap().unwrap();
    assert_eq!(log.operations(), ["GetItem"]);

    // The write-back is conditioned on the item as read: an attribute it does not
    // touch, changed concurrently, survives; one it touches makes it skip the write.
    let mut untouched = stored(2, "ada", "w");
    untouched.insert("note".into(), s("kept"));
    // Attributes the model does not know, of every kind, are kept (and the rewrite's
    // condition on them, maps and lists included, holds).
    untouched.insert(
        "extra".into(),
        AttributeValue::M(HashMap::from([("k".into(), AttributeValue::L(vec![n(1), s("x")]))])),
    );
    untouched.insert("flags".into(), AttributeValue::Ss(vec!["a".into(), "b".into()]));
    put_raw(&db, &table, untouched).await;
    WrittenBack::get(&db, ("ada", "w")).await.unwrap().unwrap();
    let item = raw(&db, &table, "ada", "w").await;
    assert_eq!((item.get("_v"), item.get("note")), (Some(&n(3)), Some(&s("kept"))));
    assert!(item.contains_key("extra") && item.contains_key("flags"), "{item:?}");
}

#[tokio::test]
async fn unreadable_versions_and_failed_steps_are_typed_errors() {
    let db = db("sv_errors");
    let table = three_versions(&db).await;
    let mut newer = stored(3, "ada", "n");
    newer.insert("_v".into(), n(4));
    put_raw(&db, &table, newer).await;
    let err = Account::get(&db, ("ada", "n")).await.unwrap_err();
    assert!(
        matches!(&err, Error::SchemaVersion { found, current: 3, .. } if found == "4"),
        "{err:?}"
    );
    let mut bad = stored(1, "ada", "b");
    bad.insert("name".into(), s("Cher"));
    put_raw(&db, &table, bad).await;
    let err = Account::get(&db, ("ada", "b")).await.unwrap_err();
    assert!(matches!(err, Error::Migration { from: 1, .. }), "{err:?}");
    // A query reports the failed item and goes on.
    let results: Vec<dynorm::Result<Account>> = Account::query(&db, "ada").collect::<Vec<_>>().await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 3);
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 2);
    assert_eq!(
        dynorm::migrate::stored_version::<Account>(&stored(2, "x", "y")).unwrap(),
        Some(2)
    );
}

#[derive(DynaTable)]
#[table(name = "boards", hash_key = "pk", range_key = "sk")]
struct Boards {
    pk: String,
    sk: String,
}

/// Version 1 called the body `text`.
fn text_to_body(item: &mut Item) -> Result<(), BoxError> {
    if let Some(text) = item.remove("text") {
        item.insert("body".into(), text);
    }
    Ok(())
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Boards, name = "note", pk = "BOARD#{board}", sk = "NOTE#{note}")]
#[schema(version = 2, migrations = [text_to_body])]
struct Note {
    board: String,
    note: String,
    body: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Boards, name = "tag", pk = "BOARD#{board}", sk = "TAG#{tag}")]
struct Tag {
    board: String,
    tag: String,
}

#[derive(dynorm::Collection, Debug, PartialEq)]
enum Board {
    Note(Note),
    Tag(Tag),
}

#[tokio::test]
async fn entities_and_collections_are_migrated_too() {
    let db = db("sv_entities");
    Boards::create_table(&db).await.unwrap();
    let table = db.table_name::<Boards>();
    let old: Item = HashMap::from([
        ("pk".into(), s("BOARD#b")),
        ("sk".into(), s("NOTE#n1")),
        ("_type".into(), s("note")),
        ("board".into(), s("b")),
        ("note".into(), s("n1")),
        ("text".into(), s("hello")),
    ]);
    put_raw(&db, &table, old).await;
    Tag {
        board: "b".into(),
        tag: "t1".into(),
    }
    .put(&db)
    .await
    .unwrap();
    let note = Note {
        board: "b".into(),
        note: "n1".into(),
        body: "hello".into(),
    };
    assert_eq!(Note::get(&db, ("b", "n1")).await.unwrap().as_ref(), Some(&note));
    let items: Vec<Board> = Board::query(&db, "b").collect_all().await.unwrap();
    assert_eq!(
        items,
        [
            Board::Note(note.clone()),
            Board::Tag(Tag {
                board: "b".into(),
                tag: "t1".into()
            })
        ]
    );
    // An entity's writes carry its version beside its type.
    note.put(&db).await.unwrap();
    let item = db
        .client()
        .get_item()
        .table_name(&table)
        .key("pk", s("BOARD#b"))
        .key("sk", s("NOTE#n1"))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!((item.get("_type"), item.get("_v")), (Some(&s("note")), Some(&n(2))));

    // An item of another entity is refused as such, before any migration runs on it.
    let tag: Item = HashMap::from([
        ("pk".into(), s("BOARD#b")),
        ("sk".into(), s("TAG#t9")),
        ("_type".into(), s("tag")),
        ("_v".into(), n(7)),
        ("board".into(), s("b")),
        ("tag".into(), s("t9")),
    ]);
    let err = Note::from_item(tag).unwrap_err();
    assert!(matches!(err, Error::WrongEntity { .. }), "{err:?}");
}

/// Version 1 of a model that has just started to declare its version: items written
/// before have no version attribute, and are current.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "profiles", hash_key = "id")]
#[schema(version = 1)]
struct Profile {
    id: String,
    bio: String,
}

#[tokio::test]
async fn items_without_the_attribute_at_the_current_version_save_and_update_as_usual() {
    let db = db("sv_default");
    Profile::create_table(&db).await.unwrap();
    let table = db.table_name::<Profile>();
    db.client()
        .put_item()
        .table_name(&table)
        .item("id", s("p1"))
        .item("bio", s("old"))
        .send()
        .await
        .unwrap();
    let mut tracked = Profile::get(&db, "p1").tracked().await.unwrap().unwrap();
    tracked.bio = "new".into();
    assert!(tracked.save(&db).await.unwrap());
    Profile::update_by_key(&db, "p1")
        .set(Profile::fields().bio(), "newer".to_owned())
        .await
        .unwrap();
    let item = db
        .client()
        .get_item()
        .table_name(&table)
        .key("id", s("p1"))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!((item.get("bio"), item.get("_v")), (Some(&s("newer")), Some(&n(1))));
}

fn add_region(item: &mut Item) -> Result<(), BoxError> {
    item.entry("region".into()).or_insert_with(|| s("eu"));
    Ok(())
}

/// Items stored before the version attribute existed were written by version 2.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "sites", hash_key = "id")]
#[schema(version = 3, default = 2, attribute = "schema", migrations = [split_name, add_region])]
struct Site {
    id: String,
    region: String,
}

#[test]
fn a_declared_default_and_attribute_name_decide_the_version_of_unmarked_items() {
    let unmarked: Item = HashMap::from([("id".into(), s("x"))]);
    assert_eq!(dynorm::migrate::stored_version::<Site>(&unmarked).unwrap(), Some(2));
    let site = Site::from_item(unmarked).unwrap();
    assert_eq!(site.region, "eu");
    let item = site.to_item().unwrap();
    assert_eq!(item.get("schema"), Some(&n(3)));
    assert!(!item.contains_key("_v"));
}
