use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

// A step takes the raw item and can fail.
fn v1_to_v2(_name: &str) -> String {
    String::new()
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "users", hash_key = "id")]
#[schema(version = 2, migrations = [v1_to_v2])]
struct User {
    id: String,
}

// The version attribute is not a field's.
#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "teams", hash_key = "id")]
#[schema(version = 1, attribute = "rev")]
struct Team {
    id: String,
    rev: u32,
}

fn main() {}
