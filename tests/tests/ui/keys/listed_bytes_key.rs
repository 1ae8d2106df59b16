use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "blobs", hash_key = "digest")]
struct Blob {
    // A binary key cannot be stored as a list of numbers.
    #[dynorm(list)]
    digest: Vec<u8>,
    data: String,
}

fn main() {}
