use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "replies", hash_key = "thread", range_key = "at")]
struct Reply {
    thread: String,
    at: u64,
    body: String,
}

async fn run(db: dynorm::Db) {
    let f = Reply::fields();
    // Conditions on key attributes are fine...
    let _ = Reply::update_by_key(&db, ("t", 1)).set(f.body(), "b").condition(f.thread().exists() & f.at().gt(0));
    // ...updates of them are not: DynamoDB cannot change an item's key.
    let _ = Reply::update_by_key(&db, ("t", 1)).set(f.thread(), "other");
    let _ = Reply::update_by_key(&db, ("t", 1)).remove(f.at());
}

fn main() {}
