//! A relationship field's type must match its kind: a `many_to_one` field of type `OneToMany<T>` is rejected.
use dynorm::rel::OneToMany;
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
    user_name: String,
    #[serde(skip)]
    #[dynorm(many_to_one(hash = "{user_name}"))]
    user: OneToMany<User>,
}

fn main() {}
