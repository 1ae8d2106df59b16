use std::collections::BTreeSet;

use dynorm::DynaModel;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Clone)]
struct Point {
    x: i32,
    y: i32,
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "shapes", hash_key = "id")]
struct Shape {
    id: String,
    // A set of maps is stored as a list of maps: DynamoDB sets hold strings, numbers or
    // binary.
    points: BTreeSet<Point>,
}

async fn run(db: dynorm::Db) {
    let f = Shape::fields();
    let _ = Shape::update_by_key(&db, "s1").delete_from_set(f.points(), [Point { x: 1, y: 2 }]);
}

fn main() {}
