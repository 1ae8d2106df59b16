//! Multi-attribute index keys against DynamoDB Local: global indexes whose partition and
//! sort keys are several attributes of native types (no concatenation), on a model and on
//! an entity of a single-table design; queries need every partition attribute and take
//! sort conditions left to right.

use aws_sdk_dynamodb::types::KeyType;
use dynorm::{DynaModel, DynaTable, Error, KeyProblem};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "orders", hash_key = "id")]
#[global_index(name = "by_tenant_region", hash_key = ["tenant", "region"], range_key = ["day", "seq"])]
struct Order {
    id: String,
    tenant: String,
    region: String,
    day: u32,
    seq: u32,
    total: i64,
}

fn order(id: &str, tenant: &str, region: &str, day: u32, seq: u32) -> Order {
    Order {
        id: id.into(),
        tenant: tenant.into(),
        region: region.into(),
        day,
        seq,
        total: 1,
    }
}

#[tokio::test]
async fn the_index_has_several_partition_and_sort_attributes() {
    let db = db("ma_create");
    Order::create_table(&db).await.unwrap();
    let table = db
        .client()
        .describe_table()
        .table_name(db.table_name::<Order>())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    let gsi = &table.global_secondary_indexes()[0];
    let keys: Vec<(String, KeyType)> = gsi
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name().to_owned(), k.key_type().clone()))
        .collect();
    assert_eq!(
        keys,
        [
            ("tenant".to_owned(), KeyType::Hash),
            ("region".to_owned(), KeyType::Hash),
            ("day".to_owned(), KeyType::Range),
            ("seq".to_owned(), KeyType::Range),
        ]
    );
    // The plan of the table it just created is empty: the export and the live table agree.
    assert!(Order::plan_table(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn queries_take_every_partition_attribute_and_sort_conditions_left_to_right() {
    let (db, log) = logged_db("ma_query");
    Order::create_table(&db).await.unwrap();
    let orders = [
        order("o1", "t1", "eu", 20261101, 1),
        order("o2", "t1", "eu", 20261101, 2),
        order("o3", "t1", "eu", 20261102, 1),
        order("o4", "t1", "us", 20261101, 1),
        order("o5", "t2", "eu", 20261101, 1),
    ];
    db.batch_write().put_all(&orders).await.unwrap();
    let ids = |v: Vec<Order>| v.into_iter().map(|o| o.id).collect::<Vec<_>>();
    let index = Order::by_tenant_region;

    log.clear();
    let eu = index().query(&db, ("t1", "eu")).collect_all().await.unwrap();
    assert_eq!(ids(eu), ["o1", "o2", "o3"]);
    assert_eq!(log.count("Query"), 1);
    let input = index().query(&db, ("t1", "eu")).to_input().unwrap();
    let expression = input.key_condition_expression().unwrap();
    assert_eq!(expression.matches(" = ").count(), 2, "{expression}");

    let day = index()
        .query(&db, ("t1", "eu"))
        .sort_prefix(20261101u32)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(day), ["o1", "o2"]);
    let one = index()
        .query(&db, ("t1", "eu"))
        .sort_prefix((20261101, 2))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(one), ["o2"]);
    let later = index()
        .query(&db, ("t1", "eu"))
        .sort_from((20261102,))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(later), ["o3"]);
    let between = index()
        .query(&db, ("t1", "eu"))
        .sort_between((20261101, 2), (20261101, 9))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(between), ["o2"]);
    let until = index()
        .query(&db, ("t1", "eu"))
        .sort_until((20261101,))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ids(until), ["o1", "o2"]);

    // Bounds that differ before their last value cannot be expressed: refused, unsent.
    log.clear();
    let err = index()
        .query(&db, ("t1", "eu"))
        .sort_between((20261101, 1), (20261102, 1))
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidKey {
            problem: KeyProblem::BoundsDiffer,
            ..
        }
    ));
    assert_eq!(log.count("Query"), 0);
}

#[derive(DynaTable)]
#[table(name = "tasks", hash_key = "pk", range_key = "sk")]
#[global_index(name = "by_status", hash_key = ["tenant", "status"], range_key = ["due"])]
struct Tasks {
    pk: String,
    sk: String,
    tenant: String,
    status: String,
    due: u32,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = Tasks, name = "task", pk = "TENANT#{tenant}", sk = "TASK#{task_id}")]
#[entity_index(name = "by_status", pk = ["tenant", "status"], sk = ["due"])]
struct Task {
    tenant: String,
    task_id: String,
    status: String,
    due: u32,
}

#[tokio::test]
async fn an_entity_queries_a_multi_attribute_index_of_its_fields() {
    let db = db("ma_entity");
    Tasks::create_table(&db).await.unwrap();
    for (id, status, due) in [("a", "open", 3), ("b", "open", 1), ("c", "done", 2), ("d", "open", 9)] {
        Task {
            tenant: "t1".into(),
            task_id: id.into(),
            status: status.into(),
            due,
        }
        .put(&db)
        .await
        .unwrap();
    }
    let open = Task::by_status()
        .query(&db, ("t1", "open"))
        .collect_all()
        .await
        .unwrap();
    let ids: Vec<String> = open.into_iter().map(|t| t.task_id).collect();
    assert_eq!(ids, ["b", "a", "d"], "by due date");
    let soon = Task::by_status()
        .query(&db, ("t1", "open"))
        .sort_until(3u32)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(soon.len(), 2);
    // The stored item keeps the native attributes, and the computed table keys.
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name::<Tasks>())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("TENANT#t1".into()))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("TASK#a".into()))
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    assert_eq!(raw["due"], aws_sdk_dynamodb::types::AttributeValue::N("3".into()));
    assert_eq!(raw["_type"], aws_sdk_dynamodb::types::AttributeValue::S("task".into()));
}

#[derive(DynaTable)]
#[table(name = "people", hash_key = "pk", range_key = "sk")]
#[global_index(name = "by_email", hash_key = "email", range_key = "joined")]
struct People {
    pk: String,
    sk: String,
    email: String,
    joined: u64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = People, name = "person", pk = "P#{id}", sk = "P")]
#[entity_index(name = "by_email", pk = ["email"], sk = ["joined"])]
struct Person {
    id: String,
    email: String,
    joined: u64,
}

#[tokio::test]
async fn an_entity_sorts_an_index_of_one_native_attribute() {
    let db = db("ma_single_native");
    People::create_table(&db).await.unwrap();
    for (id, joined) in [("a", 10), ("b", 20), ("c", 30)] {
        Person {
            id: id.into(),
            email: "same@x.test".into(),
            joined,
        }
        .put(&db)
        .await
        .unwrap();
    }
    let later = Person::by_email()
        .query(&db, "same@x.test")
        .sort_from(20u64)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(later.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    let between = Person::by_email()
        .query(&db, "same@x.test")
        .sort_between(5u64, 15u64)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(between.len(), 1);
}
