//! Query, scan and the read stream against DynamoDB Local, on a table of 1,200 items with
//! a global and a local index. Every option is compared with the raw SDK call that does
//! the same, sent in the same test.

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::{AttributeValue, Select};
use dynorm::{CursorProblem, Db, DynaModel, Error, Index, Item};
use dynorm_tests::{db, logged_db, seed};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "read_books", hash_key = "shelf", range_key = "isbn")]
#[global_index(name = "by-author", hash_key = "author", range_key = "published")]
#[local_index(name = "by-title", range_key = "title", projection = "keys_only")]
struct Book {
    shelf: String,
    isbn: String,
    title: String,
    author: String,
    published: u16,
    pages: u32,
    #[serde(default)]
    blurb: String,
}

/// What the keys-only local index holds.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct BookKeys {
    shelf: String,
    isbn: String,
    title: String,
}

const SHELVES: usize = 4;
const PER_SHELF: usize = 300;

fn books() -> Vec<Book> {
    (0..SHELVES * PER_SHELF)
        .map(|i| Book {
            shelf: format!("shelf-{}", i % SHELVES),
            isbn: format!("isbn-{i:05}"),
            title: format!("{} {i}", ["Dune", "Emma", "Ulysses", "Beloved", "Dracula"][i % 5]),
            author: format!("author-{}", i % 10),
            published: 1950 + (i % 50) as u16,
            pages: 100 + (i as u32 * 37) % 900,
            blurb: if i % 7 == 0 {
                String::new()
            } else {
                format!("blurb {i}")
            },
        })
        .collect()
}

async fn seeded(test: &str) -> Db {
    let db = db(test);
    Book::create_table(&db).await.unwrap();
    seed(&db, &books()).await;
    db
}

fn decode(items: Vec<Item>) -> Vec<Book> {
    items.into_iter().map(|i| dynorm::from_item(i).unwrap()).collect()
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// A raw query, following pages when `all`; the builder is the hand-written SDK call.
async fn raw_query(
    build: impl Fn() -> aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    all: bool,
) -> Vec<Book> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = build().set_exclusive_start_key(start).send().await.unwrap();
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if !all || start.is_none() {
            return decode(items);
        }
    }
}

async fn raw_scan(build: impl Fn() -> aws_sdk_dynamodb::operation::scan::builders::ScanFluentBuilder) -> Vec<Book> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let out = build().set_exclusive_start_key(start).send().await.unwrap();
        items.extend(out.items.unwrap_or_default());
        start = out.last_evaluated_key;
        if start.is_none() {
            return decode(items);
        }
    }
}

fn sorted(mut books: Vec<Book>) -> Vec<Book> {
    books.sort_by(|a, b| (&a.shelf, &a.isbn).cmp(&(&b.shelf, &b.isbn)));
    books
}

#[tokio::test]
async fn table_queries_match_the_raw_sdk() {
    let db = seeded("read-table").await;
    let table = db.table_name::<Book>();
    let q = || {
        db.client()
            .query()
            .table_name(&table)
            .expression_attribute_names("#h", "shelf")
            .expression_attribute_values(":h", s("shelf-1"))
    };

    // One request, as DynamoDB's 1 MB page: all 300 items of the shelf fit.
    let ours = Book::query(&db, "shelf-1").collect_all().await.unwrap();
    let raw = raw_query(|| q().key_condition_expression("#h = :h"), false).await;
    assert_eq!(ours.len(), PER_SHELF);
    assert_eq!(ours, raw);

    // Each range operator.
    type Cond = fn(dynorm::read::RangeKey<dynorm::Table<Book>>) -> dynorm::read::KeyCondition<dynorm::Table<Book>>;
    type Case = (Cond, &'static str, Vec<(&'static str, AttributeValue)>);
    let cases: Vec<Case> = vec![
        (|k| k.eq("isbn-00005"), "#r = :a", vec![(":a", s("isbn-00005"))]),
        (|k| k.lt("isbn-00100"), "#r < :a", vec![(":a", s("isbn-00100"))]),
        (|k| k.le("isbn-00101"), "#r <= :a", vec![(":a", s("isbn-00101"))]),
        (|k| k.gt("isbn-01100"), "#r > :a", vec![(":a", s("isbn-01100"))]),
        (|k| k.ge("isbn-01101"), "#r >= :a", vec![(":a", s("isbn-01101"))]),
        (
            |k| k.between("isbn-00200", "isbn-00400"),
            "#r BETWEEN :a AND :b",
            vec![(":a", s("isbn-00200")), (":b", s("isbn-00400"))],
        ),
        (
            |k| k.begins_with("isbn-001"),
            "begins_with(#r, :a)",
            vec![(":a", s("isbn-001"))],
        ),
    ];
    for (condition, text, values) in cases {
        let ours = Book::query(&db, "shelf-1")
            .range(condition)
            .collect_all()
            .await
            .unwrap();
        let raw = raw_query(
            || {
                let mut b = q()
                    .key_condition_expression(format!("#h = :h AND {text}"))
                    .expression_attribute_names("#r", "isbn");
                for (k, v) in &values {
                    b = b.expression_attribute_values(*k, v.clone());
                }
                b
            },
            false,
        )
        .await;
        assert!(!ours.is_empty(), "{text}");
        assert_eq!(ours, raw, "{text}");
    }

    // Reverse, consistent, filter.
    let ours = Book::query(&db, "shelf-2")
        .reverse()
        .consistent_read(true)
        .collect_all()
        .await
        .unwrap();
    let raw = raw_query(
        || {
            q().expression_attribute_values(":h", s("shelf-2"))
                .key_condition_expression("#h = :h")
                .scan_index_forward(false)
                .consistent_read(true)
        },
        false,
    )
    .await;
    assert_eq!(ours, raw);
    assert!(ours.windows(2).all(|w| w[0].isbn > w[1].isbn));

    let f = Book::fields();
    let ours = Book::query(&db, "shelf-1")
        .filter(f.pages().gt(500u32))
        .filter(f.title().begins_with("Dune"))
        .collect_all()
        .await
        .unwrap();
    let raw = raw_query(
        || {
            q().key_condition_expression("#h = :h")
                .filter_expression("pages > :p AND begins_with(title, :t)")
                .expression_attribute_values(":p", n(500))
                .expression_attribute_values(":t", s("Dune"))
        },
        false,
    )
    .await;
    assert!(!ours.is_empty());
    assert_eq!(ours, raw);

    // Specific attributes, nested in a projection type.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Title {
        isbn: String,
        title: String,
        pages: u32,
    }
    let ours: Vec<Title> = Book::query(&db, "shelf-3")
        .specific_attributes((f.title(), f.pages()))
        .read_as::<Title>()
        .collect_all()
        .await
        .unwrap();
    let out = q()
        .expression_attribute_values(":h", s("shelf-3"))
        .key_condition_expression("#h = :h")
        .projection_expression("title, pages, isbn")
        .send()
        .await
        .unwrap();
    let raw: Vec<Title> = out
        .items
        .unwrap()
        .into_iter()
        .map(|i| dynorm::from_item(i).unwrap())
        .collect();
    assert_eq!(ours, raw);
    // Without a projection type, the missing fields make a clear error.
    let err = Book::query(&db, "shelf-3")
        .specific_attributes(f.title())
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PartialItem { .. }), "{err}");
    assert!(err.to_string().contains("read_as"), "{err}");

    // count() uses Select=COUNT.
    let ours = Book::query(&db, "shelf-1")
        .range(|k| k.begins_with("isbn-00"))
        .filter(f.pages().ge(300u32))
        .count()
        .await
        .unwrap();
    let out = q()
        .key_condition_expression("#h = :h AND begins_with(#r, :a)")
        .expression_attribute_names("#r", "isbn")
        .expression_attribute_values(":a", s("isbn-00"))
        .filter_expression("pages >= :p")
        .expression_attribute_values(":p", n(300))
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert_eq!(ours, out.count as usize);
    assert!(ours > 0);
    // A projection does not get in the way of a count.
    let counted = Book::query(&db, "shelf-1")
        .specific_attributes(f.title())
        .count()
        .await
        .unwrap();
    assert_eq!(counted, PER_SHELF);
    assert_eq!(
        Book::scan(&db)
            .specific_attributes(f.title())
            .recursive()
            .count()
            .await
            .unwrap(),
        SHELVES * PER_SHELF
    );
}

#[tokio::test]
async fn limit_counts_evaluated_items_and_pages_follow() {
    let db = seeded("read-limit").await;
    let table = db.table_name::<Book>();
    let f = Book::fields();
    let q = || {
        db.client()
            .query()
            .table_name(&table)
            .key_condition_expression("#h = :h")
            .expression_attribute_names("#h", "shelf")
            .expression_attribute_values(":h", s("shelf-0"))
    };

    // Without recursive: one request with Limit.
    let ours = Book::query(&db, "shelf-0").limit(25).collect_all().await.unwrap();
    assert_eq!(ours, raw_query(|| q().limit(25), false).await);
    assert_eq!(ours.len(), 25);

    // With a filter, the limit counts evaluated items: fewer come back.
    let ours = Book::query(&db, "shelf-0")
        .limit(50)
        .filter(f.pages().gt(600u32))
        .collect_all()
        .await
        .unwrap();
    let raw = raw_query(
        || {
            q().limit(50)
                .filter_expression("pages > :p")
                .expression_attribute_values(":p", n(600))
        },
        false,
    )
    .await;
    assert_eq!(ours, raw);
    assert!(ours.len() < 50 && !ours.is_empty());

    // Recursive with a limit and a page size: pages of 40 until 130 were evaluated.
    let (logged, log) = logged_db("read-limit-log");
    let logged = Db::builder(logged.client().clone())
        .table_prefix(db.table_prefix())
        .build();
    let ours = Book::query(&logged, "shelf-0")
        .recursive()
        .page_size(40)
        .limit(130)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(log.count("Query"), 4, "{:?}", log.operations());
    let all = raw_query(q, true).await;
    assert_eq!(ours, all[..130]);

    // Recursive without a limit: everything, in pages.
    log.clear();
    let ours = Book::query(&logged, "shelf-0")
        .recursive()
        .page_size(100)
        .collect_all()
        .await
        .unwrap();
    assert_eq!(ours, all);
    assert_eq!(ours.len(), PER_SHELF);
    assert_eq!(log.count("Query"), 4, "3 full pages and the empty last one");

    // Nothing is sent until the stream is polled.
    log.clear();
    let stream = Book::query(&logged, "shelf-0").recursive();
    tokio::task::yield_now().await;
    assert!(log.is_empty());
    drop(stream);

    // Client-side checks.
    let err = Book::query(&db, "shelf-0").limit(0).collect_all().await.unwrap_err();
    assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
    let err = Book::query(&db, "").collect_all().await.unwrap_err();
    assert!(matches!(err, Error::InvalidKey { .. }), "{err}");
}

#[tokio::test]
async fn indexes_match_the_raw_sdk() {
    let db = seeded("read-index").await;
    let table = db.table_name::<Book>();

    // The global index: hash, range condition, reverse, filter, recursive.
    let f = Book::fields();
    let ours = Book::by_author()
        .query(&db, "author-3")
        .range(|published| published.between(1960, 1980))
        .filter(f.pages().lt(700u32))
        .reverse()
        .recursive()
        .page_size(17)
        .collect_all()
        .await
        .unwrap();
    let raw = raw_query(
        || {
            db.client()
                .query()
                .table_name(&table)
                .index_name("by-author")
                .key_condition_expression("author = :a AND published BETWEEN :lo AND :hi")
                .filter_expression("pages < :p")
                .expression_attribute_values(":a", s("author-3"))
                .expression_attribute_values(":lo", n(1960))
                .expression_attribute_values(":hi", n(1980))
                .expression_attribute_values(":p", n(700))
                .scan_index_forward(false)
                .limit(17)
        },
        true,
    )
    .await;
    assert!(ours.len() > 20);
    assert_eq!(ours, raw);

    // The keys-only local index reads into a projection type.
    let ours: Vec<BookKeys> = Book::by_title()
        .query(&db, "shelf-2")
        .range(|title| title.begins_with("Emma"))
        .consistent_read(true)
        .read_as::<BookKeys>()
        .collect_all()
        .await
        .unwrap();
    let out = db
        .client()
        .query()
        .table_name(&table)
        .index_name("by-title")
        .key_condition_expression("shelf = :s AND begins_with(title, :t)")
        .expression_attribute_values(":s", s("shelf-2"))
        .expression_attribute_values(":t", s("Emma"))
        .consistent_read(true)
        .send()
        .await
        .unwrap();
    let raw: Vec<BookKeys> = out
        .items
        .unwrap()
        .into_iter()
        .map(|i| dynorm::from_item(i).unwrap())
        .collect();
    assert_eq!(ours.len(), PER_SHELF / 5);
    assert_eq!(ours, raw);
    assert!(ours.windows(2).all(|w| w[0].title <= w[1].title));

    // Into the model, the missing attributes are a clear error.
    let err = Book::by_title().query(&db, "shelf-2").collect_all().await.unwrap_err();
    match &err {
        Error::PartialItem {
            source_name,
            projection,
            target,
            ..
        } => {
            assert!(source_name.contains("by-title"), "{err}");
            assert_eq!(projection, "keys-only projection");
            assert!(target.ends_with("Book"));
        }
        other => panic!("expected PartialItem, got {other:?}"),
    }

    // Scans of the indexes.
    let ours = sorted(Book::by_author().scan(&db).recursive().collect_all().await.unwrap());
    let raw = sorted(raw_scan(|| db.client().scan().table_name(&table).index_name("by-author")).await);
    assert_eq!(ours.len(), SHELVES * PER_SHELF);
    assert_eq!(ours, raw);
    let count = Book::by_title().scan(&db).recursive().count().await.unwrap();
    assert_eq!(count, SHELVES * PER_SHELF);
    let keys: Vec<BookKeys> = Book::by_title()
        .scan(&db)
        .recursive()
        .read_as()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(keys.len(), SHELVES * PER_SHELF);
}

#[tokio::test]
async fn scans_segments_and_the_manager() {
    let db = seeded("read-scan").await;
    let table = db.table_name::<Book>();
    let f = Book::fields();

    // One request without recursive; everything with it.
    let raw_all = sorted(raw_scan(|| db.client().scan().table_name(&table)).await);
    let ours = sorted(Book::scan(&db).recursive().collect_all().await.unwrap());
    assert_eq!(ours, raw_all);
    let first = Book::scan(&db).page_size(100).collect_all().await.unwrap();
    let out = db.client().scan().table_name(&table).limit(100).send().await.unwrap();
    assert_eq!(first, decode(out.items.unwrap()));

    // A filtered scan.
    let ours = sorted(
        Book::scan(&db)
            .filter(f.author().eq("author-4") & f.published().ge(1990u16))
            .recursive()
            .collect_all()
            .await
            .unwrap(),
    );
    let raw = sorted(
        raw_scan(|| {
            db.client()
                .scan()
                .table_name(&table)
                .filter_expression("author = :a AND published >= :p")
                .expression_attribute_values(":a", s("author-4"))
                .expression_attribute_values(":p", n(1990))
        })
        .await,
    );
    assert!(!ours.is_empty());
    assert_eq!(ours, raw);

    // Four segments: each item exactly once.
    let mut seen = BTreeSet::new();
    let mut stream = Book::scan(&db).segments(4).page_size(50);
    while let Some(book) = stream.next().await {
        let book = book.unwrap();
        assert!(
            seen.insert((book.shelf.clone(), book.isbn.clone())),
            "{} twice",
            book.isbn
        );
    }
    assert_eq!(seen.len(), SHELVES * PER_SHELF);
    assert_eq!(Book::scan(&db).segments(4).count().await.unwrap(), SHELVES * PER_SHELF);
    // Segment 1 of 4 alone, as the raw SDK reads it, is part of the merged stream.
    let raw = raw_scan(|| db.client().scan().table_name(&table).segment(1).total_segments(4)).await;
    assert!(!raw.is_empty() && raw.len() < SHELVES * PER_SHELF);
    assert!(raw.iter().all(|b| seen.contains(&(b.shelf.clone(), b.isbn.clone()))));

    // The manager: list and get_many.
    let books = Book::objects(&db);
    let listed = sorted(books.list().recursive().collect_all().await.unwrap());
    assert_eq!(listed, raw_all);
    let mut keys: Vec<(String, String)> = raw_all
        .iter()
        .rev()
        .step_by(3)
        .map(|b| (b.shelf.clone(), b.isbn.clone()))
        .collect();
    keys.insert(10, ("shelf-0".into(), "no-such-isbn".into()));
    keys.push(keys[0].clone());
    let got = books.get_many(keys.clone()).await.unwrap();
    let expected: Vec<Book> = keys[..keys.len() - 1]
        .iter()
        .filter_map(|(shelf, isbn)| raw_all.iter().find(|b| &b.shelf == shelf && &b.isbn == isbn).cloned())
        .collect();
    assert_eq!(got.len(), SHELVES * PER_SHELF / 3);
    assert_eq!(
        got, expected,
        "in the order of the keys, missing ones skipped, duplicates once"
    );
}

#[tokio::test]
async fn again_and_start_resume_without_gaps_or_duplicates() {
    let db = seeded("read-again").await;
    let all = Book::query(&db, "shelf-1").recursive().collect_all().await.unwrap();

    // Page by page with again(): one request each.
    let mut stream = Book::query(&db, "shelf-1").limit(70);
    let mut read = Vec::new();
    loop {
        let page: Vec<Book> = stream.by_ref().try_collect().await.unwrap();
        read.extend(page);
        if stream.last().is_none() {
            break;
        }
        stream = stream.again();
    }
    assert_eq!(read, all);

    // A partly consumed page: again() continues after the last item yielded.
    let mut stream = Book::query(&db, "shelf-1").limit(100);
    let mut read = Vec::new();
    for _ in 0..30 {
        read.push(stream.next().await.unwrap().unwrap());
    }
    let last = stream.last().cloned().unwrap();
    // The limit counts afresh: 100 more.
    let mut stream = stream.again().recursive();
    while let Some(book) = stream.next().await {
        read.push(book.unwrap());
    }
    assert_eq!(read, all[..130]);

    // start() from a saved key, on a new stream.
    let rest = Book::query(&db, "shelf-1")
        .start(last)
        .recursive()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(rest, all[30..]);

    // An option that changes the read, set after again(), starts it afresh.
    let mut stream = Book::query(&db, "shelf-1").limit(10);
    let _: Vec<Book> = stream.by_ref().try_collect().await.unwrap();
    let reversed = stream.again().reverse().collect_all().await.unwrap();
    assert_eq!(reversed, all.iter().rev().take(10).cloned().collect::<Vec<_>>());

    // count() of a partly read stream counts from where it is.
    let mut stream = Book::query(&db, "shelf-1").recursive();
    for _ in 0..3 {
        stream.next().await.unwrap().unwrap();
    }
    assert_eq!(stream.count().await.unwrap(), PER_SHELF - 3);

    // again() after the end reruns the read.
    let stream = Book::query(&db, "shelf-1").recursive();
    let first: Vec<Book> = {
        let mut s = stream;
        let v: Vec<Book> = s.by_ref().try_collect().await.unwrap();
        assert!(s.last().is_none());
        let again: Vec<Book> = s.again().try_collect().await.unwrap();
        assert_eq!(again, v);
        v
    };
    assert_eq!(first, all);
}

/// `collect_remaining` borrows the stream: its resume key and cursor are there after it,
/// page after page, with no gap or duplicate, and `None` once the read reached the end.
#[tokio::test]
async fn collect_remaining_keeps_the_position() {
    let db = db("read-collect-remaining").with_cursor_key("test key: 32 bytes of secret....");
    Book::create_table(&db).await.unwrap();
    let shelf: Vec<Book> = books().into_iter().filter(|b| b.shelf == "shelf-2").take(45).collect();
    seed(&db, &shelf).await;
    let all = Book::query(&db, "shelf-2").recursive().collect_all().await.unwrap();
    assert_eq!(all.len(), 45);

    // Page by page: the resume key after each page starts the next one.
    let mut stream = Book::query(&db, "shelf-2").limit(20);
    let first = stream.collect_remaining().await.unwrap();
    assert_eq!(first, all[..20]);
    let last = stream.last().cloned().expect("more to read after the first page");
    let cursor = stream.cursor().unwrap().expect("a cursor after the first page");
    let second = Book::query(&db, "shelf-2")
        .limit(20)
        .start(last)
        .collect_remaining()
        .await
        .unwrap();
    assert_eq!(second, all[20..40]);

    // The same stream goes on with again(), and a cursor taken after the first page
    // resumes there on a new stream.
    let mut stream = stream.again();
    assert_eq!(stream.collect_remaining().await.unwrap(), all[20..40]);
    let mut stream = stream.again();
    assert_eq!(stream.collect_remaining().await.unwrap(), all[40..]);
    assert!(stream.last().is_none(), "the read reached the end");
    assert_eq!(stream.cursor().unwrap(), None);
    let resumed = Book::query(&db, "shelf-2")
        .resume(cursor)
        .recursive()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(resumed, all[20..]);

    // A partly consumed stream collects what remains of its page.
    let mut stream = Book::query(&db, "shelf-2").limit(20);
    let head = stream.next().await.unwrap().unwrap();
    let rest = stream.collect_remaining().await.unwrap();
    assert_eq!(std::iter::once(head).chain(rest).collect::<Vec<_>>(), all[..20]);
    assert!(stream.last().is_some());
}

#[tokio::test]
async fn cursors_resume_across_handles_and_are_rejected_elsewhere() {
    let db = seeded("read-cursor");
    let db = db.await.with_cursor_key("test key: 32 bytes of secret....");
    let f = Book::fields();
    fn query(db: &Db) -> dynorm::Query<'_, BookByAuthorIndex> {
        Book::by_author()
            .query(db, "author-1")
            .range(|p| p.ge(1955))
            .filter(Book::fields().pages().gt(150u32))
            .recursive()
            .page_size(25)
    }
    let all = query(&db).collect_all().await.unwrap();
    assert!(all.len() > 60);

    // Read 40 (mid-page), take the cursor, resume on a fresh handle with the same key.
    let mut stream = query(&db);
    let mut read = Vec::new();
    for _ in 0..40 {
        read.push(stream.next().await.unwrap().unwrap());
    }
    let cursor = stream.cursor().unwrap().expect("more to read");
    assert!(cursor
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    drop(stream);
    let fresh = Db::local(dynorm_tests::endpoint())
        .with_table_prefix(db.table_prefix())
        .with_cursor_key("test key: 32 bytes of secret....");
    let rest = query(&fresh).resume(cursor.clone()).collect_all().await.unwrap();
    read.extend(rest);
    assert_eq!(read, all);

    // Another query: another hash key, filter, direction or index.
    let other_queries = [
        Book::by_author()
            .query(&fresh, "author-2")
            .range(|p| p.ge(1955))
            .filter(f.pages().gt(150u32)),
        Book::by_author()
            .query(&fresh, "author-1")
            .range(|p| p.ge(1956))
            .filter(f.pages().gt(150u32)),
        Book::by_author()
            .query(&fresh, "author-1")
            .range(|p| p.ge(1955))
            .filter(f.pages().gt(151u32)),
        Book::by_author()
            .query(&fresh, "author-1")
            .range(|p| p.ge(1955))
            .filter(f.pages().gt(150u32))
            .reverse(),
    ];
    for other in other_queries {
        let err = other.resume(cursor.clone()).collect_all().await.unwrap_err();
        assert!(matches!(err, Error::InvalidCursor(CursorProblem::OtherQuery)), "{err}");
    }
    let err = Book::scan(&fresh)
        .resume(cursor.clone())
        .collect_all()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidCursor(CursorProblem::OtherQuery)), "{err}");

    // One flipped byte anywhere, or another key.
    let mut bytes = cursor.clone().into_bytes();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let edited = String::from_utf8(bytes).unwrap();
    let err = query(&fresh).resume(edited).collect_all().await.unwrap_err();
    assert!(
        matches!(err, Error::InvalidCursor(CursorProblem::BadSignature)),
        "{err}"
    );
    let other_key = fresh.with_cursor_key("another key of 32 bytes or so...");
    let err = query(&other_key)
        .resume(cursor.clone())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::InvalidCursor(CursorProblem::BadSignature)),
        "{err}"
    );
    let err = query(&fresh).resume("garbage!").collect_all().await.unwrap_err();
    assert!(matches!(err, Error::InvalidCursor(CursorProblem::Malformed)), "{err}");
    let no_key = Db::local(dynorm_tests::endpoint()).with_table_prefix(db.table_prefix());
    assert!(matches!(
        query(&no_key).cursor(),
        Err(Error::InvalidCursor(CursorProblem::NoKey))
    ));

    let weak = fresh.with_cursor_key("short");
    assert!(matches!(
        query(&weak).cursor(),
        Err(Error::InvalidCursor(CursorProblem::WeakKey))
    ));

    // A resumed stream not yet polled hands its cursor on unchanged.
    assert_eq!(
        query(&fresh).resume(cursor.clone()).cursor().unwrap(),
        Some(cursor.clone())
    );

    // A bad cursor, then again(): the error again, never a silent restart.
    let mut bad = query(&fresh).resume("garbage!");
    assert!(bad.next().await.unwrap().is_err());
    assert!(bad.next().await.is_none());
    let mut bad = bad.again();
    assert!(matches!(bad.next().await, Some(Err(Error::InvalidCursor(_)))));

    // A finished read has no cursor.
    let mut stream = query(&db);
    while stream.next().await.is_some() {}
    assert_eq!(stream.cursor().unwrap(), None);

    // A segmented scan's cursor holds every segment's position.
    let mut stream = Book::scan(&db).segments(4).page_size(60);
    let mut seen = BTreeSet::new();
    for _ in 0..500 {
        let b = stream.next().await.unwrap().unwrap();
        assert!(seen.insert(b.isbn));
    }
    let cursor = stream.cursor().unwrap().unwrap();
    drop(stream);
    let mut rest = Book::scan(&fresh).segments(4).page_size(60).resume(cursor);
    while let Some(b) = rest.next().await {
        assert!(seen.insert(b.unwrap().isbn), "read twice");
    }
    assert_eq!(seen.len(), SHELVES * PER_SHELF);
}

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "read_big", hash_key = "bin", range_key = "seq")]
struct Big {
    bin: String,
    seq: u32,
    body: String,
}

#[tokio::test]
async fn recursive_reads_cross_the_one_megabyte_page() {
    let (db, log) = logged_db("read-big");
    Big::create_table(&db).await.unwrap();
    let items: Vec<Big> = (0..40)
        .map(|seq| Big {
            bin: "b".into(),
            seq,
            body: "x".repeat(100_000),
        })
        .collect();
    seed(&db, &items).await;

    log.clear();
    let one_page = Big::query(&db, "b").collect_all().await.unwrap();
    assert!(
        !one_page.is_empty() && one_page.len() < 40,
        "one 1 MB page: {}",
        one_page.len()
    );
    assert_eq!(log.count("Query"), 1);

    log.clear();
    let all = Big::query(&db, "b").recursive().collect_all().await.unwrap();
    assert_eq!(all, items);
    assert!(log.count("Query") >= 4, "40 items of 100 KB need 4 pages of 1 MB");

    log.clear();
    let scanned = Big::scan(&db).recursive().count().await.unwrap();
    assert_eq!(scanned, 40);
    assert!(log.count("Scan") >= 4);
    let again: Vec<u32> = Big::scan(&db)
        .recursive()
        .map_ok(|b| b.seq)
        .try_collect::<Vec<_>>()
        .await
        .unwrap();
    assert_eq!(again.len(), 40);
}

/// A model whose fields outside the keys-only index have defaults reads from the index
/// straight into the model.
#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "read_events", hash_key = "id")]
#[global_index(name = "by-kind", hash_key = "kind", range_key = "at", projection = "keys_only")]
#[global_index(name = "by-source", hash_key = "source", projection = "include(kind)")]
struct Event {
    id: String,
    kind: String,
    #[serde(default)]
    at: u64,
    #[serde(default)]
    source: String,
    #[serde(default)]
    payload: String,
}

#[tokio::test]
async fn keys_only_index_into_a_model_with_defaults() {
    let db = db("read-events");
    Event::create_table(&db).await.unwrap();
    let events: Vec<Event> = (0..30)
        .map(|i| Event {
            id: format!("e{i}"),
            kind: ["click", "view"][i % 2].into(),
            at: 1_000 + i as u64,
            source: format!("src{}", i % 3),
            payload: "p".repeat(i),
        })
        .collect();
    seed(&db, &events).await;
    let clicks = Event::by_kind()
        .query(&db, "click")
        .range(|at| at.gt(1_010))
        .collect_all()
        .await
        .unwrap();
    let expected: Vec<Event> = events
        .iter()
        .filter(|e| e.kind == "click" && e.at > 1_010)
        .map(|e| Event {
            id: e.id.clone(),
            kind: e.kind.clone(),
            at: e.at,
            ..Event::default()
        })
        .collect();
    assert_eq!(clicks, expected);

    // An INCLUDE projection keeps the listed attributes.
    let from_src = Event::by_source().query(&db, "src1").collect_all().await.unwrap();
    assert_eq!(from_src.len(), 10);
    assert!(from_src
        .iter()
        .all(|e| e.payload.is_empty() && !e.kind.is_empty() && e.at == 0));
}
