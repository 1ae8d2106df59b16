// An `impl Hooks` on a model without `hooks` in #[table]: a conflict, not hooks that
// never run.
use dynorm::{BoxError, DynaModel, Hooks};
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
#[table(name = "accounts", hash_key = "id")]
struct Account {
    id: String,
}

impl Hooks for Account {
    fn before_save(&self) -> Result<(), BoxError> {
        Ok(())
    }
}

fn main() {}
