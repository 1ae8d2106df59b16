//! A global index is eventually consistent only: `consistent` on its query does not compile.
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
    let _ = Book::by_author().query(&db, "Frank Herbert").consistent_read(true);
}

fn main() {}
