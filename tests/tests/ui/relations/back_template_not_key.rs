//! A one-to-many back reference parses the template back into the parent's key, so the template must name the parent's key fields, not another field.
use dynorm::rel::OneToMany;
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "threads", hash_key = "forum_name", range_key = "subject")]
struct Thread {
    forum_name: String,
    subject: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "forums", hash_key = "name")]
struct Forum {
    name: String,
    title: String,
    #[serde(skip)]
    #[dynorm(one_to_many(hash = "{title}", back = "parent"))]
    threads: OneToMany<Thread>,
}

fn main() {}
