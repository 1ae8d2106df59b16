use dynorm::KeyAttribute;
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

#[derive(KeyAttribute, Clone, Debug, Serialize, Deserialize)]
struct InvoiceNo(u32);

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[entity(table = App, pk = "ORG#{org_id}", sk = "INVOICE#{number}")]
struct Invoice {
    org_id: String,
    number: InvoiceNo,
}

fn main() {}
