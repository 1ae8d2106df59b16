use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Author {
    first: String,
    last: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
#[global_index(name = "by-author", hash_key = "author")]
struct Book {
    isbn: String,
    author: Author,
}

fn main() {}
