use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "sessions", hash_key = "token")]
struct Session {
    #[serde(skip)]
    token: String,
    user: String,
}

fn main() {}
