use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "flags", hash_key = "enabled")]
struct Flag {
    enabled: bool,
    name: String,
}

fn main() {}
