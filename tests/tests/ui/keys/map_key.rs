use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

use std::collections::BTreeMap;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "docs", hash_key = "meta")]
struct Doc {
    meta: BTreeMap<String, String>,
    body: String,
}

fn main() {}
