use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "ids", hash_key = "id")]
struct Big {
    id: u128,
}

fn main() {}
