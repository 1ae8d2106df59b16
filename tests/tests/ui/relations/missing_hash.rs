//! A relationship needs `hash = "..."`, the related key built from this model's fields.
use dynorm::rel::OneToMany;
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "replies", hash_key = "forum_thread", range_key = "created")]
#[global_index(name = "replies-by-user", hash_key = "user_name", range_key = "message")]
struct Reply {
    forum_thread: String,
    created: String,
    user_name: String,
    message: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "users", hash_key = "name")]
struct User {
    name: String,
    #[serde(skip)]
    #[dynorm(one_to_many(index = "replies-by-user"))]
    replies: OneToMany<Reply>,
}

fn main() {}
