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

async fn run(db: dynorm::Db) {
    let _ = Team::update_by_key(&db, "t1").increment(Player::fields().score(), 1u32);
}

fn main() {}
