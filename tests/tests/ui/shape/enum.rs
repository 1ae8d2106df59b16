use dynorm::DynaModel;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize)]
#[table(name = "shapes", hash_key = "id")]
enum Shape {
    Circle { id: String, radius: u32 },
    Square { id: String, side: u32 },
}

fn main() {}
