//! The forum model of DynamORM's documentation: Forum, Thread, Reply and User, with the
//! `threads-by-user` and `replies-by-user` indexes and the back references. Shared by
//! `examples/forum` and the relationship tests.

use dynorm::rel::{ManyToOne, OneToMany};
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

/// A reply, stored under its thread: `forum_thread` is "{forum}\n{subject}".
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "replies", hash_key = "forum_thread", range_key = "created")]
#[global_index(
    name = "replies-by-user",
    hash_key = "user_name",
    range_key = "message",
    projection = "keys_only"
)]
pub struct Reply {
    pub forum_thread: String,
    pub created: String,
    pub user_name: String,
    pub message: String,
}

/// A user; `replies` goes through the `replies-by-user` index, and each reply gets a
/// `user()` back reference.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "users", hash_key = "name")]
pub struct User {
    pub name: String,
    #[serde(skip)]
    #[dynorm(one_to_many(index = "replies-by-user", hash = "{name}", back = "user"))]
    pub replies: OneToMany<Reply>,
}

/// A thread of a forum. `user` is its author (and every user gets `threads()` through
/// the `threads-by-user` index); `replies` are found by the composite key.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "threads", hash_key = "forum_name", range_key = "subject")]
#[global_index(
    name = "threads-by-user",
    hash_key = "user_name",
    range_key = "subject",
    projection = "keys_only"
)]
pub struct Thread {
    pub forum_name: String,
    pub user_name: String,
    pub subject: String,
    #[serde(skip)]
    #[dynorm(many_to_one(hash = "{user_name}", back = "threads", back_index = "threads-by-user"))]
    pub user: ManyToOne<User>,
    #[serde(skip)]
    #[dynorm(one_to_many(hash = "{forum_name}\n{subject}", back = "thread"))]
    pub replies: OneToMany<Reply>,
}

/// A forum; every thread gets a `forum()` back reference.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "forums", hash_key = "name")]
pub struct Forum {
    pub name: String,
    #[serde(skip)]
    #[dynorm(one_to_many(hash = "{name}", back = "forum"))]
    pub threads: OneToMany<Thread>,
}
