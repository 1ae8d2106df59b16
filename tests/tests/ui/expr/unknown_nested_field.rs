use dynorm::{Document, DynaModel};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Document, Serialize, Deserialize)]
struct Address {
    city: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "players", hash_key = "id")]
struct Player {
    id: String,
    address: Address,
}

fn main() {
    let _ = Player::fields().address().fields().street();
}
