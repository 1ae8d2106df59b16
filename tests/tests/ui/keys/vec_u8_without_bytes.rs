use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "blobs", hash_key = "digest")]
struct Blob {
    digest: Vec<u8>,
    data: String,
}

fn main() {}
