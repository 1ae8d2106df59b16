use dynorm::DynaModel;

#[derive(DynaModel)]
#[table(name = "unions", hash_key = "id")]
union Bits {
    id: u64,
    raw: [u8; 8],
}

fn main() {}
