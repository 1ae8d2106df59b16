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
    // The trait's query takes one value: not a multi-attribute partition.
    let _ = dynorm::Index::query(Order::by_tenant_region(), db, "t1");
}

fn main() {}
