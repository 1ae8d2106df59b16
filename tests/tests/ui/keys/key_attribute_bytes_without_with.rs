use dynorm::KeyAttribute;
use serde::Serialize;

#[derive(KeyAttribute, Serialize, Clone)]
struct Digest(Vec<u8>);

fn main() {}
