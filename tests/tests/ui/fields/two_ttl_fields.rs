use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "sessions", hash_key = "token")]
struct Session {
    token: String,
    #[dynorm(ttl)]
    expires_at: u64,
    #[dynorm(ttl)]
    purge_at: Option<u64>,
}

fn main() {}
