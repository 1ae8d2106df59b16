use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Serialize, Deserialize)]
struct Id {
    id: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "things", hash_key = "id")]
struct Thing {
    #[serde(flatten)]
    id: Id,
    name: String,
}

fn main() {}
