use std::collections::BTreeSet;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    #[dynorm(list)]
    tags: BTreeSet<String>,
    scores: BTreeSet<u32>,
}

async fn run(db: dynorm::Db) {
    let f = Player::fields();
    // A list's `contains` takes an element; a set's too, of the set's element type.
    let _ = f.tags().contains(1u32);
    let _ = f.scores().contains("high");
}

fn main() {}
