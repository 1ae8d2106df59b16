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
    // The partition is (tenant, region): both are needed.
    let _ = Order::by_tenant_region().query(db, "t1");
}

fn main() {}
