use dynorm::{DynaModel, DynaTable};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaTable)]
#[table(name = "app", hash_key = "pk", range_key = "sk")]
#[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
#[local_index(name = "lsi1", range_key = "lsi1sk")]
struct App {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    lsi1sk: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[entity(table = App, pk = "ORG#{org_id}", sk = "USER#{user_id}")]
#[entity_index(name = "lsi1", pk = "OTHER#{org_id}", sk = "NAME#{name}")]
struct User {
    org_id: String,
    user_id: String,
    name: String,
}

fn main() {}
