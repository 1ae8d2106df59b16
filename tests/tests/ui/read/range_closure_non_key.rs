//! The `range` closure must return a condition on the range key, not on another field.
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
    let _ = Book::query(&db, "isbn").range(|_k| Book::fields().title().eq("x"));
}

fn main() {}
