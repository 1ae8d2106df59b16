//! `range` takes a closure over the range key, not a field condition.
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn", range_key = "edition")]
struct Book {
    isbn: String,
    edition: u32,
    title: String,
    author: String,
    published: u16,
}

fn check(db: dynorm::Db) {
    let _ = Book::query(&db, "isbn").range(Book::fields().title().eq("x"));
}

fn main() {}
