use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    score: u32,
}

async fn run(db: dynorm::Db, mut player: Player) {
    let f = Player::fields();
    // An instance's update refreshes the instance: it has no `return_values`.
    let _ = player
        .update(&db)
        .increment(f.score(), 1)
        .return_values(dynorm::ops::ReturnValues::AllOld);
}

fn main() {}
