//! `Db::from_env` goes through the standard AWS chain, which honours
//! `AWS_ENDPOINT_URL_DYNAMODB`. In its own test binary because it sets process-wide
//! environment variables.

use dynorm::{Db, DynaModel};
use dynorm_tests::{endpoint, unique_prefix};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "env-notes", hash_key = "id")]
struct Note {
    id: String,
    text: String,
}

#[tokio::test]
async fn from_env_honours_the_dynamodb_endpoint_variable() {
    // This binary runs one test, so nothing else reads the environment concurrently.
    std::env::set_var("AWS_ENDPOINT_URL_DYNAMODB", endpoint());
    std::env::set_var("AWS_ACCESS_KEY_ID", "dynorm");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "dynorm");
    std::env::set_var("AWS_REGION", "us-east-1");
    std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");

    let db = Db::from_env().await.with_table_prefix(unique_prefix("from-env"));
    Note::create_table(&db).await.unwrap();
    let note = Note {
        id: "n1".into(),
        text: "via the standard chain".into(),
    };
    note.put(&db).await.unwrap();

    // The same table, seen through an explicitly configured local handle.
    let local = Db::local(endpoint()).with_table_prefix(db.table_prefix());
    assert_eq!(Note::get(&local, "n1").consistent_read(true).await.unwrap(), Some(note));
}
