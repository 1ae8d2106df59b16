use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "books", hash_key = "isbn")]
#[global_index(name = "by-rating", hash_key = "rating")]
struct Book {
    isbn: String,
    rating: f32,
}

fn main() {}
