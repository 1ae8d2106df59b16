use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "replies", hash_key = "thread", range_key = "posted_at")]
struct Reply {
    thread: String,
    posted: u64,
    body: String,
}

fn main() {}
