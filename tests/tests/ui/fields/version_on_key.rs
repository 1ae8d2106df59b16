use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "counters", hash_key = "id", range_key = "seq")]
struct Counter {
    id: String,
    #[dynorm(version)]
    seq: u64,
}

fn main() {}
