use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "sessions", hash_key = "token", range_key = "expires_at")]
struct Session {
    token: String,
    #[dynorm(ttl)]
    expires_at: u64,
}

fn main() {}
