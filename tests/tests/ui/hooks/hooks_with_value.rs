// `hooks` is a flag.
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
#[table(name = "accounts", hash_key = "id", hooks = true)]
struct Account {
    id: String,
}

fn main() {}
