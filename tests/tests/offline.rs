//! `Db::offline()`: every request can be built and inspected (`.to_input()`) with no
//! client configuration, endpoint, credentials or server, and sending anything fails
//! with `Error::Offline` before a request is resolved or sent. No DynamoDB Local needed.

use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use dynorm::{Db, DynaModel, Error, Index, Tracked, WriteOutcome};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "offline_books", hash_key = "shelf", range_key = "isbn")]
#[global_index(name = "by-author", hash_key = "author", range_key = "published")]
struct Book {
    shelf: String,
    isbn: String,
    #[validate(length(min = 1))]
    title: String,
    author: String,
    published: u16,
    #[serde(default)]
    views: u64,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

fn book() -> Book {
    Book {
        shelf: "s1".into(),
        isbn: "978-0441013593".into(),
        title: "Dune".into(),
        author: "Frank Herbert".into(),
        published: 1965,
        views: 0,
        version: 3,
    }
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// No runtime, no endpoint, no credentials: every operation's input is built.
#[test]
fn inputs_are_built_without_a_client_or_endpoint() {
    let db = Db::offline().with_table_prefix("dev-");
    let table = Some("dev-offline_books");
    let key = ("s1", "978-0441013593");
    let f = Book::fields();

    let get = Book::get(&db, key).consistent_read(true).to_input().unwrap();
    assert_eq!(get.table_name(), table);
    assert_eq!(get.consistent_read(), Some(true));
    assert_eq!(get.key().unwrap()["isbn"], s("978-0441013593"));

    let mut b = book();
    let put = b.put(&db).to_input().unwrap();
    let put = put.as_put().expect("a PutItem");
    assert_eq!(put.table_name(), table);
    assert_eq!(put.item().unwrap()["version"], AttributeValue::N("4".into()));
    assert!(put.condition_expression().is_some(), "conditioned on version 3");
    assert!(b.save(&db).to_input().unwrap().as_put().is_some());
    // Client-side checks run as when sending.
    let invalid = Book {
        title: String::new(),
        ..book()
    };
    assert!(matches!(invalid.put(&db).to_input(), Err(Error::Validation(_))));

    let delete = b.delete(&db).to_input().unwrap();
    assert_eq!(delete.table_name(), table);
    assert!(delete.condition_expression().is_some());
    let delete = Book::delete_by_key(&db, key).to_input().unwrap();
    assert_eq!(delete.condition_expression(), None);

    let update = Book::update_by_key(&db, key)
        .set(f.title(), "Dune Messiah")
        .increment(f.views(), 1)
        .to_input()
        .unwrap();
    assert_eq!(update.table_name(), table);
    assert_eq!(update.return_values(), Some(&ReturnValue::AllNew));
    let expression = update.update_expression().unwrap();
    assert!(expression.starts_with("SET "), "{expression}");
    let update = b.update(&db).set(f.title(), "Dune Messiah").to_input().unwrap();
    assert!(
        update.condition_expression().is_some(),
        "an instance update checks its version"
    );

    let query = Book::query(&db, "s1")
        .range(|isbn| isbn.begins_with("978"))
        .filter(f.views().gt(10))
        .limit(5)
        .to_input()
        .unwrap();
    assert_eq!(query.table_name(), table);
    assert_eq!(query.limit(), Some(5));
    assert!(query.filter_expression().is_some());
    let by_author = Book::by_author().query(&db, "Frank Herbert").to_input().unwrap();
    assert_eq!(by_author.index_name(), Some("by-author"));

    let scan = Book::scan(&db).segments(4).to_input().unwrap();
    assert_eq!(scan.table_name(), table);
    assert_eq!((scan.segment(), scan.total_segments()), (Some(0), Some(4)));

    let create = Book::create_table(&db).to_input().unwrap();
    assert_eq!(create.table_name(), table);
    let mut tracked = Tracked::loaded(book()).unwrap();
    tracked.title = "Children of Dune".into();
    let save = tracked.save(&db).to_input().unwrap().expect("a change to save");
    assert!(save.as_update().is_some());
    let writes = db.batch_write().put(&book()).to_requests().unwrap();
    assert_eq!(writes.len(), 1);
    let items = db.transact_write().write(book().put(&db)).to_items().unwrap();
    assert_eq!(items.len(), 1);
}

/// Sending from an offline handle fails with `Error::Offline` at once: nothing is
/// resolved or sent (the handle has no endpoint and no region to send to).
#[tokio::test]
async fn sending_fails_with_a_typed_error_before_any_request() {
    let db = Db::offline().with_table_prefix("dev-");
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut check = |what: &str, result: Result<(), Error>| match result {
        Err(Error::Offline) => {}
        other => failures.push(format!("{what}: expected Offline, got {other:?}")),
    };
    let key = ("s1", "978-0441013593");
    let f = Book::fields();
    let mut b = book();
    check("get", Book::get(&db, key).await.map(drop));
    check("put", b.put(&db).await);
    check("put_unique", b.put_unique(&db).await);
    check("save", b.save(&db).await);
    check("instance update", b.update(&db).increment(f.views(), 1).await);
    check(
        "update by key",
        Book::update_by_key(&db, key).set(f.title(), "x").await.map(drop),
    );
    check("delete", b.delete(&db).await);
    check("delete by key", Book::delete_by_key(&db, key).await.map(drop));
    check("query", Book::query(&db, "s1").collect_all().await.map(drop));
    check(
        "index query",
        Book::by_author()
            .query(&db, "Frank Herbert")
            .collect_all()
            .await
            .map(drop),
    );
    check("scan", Book::scan(&db).segments(2).collect_all().await.map(drop));
    check("count", Book::scan(&db).count().await.map(drop));
    let mut tracked = Tracked::loaded(book()).unwrap();
    tracked.title = "Children of Dune".into();
    check("tracked save", tracked.save(&db).await.map(drop));
    check("create_table", Book::create_table(&db).await);
    check("ensure_table", Book::ensure_table(&db).await);
    check("table_exists", Book::table_exists(&db).await.map(drop));
    check("delete_table", Book::delete_table(&db).await);
    // A batch reports the refusal as the cause of a batch left whole.
    let whole_batch = |result: Result<(), Error>| match result {
        Err(Error::BatchIncomplete {
            left,
            cause: Some(cause),
        }) if left.len() == 1 => Err(*cause),
        other => other,
    };
    let deadline = Duration::from_secs(5);
    let batch = db.batch_get().get::<Book>(key).deadline(deadline).send().await;
    check("batch get", whole_batch(batch.map(drop)));
    let batch = db.batch_write().put(&book()).deadline(deadline).send().await;
    check("batch write", whole_batch(batch.map(drop)));
    check(
        "transact write",
        db.transact_write().write(book().put(&db)).send().await,
    );
    let mut tx = db.transact_get();
    let _slot = tx.get::<Book>(key);
    check("transact get", tx.send().await.map(drop));
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The error says nothing was sent; the raw client refuses too, without a panic.
    let err = Book::get(&db, key).await.unwrap_err();
    assert_eq!(err.write_outcome(), WriteOutcome::NotSent);
    assert!(!err.may_have_applied());
    assert!(err.to_string().contains("offline"), "{err}");
    assert!(db.client().list_tables().send().await.is_err());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no retry, no wait: {:?}",
        started.elapsed()
    );
}
