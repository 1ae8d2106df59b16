use std::collections::BTreeSet;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    #[dynorm(list, set)]
    tags: BTreeSet<String>,
}

fn main() {}
