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

async fn run(db: dynorm::Db) {
    let f = Player::fields();
    let _ = Player::update_by_key(&db, "p1").add_to_set(f.tags(), ["a"]);
}

fn main() {}
