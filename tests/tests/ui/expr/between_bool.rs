use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    name: String,
    score: u32,
    active: bool,
    tags: Vec<String>,
}

fn main() {
    let _ = Player::fields().active().between(false, true);
}
