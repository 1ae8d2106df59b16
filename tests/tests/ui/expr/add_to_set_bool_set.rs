use std::collections::BTreeSet;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    flags: BTreeSet<bool>,
}

fn main() {
    let _ = dynorm::expr::Update::new().add_to_set(Player::fields().flags(), [true]);
}
