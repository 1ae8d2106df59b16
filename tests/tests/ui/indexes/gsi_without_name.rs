use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
#[global_index(hash_key = "author")]
struct Book {
    isbn: String,
    edition: u32,
    title: String,
    author: String,
    published: u16,
}

fn main() {}
