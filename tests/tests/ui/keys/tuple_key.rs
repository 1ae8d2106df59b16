use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "points", hash_key = "at")]
struct Point {
    at: (i64, i64),
    label: String,
}

fn main() {}
