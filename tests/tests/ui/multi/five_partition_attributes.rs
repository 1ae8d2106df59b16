use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "wide", hash_key = "id")]
#[global_index(name = "wide_index", hash_key = ["a", "b", "c", "d", "e"])]
struct Wide {
    id: String,
    a: String,
    b: String,
    c: String,
    d: String,
    e: String,
}

fn main() {}
