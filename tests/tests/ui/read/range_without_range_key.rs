//! A table without a range key has no range key condition: `range` on its query does not compile.
use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "authors", hash_key = "id")]
struct Author {
    id: String,
    name: String,
}

fn check(db: dynorm::Db) {
    let _ = Author::query(&db, "herbert").range(|k| k.eq("x"));
}

fn main() {}
