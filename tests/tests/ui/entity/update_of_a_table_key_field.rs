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
#[entity(table = App, pk = "ORG#{org_id}", sk = "USER#{user_id}")]
struct User {
    org_id: String,
    user_id: String,
    email: String,
}

async fn rename(db: &dynorm::Db) {
    // The table's key is made of `user_id`: changing it would move the item.
    let _ = User::update_by_key(db, ("acme", "u1"))
        .set(User::fields().user_id(), "u2")
        .await;
}

fn main() {}
