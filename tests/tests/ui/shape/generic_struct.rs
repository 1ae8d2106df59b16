use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "boxes", hash_key = "id")]
struct Boxed<T> {
    id: String,
    value: T,
}

fn main() {}
