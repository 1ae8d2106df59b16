//! An index whose method would shadow one of `DynaModel`'s is rejected by the derive.
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
#[global_index(name = "query", hash_key = "author")]
struct Book {
    isbn: String,
    title: String,
    author: String,
}

fn main() {}
