use dynorm::KeyAttribute;

#[derive(KeyAttribute, Clone)]
struct Id<T>(T);

fn main() {}
