//! `begins_with` on a numeric range key does not compile.
use dynorm::{DynaModel, Index};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn", range_key = "edition")]
#[global_index(name = "by-author", hash_key = "author", range_key = "published")]
struct Book {
    isbn: String,
    edition: u32,
    title: String,
    author: String,
    published: u16,
}

fn check(db: dynorm::Db) {
    let _ = Book::by_author().query(&db, "Frank Herbert").range(|k| k.begins_with(3));
}

fn main() {}
