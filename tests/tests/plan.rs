//! `plan_table` against DynamoDB Local: the typed difference between a live table and a
//! model, empty when they match, with a report a person can read.

use dynorm::{DynaModel, PlanStep};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "catalog", hash_key = "isbn")]
#[global_index(name = "by-year", hash_key = "year")]
struct V1 {
    isbn: String,
    author: String,
    year: u32,
}

/// The same table, a version later: a new index, a stream, time to live, and the old
/// index gone.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "catalog", hash_key = "isbn", stream = "new_and_old_images")]
#[global_index(
    name = "by-author",
    hash_key = "author",
    range_key = "year",
    projection = "keys_only"
)]
struct V2 {
    isbn: String,
    author: String,
    year: u32,
    #[dynorm(ttl)]
    expires: Option<u64>,
}

/// The same table, provisioned.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "catalog", hash_key = "isbn", read = 5, write = 5)]
#[global_index(name = "by-year", hash_key = "year")]
struct Provisioned {
    isbn: String,
    year: u32,
}

/// The same index name with another key.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "catalog", hash_key = "isbn")]
#[global_index(name = "by-year", hash_key = "author")]
struct OtherKey {
    isbn: String,
    author: String,
}

#[tokio::test]
async fn a_plan_lists_what_differs_and_is_empty_when_the_table_matches() {
    let db = db("plan");
    let missing = V1::plan_table(&db).await.unwrap();
    assert_eq!(missing.steps, [PlanStep::CreateTable]);

    V1::create_table(&db).await.unwrap();
    let same = V1::plan_table(&db).await.unwrap();
    assert!(same.is_empty(), "{same}");
    assert_eq!(
        same.to_string(),
        format!("table `{}` matches the model", db.table_name::<V1>())
    );

    let plan = V2::plan_table(&db).await.unwrap();
    assert_eq!(
        plan.steps,
        [
            PlanStep::CreateIndex {
                name: "by-author".into(),
                definition: "hash `author` S, range `year` N; projection KEYS_ONLY".into(),
            },
            PlanStep::DeleteIndex { name: "by-year".into() },
            PlanStep::Stream {
                live: None,
                model: Some("NEW_AND_OLD_IMAGES".into()),
            },
            PlanStep::TimeToLive {
                live: None,
                model: Some("expires".into()),
            },
        ],
        "{plan}"
    );
    assert!(plan.is_destructive(), "deleting an index is destructive");
    assert!(!plan.steps[0].is_destructive());
    let report = plan.to_string();
    assert!(report.contains(": 4 changes"), "{report}");
    assert!(report.contains("+ create global index `by-author`"), "{report}");
    assert!(
        report.contains("- delete global index `by-year` [destructive]"),
        "{report}"
    );
    assert!(report.contains("~ stream: off -> NEW_AND_OLD_IMAGES"), "{report}");

    let billing = Provisioned::plan_table(&db).await.unwrap();
    assert_eq!(
        billing.steps,
        [PlanStep::Billing {
            live: "PAY_PER_REQUEST".into(),
            model: "PROVISIONED".into(),
        }],
        "{billing}"
    );

    let replaced = OtherKey::plan_table(&db).await.unwrap();
    assert!(
        matches!(&replaced.steps[..], [PlanStep::ReplaceIndex { name, .. }] if name == "by-year"),
        "{replaced}"
    );
    assert!(replaced.is_destructive());
}
