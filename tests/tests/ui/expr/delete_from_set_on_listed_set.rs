use std::collections::BTreeSet;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    // Stored as a list: no DynamoDB set operation applies to it.
    #[dynorm(list)]
    tags: BTreeSet<String>,
}

async fn run(db: dynorm::Db) {
    let f = Player::fields();
    let _ = Player::update_by_key(&db, "p1").delete_from_set(f.tags(), ["a"]);
}

fn main() {}
