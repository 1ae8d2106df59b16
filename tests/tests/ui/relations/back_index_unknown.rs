//! A many-to-one back reference's `back_index` must be an index of the declaring model: an unknown name is reported at the name.
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
#[global_index(name = "threads-by-user", hash_key = "user_name", range_key = "subject")]
struct Thread {
    forum_name: String,
    user_name: String,
    subject: String,
    #[serde(skip)]
    #[dynorm(many_to_one(hash = "{user_name}", back = "threads", back_index = "no-such"))]
    user: ManyToOne<User>,
}

fn main() {}
