use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "borrowed", hash_key = "id")]
struct Borrowed<'a> {
    id: String,
    #[serde(borrow)]
    value: &'a str,
}

fn main() {}
