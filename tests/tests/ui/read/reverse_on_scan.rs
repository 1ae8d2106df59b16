//! Only a query reads in key order: `reverse` on a scan does not compile.
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
    let _ = Book::scan(&db).reverse();
}

fn main() {}
