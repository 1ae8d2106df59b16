//! Every condition operator and combination, evaluated by DynamoDB Local: the items a
//! scan filtered by the rendered condition returns are exactly the ones the same
//! predicate selects in Rust. Conditional writes are checked too.

use std::collections::{BTreeMap, BTreeSet};

use dynorm::expr::{AttributeType, Condition, Path};
use dynorm::{Document, DynaModel, Error};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Dims {
    width: u32,
    label: String,
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "cond_items", hash_key = "id")]
struct Thing {
    id: String,
    name: String,
    score: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    note: Option<String>,
    tags: Vec<String>,
    #[serde(with = "dynorm::serde_dynamo::string_set", default)]
    colours: BTreeSet<String>,
    dims: Dims,
    counts: BTreeMap<String, u32>,
}

fn things() -> Vec<Thing> {
    (0..24)
        .map(|i| Thing {
            id: format!("t{i:02}"),
            name: ["apple", "apricot", "banana", "cherry"][i % 4].to_owned() + &i.to_string(),
            score: i as i64 * 10 - 50,
            note: (i % 3 == 0).then(|| format!("note {i}")),
            tags: (0..(i % 4)).map(|t| format!("tag{t}")).collect(),
            colours: if i % 2 == 0 {
                ["red", "blue"].iter().map(|s| s.to_string()).collect()
            } else {
                ["green".to_owned()].into_iter().collect()
            },
            dims: Dims {
                width: (i % 5) as u32,
                label: format!("L{}", i % 2),
            },
            counts: [("a".to_owned(), i as u32)].into_iter().collect(),
        })
        .collect()
}

async fn matching(db: &dynorm::Db, condition: Condition<Thing>) -> BTreeSet<String> {
    let expression = condition.build().expect("renders");
    let mut ids = BTreeSet::new();
    let mut start = None;
    loop {
        let out = db
            .client()
            .scan()
            .table_name(db.table_name::<Thing>())
            .filter_expression(&expression.text)
            .set_expression_attribute_names(Some(expression.names.clone()))
            .set_expression_attribute_values((!expression.values.is_empty()).then(|| expression.values.clone()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap_or_else(|e| panic!("scan with `{}`: {e:?}", expression.text));
        for item in out.items() {
            let thing: Thing = dynorm::from_item(item.clone()).unwrap();
            ids.insert(thing.id);
        }
        start = out.last_evaluated_key;
        if start.is_none() {
            return ids;
        }
    }
}

fn expected(all: &[Thing], predicate: impl Fn(&Thing) -> bool) -> BTreeSet<String> {
    all.iter().filter(|t| predicate(t)).map(|t| t.id.clone()).collect()
}

#[tokio::test]
async fn every_operator_selects_the_right_items() {
    let db = db("every_operator");
    Thing::ensure_table(&db).await.unwrap();
    let all = things();
    for thing in &all {
        thing.put(&db).await.unwrap();
    }
    let f = Thing::fields();

    type Case = (&'static str, Condition<Thing>, Box<dyn Fn(&Thing) -> bool>);
    let cases: Vec<Case> = vec![
        ("eq", f.score().eq(0), Box::new(|t| t.score == 0)),
        ("ne", f.score().ne(0), Box::new(|t| t.score != 0)),
        ("lt", f.score().lt(-20), Box::new(|t| t.score < -20)),
        ("le", f.score().le(-20), Box::new(|t| t.score <= -20)),
        ("gt", f.score().gt(100), Box::new(|t| t.score > 100)),
        ("ge", f.score().ge(100), Box::new(|t| t.score >= 100)),
        (
            "between",
            f.score().between(-10, 30),
            Box::new(|t| (-10..=30).contains(&t.score)),
        ),
        ("string lt", f.name().lt("b"), Box::new(|t| t.name.as_str() < "b")),
        (
            "in",
            f.id().is_in(["t01", "t05", "t09", "missing"]),
            Box::new(|t| ["t01", "t05", "t09"].contains(&t.id.as_str())),
        ),
        (
            "begins_with",
            f.name().begins_with("apr"),
            Box::new(|t| t.name.starts_with("apr")),
        ),
        (
            "contains substring",
            f.name().contains("an"),
            Box::new(|t| t.name.contains("an")),
        ),
        (
            "contains list element",
            f.tags().contains("tag2"),
            Box::new(|t| t.tags.iter().any(|x| x == "tag2")),
        ),
        (
            "contains set element",
            f.colours().contains("blue"),
            Box::new(|t| t.colours.contains("blue")),
        ),
        ("exists", f.note().exists(), Box::new(|t| t.note.is_some())),
        ("not_exists", f.note().not_exists(), Box::new(|t| t.note.is_none())),
        (
            "has_type",
            f.note().has_type(AttributeType::String),
            Box::new(|t| t.note.is_some()),
        ),
        (
            "has_type set",
            f.colours().has_type(AttributeType::StringSet),
            Box::new(|_| true),
        ),
        ("size eq", f.tags().size().eq(2), Box::new(|t| t.tags.len() == 2)),
        ("size gt", f.name().size().gt(6), Box::new(|t| t.name.len() > 6)),
        (
            "size between",
            f.tags().size().between(1, 2),
            Box::new(|t| (1..=2).contains(&t.tags.len())),
        ),
        (
            "nested",
            f.dims().fields().width().ge(3),
            Box::new(|t| t.dims.width >= 3),
        ),
        (
            "nested string",
            f.dims().fields().label().eq("L1"),
            Box::new(|t| t.dims.label == "L1"),
        ),
        (
            "list index",
            f.tags().at(1).eq("tag1"),
            Box::new(|t| t.tags.get(1).is_some_and(|x| x == "tag1")),
        ),
        ("map key", f.counts().key("a").lt(5), Box::new(|t| t.counts["a"] < 5)),
        (
            "and",
            f.score().gt(0) & f.note().exists(),
            Box::new(|t| t.score > 0 && t.note.is_some()),
        ),
        (
            "or",
            f.score().lt(-40) | f.name().begins_with("cherry"),
            Box::new(|t| t.score < -40 || t.name.starts_with("cherry")),
        ),
        (
            "not",
            !f.name().begins_with("a"),
            Box::new(|t| !t.name.starts_with('a')),
        ),
        (
            "nested combination",
            !(f.score().between(0, 100) | f.tags().size().eq(0)) & f.colours().contains("red"),
            Box::new(|t| !((0..=100).contains(&t.score) || t.tags.is_empty()) && t.colours.contains("red")),
        ),
        (
            "all",
            Condition::all([f.score().ge(0), f.score().le(50), f.dims().fields().label().eq("L0")]).unwrap(),
            Box::new(|t| (0..=50).contains(&t.score) && t.dims.label == "L0"),
        ),
        (
            "any",
            Condition::any([f.id().eq("t00"), f.id().eq("t23")]).unwrap(),
            Box::new(|t| t.id == "t00" || t.id == "t23"),
        ),
        (
            "unchecked path",
            Path::<Thing, String>::unchecked(["dims", "label"]).eq("L0"),
            Box::new(|t| t.dims.label == "L0"),
        ),
    ];
    for (name, condition, predicate) in cases {
        let want = expected(&all, predicate);
        let got = matching(&db, condition).await;
        assert_eq!(got, want, "operator case `{name}`");
    }
}

#[tokio::test]
async fn conditional_put_and_delete_report_the_current_item() {
    let db = db("conditional_writes");
    Thing::ensure_table(&db).await.unwrap();
    let thing = things().remove(3);
    assert!(thing.note.is_some());
    thing.put(&db).await.unwrap();
    let f = Thing::fields();

    let mut changed = thing.clone();
    changed.name = "changed".into();
    let err = changed.put(&db).condition(f.score().gt(1000)).await.unwrap_err();
    match &err {
        Error::ConditionFailed { item: Some(_), .. } => {}
        other => panic!("expected ConditionFailed with the item, got {other:?}"),
    }
    let current: Thing = err.current_item().unwrap().unwrap();
    assert_eq!(current, thing);

    changed.put(&db).condition(f.name().eq(&thing.name)).await.unwrap();
    assert_eq!(Thing::get(&db, &thing.id).await.unwrap().unwrap().name, "changed");

    let err = Thing::delete_by_key(&db, &thing.id)
        .condition(f.note().not_exists())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err:?}");
    assert!(Thing::get(&db, &thing.id).await.unwrap().is_some());
    Thing::delete_by_key(&db, &thing.id)
        .condition(f.name().eq("changed"))
        .await
        .unwrap();
    assert!(Thing::get(&db, &thing.id).await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_expressions_fail_before_sending() {
    let db = db("invalid_expressions");
    let f = Thing::fields();
    let thing = things().remove(0);
    // Not even a table: these must fail on the client.
    let err = thing
        .put(&db)
        .condition(f.id().is_in(Vec::<String>::new()))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidExpression(_)), "{err:?}");
    let err = Thing::update_by_key(&db, "x").await.unwrap_err();
    assert!(matches!(err, Error::InvalidExpression(_)), "{err:?}");
    let err = Thing::update_by_key(&db, "x")
        .set(f.dims(), thing.dims.clone())
        .set(f.dims().fields().width(), 3)
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidExpression(ref m) if m.contains("overlapping")),
        "{err:?}"
    );
    let err = Thing::update_by_key(&db, "x")
        .set(f.score(), 1)
        .set(f.colours(), BTreeSet::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidItem { .. }), "{err:?}");
}
