//! A many-to-one key template gives the related model's key: a `u64` field for a `String` hash key does not compile.
use dynorm::rel::ManyToOne;
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Clone)]
#[table(name = "users", hash_key = "name")]
struct User {
    name: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "threads", hash_key = "forum_name", range_key = "subject")]
struct Thread {
    forum_name: String,
    subject: String,
    user_id: u64,
    #[serde(skip)]
    #[dynorm(many_to_one(hash = "{user_id}"))]
    user: ManyToOne<User>,
}

fn main() {}
