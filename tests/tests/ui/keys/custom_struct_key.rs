use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Isbn {
    prefix: u16,
    body: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    isbn: Isbn,
    title: String,
}

fn main() {}
