use dynorm::{DynaModel, DynaTable};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaTable)]
#[table(name = "app", hash_key = "pk", range_key = "sk")]
#[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
struct App {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[entity(table = App, pk = "ORG#{org_id}", sk = "USER#{user_id:8}")]
struct User {
    org_id: String,
    user_id: String,
}

fn main() {}
