use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
#[global_index(name = "by-author", hash_key = "author", range_key = "author")]
struct Book {
    isbn: String,
    author: String,
}

fn main() {}
