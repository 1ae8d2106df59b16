use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn", range_key = "edition")]
#[local_index(name = "by-a", range_key = "a")]
#[local_index(name = "by-b", range_key = "b")]
#[local_index(name = "by-c", range_key = "c")]
#[local_index(name = "by-d", range_key = "d")]
#[local_index(name = "by-e", range_key = "e")]
#[local_index(name = "by-f", range_key = "f")]
struct Book {
    isbn: String,
    edition: u32,
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
    f: String,
}

fn main() {}
