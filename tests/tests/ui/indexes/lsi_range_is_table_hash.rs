use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "threads", hash_key = "forum", range_key = "subject")]
#[local_index(name = "by-forum", range_key = "forum")]
struct Thread {
    forum: String,
    subject: String,
}

fn main() {}
