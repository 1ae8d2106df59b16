use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;
use dynorm::DynaTable;

#[derive(DynaTable)]
#[table(name = "tasks", hash_key = "pk", range_key = "sk")]
#[global_index(name = "by_status", hash_key = ["tenant", "status"], range_key = ["due"])]
struct Tasks {
    pk: String,
    sk: String,
    tenant: String,
    status: String,
    due: u32,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[entity(table = Tasks, pk = "TENANT#{tenant}", sk = "TASK#{task_id}")]
#[entity_index(name = "by_status", pk = ["status", "tenant"], sk = ["due"])]
struct Task {
    tenant: String,
    task_id: String,
    status: String,
    due: u32,
}

fn main() {}
