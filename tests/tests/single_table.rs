//! Single-table design against DynamoDB Local: a table declared once, entities with key
//! templates on it, typed keys and sort key prefixes, an overloaded index shared by three
//! entities, sparse index attributes, collections read by one query, and entities in
//! transactions and batches.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{Collection, Db, DynaModel, DynaTable, Error, Item, KeyProblem, Tracked};
use dynorm_tests::{db, logged_db};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaTable)]
#[table(name = "saas", hash_key = "pk", range_key = "sk")]
#[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
#[global_index(name = "gsi2", hash_key = "gsi2pk", range_key = "gsi2sk")]
struct Saas {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "org", pk = "ORG#{org_id}", sk = "ORG")]
#[entity_index(name = "gsi1", pk = "ORGS", sk = "ORG#{name}")]
struct Org {
    org_id: String,
    name: String,
    plan: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "user", pk = "ORG#{org_id}", sk = "USER#{user_id}")]
#[entity_index(name = "gsi1", pk = "EMAIL#{email}", sk = "USER")]
#[entity_index(name = "gsi2", pk = "MANAGER#{manager}", sk = "USER#{user_id}")]
struct User {
    org_id: String,
    user_id: String,
    #[validate(email)]
    email: String,
    /// Only users with a manager are in `gsi2` (a sparse index).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    manager: Option<String>,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "invoice", pk = "ORG#{org_id}", sk = "INVOICE#{year}#{month}#{number}")]
#[entity_index(name = "gsi1", pk = "STATUS#{status}", sk = "{year}#{month}#{number}")]
struct Invoice {
    org_id: String,
    year: u16,
    month: u8,
    number: u32,
    status: String,
    total_cents: i64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "project", pk = "ORG#{org_id}", sk = "PROJECT#{project_id}")]
#[entity_index(name = "gsi1", pk = "REGION#{region}#{tier}", sk = "PROJECT#{project_id}")]
struct Project {
    org_id: String,
    project_id: String,
    region: String,
    tier: String,
}

#[derive(Collection, Debug)]
enum OrgItem {
    Org(Org),
    User(User),
    Invoice(Invoice),
}

#[derive(Collection, Debug)]
enum OrgPeople {
    Org(Org),
    User(User),
    #[collection(other)]
    Other(Item),
}

async fn setup(test: &str) -> Db {
    let db = db(test);
    Saas::create_table(&db).await.unwrap();
    db
}

fn acme() -> Org {
    Org {
        org_id: "acme".into(),
        name: "Acme Corp".into(),
        plan: "pro".into(),
    }
}

fn user(id: &str, email: &str, manager: Option<&str>) -> User {
    User {
        org_id: "acme".into(),
        user_id: id.into(),
        email: email.into(),
        manager: manager.map(Into::into),
        version: 0,
    }
}

fn invoice(year: u16, month: u8, number: u32, status: &str) -> Invoice {
    Invoice {
        org_id: "acme".into(),
        year,
        month,
        number,
        status: status.into(),
        total_cents: 100 * i64::from(number),
    }
}

async fn raw(db: &Db, pk: &str, sk: &str) -> Option<HashMap<String, AttributeValue>> {
    db.client()
        .get_item()
        .table_name(db.table_name::<Saas>())
        .key("pk", AttributeValue::S(pk.into()))
        .key("sk", AttributeValue::S(sk.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn s(item: &HashMap<String, AttributeValue>, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

#[tokio::test]
async fn the_declared_table_has_every_index() {
    let db = setup("st_table").await;
    let described = db
        .client()
        .describe_table()
        .table_name(db.table_name::<Saas>())
        .send()
        .await
        .unwrap();
    let table = described.table.unwrap();
    let mut names: Vec<String> = table
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name.clone())
        .collect();
    names.sort();
    assert_eq!(names, ["gsi1", "gsi2"]);
    // Every entity's schema is the table's: creating from an entity makes the same table.
    let input = User::create_table(&db).to_input().unwrap();
    assert_eq!(input.global_secondary_indexes().len(), 2);
}

#[tokio::test]
async fn stored_items_have_computed_keys_type_and_sparse_index_attributes() {
    let db = setup("st_shape").await;
    acme().put(&db).await.unwrap();
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    user("u2", "bob@acme.test", Some("u1")).put(&db).await.unwrap();
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();

    let org = raw(&db, "ORG#acme", "ORG").await.unwrap();
    assert_eq!(s(&org, "_type").as_deref(), Some("org"));
    assert_eq!(s(&org, "gsi1pk").as_deref(), Some("ORGS"));
    assert_eq!(s(&org, "gsi1sk").as_deref(), Some("ORG#Acme Corp"));
    assert!(!org.contains_key("gsi2pk"), "the org does not use gsi2");

    let ann = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert_eq!(s(&ann, "_type").as_deref(), Some("user"));
    assert_eq!(s(&ann, "gsi1pk").as_deref(), Some("EMAIL#ann@acme.test"));
    assert_eq!(s(&ann, "gsi1sk").as_deref(), Some("USER"));
    assert!(!ann.contains_key("gsi2pk"), "no manager: not in the sparse index");
    assert!(!ann.contains_key("gsi2sk"));
    assert_eq!(s(&ann, "org_id").as_deref(), Some("acme"), "the fields are stored too");

    let bob = raw(&db, "ORG#acme", "USER#u2").await.unwrap();
    assert_eq!(s(&bob, "gsi2pk").as_deref(), Some("MANAGER#u1"));
    assert_eq!(s(&bob, "gsi2sk").as_deref(), Some("USER#u2"));

    // Integers of a sort key are padded to their type's width: they sort numerically.
    let inv = raw(&db, "ORG#acme", "INVOICE#02024#003#0000000007").await.unwrap();
    assert_eq!(s(&inv, "_type").as_deref(), Some("invoice"));
    assert_eq!(s(&inv, "gsi1pk").as_deref(), Some("STATUS#open"));
    assert_eq!(s(&inv, "gsi1sk").as_deref(), Some("02024#003#0000000007"));
}

#[tokio::test]
async fn keys_are_typed_by_the_template_fields() {
    let db = setup("st_get").await;
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    let got = User::get(&db, ("acme", "u1")).consistent_read(true).await.unwrap();
    assert_eq!(got.map(|u| u.email), Some("ann@acme.test".to_owned()));
    let org = acme();
    org.put(&db).await.unwrap();
    assert_eq!(Org::get(&db, "acme").consistent_read(true).await.unwrap(), Some(org));
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();
    let inv = Invoice::get(&db, ("acme", 2024, 3, 7))
        .consistent_read(true)
        .await
        .unwrap();
    assert_eq!(inv.map(|i| i.total_cents), Some(700));
    // The key as the request sends it.
    let input = User::get(&db, ("acme", "u1")).to_input().unwrap();
    let key = input.key.unwrap();
    assert_eq!(key["pk"], AttributeValue::S("ORG#acme".into()));
    assert_eq!(key["sk"], AttributeValue::S("USER#u1".into()));
    User::delete_by_key(&db, ("acme", "u1")).await.unwrap();
    assert!(raw(&db, "ORG#acme", "USER#u1").await.is_none());
}

#[tokio::test]
async fn an_item_of_another_entity_is_a_typed_error() {
    let db = setup("st_wrong").await;
    // An item at a user's key whose type attribute names another entity.
    db.client()
        .put_item()
        .table_name(db.table_name::<Saas>())
        .item("pk", AttributeValue::S("ORG#acme".into()))
        .item("sk", AttributeValue::S("USER#u9".into()))
        .item("_type", AttributeValue::S("project".into()))
        .item("org_id", AttributeValue::S("acme".into()))
        .item("user_id", AttributeValue::S("u9".into()))
        .item("email", AttributeValue::S("x@acme.test".into()))
        .send()
        .await
        .unwrap();
    let err = User::get(&db, ("acme", "u9")).consistent_read(true).await.unwrap_err();
    match err {
        Error::WrongEntity { expected, found, .. } => {
            assert_eq!(expected, "user");
            assert_eq!(found.as_deref(), Some("project"));
        }
        other => panic!("expected WrongEntity, got {other:?}"),
    }
}

#[tokio::test]
async fn a_separator_in_a_value_is_refused_before_sending() {
    let (db, log) = logged_db("st_sep");
    Saas::create_table(&db).await.unwrap();
    log.clear();
    // `region` is followed by "#" in "REGION#{region}#{tier}": a region holding "#" would
    // make the key ambiguous ("eu#x" + "gold" and "eu" + "x#gold").
    let bad = Project {
        org_id: "acme".into(),
        project_id: "p1".into(),
        region: "eu#x".into(),
        tier: "gold".into(),
    };
    match bad.put(&db).await.unwrap_err() {
        Error::InvalidKey {
            attribute,
            problem: KeyProblem::TemplateSeparator { field },
        } => {
            assert_eq!(attribute, "gsi1pk");
            assert_eq!(field, "region");
        }
        other => panic!("expected TemplateSeparator, got {other:?}"),
    }
    let err = Project::gsi1()
        .query(&db, ("eu#x", "gold"))
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidKey {
            problem: KeyProblem::TemplateSeparator { field: "region" },
            ..
        }
    ));
    assert!(log.is_empty(), "nothing was sent: {:?}", log.operations());
    // A field that ends its template takes any value: the key still reads back.
    let mut odd = user("u#1", "x#y@acme.test", None);
    odd.org_id = "ac#me".into();
    odd.put(&db).await.unwrap();
    assert!(raw(&db, "ORG#ac#me", "USER#u#1").await.is_some());
    assert_eq!(User::query(&db, "ac#me").collect_all().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_number_wider_than_its_declared_width_is_refused() {
    #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
    #[entity(table = Saas, name = "ticket", pk = "ORG#{org_id}", sk = "TICKET#{number:3}#{title}")]
    struct Ticket {
        org_id: String,
        number: u32,
        title: String,
    }
    let (db, log) = logged_db("st_width");
    Saas::create_table(&db).await.unwrap();
    log.clear();
    let ok = Ticket {
        org_id: "acme".into(),
        number: 42,
        title: "a".into(),
    };
    ok.put(&db).await.unwrap();
    assert!(raw(&db, "ORG#acme", "TICKET#042#a").await.is_some());
    log.clear();
    let too_wide = Ticket {
        number: 1234,
        ..ok.clone()
    };
    match too_wide.put(&db).await.unwrap_err() {
        Error::InvalidKey {
            attribute,
            problem: KeyProblem::TooWide { field, width },
        } => {
            assert_eq!(attribute, "sk");
            assert_eq!((field, width), ("number", 3));
        }
        other => panic!("expected TooWide, got {other:?}"),
    }
    assert_eq!(log.count("PutItem"), 0, "refused before sending");
}

#[tokio::test]
async fn partial_sort_keys_are_prefixes_and_ranges() {
    let db = setup("st_sort").await;
    for (y, m, n) in [
        (2023, 12, 1),
        (2024, 1, 2),
        (2024, 3, 3),
        (2024, 3, 4),
        (2024, 11, 5),
        (2025, 1, 6),
    ] {
        invoice(y, m, n, "open").put(&db).await.unwrap();
    }
    let numbers = |v: Vec<Invoice>| v.into_iter().map(|i| i.number).collect::<Vec<_>>();
    let all = Invoice::query(&db, "acme")
        .consistent_read(true)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        numbers(all),
        [1, 2, 3, 4, 5, 6],
        "numeric order: padded months sort right"
    );
    let y2024 = Invoice::query(&db, "acme")
        .sort_prefix((2024,))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(y2024), [2, 3, 4, 5]);
    let march = Invoice::query(&db, "acme")
        .sort_prefix((2024, 3))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(march), [3, 4]);
    let one = Invoice::query(&db, "acme")
        .sort_prefix((2024, 3, 4))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(one), [4]);
    let q1 = Invoice::query(&db, "acme")
        .sort_between((2024, 1), (2024, 3))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(q1), [2, 3, 4]);
    let from = Invoice::query(&db, "acme")
        .sort_from((2024, 11))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(from), [5, 6]);
    let until = Invoice::query(&db, "acme")
        .sort_until((2024,))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(until), [1, 2, 3, 4, 5]);
    // A single value is the first field's.
    let y2025 = Invoice::query(&db, "acme")
        .sort_prefix(2025u16)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(numbers(y2025), [6]);
    // The query reads only invoices, though users share the partition.
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    let input = Invoice::query(&db, "acme").sort_prefix((2024, 3)).to_input().unwrap();
    let values = input.expression_attribute_values.unwrap();
    assert!(values
        .values()
        .any(|v| v == &AttributeValue::S("INVOICE#02024#003#".into())));
    let users = User::query(&db, "acme").collect_all().await.unwrap();
    assert_eq!(users.len(), 1);
}

#[tokio::test]
async fn one_overloaded_index_serves_three_entities() {
    let db = setup("st_overload").await;
    acme().put(&db).await.unwrap();
    Org {
        org_id: "globex".into(),
        name: "Globex".into(),
        plan: "free".into(),
    }
    .put(&db)
    .await
    .unwrap();
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();
    invoice(2024, 4, 8, "paid").put(&db).await.unwrap();
    invoice(2024, 5, 9, "open").put(&db).await.unwrap();

    // Orgs by name: gsi1pk = "ORGS", a partition of literal text only.
    let orgs = Org::gsi1().query(&db, ()).collect_all().await.unwrap();
    let names: Vec<String> = orgs.into_iter().map(|o| o.name).collect();
    assert_eq!(names, ["Acme Corp", "Globex"]);
    let by_prefix = Org::gsi1().query(&db, ()).sort_prefix(("Glo",)).collect_all().await;
    // "Glo" is a whole name value for the template "ORG#{name}": equality, not a prefix.
    assert_eq!(by_prefix.unwrap().len(), 0);

    // A user by email.
    let found = User::gsi1().query(&db, "ann@acme.test").collect_all().await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].user_id, "u1");

    // Open invoices, by period.
    let open = Invoice::gsi1().query(&db, "open").collect_all().await.unwrap();
    assert_eq!(open.iter().map(|i| i.number).collect::<Vec<_>>(), [7, 9]);
    let open_may = Invoice::gsi1()
        .query(&db, "open")
        .sort_prefix((2024, 5))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(open_may.iter().map(|i| i.number).collect::<Vec<_>>(), [9]);
}

#[tokio::test]
async fn the_sparse_index_holds_only_items_with_the_field() {
    let db = setup("st_sparse").await;
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    user("u2", "bob@acme.test", Some("u1")).put(&db).await.unwrap();
    user("u3", "cy@acme.test", Some("u1")).put(&db).await.unwrap();
    let reports = User::gsi2().query(&db, "u1").collect_all().await.unwrap();
    let ids: Vec<String> = reports.into_iter().map(|u| u.user_id).collect();
    assert_eq!(ids, ["u2", "u3"]);
}

#[tokio::test]
async fn a_partial_save_moves_the_item_within_the_index() {
    let db = setup("st_move").await;
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();
    let loaded = Invoice::get(&db, ("acme", 2024, 3, 7))
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap();
    let mut tracked = Tracked::loaded(loaded).unwrap();
    tracked.status = "paid".into();
    tracked.save(&db).await.unwrap();
    let stored = raw(&db, "ORG#acme", "INVOICE#02024#003#0000000007").await.unwrap();
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("STATUS#paid"));
    assert_eq!(s(&stored, "status").as_deref(), Some("paid"));
    let open = Invoice::gsi1().query(&db, "open").collect_all().await.unwrap();
    assert!(open.is_empty());
    let paid = Invoice::gsi1().query(&db, "paid").collect_all().await.unwrap();
    assert_eq!(paid.len(), 1);

    // A whole-item save moves it too, and adds a user to the sparse index.
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    let mut u = User::get(&db, ("acme", "u1"))
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap();
    u.manager = Some("boss".into());
    u.save(&db).await.unwrap();
    assert_eq!(User::gsi2().query(&db, "boss").collect_all().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_collection_reads_the_whole_partition_in_one_request() {
    let (db, log) = logged_db("st_collection");
    Saas::create_table(&db).await.unwrap();
    acme().put(&db).await.unwrap();
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    user("u2", "bob@acme.test", None).put(&db).await.unwrap();
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();
    log.clear();
    let items = OrgItem::query(&db, "acme")
        .consistent_read(true)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(log.count("Query"), 1);
    let (mut orgs, mut users, mut invoices) = (0, 0, 0);
    for item in &items {
        match item {
            OrgItem::Org(o) => {
                assert_eq!(o.name, "Acme Corp");
                orgs += 1
            }
            OrgItem::User(u) => {
                assert_eq!(u.org_id, "acme");
                users += 1
            }
            OrgItem::Invoice(i) => {
                assert_eq!(i.number, 7);
                invoices += 1
            }
        }
    }
    assert_eq!((orgs, users, invoices), (1, 2, 1));
    assert_eq!(OrgItem::query(&db, "acme").count().await.unwrap(), 4);

    // A collection that does not list invoices: the `other` variant receives it.
    let people = OrgPeople::query(&db, "acme").collect_all().await.unwrap();
    let mut others: Vec<&Item> = Vec::new();
    for p in &people {
        match p {
            OrgPeople::Other(item) => others.push(item),
            OrgPeople::Org(o) => assert_eq!(o.org_id, "acme"),
            OrgPeople::User(u) => assert_eq!(u.org_id, "acme"),
        }
    }
    assert_eq!(others.len(), 1);
    assert_eq!(others[0]["_type"], AttributeValue::S("invoice".into()));
}

#[tokio::test]
async fn an_unknown_type_in_a_collection_is_an_error_for_that_item() {
    #[derive(Collection, Debug)]
    enum OnlyUsers {
        User(User),
    }
    let db = setup("st_unknown").await;
    acme().put(&db).await.unwrap();
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    let results: Vec<dynorm::Result<OnlyUsers>> = OnlyUsers::query(&db, "acme").collect::<Vec<_>>().await;
    assert_eq!(results.len(), 2, "nothing is dropped");
    let errors: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(errors.len(), 1);
    match errors[0] {
        Error::WrongEntity { found, .. } => assert_eq!(found.as_deref(), Some("org")),
        other => panic!("expected WrongEntity, got {other:?}"),
    }
    assert!(results
        .iter()
        .any(|r| matches!(r, Ok(OnlyUsers::User(u)) if u.user_id == "u1")));
}

#[tokio::test]
async fn a_collection_cursor_resumes_on_a_fresh_handle() {
    let db = setup("st_cursor")
        .await
        .with_cursor_key(b"0123456789abcdef0123456789abcdef");
    acme().put(&db).await.unwrap();
    for i in 0..5 {
        user(&format!("u{i}"), &format!("u{i}@acme.test"), None)
            .put(&db)
            .await
            .unwrap();
    }
    let mut first = OrgItem::query(&db, "acme").limit(3);
    let mut page = Vec::new();
    while let Some(item) = first.try_next().await.unwrap() {
        page.push(item);
    }
    assert_eq!(page.len(), 3);
    let cursor = first.cursor().unwrap().expect("more items");
    // A fresh handle with the same key and prefix.
    let fresh = Db::builder(db.client().clone())
        .table_prefix(db.table_name::<Saas>().trim_end_matches("saas").to_owned())
        .cursor_key(b"0123456789abcdef0123456789abcdef")
        .build();
    let rest = OrgItem::query(&fresh, "acme")
        .resume(cursor)
        .recursive()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
    assert!(rest.iter().all(|i| matches!(i, OrgItem::User(_))));
}

#[tokio::test]
async fn entities_of_one_table_in_a_transaction_and_a_batch() {
    let db = setup("st_tx").await;
    db.transact_write()
        .write(acme().put_unique(&db))
        .write(user("u1", "ann@acme.test", None).put(&db))
        .await
        .unwrap();
    assert!(raw(&db, "ORG#acme", "ORG").await.is_some());
    assert!(raw(&db, "ORG#acme", "USER#u1").await.is_some());
    let inv = invoice(2024, 1, 1, "open");
    let u2 = user("u2", "bob@acme.test", None);
    db.batch_write().put(&inv).put(&u2).await.unwrap();
    assert!(raw(&db, "ORG#acme", "USER#u2").await.is_some());
    let got = db
        .batch_get()
        .get::<User>(("acme", "u2"))
        .get::<Invoice>(("acme", 2024, 1, 1))
        .await;
    assert!(got.is_ok(), "{got:?}");
}

#[tokio::test]
async fn updates_and_conditions_use_the_fields() {
    let db = setup("st_update").await;
    let mut u = user("u1", "ann@acme.test", None);
    u.put(&db).await.unwrap();
    let email = User::fields().email();
    User::update_by_key(&db, ("acme", "u1"))
        .condition(email.eq("ann@acme.test"))
        .await
        .unwrap();
    u.version = 1;
    // The version check works on entities.
    let mut stale = u.clone();
    stale.version = 0;
    assert!(matches!(
        stale.save(&db).await.unwrap_err(),
        Error::VersionConflict { .. }
    ));
}

#[tokio::test]
async fn an_update_of_a_template_field_rewrites_the_index_key() {
    let (db, log) = logged_db("st_update_index");
    Saas::create_table(&db).await.unwrap();
    invoice(2024, 3, 7, "open").put(&db).await.unwrap();
    log.clear();
    Invoice::update_by_key(&db, ("acme", 2024, 3, 7))
        .set(Invoice::fields().status(), "paid")
        .await
        .unwrap();
    assert_eq!(log.count("UpdateItem"), 1, "one request moves the item");
    let stored = raw(&db, "ORG#acme", "INVOICE#02024#003#0000000007").await.unwrap();
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("STATUS#paid"));
    assert_eq!(s(&stored, "gsi1sk").as_deref(), Some("02024#003#0000000007"));
    assert_eq!(Invoice::gsi1().query(&db, "paid").collect_all().await.unwrap().len(), 1);
    assert!(Invoice::gsi1()
        .query(&db, "open")
        .collect_all()
        .await
        .unwrap()
        .is_empty());

    // Removing a field leaves the sparse index: both of its key attributes go.
    user("u1", "ann@acme.test", Some("boss")).put(&db).await.unwrap();
    User::update_by_key(&db, ("acme", "u1"))
        .remove(User::fields().manager())
        .await
        .unwrap();
    let stored = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert!(!stored.contains_key("gsi2pk") && !stored.contains_key("gsi2sk"));
    // Setting it again puts the item back.
    User::update_by_key(&db, ("acme", "u1"))
        .set(User::fields().manager(), Some("chief".to_owned()))
        .await
        .unwrap();
    let stored = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert_eq!(s(&stored, "gsi2pk").as_deref(), Some("MANAGER#chief"));
    assert_eq!(s(&stored, "gsi2sk").as_deref(), Some("USER#u1"));

    // A template of two fields the update does not both give is refused, before sending.
    Project {
        org_id: "acme".into(),
        project_id: "p1".into(),
        region: "eu".into(),
        tier: "gold".into(),
    }
    .put(&db)
    .await
    .unwrap();
    log.clear();
    let err = Project::update_by_key(&db, ("acme", "p1"))
        .set(Project::fields().region(), "us")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidRequest(ref m) if m.contains("tier")),
        "{err}"
    );
    assert_eq!(log.count("UpdateItem"), 0);
    Project::update_by_key(&db, ("acme", "p1"))
        .set(Project::fields().region(), "us")
        .set(Project::fields().tier(), "silver")
        .await
        .unwrap();
    let stored = raw(&db, "ORG#acme", "PROJECT#p1").await.unwrap();
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("REGION#us#silver"));
}

#[tokio::test]
async fn a_scan_of_an_entity_reads_only_its_items_and_projections_keep_the_type() {
    let db = setup("st_scan").await;
    acme().put(&db).await.unwrap();
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    user("u2", "bob@acme.test", None).put(&db).await.unwrap();
    invoice(2024, 1, 1, "open").put(&db).await.unwrap();
    let users = User::scan(&db).recursive().collect_all().await.unwrap();
    assert_eq!(users.len(), 2);
    assert_eq!(User::scan(&db).recursive().count().await.unwrap(), 2);
    // A projection into the entity still carries the type attribute it is checked by.
    let emails = User::query(&db, "acme")
        .specific_attributes((
            User::fields().org_id(),
            User::fields().user_id(),
            User::fields().email(),
        ))
        .collect_all()
        .await;
    assert!(emails.is_ok(), "{emails:?}");
}

#[tokio::test]
async fn the_declaration_manages_its_table() {
    let db = db("st_manage");
    assert!(!Saas::table_exists(&db).await.unwrap());
    Saas::ensure_table(&db).await.unwrap();
    Saas::wait_until_active(&db).await.unwrap();
    assert!(Saas::table_exists(&db).await.unwrap());
    assert!(
        Saas::plan_table(&db).await.unwrap().is_empty(),
        "the table is as declared"
    );
    // An entity's schema is the same table: its plan is empty too.
    assert!(User::plan_table(&db).await.unwrap().is_empty());
    Saas::delete_table(&db).await.unwrap();
    assert!(!Saas::table_exists(&db).await.unwrap());
}

mod roles {
    use super::*;
    use dynorm::{BoxError, Hooks};

    #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
    #[entity(table = Saas, name = "Session", pk = "USER#{user}", sk = "SESSION#{id}", case = "lower", hooks)]
    struct Session {
        user: String,
        id: String,
        #[validate(length(min = 1))]
        device: String,
        #[dynorm(ttl)]
        expires: u64,
        #[dynorm(created_at)]
        #[serde(default)]
        created: u64,
        #[dynorm(updated_at)]
        #[serde(default)]
        updated: u64,
    }

    impl Hooks for Session {
        fn before_save(&self) -> Result<(), BoxError> {
            if self.device == "banned" {
                return Err("banned device".into());
            }
            Ok(())
        }
    }

    #[tokio::test]
    async fn hooks_validation_timestamps_ttl_and_case_work_on_entities() {
        let db = setup("st_roles").await;
        let session = Session {
            user: "Ann".into(),
            id: "S1".into(),
            device: "phone".into(),
            expires: 4_102_444_800,
            created: 0,
            updated: 0,
        };
        session.put(&db).await.unwrap();
        // `case = "lower"`: the whole key is written in lower case.
        let stored = raw(&db, "user#ann", "session#s1").await.expect("lower-case keys");
        assert!(stored["created"].as_n().unwrap() != "0", "created_at was set");
        assert!(stored["updated"].as_n().is_ok());
        assert_eq!(s(&stored, "_type").as_deref(), Some("Session"));
        let got = Session::get(&db, ("Ann", "S1")).consistent_read(true).await.unwrap();
        assert_eq!(got.map(|g| g.device), Some("phone".to_owned()));
        let banned = Session {
            device: "banned".into(),
            ..session.clone()
        };
        assert!(matches!(banned.put(&db).await.unwrap_err(), Error::Hook { .. }));
        let invalid = Session {
            device: String::new(),
            ..session.clone()
        };
        assert!(matches!(invalid.put(&db).await.unwrap_err(), Error::Validation(_)));
        // The entity's TTL attribute is the table's when created from the entity.
        let input = Session::create_table(&db).to_input().unwrap();
        assert_eq!(input.table_name(), Some(db.table_name::<Saas>().as_str()));
        assert_eq!(<Session as DynaModel>::schema().ttl_attribute, Some("expires"));
    }
}

#[tokio::test]
async fn a_batch_get_of_two_entities_of_one_table_gives_each_its_items() {
    let db = setup("st_batch_get").await;
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    user("u2", "bob@acme.test", None).put(&db).await.unwrap();
    invoice(2024, 1, 1, "open").put(&db).await.unwrap();
    let mut got = db
        .batch_get()
        .get::<User>(("acme", "u1"))
        .get::<Invoice>(("acme", 2024, 1, 1))
        .get::<User>(("acme", "u2"))
        .await
        .unwrap();
    let users = got.models::<User>().unwrap();
    assert_eq!(
        users.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>(),
        ["u1", "u2"]
    );
    let invoices = got.models::<Invoice>().unwrap();
    assert_eq!(invoices.len(), 1);
    assert!(got.is_empty());
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "tag", pk = "ORG#{org}#TAG#{tag}", sk = "T", case = "lower")]
struct Tag {
    org: String,
    tag: String,
}

#[tokio::test]
async fn a_separator_is_checked_in_the_case_the_key_is_written_in() {
    let (db, log) = logged_db("st_case_sep");
    Saas::create_table(&db).await.unwrap();
    log.clear();
    // Lower-cased, ("a#tag", "x") and ("a", "tag#x") would share "org#a#tag#tag#x".
    let err = Tag {
        org: "a#TAG".into(),
        tag: "x".into(),
    }
    .put(&db)
    .await
    .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidKey {
            problem: KeyProblem::TemplateSeparator { field: "org" },
            ..
        }
    ));
    assert!(log.is_empty());
    Tag {
        org: "A".into(),
        tag: "Tag#X".into(),
    }
    .put(&db)
    .await
    .unwrap();
    assert!(raw(&db, "org#a#tag#tag#x", "t").await.is_some());
}

#[tokio::test]
async fn an_update_writes_the_type_and_applies_only_to_the_entitys_items() {
    let db = setup("st_update_type").await;
    // An update of a missing item creates a typed item, visible to queries.
    User::update_by_key(&db, ("acme", "u7"))
        .set(User::fields().email(), "new@acme.test")
        .await
        .unwrap();
    let stored = raw(&db, "ORG#acme", "USER#u7").await.unwrap();
    assert_eq!(s(&stored, "_type").as_deref(), Some("user"));
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("EMAIL#new@acme.test"));
    // An item of another entity at that key is not changed.
    db.client()
        .put_item()
        .table_name(db.table_name::<Saas>())
        .item("pk", AttributeValue::S("ORG#acme".into()))
        .item("sk", AttributeValue::S("USER#u8".into()))
        .item("_type", AttributeValue::S("project".into()))
        .send()
        .await
        .unwrap();
    let err = User::update_by_key(&db, ("acme", "u8"))
        .set(User::fields().email(), "x@acme.test")
        .await
        .unwrap_err();
    match err {
        Error::WrongEntity { expected, found, .. } => {
            assert_eq!(expected, "user");
            assert_eq!(found.as_deref(), Some("project"));
        }
        other => panic!("expected WrongEntity, got {other:?}"),
    }
    assert!(!raw(&db, "ORG#acme", "USER#u8").await.unwrap().contains_key("email"));
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Saas, name = "device", pk = "ORG#{org_id}", sk = "DEVICE#{device_id}")]
#[entity_index(name = "gsi1", pk = "OWNER#{owner}", sk = "DEVICE#{device_id}")]
struct Device {
    org_id: String,
    device_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    #[dynorm(created_at)]
    #[serde(default)]
    created: u64,
}

#[tokio::test]
async fn a_put_that_keeps_the_creation_time_leaves_a_sparse_index_too() {
    let db = setup("st_created_sparse").await;
    let mut d = Device {
        org_id: "acme".into(),
        device_id: "d1".into(),
        owner: Some("ann".into()),
        created: 0,
    };
    d.put(&db).await.unwrap();
    assert!(raw(&db, "ORG#acme", "DEVICE#d1").await.unwrap().contains_key("gsi1pk"));
    d.owner = None;
    d.put(&db).await.unwrap();
    let stored = raw(&db, "ORG#acme", "DEVICE#d1").await.unwrap();
    assert!(
        !stored.contains_key("gsi1pk") && !stored.contains_key("gsi1sk"),
        "{stored:?}"
    );
    assert!(Device::gsi1().query(&db, "ann").collect_all().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_instance_update_fills_the_other_template_fields_from_the_instance() {
    let db = setup("st_instance_update").await;
    let mut p = Project {
        org_id: "acme".into(),
        project_id: "p1".into(),
        region: "eu".into(),
        tier: "gold".into(),
    };
    p.put(&db).await.unwrap();
    p.update(&db).set(Project::fields().region(), "us").await.unwrap();
    let stored = raw(&db, "ORG#acme", "PROJECT#p1").await.unwrap();
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("REGION#us#gold"));
    assert_eq!(p.region, "us");
}

#[tokio::test]
async fn a_partial_save_adds_and_removes_a_sparse_index_entry() {
    let db = setup("st_tracked_sparse").await;
    user("u1", "ann@acme.test", None).put(&db).await.unwrap();
    let mut u = User::get(&db, ("acme", "u1"))
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    u.manager = Some("boss".into());
    // The changed field and the index keys made from it are sent; the other fields and
    // index keys are not.
    let dynorm::ops::WriteInput::Update(input) = u.save(&db).to_input().unwrap().unwrap() else {
        panic!("a partial save is an update");
    };
    let names: Vec<&str> = input
        .expression_attribute_names()
        .unwrap()
        .values()
        .map(String::as_str)
        .collect();
    for sent in ["gsi2pk", "gsi2sk", "manager", "version"] {
        assert!(names.contains(&sent), "{sent} in {names:?}");
    }
    for unsent in ["email", "gsi1pk", "gsi1sk"] {
        assert!(!names.contains(&unsent), "{unsent} in {names:?}");
    }
    assert!(u.save(&db).await.unwrap());
    let stored = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert_eq!(s(&stored, "gsi2pk").as_deref(), Some("MANAGER#boss"));
    assert_eq!(s(&stored, "gsi2sk").as_deref(), Some("USER#u1"));
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("EMAIL#ann@acme.test"));
    assert_eq!(User::gsi2().query(&db, "boss").collect_all().await.unwrap().len(), 1);
    // The snapshot moved on with the save: nothing is left to send.
    assert!(!u.is_changed().unwrap());
    assert!(!u.save(&db).await.unwrap());

    // Without a manager the item leaves the sparse index: both its keys are removed.
    u.manager = None;
    u.email = "ann@new.test".into();
    assert!(u.save(&db).await.unwrap());
    let stored = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert!(!stored.contains_key("gsi2pk") && !stored.contains_key("gsi2sk"));
    assert!(!stored.contains_key("manager"));
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("EMAIL#ann@new.test"));
    assert!(User::gsi2().query(&db, "boss").collect_all().await.unwrap().is_empty());
    assert_eq!(u.version, 3);

    // A field of the table's key computes the key: changing it is refused, unsent.
    u.user_id = "u2".into();
    assert!(matches!(u.save(&db).await, Err(Error::InvalidExpression(_))));
    assert!(raw(&db, "ORG#acme", "USER#u2").await.is_none());
}

#[tokio::test]
async fn a_partial_save_writes_index_keys_the_stored_item_lacks() {
    let db = setup("st_tracked_backfill").await;
    // Written by another program before `gsi2` was added to the entity: the manager is
    // there, the index keys made of it are not.
    let mut written = user("u1", "ann@acme.test", Some("boss"));
    written.version = 1;
    let mut item = written.to_item().unwrap();
    item.remove("gsi2pk");
    item.remove("gsi2sk");
    db.client()
        .put_item()
        .table_name(db.table_name::<Saas>())
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let mut u = User::get(&db, ("acme", "u1"))
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    assert!(u.is_changed().unwrap(), "the missing index keys are a change to save");
    u.email = "ann@new.test".into();
    assert!(u.save(&db).await.unwrap());
    let stored = raw(&db, "ORG#acme", "USER#u1").await.unwrap();
    assert_eq!(s(&stored, "gsi2pk").as_deref(), Some("MANAGER#boss"));
    assert_eq!(s(&stored, "gsi1pk").as_deref(), Some("EMAIL#ann@new.test"));
    assert_eq!(User::gsi2().query(&db, "boss").collect_all().await.unwrap().len(), 1);
}
