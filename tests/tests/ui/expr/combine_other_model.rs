use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    score: u32,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "teams", hash_key = "id")]
struct Team {
    id: String,
    name: String,
}

fn main() {
    let _ = Player::fields().score().gt(10u32) & Team::fields().name().eq("Reds");
}
