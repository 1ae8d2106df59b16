use dynorm::KeyAttribute;

#[derive(KeyAttribute, Clone)]
struct Score(f64);

fn main() {}
