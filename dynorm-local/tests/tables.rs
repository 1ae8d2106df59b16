//! TestTables gives each test a prefix of its own and drops the test's tables, from sync
//! tests and from inside either flavor of Tokio runtime.

use dynorm::DynaModel;
use dynorm_local::TestTables;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    isbn: String,
    title: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "reviews", hash_key = "isbn", range_key = "reviewer")]
struct Review {
    isbn: String,
    reviewer: String,
    stars: u8,
}

fn dune() -> Book {
    Book {
        isbn: "978-0441013593".into(),
        title: "Dune".into(),
    }
}

/// The tables on the server whose names start with `prefix`, listed with a client of
/// its own.
async fn tables_with(prefix: &str) -> Vec<String> {
    let client = dynorm::Db::local_client(dynorm_local::endpoint().unwrap());
    let mut names = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .list_tables()
            .set_exclusive_start_table_name(start)
            .send()
            .await
            .unwrap();
        names.extend(page.table_names().iter().filter(|n| n.starts_with(prefix)).cloned());
        start = page.last_evaluated_table_name;
        if start.is_none() {
            return names;
        }
    }
}

/// Creates both tables and uses them, so the handle's client holds pooled connections.
async fn create_and_use(db: &TestTables) {
    Book::create_table(db).await.unwrap();
    Review::create_table(db).await.unwrap();
    dune().put(db).await.unwrap();
    assert_eq!(Book::get(db, "978-0441013593").await.unwrap(), Some(dune()));
    let mut names = tables_with(db.prefix()).await;
    names.sort();
    assert_eq!(
        names,
        [format!("{}books", db.prefix()), format!("{}reviews", db.prefix())]
    );
}

#[test]
fn dropping_in_a_sync_test_deletes_the_tables() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let db = TestTables::new("sync_drop").unwrap();
    let prefix = db.prefix().to_owned();
    assert!(prefix.starts_with("sync_drop-"), "{prefix}");
    assert_eq!(db.table_name::<Book>(), format!("{prefix}books"));
    runtime.block_on(create_and_use(&db));
    drop(db);
    assert!(runtime.block_on(tables_with(&prefix)).is_empty());
}

#[tokio::test]
async fn dropping_inside_a_current_thread_runtime_deletes_the_tables() {
    let db = TestTables::new("current_thread_drop").unwrap();
    let prefix = db.prefix().to_owned();
    create_and_use(&db).await;
    // The handle's pooled connections are driven by this runtime, which the drop blocks:
    // the cleanup must not need them.
    drop(db);
    assert!(tables_with(&prefix).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_inside_a_multi_thread_runtime_deletes_the_tables() {
    let db = TestTables::new("multi_thread_drop").unwrap();
    let prefix = db.prefix().to_owned();
    create_and_use(&db).await;
    drop(db);
    assert!(tables_with(&prefix).await.is_empty());
}

#[tokio::test]
async fn a_test_that_panics_still_drops_its_tables() {
    let db = TestTables::new("panicking").unwrap();
    let prefix = db.prefix().to_owned();
    create_and_use(&db).await;
    let unwound = tokio::task::spawn(async move {
        let _db = db;
        panic!("a failing test");
    })
    .await;
    assert!(unwound.unwrap_err().is_panic());
    assert!(tables_with(&prefix).await.is_empty());
}

#[tokio::test]
async fn cleanup_drops_the_tables_and_names_them() {
    let db = TestTables::new("explicit_cleanup").unwrap();
    let prefix = db.prefix().to_owned();
    create_and_use(&db).await;
    let mut dropped = db.cleanup().await.unwrap();
    dropped.sort();
    assert_eq!(dropped, [format!("{prefix}books"), format!("{prefix}reviews")]);
    assert!(tables_with(&prefix).await.is_empty());
}

#[tokio::test]
async fn only_the_tests_own_tables_are_dropped() {
    let mine = TestTables::new("mine").unwrap();
    let theirs = TestTables::new("mine").unwrap();
    assert_ne!(mine.prefix(), theirs.prefix());
    Book::create_table(&mine).await.unwrap();
    Book::create_table(&theirs).await.unwrap();
    // A table outside any test's prefix, on the same server.
    let outside =
        dynorm::Db::local(dynorm_local::endpoint().unwrap()).with_table_prefix(format!("outside-{}", mine.prefix()));
    Book::create_table(&outside).await.unwrap();

    let mine_prefix = mine.prefix().to_owned();
    drop(mine);
    assert!(tables_with(&mine_prefix).await.is_empty());
    assert_eq!(
        tables_with(theirs.prefix()).await,
        [format!("{}books", theirs.prefix())]
    );
    assert_eq!(
        tables_with(outside.table_prefix()).await,
        [format!("{}books", outside.table_prefix())]
    );
    Book::delete_table(&outside).await.unwrap();
}

#[test]
fn dropping_with_no_server_reports_and_does_not_panic() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let db = TestTables::at(format!("http://127.0.0.1:{closed}"), "no_server");
    assert_eq!(db.endpoint(), format!("http://127.0.0.1:{closed}"));
    drop(db); // prints the failure to stderr
}
