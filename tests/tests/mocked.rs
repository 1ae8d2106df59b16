//! What DynamoDB Local cannot show, with aws-smithy-mocks: a table caught in CREATING or
//! DELETING, and throttling after the SDK's retries. Everything else is tested against
//! the real server.

use aws_sdk_dynamodb::error::ErrorMetadata;
use aws_sdk_dynamodb::operation::describe_table::DescribeTableOutput;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::error::ProvisionedThroughputExceededException;
use aws_sdk_dynamodb::types::{TableDescription, TableStatus};
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use dynorm::{Db, DynaModel, Error};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "jobs", hash_key = "id")]
struct Job {
    id: String,
}

fn described(status: TableStatus) -> DescribeTableOutput {
    DescribeTableOutput::builder()
        .table(
            TableDescription::builder()
                .table_name("jobs")
                .table_status(status)
                .build(),
        )
        .build()
}

#[tokio::test]
async fn ensure_table_rejects_a_deleting_table() {
    let describe = mock!(Client::describe_table).then_output(|| described(TableStatus::Deleting));
    let create = mock!(Client::create_table).then_output(|| unreachable!("must not create"));
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&describe, &create]));

    let err = Job::ensure_table(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::TableNotActive { table, status: TableStatus::Deleting } if table == "jobs"),
        "{err:?}"
    );
    assert_eq!(create.num_calls(), 0);
    assert!(!db.is_verified("jobs"));
}

/// The `jobs` table as the model describes it: a string hash key `id`, on demand.
fn matching(status: TableStatus) -> DescribeTableOutput {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, BillingModeSummary, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    let key = KeySchemaElement::builder()
        .attribute_name("id")
        .key_type(KeyType::Hash)
        .build()
        .unwrap();
    let definition = AttributeDefinition::builder()
        .attribute_name("id")
        .attribute_type(ScalarAttributeType::S)
        .build()
        .unwrap();
    DescribeTableOutput::builder()
        .table(
            TableDescription::builder()
                .table_name("jobs")
                .table_status(status)
                .key_schema(key)
                .attribute_definitions(definition)
                .billing_mode_summary(
                    BillingModeSummary::builder()
                        .billing_mode(BillingMode::PayPerRequest)
                        .build(),
                )
                .build(),
        )
        .build()
}

#[tokio::test(start_paused = true)]
async fn ensure_table_waits_for_a_creating_table() {
    let describe = mock!(Client::describe_table)
        .sequence()
        .output(|| matching(TableStatus::Creating))
        .times(3)
        .output(|| matching(TableStatus::Active))
        .times(2)
        .build();
    let ttl = mock!(Client::describe_time_to_live).then_output(|| {
        aws_sdk_dynamodb::operation::describe_time_to_live::DescribeTimeToLiveOutput::builder().build()
    });
    let backups = mock!(Client::describe_continuous_backups).then_output(|| {
        aws_sdk_dynamodb::operation::describe_continuous_backups::DescribeContinuousBackupsOutput::builder().build()
    });
    let db = Db::from_client(mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&describe, &ttl, &backups]
    ));

    Job::ensure_table(&db).await.unwrap();
    // Three CREATING, the ACTIVE that ends the wait, then the comparison with the model.
    assert_eq!(describe.num_calls(), 5);
    assert_eq!(ttl.num_calls(), 1);
    assert!(db.is_verified("jobs"));
    Job::ensure_table(&db).await.unwrap();
    assert_eq!(describe.num_calls(), 5, "a verified table is not described again");
}

#[tokio::test(start_paused = true)]
async fn wait_gives_up_after_its_timeout() {
    let describe = mock!(Client::describe_table).then_output(|| described(TableStatus::Creating));
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&describe]));
    let err = Job::wait_until_active(&db)
        .timeout(std::time::Duration::from_secs(10))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::WaitTimeout {
                wanted: TableStatus::Active,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn throttling_is_a_typed_error_after_the_sdk_retries() {
    let put = mock!(Client::put_item).then_error(|| PutItemError::ProvisionedThroughputExceededException(slow_down()));
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put]));
    let err = Job { id: "1".into() }.put(&db).await.unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
    assert_eq!(
        put.num_calls(),
        3,
        "the SDK's standard retry makes three attempts; dynorm adds none"
    );
}

#[tokio::test(start_paused = true)]
async fn server_errors_are_unavailable_after_the_sdk_retries() {
    use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
    use aws_smithy_types::body::SdkBody;
    let get = mock!(Client::get_item).then_http_response(|| {
        HttpResponse::new(
            500.try_into().unwrap(),
            SdkBody::from(r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}"#),
        )
    });
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get]));
    let err = Job::get(&db, "1").await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    assert_eq!(get.num_calls(), 3);
}

#[tokio::test]
async fn creating_a_table_that_is_being_deleted_is_not_active_rather_than_existing() {
    use aws_sdk_dynamodb::operation::create_table::CreateTableError;
    use aws_sdk_dynamodb::types::error::ResourceInUseException;
    let create = mock!(Client::create_table).then_error(|| {
        CreateTableError::ResourceInUseException(
            ResourceInUseException::builder()
                .message("Table is being deleted")
                .meta(ErrorMetadata::builder().code("ResourceInUseException").build())
                .build(),
        )
    });
    let describe = mock!(Client::describe_table).then_output(|| described(TableStatus::Deleting));
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&create, &describe]));
    let err = Job::create_table(&db).allow_existing(true).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::TableNotActive {
                status: TableStatus::Deleting,
                ..
            }
        ),
        "{err:?}"
    );
}

/// A read that fails mid-way (throttled after the SDK's retries): the stream yields what
/// it read, the typed error, and ends; `again()` goes on from the kept position, with no
/// item lost or repeated.
#[tokio::test(start_paused = true)]
async fn a_read_stream_error_keeps_its_position_for_again() {
    use aws_sdk_dynamodb::operation::query::{QueryError, QueryOutput};
    use aws_sdk_dynamodb::types::AttributeValue;
    use futures::StreamExt;

    let item = |id: &str| std::collections::HashMap::from([("id".to_owned(), AttributeValue::S(id.to_owned()))]);
    let throttled = || QueryError::ProvisionedThroughputExceededException(slow_down());
    let query = mock!(Client::query)
        .sequence()
        .output(move || {
            QueryOutput::builder()
                .items(item("a"))
                .items(item("b"))
                .last_evaluated_key("id", AttributeValue::S("b".into()))
                .count(2)
                .scanned_count(2)
                .build()
        })
        .error(throttled)
        .times(3)
        .output(move || {
            QueryOutput::builder()
                .items(item("c"))
                .count(1)
                .scanned_count(1)
                .build()
        })
        .build();
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::Sequential, [&query]));

    let mut stream = Job::query(&db, "x").recursive();
    assert_eq!(stream.next().await.unwrap().unwrap().id, "a");
    assert_eq!(stream.next().await.unwrap().unwrap().id, "b");
    let err = stream.next().await.unwrap().unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
    assert!(stream.next().await.is_none(), "the stream ends after the error");
    assert_eq!(
        stream.last().and_then(|k| k.get("id")),
        Some(&AttributeValue::S("b".into()))
    );

    let rest: Vec<String> = stream.again().map(|r| r.unwrap().id).collect().await;
    assert_eq!(rest, ["c"]);
    assert_eq!(query.num_calls(), 5);
}

#[test]
fn read_streams_can_move_to_other_tasks() {
    fn send<T: Send>(_: &T) {}
    let db = Db::local("http://127.0.0.1:1");
    send(&Job::scan(&db).segments(4));
    send(&Job::query(&db, "x").recursive());
}

/// The retry policy is the SDK client's, configured by the user: dynorm adds none to a
/// single-item call.
#[tokio::test(start_paused = true)]
async fn the_sdk_retry_configuration_is_the_users() {
    use aws_sdk_dynamodb::config::retry::RetryConfig;
    let throttled = || PutItemError::ProvisionedThroughputExceededException(slow_down());
    for attempts in [1, 5] {
        let put = mock!(Client::put_item).then_error(throttled);
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put], |conf| conf
            .retry_config(RetryConfig::standard().with_max_attempts(attempts)));
        let db = Db::from_client(client);
        let err = Job { id: "1".into() }.put(&db).await.unwrap_err();
        assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
        assert_eq!(put.num_calls(), attempts as usize);
    }
}

fn server_error() -> aws_smithy_runtime_api::client::orchestrator::HttpResponse {
    aws_smithy_runtime_api::client::orchestrator::HttpResponse::new(
        500.try_into().unwrap(),
        aws_smithy_types::body::SdkBody::from(
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"boom"}"#,
        ),
    )
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "counters", hash_key = "id")]
struct Counter {
    id: String,
    n: i64,
}

#[tokio::test(start_paused = true)]
async fn an_increment_answered_by_a_server_error_is_sent_once_and_unknown() {
    let update = mock!(Client::update_item).then_http_response(server_error);
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&update]));
    let f = Counter::fields();
    let err = Counter::update_by_key(&db, "c").increment(f.n(), 1).await.unwrap_err();
    assert!(
        matches!(err, Error::OutcomeUnknown { idempotent: false, .. }),
        "{err:?}"
    );
    assert_eq!(
        update.num_calls(),
        1,
        "a server error may hide an applied increment: not resent"
    );
}

#[tokio::test(start_paused = true)]
async fn a_put_whose_first_attempt_may_have_applied_stays_unknown_when_its_resend_is_throttled() {
    let put = mock!(Client::put_item)
        .sequence()
        .http_response(server_error)
        .error(|| PutItemError::ProvisionedThroughputExceededException(slow_down()))
        .times(2)
        .build();
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&put]));
    let err = Job { id: "1".into() }.put(&db).await.unwrap_err();
    assert_eq!(put.num_calls(), 3, "a whole-item put is harmless to resend");
    assert!(matches!(err, Error::OutcomeUnknown { idempotent: true, .. }), "{err:?}");
    assert!(err.may_have_applied());
}

#[tokio::test(start_paused = true)]
async fn a_read_answered_by_server_errors_then_throttled_is_throttled() {
    let get = mock!(Client::get_item)
        .sequence()
        .http_response(server_error)
        .error(|| {
            aws_sdk_dynamodb::operation::get_item::GetItemError::ProvisionedThroughputExceededException(slow_down())
        })
        .times(2)
        .build();
    let db = Db::from_client(mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&get]));
    let err = Job::get(&db, "1").await.unwrap_err();
    assert!(
        matches!(err, Error::Throttled { .. }),
        "a read applies nothing: {err:?}"
    );
}

/// DynamoDB's throttling answer.
fn slow_down() -> ProvisionedThroughputExceededException {
    ProvisionedThroughputExceededException::builder()
        .message("slow down")
        .meta(
            ErrorMetadata::builder()
                .code("ProvisionedThroughputExceededException")
                .build(),
        )
        .build()
}
