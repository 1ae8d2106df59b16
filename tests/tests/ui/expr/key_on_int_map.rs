use std::collections::BTreeMap;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    by_level: BTreeMap<u32, String>,
}

fn main() {
    let _ = Player::fields().by_level().key("1");
}
