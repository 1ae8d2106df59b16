//! Partial saves: only the changed nested paths are sent, and concurrent changes to
//! other attributes survive.

use std::collections::{BTreeMap, BTreeSet};

use dynorm::ops::WriteInput;
use dynorm::{Document, DynaModel, Error, Tracked};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Geo {
    lat: f64,
    lon: f64,
}

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Address {
    street: String,
    city: String,
    zip: String,
    geo: Geo,
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "partial_users", hash_key = "id")]
struct User {
    id: String,
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    nickname: Option<String>,
    address: Address,
    #[serde(default)]
    scores: Vec<u32>,
    #[serde(with = "dynorm::serde_dynamo::string_set", default)]
    roles: BTreeSet<String>,
    #[serde(default)]
    prefs: BTreeMap<String, String>,
}

fn user(id: &str) -> User {
    User {
        id: id.into(),
        name: "Ada".into(),
        nickname: Some("ada".into()),
        address: Address {
            street: "1 Rue".into(),
            city: "Paris".into(),
            zip: "75001".into(),
            geo: Geo { lat: 48.8, lon: 2.3 },
        },
        scores: vec![1, 2, 3],
        roles: ["admin".to_owned()].into_iter().collect(),
        prefs: [("theme".to_owned(), "dark".to_owned())].into_iter().collect(),
    }
}

/// The update expression and the attribute names it uses, in the order written.
fn described(input: WriteInput) -> (String, Vec<String>) {
    let WriteInput::Update(input) = input else {
        panic!("a partial save is an update");
    };
    let names = input.expression_attribute_names().cloned().unwrap_or_default();
    let mut expression = input.update_expression().unwrap().to_owned();
    // Replace placeholders with names (longest first, so #n10 is not read as #n1).
    let mut placeholders: Vec<_> = names.iter().collect();
    placeholders.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    for (placeholder, name) in &placeholders {
        expression = expression.replace(placeholder.as_str(), name);
    }
    (expression, names.into_values().collect())
}

#[tokio::test]
async fn only_the_changed_nested_paths_are_sent() {
    let db = db("partial_paths");
    User::ensure_table(&db).await.unwrap();
    user("u1").put(&db).await.unwrap();

    let mut u = User::get(&db, "u1").tracked().await.unwrap().unwrap();
    assert!(!u.is_changed().unwrap());
    u.address.geo.lat = 45.75;
    u.nickname = None;
    u.scores.push(4);
    u.prefs.insert("lang".into(), "fr".into());
    u.roles.insert("editor".into());

    let (expression, names) = described(u.save(&db).to_input().unwrap().unwrap());
    for expected in [
        "address.geo.lat = :",
        "scores[3] = :",
        "prefs.lang = :",
        "REMOVE nickname",
        "ADD roles :",
    ] {
        assert!(
            expression.contains(expected),
            "`{expected}` missing from `{expression}`"
        );
    }
    for untouched in ["street", "city", "zip", "lon", "theme", "name"] {
        assert!(
            !names.iter().any(|n| n == untouched),
            "`{untouched}` was sent: {expression}"
        );
    }
    // Someone else changes other attributes meanwhile...
    let f = User::fields();
    User::update_by_key(&db, "u1")
        .set(f.name(), "Countess")
        .set(f.address().fields().city(), "Lyon")
        .add_to_set(f.roles(), ["auditor"])
        .await
        .unwrap();
    // ...and the partial save leaves their changes intact.
    assert!(u.save(&db).await.unwrap());
    let stored = User::get(&db, "u1").consistent_read(true).await.unwrap().unwrap();
    let mut want = user("u1");
    want.name = "Countess".into();
    want.address.city = "Lyon".into();
    want.address.geo.lat = 45.75;
    want.nickname = None;
    want.scores.push(4);
    want.prefs.insert("lang".into(), "fr".into());
    want.roles = ["admin", "auditor", "editor"].map(String::from).into_iter().collect();
    assert_eq!(stored, want);
    assert_eq!(*u, want, "the instance is refreshed from the stored item");
}

#[tokio::test]
async fn nothing_changed_sends_nothing() {
    let (db, log) = logged_db("partial_nothing");
    User::ensure_table(&db).await.unwrap();
    user("u2").put(&db).await.unwrap();
    let mut u = User::get(&db, "u2").tracked().await.unwrap().unwrap();
    log.clear();
    assert!(u.save(&db).to_input().unwrap().is_none());
    assert!(!u.save(&db).await.unwrap());
    assert!(log.is_empty(), "sent {:?}", log.operations());

    u.scores.truncate(1);
    let (expression, _) = described(u.save(&db).to_input().unwrap().unwrap());
    assert!(expression.contains("REMOVE scores[1], scores[2]"), "{expression}");
    assert!(u.save(&db).await.unwrap());
    assert_eq!(log.count("UpdateItem"), 1);
    assert_eq!(
        User::get(&db, "u2")
            .consistent_read(true)
            .await
            .unwrap()
            .unwrap()
            .scores,
        [1]
    );
}

#[tokio::test]
async fn a_partial_save_does_not_resurrect_a_deleted_item() {
    let db = db("partial_deleted");
    User::ensure_table(&db).await.unwrap();
    user("u3").put(&db).await.unwrap();
    let mut u = Tracked::loaded(user("u3")).unwrap();
    User::delete_by_key(&db, "u3").await.unwrap();
    u.name = "ghost".into();
    let err = u.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { item: None, .. }), "{err:?}");
    assert!(User::get(&db, "u3").await.unwrap().is_none());
    // The change is still pending: the snapshot was kept.
    assert!(u.is_changed().unwrap());
}

#[tokio::test]
async fn a_changed_key_is_refused() {
    let db = db("partial_key");
    let mut u = Tracked::loaded(user("u4")).unwrap();
    u.id = "u5".into();
    let err = u.save(&db).await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidExpression(ref m) if m.contains("key")),
        "{err:?}"
    );
}

#[tokio::test]
async fn defaults_missing_from_the_table_are_saved_whole() {
    let db = db("partial_defaults");
    User::ensure_table(&db).await.unwrap();
    // Written by another program: no `scores`, `roles` or `prefs` attributes.
    let mut item = dynorm::to_item(&user("u6")).unwrap();
    for absent in ["scores", "roles", "prefs"] {
        item.remove(absent);
    }
    db.client()
        .put_item()
        .table_name(db.table_name::<User>())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let mut u = User::get(&db, "u6").tracked().await.unwrap().unwrap();
    assert!(u.prefs.is_empty() && u.scores.is_empty());
    u.prefs.insert("theme".into(), "light".into());
    u.scores.push(9);
    // An empty set cannot be stored at all; this one gets an element.
    u.roles.insert("viewer".into());
    let (expression, _) = described(u.save(&db).to_input().unwrap().unwrap());
    for whole in ["prefs = :", "scores = :", "roles = :"] {
        assert!(expression.contains(whole), "{expression}");
    }
    assert!(u.save(&db).await.unwrap());
    let stored = User::get(&db, "u6").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored.prefs["theme"], "light");
    assert_eq!(stored.scores, [9]);
}

#[tokio::test]
async fn a_large_diff_stays_within_the_expression_limit() {
    let db = db("partial_large");
    User::ensure_table(&db).await.unwrap();
    let mut big = user("u7");
    big.scores = (0..600).collect();
    big.put(&db).await.unwrap();
    let mut u = User::get(&db, "u7").tracked().await.unwrap().unwrap();
    for s in u.scores.iter_mut() {
        *s += 1;
    }
    u.address.city = "Nice".into();
    let (expression, _) = described(u.save(&db).to_input().unwrap().unwrap());
    assert!(expression.contains("scores = :"), "the list is set whole: {expression}");
    assert!(expression.contains("address.city = :"), "{expression}");
    assert!(u.save(&db).await.unwrap());
    let stored = User::get(&db, "u7").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored, *u);
}

#[tokio::test]
async fn the_next_save_starts_from_what_was_stored() {
    let (db, log) = logged_db("partial_next");
    User::ensure_table(&db).await.unwrap();
    user("u8").put(&db).await.unwrap();
    let mut u = User::get(&db, "u8").tracked().await.unwrap().unwrap();

    // Saves in a row: each sends only its own change, and leaves nothing pending.
    u.address.geo.lat = 45.75;
    assert!(u.save(&db).await.unwrap());
    assert!(!u.is_changed().unwrap());
    u.nickname = None;
    u.roles.insert("viewer".into());
    let (expression, _) = described(u.save(&db).to_input().unwrap().unwrap());
    assert_eq!(expression, "REMOVE nickname ADD roles :v0", "{expression}");
    assert!(u.save(&db).await.unwrap());
    assert!(!u.is_changed().unwrap());

    // Another writer changes an attribute this instance did not touch: the save keeps
    // it, and the instance and its snapshot take it from the item stored.
    db.client()
        .update_item()
        .table_name(db.table_name::<User>())
        .key("id", aws_sdk_dynamodb::types::AttributeValue::S("u8".into()))
        .update_expression("SET #n = :n")
        .expression_attribute_names("#n", "name")
        .expression_attribute_values(":n", aws_sdk_dynamodb::types::AttributeValue::S("Grace".into()))
        .send()
        .await
        .unwrap();
    u.address.zip = "69001".into();
    assert!(u.save(&db).await.unwrap());
    assert_eq!(u.name, "Grace");
    assert!(!u.is_changed().unwrap());
    u.prefs.insert("lang".into(), "fr".into());
    let (expression, _) = described(u.save(&db).to_input().unwrap().unwrap());
    assert_eq!(expression, "SET prefs.lang = :v0", "{expression}");
    assert!(u.save(&db).await.unwrap());

    let stored = User::get(&db, "u8").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored, *u);
    assert_eq!(stored.name, "Grace");
    assert_eq!(stored.address.geo.lat, 45.75);
    assert_eq!(stored.address.zip, "69001");
    assert!(stored.nickname.is_none());
    assert!(stored.roles.contains("viewer") && stored.roles.contains("admin"));
    assert_eq!(log.count("UpdateItem"), 5);
}
