//! An error never hides a write that happened: when DynamoDB applied a write and what
//! follows it fails (decoding the stored item back into the instance), the call fails
//! with `Error::Applied`, whose outcome says the write was applied.

use dynorm::aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{BoxError, Db, DynaModel, Error, Hooks, WriteOutcome};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "outcome_notes", hash_key = "id", hooks)]
struct Note {
    id: String,
    text: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

impl Hooks for Note {
    /// An item whose text says so cannot be loaded: the refresh after a write fails.
    fn after_load(&mut self) -> Result<(), BoxError> {
        if self.text == "unreadable" {
            return Err("this note cannot be loaded".into());
        }
        Ok(())
    }
}

async fn stored(db: &Db, id: &str) -> Option<dynorm::Item> {
    db.client()
        .get_item()
        .table_name(db.table_name::<Note>())
        .key("id", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

fn assert_applied(err: &Error) {
    assert!(
        matches!(err, Error::Applied { source, .. } if matches!(**source, Error::Hook { hook: "after_load", .. })),
        "{err:?}"
    );
    assert_eq!(err.write_outcome(), WriteOutcome::Applied);
    assert!(err.may_have_applied());
    assert!(err.to_string().contains("was applied"), "{err}");
}

#[tokio::test]
async fn a_save_whose_refresh_fails_reports_the_write() {
    let db = db("outcome_save");
    Note::create_table(&db).await.unwrap();
    let mut note = Note {
        id: "n1".into(),
        text: "unreadable".into(),
        version: 0,
    };
    let err = note.save(&db).await.unwrap_err();
    assert_applied(&err);
    let item = stored(&db, "n1").await.expect("the save was applied");
    assert_eq!(item["text"], AttributeValue::S("unreadable".into()));
    assert_eq!(item["version"], AttributeValue::N("1".into()));
    assert_eq!(note.version, 0, "the instance was not refreshed");
}

#[tokio::test]
async fn updates_whose_result_cannot_be_decoded_report_the_write() {
    let db = db("outcome_update");
    Note::create_table(&db).await.unwrap();
    let mut note = Note {
        id: "n2".into(),
        text: "fine".into(),
        version: 0,
    };
    note.save(&db).await.unwrap();
    let f = Note::fields();

    let err = note.update(&db).set(f.text(), "unreadable").await.unwrap_err();
    assert_applied(&err);
    assert_eq!(
        stored(&db, "n2").await.unwrap()["text"],
        AttributeValue::S("unreadable".into())
    );

    Note::update_by_key(&db, "n2").set(f.text(), "fine").await.unwrap();
    let err = Note::update_by_key(&db, "n2")
        .set(f.text(), "unreadable")
        .await
        .unwrap_err();
    assert_applied(&err);
    assert_eq!(
        stored(&db, "n2").await.unwrap()["text"],
        AttributeValue::S("unreadable".into())
    );
}
