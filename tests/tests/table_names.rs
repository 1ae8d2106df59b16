//! Runtime table names: a handle maps a model's declared table name to the deployed one,
//! checked when the handle is built, and every request uses it.

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{Db, DynaModel, Error};
use dynorm_tests::{endpoint, unique_prefix};
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    isbn: String,
    title: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "authors", hash_key = "name")]
struct Author {
    name: String,
}

fn client() -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::from_conf(Db::local_config(endpoint()).build())
}

#[tokio::test]
async fn a_deployed_name_replaces_the_declared_one_everywhere() {
    let prefix = unique_prefix("names");
    let deployed = format!("{prefix}deployed-books-3FA9");
    let db = Db::builder(client())
        .table_prefix(prefix.clone())
        .table_name("books", deployed.clone())
        .try_build()
        .unwrap();
    assert_eq!(db.table_name::<Book>(), deployed);
    assert_eq!(
        db.table_name::<Author>(),
        format!("{prefix}authors"),
        "others keep the prefix"
    );

    Book::create_table(&db).await.unwrap();
    Author::create_table(&db).await.unwrap();
    let book = Book {
        isbn: "1".into(),
        title: "Dune".into(),
    };
    book.put(&db).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(&deployed)
        .key("isbn", AttributeValue::S("1".into()))
        .send()
        .await
        .unwrap();
    assert!(raw.item.is_some(), "stored under the deployed name");
    assert_eq!(Book::get(&db, "1").await.unwrap(), Some(book.clone()));
    let mut got = db.batch_get().get::<Book>("1").get::<Author>("x").send().await.unwrap();
    assert_eq!(got.models::<Book>().unwrap(), std::slice::from_ref(&book));
    let scanned: Vec<Book> = Book::scan(&db).try_collect().await.unwrap();
    assert_eq!(scanned, [book]);
    assert!(db.is_verified(&deployed));

    // A handle made from it keeps the mapping.
    let other = db.with_table_prefix("elsewhere-");
    assert_eq!(other.table_name::<Book>(), deployed);
}

#[test]
fn names_dynamodb_would_refuse_are_refused_when_the_handle_is_built() {
    let bad = Db::builder(client())
        .table_name("books", "no spaces allowed")
        .try_build();
    assert!(matches!(bad, Err(Error::InvalidTableName { name, .. }) if name == "no spaces allowed"));
    let bad_prefix = Db::builder(client()).table_prefix("dev/").try_build();
    assert!(matches!(bad_prefix, Err(Error::InvalidTableName { .. })));
}

#[test]
fn a_deployed_name_can_come_from_the_environment() {
    std::env::set_var("DYNORM_TEST_BOOKS_TABLE", "from-env-books");
    let db = Db::builder(client())
        .table_name_from_env("books", "DYNORM_TEST_BOOKS_TABLE")
        .table_name_from_env("authors", "DYNORM_TEST_UNSET_TABLE")
        .try_build()
        .unwrap();
    assert_eq!(db.table_name::<Book>(), "from-env-books");
    assert_eq!(db.table_name::<Author>(), "authors");
}
