use dynorm::KeyAttribute;

// serde writes a struct with a named field as a map, not as its inner value.
#[derive(KeyAttribute, Clone)]
struct Seq {
    n: u64,
}

fn main() {}
