use dynorm::KeyAttribute;

#[derive(KeyAttribute, Clone)]
enum Isbn {
    Ten(String),
    Thirteen(String),
}

fn main() {}
