// `hooks` in #[table] without an `impl Hooks`.
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
#[table(name = "accounts", hash_key = "id", hooks)]
struct Account {
    id: String,
}

fn main() {}
