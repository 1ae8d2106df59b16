use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "files", hash_key = "id")]
struct File {
    id: String,
    // Stored as binary (`B`), not as a set.
    data: Vec<u8>,
}

async fn run(db: dynorm::Db) {
    let f = File::fields();
    let _ = File::update_by_key(&db, "f1").add_to_set(f.data(), [1u8]);
}

fn main() {}
