use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn", stream = "new_images")]
struct Book {
    isbn: String,
    title: String,
}

fn main() {}
