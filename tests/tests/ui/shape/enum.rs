use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "shapes", hash_key = "id")]
enum Shape {
    Circle { id: String, radius: u32 },
    Square { id: String, side: u32 },
}

fn main() {}
