//! `apply_table` against DynamoDB Local: a plan applied one `UpdateTable` at a time,
//! each step waited for; destructive steps only when allowed; what only a new table can
//! change refused; and, with aws-smithy-mocks, the plan of what is left after a step
//! fails.

use std::time::Duration;

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::operation::describe_time_to_live::DescribeTimeToLiveOutput;
use aws_sdk_dynamodb::operation::update_table::{UpdateTableError, UpdateTableOutput};
use aws_sdk_dynamodb::types::error::LimitExceededException;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, BillingModeSummary, GlobalSecondaryIndexDescription, IndexStatus,
    KeySchemaElement, KeyType, Projection, ProjectionType, ScalarAttributeType, TableDescription, TableStatus,
};
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use dynorm::{Db, DynaModel, Error, Index, PlanStep};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "shelf", hash_key = "isbn")]
#[global_index(name = "by-year", hash_key = "year")]
struct V1 {
    isbn: String,
    author: String,
    year: u32,
}

/// A version later: a new index, a stream and time to live (nothing destructive).
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "shelf", hash_key = "isbn", stream = "new_image")]
#[global_index(name = "by-year", hash_key = "year")]
#[global_index(name = "by-author", hash_key = "author", range_key = "year")]
struct V2 {
    isbn: String,
    author: String,
    year: u32,
    #[dynorm(ttl)]
    #[serde(default)]
    expires: Option<u64>,
}

/// Later still: the year index is gone (destructive).
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "shelf", hash_key = "isbn", stream = "new_image")]
#[global_index(name = "by-author", hash_key = "author", range_key = "year")]
struct V3 {
    isbn: String,
    author: String,
    year: u32,
    #[dynorm(ttl)]
    #[serde(default)]
    expires: Option<u64>,
}

/// Another table key: only a new table can have it.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "shelf", hash_key = "author")]
struct OtherKey {
    author: String,
}

fn index_names(db: &Db, described: &aws_sdk_dynamodb::types::TableDescription) -> Vec<String> {
    let _ = db;
    let mut names: Vec<String> = described
        .global_secondary_indexes()
        .iter()
        .filter_map(|i| i.index_name.clone())
        .collect();
    names.sort();
    names
}

async fn describe(db: &Db) -> aws_sdk_dynamodb::types::TableDescription {
    db.client()
        .describe_table()
        .table_name(db.table_name::<V1>())
        .send()
        .await
        .unwrap()
        .table
        .unwrap()
}

#[tokio::test]
async fn a_plan_is_applied_one_step_at_a_time_and_the_table_then_matches() {
    let (db, log) = logged_db("apply_additive");
    V1::create_table(&db).await.unwrap();
    V1 {
        isbn: "1".into(),
        author: "Herbert".into(),
        year: 1965,
    }
    .put(&db)
    .await
    .unwrap();
    log.clear();
    let applied = V2::apply_table(&db)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(applied.steps.len(), 3, "{applied}");
    assert!(matches!(&applied.steps[0], PlanStep::CreateIndex { name, .. } if name == "by-author"));
    assert!(matches!(&applied.steps[1], PlanStep::Stream { .. }));
    assert!(matches!(&applied.steps[2], PlanStep::TimeToLive { .. }));
    // One UpdateTable per step (the TTL step is UpdateTimeToLive).
    assert_eq!(log.count("UpdateTable"), 2, "{:?}", log.operations());
    assert_eq!(log.count("UpdateTimeToLive"), 1);
    assert!(V2::plan_table(&db).await.unwrap().is_empty());
    let described = describe(&db).await;
    assert_eq!(index_names(&db, &described), ["by-author", "by-year"]);
    // The new index serves queries at once: the backfill was waited for.
    let by_author = V2::by_author().query(&db, "Herbert").collect_all().await.unwrap();
    assert_eq!(by_author.len(), 1);
    // A plan that is empty applies nothing.
    log.clear();
    assert!(V2::apply_table(&db).await.unwrap().is_empty());
    assert_eq!(log.count("UpdateTable"), 0);
}

#[tokio::test]
async fn destructive_steps_run_only_when_allowed() {
    let (db, log) = logged_db("apply_destructive");
    V2::create_table(&db).await.unwrap();
    log.clear();
    let err = V3::apply_table(&db).await.unwrap_err();
    match &err {
        Error::PlanRefused { plan, reason } => {
            assert!(plan.is_destructive());
            assert!(reason.contains("allow_destructive"), "{reason}");
        }
        other => panic!("expected PlanRefused, got {other:?}"),
    }
    assert_eq!(log.count("UpdateTable"), 0, "nothing changed");
    assert_eq!(index_names(&db, &describe(&db).await), ["by-author", "by-year"]);

    let applied = V3::apply_table(&db)
        .allow_destructive(true)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(applied.steps, [PlanStep::DeleteIndex { name: "by-year".into() }]);
    assert_eq!(index_names(&db, &describe(&db).await), ["by-author"]);
    assert!(V3::plan_table(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn what_only_a_new_table_can_change_is_refused() {
    let db = db("apply_key");
    V1::create_table(&db).await.unwrap();
    let err = OtherKey::apply_table(&db).allow_destructive(true).await.unwrap_err();
    assert!(
        matches!(err, Error::PlanRefused { ref reason, .. } if reason.contains("new table")),
        "{err}"
    );
    // A missing table is created.
    let fresh = dynorm_tests::db("apply_create");
    let applied = V2::apply_table(&fresh).await.unwrap();
    assert_eq!(applied.steps, [PlanStep::CreateTable]);
    assert!(V2::plan_table(&fresh).await.unwrap().is_empty());
}

fn key(name: &str, kind: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
        .unwrap()
}

fn definition(name: &str, kind: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()
        .unwrap()
}

fn index(name: &str, keys: Vec<KeySchemaElement>) -> GlobalSecondaryIndexDescription {
    GlobalSecondaryIndexDescription::builder()
        .index_name(name)
        .set_key_schema(Some(keys))
        .projection(Projection::builder().projection_type(ProjectionType::All).build())
        .index_status(IndexStatus::Active)
        .build()
}

/// The live `shelf` table of V1, or with V2's index added.
fn live(with_author_index: bool) -> DescribeTableOutput {
    let mut table = TableDescription::builder()
        .table_name("shelf")
        .table_status(TableStatus::Active)
        .key_schema(key("isbn", KeyType::Hash))
        .attribute_definitions(definition("isbn", ScalarAttributeType::S))
        .attribute_definitions(definition("year", ScalarAttributeType::N))
        .billing_mode_summary(
            BillingModeSummary::builder()
                .billing_mode(BillingMode::PayPerRequest)
                .build(),
        )
        .global_secondary_indexes(index("by-year", vec![key("year", KeyType::Hash)]));
    if with_author_index {
        table = table
            .attribute_definitions(definition("author", ScalarAttributeType::S))
            .global_secondary_indexes(index(
                "by-author",
                vec![key("author", KeyType::Hash), key("year", KeyType::Range)],
            ));
    }
    DescribeTableOutput::builder().table(table.build()).build()
}

#[tokio::test]
async fn a_step_that_fails_leaves_the_plan_of_what_is_left() {
    let before = mock!(Client::describe_table).then_output(|| live(false));
    let ttl = mock!(Client::describe_time_to_live).then_output(|| DescribeTimeToLiveOutput::builder().build());
    let create_index = mock!(Client::update_table).then_output(|| UpdateTableOutput::builder().build());
    let after = mock!(Client::describe_table).then_output(|| live(true));
    let stream = mock!(Client::update_table).then_error(|| {
        UpdateTableError::LimitExceededException(
            LimitExceededException::builder()
                .message("too many table operations")
                .meta(ErrorMetadata::builder().code("LimitExceededException").build())
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::Sequential,
        [&before, &ttl, &create_index, &after, &stream]
    );
    let db = Db::from_client(client);
    let err = V2::apply_table(&db)
        .poll_interval(Duration::from_millis(10))
        .await
        .unwrap_err();
    match err {
        Error::PlanIncomplete {
            applied,
            remaining,
            source,
            ..
        } => {
            assert!(matches!(&applied[..], [PlanStep::CreateIndex { name, .. }] if name == "by-author"));
            assert_eq!(remaining.steps.len(), 2);
            assert!(
                matches!(remaining.steps[0], PlanStep::Stream { .. }),
                "the failed step first"
            );
            assert!(matches!(remaining.steps[1], PlanStep::TimeToLive { .. }));
            assert!(source.to_string().contains("LimitExceeded"), "{source}");
        }
        other => panic!("expected PlanIncomplete, got {other:?}"),
    }
}

#[tokio::test]
async fn ensure_table_reports_drift_or_applies_the_safe_changes() {
    let db = db("apply_ensure");
    V1::create_table(&db).await.unwrap();
    let handle = || {
        Db::builder(db.client().clone())
            .table_prefix(db.table_name::<V1>().trim_end_matches("shelf").to_owned())
            .build()
    };
    // The table lacks V2's index, stream and time to live: drift, not a silent pass.
    let err = V2::ensure_table(&handle()).await.unwrap_err();
    match &err {
        Error::TableDrift { plan, .. } => {
            assert!(plan
                .steps
                .iter()
                .any(|s| matches!(s, PlanStep::CreateIndex { name, .. } if name == "by-author")));
        }
        other => panic!("expected TableDrift, got {other:?}"),
    }
    assert!(err.to_string().contains("by-author"), "{err}");
    // Chosen by the caller: the safe additions are applied.
    let fresh = handle();
    V2::ensure_table(&fresh).apply_safe_changes(true).await.unwrap();
    assert!(V2::plan_table(&fresh).await.unwrap().is_empty());
    // A destructive difference still fails.
    let again = handle();
    let err = V3::ensure_table(&again).apply_safe_changes(true).await.unwrap_err();
    assert!(
        matches!(err, Error::TableDrift { ref plan, .. } if plan.is_destructive()),
        "{err}"
    );
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "vault", hash_key = "id", deletion_protection)]
struct Protected {
    id: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "vault", hash_key = "id", deletion_protection = false)]
struct Unprotected {
    id: String,
}

/// V2 with provisioned capacity for the table and its indexes.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "shelf", hash_key = "isbn", stream = "new_image", read = 4, write = 2)]
#[global_index(name = "by-year", hash_key = "year")]
#[global_index(name = "by-author", hash_key = "author", range_key = "year")]
struct V2Provisioned {
    isbn: String,
    author: String,
    year: u32,
    #[dynorm(ttl)]
    #[serde(default)]
    expires: Option<u64>,
}

#[tokio::test]
async fn billing_switches_to_provisioned_and_back() {
    let db = db("apply_billing");
    V2::create_table(&db).await.unwrap();
    let plan = V2Provisioned::plan_table(&db).await.unwrap();
    assert!(
        matches!(&plan.steps[..], [PlanStep::Billing { model, .. }] if model == "PROVISIONED"),
        "{plan}"
    );
    V2Provisioned::apply_table(&db)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    let described = describe(&db).await;
    let units = described.provisioned_throughput().unwrap();
    assert_eq!(
        (units.read_capacity_units(), units.write_capacity_units()),
        (Some(4), Some(2))
    );
    assert!(V2Provisioned::plan_table(&db).await.unwrap().is_empty());
    // And back to on-demand.
    V2::apply_table(&db)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    assert!(V2::plan_table(&db).await.unwrap().is_empty());
}

#[tokio::test]
async fn deletion_protection_is_turned_on_and_honoured() {
    let db = db("apply_protect_on");
    Unprotected::create_table(&db).await.unwrap();
    let applied = Protected::apply_table(&db)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    assert_eq!(
        applied.steps,
        [PlanStep::DeletionProtection {
            live: false,
            model: true
        }]
    );
    assert!(
        Protected::delete_table(&db).await.is_err(),
        "a protected table is not deleted"
    );
    assert!(Protected::table_exists(&db).await.unwrap());
    // Turning protection off is destructive: it must be allowed.
    assert!(matches!(
        Unprotected::apply_table(&db).await.unwrap_err(),
        Error::PlanRefused { .. }
    ));
    Unprotected::apply_table(&db)
        .allow_destructive(true)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    Unprotected::delete_table(&db).await.unwrap();
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
#[table(name = "vault", hash_key = "id")]
struct Unmanaged {
    id: String,
}

#[tokio::test]
async fn an_option_the_model_does_not_declare_is_left_alone() {
    let db = db("apply_unmanaged");
    Protected::create_table(&db).await.unwrap();
    // The model says nothing about deletion protection: the table keeps it.
    assert!(Unmanaged::plan_table(&db).await.unwrap().is_empty());
    let fresh = Db::builder(db.client().clone())
        .table_prefix(db.table_name::<Protected>().trim_end_matches("vault").to_owned())
        .build();
    Unmanaged::ensure_table(&fresh).await.unwrap();
    Unprotected::apply_table(&db).allow_destructive(true).await.unwrap();
    Unprotected::delete_table(&db).await.unwrap();
}

#[tokio::test]
async fn deletion_protection_is_created_compared_and_applied() {
    let db = db("apply_protection");
    Protected::create_table(&db).await.unwrap();
    let described = db
        .client()
        .describe_table()
        .table_name(db.table_name::<Protected>())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(described.deletion_protection_enabled(), Some(true));
    assert!(Protected::plan_table(&db).await.unwrap().is_empty());
    // A protected table refuses to be deleted.
    assert!(Protected::delete_table(&db).await.is_err());
    let plan = Unprotected::plan_table(&db).await.unwrap();
    assert_eq!(
        plan.steps,
        [PlanStep::DeletionProtection {
            live: true,
            model: false
        }]
    );
    Unprotected::apply_table(&db)
        .allow_destructive(true)
        .poll_interval(Duration::from_millis(50))
        .await
        .unwrap();
    Unprotected::delete_table(&db).await.unwrap();
}
