//! get, put, put_unique, save, delete and the manager, on hash-only and hash+range
//! models, against DynamoDB Local.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{DynaModel, Error, KeyAttribute};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    isbn: String,
    #[validate(length(min = 1))]
    title: String,
    author: String,
    published: u16,
    #[serde(default, with = "dynorm::serde_dynamo::string_set")]
    tags: BTreeSet<String>,
}

fn dune() -> Book {
    Book {
        isbn: "978-0441013593".into(),
        title: "Dune".into(),
        author: "Frank Herbert".into(),
        published: 1965,
        tags: ["classic".to_owned(), "sf".to_owned()].into(),
    }
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "replies", hash_key = "thread", range_key = "posted")]
struct Reply {
    thread: String,
    posted: u64,
    body: String,
}

#[derive(KeyAttribute, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct UserId(String);

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "users", hash_key = "id")]
#[serde(rename_all = "camelCase")]
struct User {
    id: UserId,
    display_name: String,
    #[serde(rename = "mail")]
    email_address: String,
    #[serde(skip)]
    session_only: Option<String>,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "blobs", hash_key = "digest", range_key = "chunk")]
struct Blob {
    #[serde(with = "dynorm::bytes")]
    digest: Vec<u8>,
    chunk: i32,
    data: String,
}

#[tokio::test]
async fn put_get_save_delete_hash_only() {
    let db = db("crud-hash");
    Book::create_table(&db).await.unwrap();

    assert_eq!(
        Book::get(&db, "978-0441013593").await.unwrap(),
        None,
        "absent item is Ok(None)"
    );

    let mut book = dune();
    book.put(&db).await.unwrap();
    let loaded = Book::get(&db, "978-0441013593").consistent_read(true).await.unwrap();
    assert_eq!(loaded.as_ref(), Some(&book));

    book.title = "Dune (40th anniversary)".into();
    book.tags.insert("anniversary".into());
    book.save(&db).await.unwrap();
    let loaded = Book::get(&db, book.pk()).consistent_read(true).await.unwrap().unwrap();
    assert_eq!(loaded, book);

    book.delete(&db).await.unwrap();
    assert_eq!(
        Book::get(&db, "978-0441013593").consistent_read(true).await.unwrap(),
        None
    );
    // Deleting what is not there succeeds, as DynamoDB's DeleteItem does.
    Book::delete_by_key(&db, "978-0441013593").await.unwrap();
}

#[tokio::test]
async fn put_unique_reports_already_exists() {
    let db = db("crud-unique");
    Book::create_table(&db).await.unwrap();
    let book = dune();
    book.put_unique(&db).await.unwrap();

    let mut other = dune();
    other.title = "Not Dune".into();
    let err = other.put_unique(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::AlreadyExists { table, .. } if table.ends_with("books")),
        "{err:?}"
    );
    let existing: Book = err.current_item().expect("the existing item is returned").unwrap();
    assert_eq!(existing, book, "the error carries the item that is there");
    let stored = Book::get(&db, book.pk()).consistent_read(true).await.unwrap().unwrap();
    assert_eq!(stored.title, "Dune", "the existing item is untouched");
}

#[tokio::test]
async fn put_unique_and_manager_on_a_hash_and_range_model() {
    let db = db("crud-unique-range");
    Reply::create_table(&db).await.unwrap();
    let replies = Reply::objects(&db);
    let first = Reply {
        thread: "t".into(),
        posted: 1,
        body: "one".into(),
    };
    replies.create(&first).await.unwrap();
    // Same hash key, other range key: a different item, so it is created.
    let second = Reply {
        thread: "t".into(),
        posted: 2,
        body: "two".into(),
    };
    second.put_unique(&db).await.unwrap();
    let again = Reply {
        body: "changed".into(),
        ..first.clone()
    };
    assert!(matches!(replies.create(&again).await, Err(Error::AlreadyExists { .. })));
    assert_eq!(replies.get(("t", 1)).consistent_read(true).await.unwrap(), Some(first));
    replies.delete(("t", 1)).await.unwrap();
    assert_eq!(replies.get(("t", 1)).consistent_read(true).await.unwrap(), None);
    assert_eq!(replies.get(("t", 2)).consistent_read(true).await.unwrap(), Some(second));
}

#[tokio::test]
async fn hash_and_range_model() {
    let db = db("crud-range");
    Reply::create_table(&db).await.unwrap();
    for (posted, body) in [(1, "first"), (2, "second")] {
        Reply {
            thread: "rust".into(),
            posted,
            body: body.into(),
        }
        .put(&db)
        .await
        .unwrap();
    }
    // Any borrowed or owned string for the hash key; a bare literal for the range key.
    let hash = String::from("rust");
    assert!(Reply::get(&db, (&hash, 2)).await.unwrap().is_some());
    assert!(Reply::get(&db, (hash.clone(), 2)).await.unwrap().is_some());
    let second = Reply::get(&db, ("rust", 2))
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.body, "second");
    assert_eq!(second.pk(), ("rust".to_owned(), 2));
    assert_eq!(Reply::get(&db, ("rust", 3)).await.unwrap(), None);
    assert_eq!(Reply::get(&db, ("go", 1)).await.unwrap(), None);

    Reply::delete_by_key(&db, ("rust", 1)).await.unwrap();
    assert_eq!(Reply::get(&db, ("rust", 1)).consistent_read(true).await.unwrap(), None);
    assert!(Reply::get(&db, ("rust", 2))
        .consistent_read(true)
        .await
        .unwrap()
        .is_some());
}

#[tokio::test]
async fn binary_and_newtype_keys() {
    let db = db("crud-keys");
    Blob::create_table(&db).await.unwrap();
    User::create_table(&db).await.unwrap();

    let blob = Blob {
        digest: vec![0, 1, 2, 255],
        chunk: -4,
        data: "bytes".into(),
    };
    blob.put(&db).await.unwrap();
    assert_eq!(Blob::get(&db, (vec![0u8, 1, 2, 255], -4)).await.unwrap(), Some(blob));

    let user = User {
        id: UserId("u-1".into()),
        display_name: "Ada".into(),
        email_address: "ada@example.com".into(),
        session_only: Some("not stored".into()),
    };
    user.put(&db).await.unwrap();
    let loaded = User::get(&db, UserId("u-1".into()))
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(loaded.display_name, "Ada");
    assert_eq!(loaded.session_only, None, "serde(skip) fields are not stored");
}

#[tokio::test]
async fn attribute_names_follow_serde() {
    let db = db("crud-names");
    User::create_table(&db).await.unwrap();
    let schema = User::schema();
    assert_eq!(schema.hash_key.name, "id");

    let user = User {
        id: UserId("u-2".into()),
        display_name: "Grace".into(),
        email_address: "grace@example.com".into(),
        session_only: None,
    };
    user.put(&db).await.unwrap();
    let raw = db
        .client()
        .get_item()
        .table_name(db.table_name::<User>())
        .key("id", AttributeValue::S("u-2".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let mut names: Vec<&str> = raw.keys().map(String::as_str).collect();
    names.sort();
    assert_eq!(names, ["displayName", "id", "mail"]);
}

#[tokio::test]
async fn manager_create_get_delete() {
    let db = db("crud-manager");
    Book::create_table(&db).await.unwrap();
    let books = Book::objects(&db);
    let book = dune();
    books.create(&book).await.unwrap();
    assert!(matches!(books.create(&book).await, Err(Error::AlreadyExists { .. })));
    assert_eq!(
        books.get(book.isbn.as_str()).consistent_read(true).await.unwrap(),
        Some(book.clone())
    );
    books.delete(book.isbn.clone()).await.unwrap();
    assert_eq!(books.get(book.isbn.as_str()).consistent_read(true).await.unwrap(), None);
}

#[tokio::test]
async fn send_and_await_are_the_same() {
    let db = db("crud-send");
    Book::create_table(&db).await.unwrap();
    dune().put(&db).send().await.unwrap();
    let got = Book::get(&db, "978-0441013593")
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    assert_eq!(got, Some(dune()));
}

#[tokio::test]
async fn operations_describe_their_input_without_sending() {
    let (db, log) = logged_db("crud-describe");
    let get = Book::get(&db, "x").consistent_read(true).to_input().unwrap();
    assert_eq!(get.table_name(), Some(db.table_name::<Book>().as_str()));
    assert_eq!(get.consistent_read(), Some(true));
    assert_eq!(get.key().unwrap().get("isbn"), Some(&AttributeValue::S("x".into())));

    let put = dune().put_unique(&db).to_input().unwrap();
    let put = put.as_put().unwrap();
    assert_eq!(put.condition_expression(), Some("attribute_not_exists(#n0)"));
    assert_eq!(
        put.expression_attribute_names().unwrap().get("#n0").map(String::as_str),
        Some("isbn")
    );
    let item = put.item().unwrap();
    assert_eq!(item.get("published"), Some(&AttributeValue::N("1965".into())));
    assert_eq!(
        item.get("tags"),
        Some(&AttributeValue::Ss(vec!["classic".into(), "sf".into()]))
    );
    assert_eq!(
        dune()
            .put(&db)
            .to_input()
            .unwrap()
            .as_put()
            .unwrap()
            .condition_expression(),
        None
    );

    let delete = Reply::delete_by_key(&db, ("t", 7)).to_input().unwrap();
    assert_eq!(
        delete.key().unwrap().get("posted"),
        Some(&AttributeValue::N("7".into()))
    );

    let create = Book::create_table(&db).to_input().unwrap();
    assert_eq!(create.table_name(), Some(db.table_name::<Book>().as_str()));
    let drop = Book::delete_table(&db).to_input().unwrap();
    assert_eq!(drop.table_name(), Some(db.table_name::<Book>().as_str()));
    let mut saved = dune();
    let save = saved.save(&db).to_input().unwrap();
    assert_eq!(
        save.as_put().unwrap().item(),
        dune().put(&db).to_input().unwrap().as_put().unwrap().item()
    );
    assert!(log.is_empty(), "describing made requests: {:?}", log.operations());
}

#[tokio::test]
async fn prefixes_keep_handles_apart() {
    let dev = db("crud-prefix");
    let prod = dev.with_table_prefix(format!("{}prod-", dev.table_prefix()));
    Book::create_table(&dev).await.unwrap();
    Book::create_table(&prod).await.unwrap();
    assert_ne!(dev.table_name::<Book>(), prod.table_name::<Book>());

    dune().put(&dev).await.unwrap();
    assert!(Book::get(&dev, "978-0441013593")
        .consistent_read(true)
        .await
        .unwrap()
        .is_some());
    assert!(Book::get(&prod, "978-0441013593")
        .consistent_read(true)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn missing_table_is_a_typed_error_unless_auto_create_is_on() {
    let db = db("crud-missing");
    let err = Book::get(&db, "x").await.unwrap_err();
    assert!(
        matches!(&err, Error::TableNotFound { table } if *table == db.table_name::<Book>()),
        "{err:?}"
    );

    let auto = dynorm::Db::builder(db.client().clone())
        .table_prefix(db.table_prefix())
        .auto_create_tables(true)
        .build();
    dune().put(&auto).await.unwrap();
    assert!(Book::table_exists(&db).await.unwrap());
    assert_eq!(
        Book::get(&auto, "978-0441013593").consistent_read(true).await.unwrap(),
        Some(dune())
    );
}
