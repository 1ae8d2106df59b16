//! The dynorm quick start: create a table from a model, then save, get, update with typed
//! expressions, save only what changed, see optimistic locking refuse a stale write, query
//! an index and scan the table, and delete.
//!
//! Run it with `scripts/demo`, which starts DynamoDB Local. Pointed elsewhere, it uses
//! `DYNAMODB_ENDPOINT` when set, and the standard AWS configuration otherwise.

use std::collections::BTreeSet;

use dynorm::{Db, DynaModel, Error, Index};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// A book, stored in the `quickstart-books` table and indexed by author.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "quickstart-books", hash_key = "isbn")]
#[global_index(name = "by-author", hash_key = "author", range_key = "published")]
struct Book {
    isbn: String,
    #[validate(length(min = 1, message = "a book needs a title"))]
    title: String,
    author: String,
    published: u16,
    #[serde(default, with = "dynorm::serde_dynamo::string_set")]
    tags: BTreeSet<String>,
    #[serde(default)]
    views: u64,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) => {
            println!("Using DynamoDB at {endpoint}.");
            Db::local(endpoint)
        }
        Err(_) => {
            println!("Using the AWS configuration from the environment.");
            Db::from_env().await
        }
    };

    let existed = Book::table_exists(&db).await?;
    Book::ensure_table(&db).await?;
    if existed {
        println!("Table `{}` is there already.", db.table_name::<Book>());
    } else {
        println!("Created table `{}` from the model.", db.table_name::<Book>());
    }

    let mut book = Book {
        isbn: "978-0441013593".into(),
        title: "Dune".into(),
        author: "Frank Herbert".into(),
        published: 1965,
        tags: ["science fiction".to_owned()].into(),
        views: 0,
        version: 0,
    };
    // Version 0 means new: the first save fails if a versioned item has this ISBN.
    book.save(&db).await?;
    println!(
        "Saved \"{}\" by {} (ISBN {}), now at version {}.",
        book.title, book.author, book.isbn, book.version
    );

    let loaded = Book::get(&db, "978-0441013593").consistent_read(true).await?;
    match &loaded {
        Some(found) => println!(
            "Got it back: \"{}\", published {}, tags {:?}.",
            found.title, found.published, found.tags
        ),
        None => return Err("the book we just wrote is missing".into()),
    }
    assert_eq!(loaded.as_ref(), Some(&book));

    book.tags.insert("classic".into());
    book.save(&db).await?;
    let saved = Book::get(&db, book.pk())
        .consistent_read(true)
        .await?
        .ok_or("book vanished after save")?;
    println!(
        "Saved a change; the stored tags are now {:?} (version {}).",
        saved.tags, saved.version
    );

    // A typed update: the paths come from the model, the values must match the fields.
    let f = Book::fields();
    book.update(&db)
        .increment(f.views(), 1)
        .add_to_set(f.tags(), ["desert planet"])
        .condition(f.published().lt(2000))
        .await?;
    println!(
        "Counted a view with a conditional update: {} view, tags {:?}, version {}.",
        book.views, book.tags, book.version
    );

    // A partial save sends only what changed since the item was read.
    let mut copy = Book::get(&db, book.pk()).tracked().await?.ok_or("book vanished")?;
    copy.title = "Dune (40th anniversary edition)".into();
    copy.save(&db).await?;
    println!(
        "Renamed it with a partial save (only the title was sent); version {}.",
        copy.version
    );

    // `book` still holds the version before that save: optimistic locking refuses it.
    book.views = 1000;
    match book.save(&db).await {
        Err(Error::VersionConflict { expected, .. }) => {
            println!("A save from the stale copy (version {expected}) was refused: someone saved since.")
        }
        other => return Err(format!("expected a version conflict, got {other:?}").into()),
    }

    match Book::objects(&db).create(&book).await {
        Err(Error::AlreadyExists { table, .. }) => {
            println!("Creating the same ISBN again was refused: it already exists in `{table}`.")
        }
        other => return Err(format!("expected an already-exists error, got {other:?}").into()),
    }

    let untitled = Book {
        title: String::new(),
        ..book.clone()
    };
    match untitled.put(&db).await {
        Err(Error::Validation(errors)) => {
            println!("A book without a title was stopped before sending anything: {errors}")
        }
        other => return Err(format!("expected a validation error, got {other:?}").into()),
    }

    // More of Herbert's books, then a query on the by-author index and a scan.
    for (isbn, title, published) in [
        ("978-0441172719", "Dune Messiah", 1969),
        ("978-0441104024", "Children of Dune", 1976),
        ("978-0765342850", "The Dragon in the Sea", 1956),
    ] {
        let other = Book {
            isbn: isbn.into(),
            title: title.into(),
            author: "Frank Herbert".into(),
            published,
            tags: BTreeSet::from(["science fiction".to_owned()]),
            views: 0,
            version: 0,
        };
        other.put(&db).await?;
    }
    let f = Book::fields();
    let dune_years: Vec<Book> = Book::by_author()
        .query(&db, "Frank Herbert")
        .range(|published| published.between(1960, 1979))
        .filter(f.title().contains("Dune"))
        .recursive()
        .collect_all()
        .await?;
    println!(
        "Herbert's Dune books of 1960-1979, from the by-author index: {}.",
        dune_years
            .iter()
            .map(|b| format!("{} ({})", b.title, b.published))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let stored = Book::scan(&db).recursive().count().await?;
    println!("A scan counts {stored} books in the table.");
    for book in Book::scan(&db).recursive().collect_all().await? {
        if book.isbn != "978-0441013593" {
            book.delete(&db).await?;
        }
    }

    copy.delete(&db).await?;
    let gone = Book::get(&db, "978-0441013593").consistent_read(true).await?;
    println!(
        "Deleted it; reading it again finds {}.",
        if gone.is_none() { "nothing" } else { "it still there" }
    );

    // Only drop the table if this run made it.
    if existed {
        println!("Left table `{}` in place. All done.", db.table_name::<Book>());
    } else {
        Book::delete_table(&db).await?;
        println!(
            "Dropped table `{}`, which this run created. All done.",
            db.table_name::<Book>()
        );
    }
    Ok(())
}
