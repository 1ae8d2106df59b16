use dynorm::KeyAttribute;

#[derive(KeyAttribute, Clone)]
struct Isbn(u16, String);

fn main() {}
