use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "readings", hash_key = "sensor", range_key = "value")]
struct Reading {
    sensor: String,
    value: f64,
}

fn main() {}
