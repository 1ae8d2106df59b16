use dynorm::DynaModel;
use serde::{Deserialize, Serialize, Serializer};
use validator::Validate;

fn lowercase<S: Serializer>(value: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_lowercase())
}

#[derive(DynaModel, Serialize, Deserialize, Validate)]
#[table(name = "users", hash_key = "email")]
struct User {
    #[serde(serialize_with = "lowercase")]
    email: String,
}

fn main() {}
