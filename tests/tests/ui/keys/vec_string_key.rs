use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "authors")]
struct Book {
    authors: Vec<String>,
    title: String,
}

fn main() {}
