//! A one-to-many relationship's `index` must be an index of the related model: an unknown name is reported at the name.
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
    #[dynorm(one_to_many(index = "no-such-index", hash = "{name}"))]
    replies: OneToMany<Reply>,
}

fn main() {}
