use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "sessions", hash_key = "token")]
struct Session {
    token: String,
    #[dynorm(ttl)]
    #[serde(skip)]
    expires_at: u64,
}

fn main() {}
