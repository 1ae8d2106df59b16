use dynorm::{BoxError, DynaModel, Item};
use serde::{Deserialize, Serialize};
use validator::Validate;

fn v1_to_v2(_item: &mut Item) -> Result<(), BoxError> {
    Ok(())
}

// Version 3 needs a step from 1 to 2 and one from 2 to 3.
#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "users", hash_key = "id")]
#[schema(version = 3, migrations = [v1_to_v2])]
struct User {
    id: String,
}

fn main() {}
