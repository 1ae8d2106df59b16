//! `specific_attributes` takes paths of the model read, not of another model.
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
    let _ = Book::scan(&db).specific_attributes(Author::fields().name());
}

fn main() {}
