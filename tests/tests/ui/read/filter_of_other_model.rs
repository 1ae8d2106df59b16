//! `filter` takes a condition on the model read, not on another model.
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

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "authors", hash_key = "id")]
struct Author {
    id: String,
    name: String,
    born: u16,
}

fn check(db: dynorm::Db) {
    let _ = Book::scan(&db).filter(Author::fields().born().eq(1920));
}

fn main() {}
