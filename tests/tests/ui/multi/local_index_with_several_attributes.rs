use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "events", hash_key = "id", range_key = "at")]
#[local_index(name = "by_kind", range_key = ["kind", "at2"])]
struct Event {
    id: String,
    at: u64,
    kind: String,
    at2: u64,
}

fn main() {}
