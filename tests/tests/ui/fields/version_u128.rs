use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
struct Book {
    isbn: String,
    #[dynorm(version)]
    version: u128,
}

fn main() {}
