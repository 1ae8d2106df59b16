use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "orders", hash_key = "id")]
#[global_index(name = "by_tenant_region", hash_key = ["tenant", "region"], range_key = ["day", "seq"])]
struct Order {
    id: String,
    tenant: String,
    region: String,
    day: u32,
    seq: u32,
}

fn query(db: &dynorm::Db) {
    // `seq` comes after `day`: a condition on it alone is not a left prefix.
    let _ = Order::by_tenant_region().query(db, ("t1", "eu")).sort_prefix(((), 2u32));
}

fn main() {}
