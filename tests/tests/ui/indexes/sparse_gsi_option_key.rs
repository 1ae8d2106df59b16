use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "orders", hash_key = "id")]
#[global_index(name = "open-orders", hash_key = "open_since")]
struct Order {
    id: String,
    open_since: Option<u64>,
}

fn main() {}
