//! Each update operation, checked by the item DynamoDB Local stores.

use std::collections::{BTreeMap, BTreeSet};

use dynorm::expr::Update;
use dynorm::ops::ReturnValues;
use dynorm::{Document, DynaModel, Error};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct Stats {
    views: u64,
    rating: f64,
    history: Vec<u32>,
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "upd_docs", hash_key = "id")]
struct Doc {
    id: String,
    title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    subtitle: Option<String>,
    count: i64,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(with = "dynorm::serde_dynamo::string_set", default)]
    labels: BTreeSet<String>,
    #[serde(with = "dynorm::serde_dynamo::number_set", default)]
    sizes: BTreeSet<u32>,
    stats: Stats,
    #[serde(default)]
    extra: BTreeMap<String, String>,
}

fn doc(id: &str) -> Doc {
    Doc {
        id: id.into(),
        title: "first".into(),
        subtitle: Some("sub".into()),
        count: 10,
        tags: vec!["a".into(), "b".into()],
        labels: ["x".to_owned(), "y".to_owned()].into_iter().collect(),
        sizes: [1, 2].into_iter().collect(),
        stats: Stats {
            views: 5,
            rating: 4.5,
            history: vec![1, 2, 3],
        },
        extra: BTreeMap::new(),
    }
}

async fn stored(db: &dynorm::Db, id: &str) -> Doc {
    Doc::get(db, id)
        .consistent_read(true)
        .await
        .unwrap()
        .expect("item exists")
}

#[tokio::test]
async fn each_update_operation_stores_the_right_item() {
    let db = db("update_ops");
    Doc::ensure_table(&db).await.unwrap();
    let f = Doc::fields();
    let original = doc("d1");
    original.put(&db).await.unwrap();
    let mut want = original.clone();

    let new = Doc::update_by_key(&db, "d1").set(f.title(), "second").await.unwrap();
    want.title = "second".into();
    assert_eq!(new.as_ref(), Some(&want), "SET returns ALL_NEW");
    assert_eq!(stored(&db, "d1").await, want);

    Doc::update_by_key(&db, "d1").remove(f.subtitle()).await.unwrap();
    want.subtitle = None;
    assert_eq!(stored(&db, "d1").await, want, "REMOVE");

    Doc::update_by_key(&db, "d1")
        .set_if_not_exists(f.subtitle(), "kept")
        .set_if_not_exists(f.title(), "ignored")
        .await
        .unwrap();
    want.subtitle = Some("kept".into());
    assert_eq!(stored(&db, "d1").await, want, "if_not_exists");

    Doc::update_by_key(&db, "d1").increment(f.count(), 5).await.unwrap();
    Doc::update_by_key(&db, "d1").decrement(f.count(), 2).await.unwrap();
    Doc::update_by_key(&db, "d1").add(f.count(), -1).await.unwrap();
    want.count = 12;
    assert_eq!(stored(&db, "d1").await, want, "increment, decrement, ADD number");

    Doc::update_by_key(&db, "d1")
        .add_to_set(f.labels(), ["z", "x"])
        .add_to_set(f.sizes(), [3u32])
        .await
        .unwrap();
    want.labels.insert("z".into());
    want.sizes.insert(3);
    assert_eq!(stored(&db, "d1").await, want, "ADD to sets");

    Doc::update_by_key(&db, "d1")
        .delete_from_set(f.labels(), ["y"])
        .delete_from_set(f.sizes(), [1u32, 99])
        .await
        .unwrap();
    want.labels.remove("y");
    want.sizes.remove(&1);
    assert_eq!(stored(&db, "d1").await, want, "DELETE from sets");

    Doc::update_by_key(&db, "d1")
        .append(f.tags(), ["c", "d"])
        .await
        .unwrap();
    Doc::update_by_key(&db, "d1").prepend(f.tags(), ["z"]).await.unwrap();
    want.tags = ["z", "a", "b", "c", "d"].map(String::from).to_vec();
    assert_eq!(stored(&db, "d1").await, want, "list_append, both ends");

    let stats = f.stats().fields();
    Doc::update_by_key(&db, "d1")
        .increment(stats.views(), 10)
        .set(stats.rating(), 3.25)
        .set(stats.history().at(1), 20)
        .append(stats.history(), [4])
        .await
        .unwrap_err();
    // `history[1]` and `history` overlap: rejected before sending, nothing applied.
    assert_eq!(stored(&db, "d1").await, want);

    Doc::update_by_key(&db, "d1")
        .increment(stats.views(), 10)
        .set(stats.rating(), 3.25)
        .set(stats.history().at(1), 20)
        .set(f.extra().key("a.b #c"), "dotted key".to_owned())
        .await
        .unwrap();
    want.stats.views = 15;
    want.stats.rating = 3.25;
    want.stats.history[1] = 20;
    want.extra.insert("a.b #c".into(), "dotted key".into());
    assert_eq!(stored(&db, "d1").await, want, "nested paths, list index, map key");

    Doc::update_by_key(&db, "d1")
        .remove(stats.history().at(0))
        .await
        .unwrap();
    want.stats.history.remove(0);
    assert_eq!(stored(&db, "d1").await, want, "REMOVE list element");
}

#[tokio::test]
async fn absent_attributes_start_from_empty() {
    let db = db("update_absent");
    Doc::ensure_table(&db).await.unwrap();
    let f = Doc::fields();
    let mut bare = doc("d2");
    bare.tags.clear();
    bare.count = 0;
    bare.put(&db).await.unwrap();
    // Remove them, then increment and append onto nothing.
    // The item no longer decodes into `Doc`, so ask for nothing back.
    Doc::update_by_key(&db, "d2")
        .remove(f.count())
        .remove(f.tags())
        .return_values(ReturnValues::None)
        .await
        .unwrap();
    let new = Doc::update_by_key(&db, "d2")
        .increment(f.count(), 3)
        .append(f.tags(), ["first"])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(new.count, 3);
    assert_eq!(new.tags, ["first"]);
}

#[tokio::test]
async fn conditions_and_return_values() {
    let db = db("update_conditions");
    Doc::ensure_table(&db).await.unwrap();
    let f = Doc::fields();
    doc("d3").put(&db).await.unwrap();

    let err = Doc::update_by_key(&db, "d3")
        .set(f.title(), "nope")
        .condition(f.count().gt(100))
        .await
        .unwrap_err();
    let current: Doc = match &err {
        Error::ConditionFailed { .. } => err.current_item().unwrap().unwrap(),
        other => panic!("expected ConditionFailed, got {other:?}"),
    };
    assert_eq!(current, doc("d3"));
    assert_eq!(stored(&db, "d3").await, doc("d3"));

    let old = Doc::update_by_key(&db, "d3")
        .set(f.title(), "yes")
        .condition(f.count().eq(10) & f.tags().contains("a"))
        .return_values(ReturnValues::AllOld)
        .await
        .unwrap();
    assert_eq!(old, Some(doc("d3")), "ALL_OLD");
    let none = Doc::update_by_key(&db, "d3")
        .set(f.title(), "again")
        .return_values(ReturnValues::None)
        .await
        .unwrap();
    assert_eq!(none, None);

    // An update of a missing item creates it, unless a condition says otherwise.
    let err = Doc::update_by_key(&db, "ghost")
        .set(f.title(), "x")
        .condition(f.id().exists())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { item: None, .. }), "{err:?}");
    assert!(Doc::get(&db, "ghost").await.unwrap().is_none());
}

#[tokio::test]
async fn instance_update_refreshes_the_instance() {
    let db = db("update_instance");
    Doc::ensure_table(&db).await.unwrap();
    let f = Doc::fields();
    let mut mine = doc("d4");
    mine.put(&db).await.unwrap();
    // Someone else changes another attribute meanwhile.
    Doc::update_by_key(&db, "d4").set(f.title(), "theirs").await.unwrap();

    mine.update(&db).increment(f.count(), 1).await.unwrap();
    assert_eq!(mine.count, 11);
    assert_eq!(mine.title, "theirs", "refreshed from ALL_NEW");
    assert_eq!(stored(&db, "d4").await, mine);
}

#[tokio::test]
async fn manager_update_and_partial_update() {
    let db = db("update_manager");
    Doc::ensure_table(&db).await.unwrap();
    let f = Doc::fields();
    let docs = Doc::objects(&db);
    docs.create(&doc("d5")).await.unwrap();

    let new = docs.update("d5").increment(f.count(), 2).await.unwrap().unwrap();
    assert_eq!(new.count, 12);

    let patch = Update::new().set(f.title(), "patched").add_to_set(f.labels(), ["p"]);
    let new = docs.partial_update("d5", patch).await.unwrap().unwrap();
    assert_eq!(new.title, "patched");
    assert!(new.labels.contains("p"));
    assert_eq!(stored(&db, "d5").await, new);
}

#[tokio::test]
async fn updates_describe_their_request() {
    let db = db("update_describe");
    let f = Doc::fields();
    let input = Doc::update_by_key(&db, "d6")
        .set(f.title(), "t")
        .increment(f.stats().fields().views(), 1)
        .condition(f.title().begins_with("x"))
        .to_input()
        .unwrap();
    assert_eq!(
        input.update_expression(),
        Some("SET #n0 = :v0, #n1.#n2 = if_not_exists(#n1.#n2, :v2) + :v1")
    );
    assert_eq!(input.condition_expression(), Some("begins_with(#n0, :v3)"));
    let names = input.expression_attribute_names().unwrap();
    assert_eq!(names.len(), 3);
    assert_eq!(names["#n1"], "stats");
    assert_eq!(input.expression_attribute_values().unwrap().len(), 4);
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "upd_validated", hash_key = "id")]
struct Rated {
    id: String,
    #[validate(length(min = 1))]
    title: String,
    #[validate(range(max = 100))]
    score: u32,
    #[validate(length(max = 2))]
    #[serde(default)]
    tags: Vec<String>,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

/// The item as stored, read with the raw SDK client.
async fn raw_item(db: &dynorm::Db, id: &str) -> dynorm::Item {
    db.client()
        .get_item()
        .table_name(db.table_name::<Rated>())
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("item exists")
}

fn validation_failure<T: std::fmt::Debug>(result: dynorm::Result<T>, field: &str) {
    match result {
        Err(Error::Validation(errors)) => {
            assert!(errors.field_errors().contains_key(field), "{errors:?}");
        }
        other => panic!("expected a validation failure on `{field}`, got {other:?}"),
    }
}

/// An instance's update runs the model's validator rules on the instance with the update
/// applied, before anything is sent; an update by key is not validated (documented).
#[tokio::test]
async fn instance_updates_are_validated_before_sending() {
    let (db, log) = dynorm_tests::logged_db("update_validated");
    Rated::create_table(&db).await.unwrap();
    let f = Rated::fields();
    let mut rated = Rated {
        id: "r1".into(),
        title: "Dune".into(),
        score: 90,
        tags: vec!["a".into()],
        version: 0,
    };
    rated.save(&db).await.unwrap();
    let before = raw_item(&db, "r1").await;
    let instance = rated.clone();
    log.clear();

    // SET of an empty title breaks `length(min = 1)`: nothing is sent.
    validation_failure(rated.update(&db).set(f.title(), "").await, "title");
    // An increment past `range(max = 100)`, computed from the instance: 90 + 11.
    validation_failure(rated.update(&db).increment(f.score(), 11).await, "score");
    validation_failure(rated.update(&db).add(f.score(), 20).await, "score");
    // A list_append past `length(max = 2)`, with a valid action beside it.
    validation_failure(
        rated
            .update(&db)
            .set(f.title(), "Dune Messiah")
            .append(f.tags(), ["b", "c"])
            .await,
        "tags",
    );
    // The same check for `.to_input()` and inside a transaction.
    validation_failure(rated.update(&db).set(f.title(), "").to_input(), "title");
    let tx = db
        .transact_write()
        .write(rated.update(&db).set(f.title(), ""))
        .send()
        .await;
    validation_failure(tx, "title");
    // A result the model cannot read back (a required field removed) is refused too.
    assert!(
        matches!(rated.update(&db).remove(f.title()).await, Err(Error::Decode { .. })),
        "a REMOVE of a required field is refused"
    );
    assert!(log.is_empty(), "nothing was sent: {:?}", log.operations());
    assert_eq!(rated, instance, "the instance is unchanged");
    assert_eq!(raw_item(&db, "r1").await, before, "the stored item is unchanged");

    // Valid updates go through: 90 + 10 is still within the range.
    rated
        .update(&db)
        .set(f.title(), "Dune Messiah")
        .increment(f.score(), 10)
        .append(f.tags(), ["b"])
        .await
        .unwrap();
    assert_eq!(
        (rated.title.as_str(), rated.score, rated.tags.len(), rated.version),
        ("Dune Messiah", 100, 2, 2)
    );
    assert_eq!(log.count("UpdateItem"), 1);
    rated.update(&db).decrement(f.score(), 60).await.unwrap();
    assert_eq!(rated.score, 40);

    // An update by key has no instance to validate: it is sent as is.
    let by_key = Rated::update_by_key(&db, "r1")
        .set(f.title(), "")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_key.title, "");
}
