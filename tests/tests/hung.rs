//! A server that stops answering (paused with SIGSTOP): every operation of a handle built
//! from the AWS configuration returns a typed error within its timeouts, and a write that
//! a repeat would change (an increment) is sent once, so it is applied at most once when
//! the server resumes.
//!
//! Each test runs a server of its own (`OwnServer`), so pausing it disturbs no other test,
//! and uses short timeouts so the whole file takes seconds.

use std::time::{Duration, Instant};

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use dynorm::{Db, DynaModel, Error};
use dynorm_tests::{OwnServer, RequestLog};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "hung_counters", hash_key = "id")]
struct Counter {
    id: String,
    n: i64,
}

const ATTEMPT: Duration = Duration::from_millis(800);
const OPERATION: Duration = Duration::from_secs(3);

/// The AWS configuration a service would load, pointed at `endpoint`, with short timeouts.
async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("dynorm", "dynorm", None, None, "hung-test"))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(ATTEMPT)
                .operation_timeout(OPERATION)
                .build(),
        )
        .load()
        .await
}

/// Reads the counter raw, once the server answers again.
async fn stored_n(endpoint: &str, id: &str) -> Option<String> {
    let db = Db::local(endpoint);
    let out = db
        .client()
        .get_item()
        .table_name(db.table_name::<Counter>())
        .key("id", dynorm::aws_sdk_dynamodb::types::AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .expect("the resumed server answers");
    out.item.and_then(|i| i.get("n").and_then(|n| n.as_n().ok().cloned()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_increment_without_an_answer_is_sent_once_and_reported_unknown() {
    let server = OwnServer::new("hung-increment");
    let endpoint = server.start();
    let setup = Db::local(&endpoint);
    Counter::create_table(&setup).await.unwrap();
    Counter { id: "c".into(), n: 0 }.put(&setup).await.unwrap();

    let log = RequestLog::default();
    let config = sdk_config(&endpoint).await;
    let client = dynorm::aws_sdk_dynamodb::Client::from_conf(
        dynorm::aws_sdk_dynamodb::config::Builder::from(&config)
            .interceptor(log.clone())
            .build(),
    );
    let db = Db::from_client(client);
    let f = Counter::fields();

    server.pause();
    let started = Instant::now();
    let err = Counter::update_by_key(&db, "c").increment(f.n(), 1).await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, Error::OutcomeUnknown { idempotent: false, .. }),
        "{err:?}"
    );
    assert!(err.may_have_applied());
    assert_eq!(err.write_outcome(), dynorm::WriteOutcome::Unknown);
    assert_eq!(
        log.count("UpdateItem"),
        1,
        "an increment that may have applied is not resent"
    );
    assert!(waited < OPERATION + Duration::from_secs(2), "returned after {waited:?}");

    // A put of the same item is harmless to repeat: the SDK resends it.
    let err = Counter { id: "p".into(), n: 7 }.put(&db).await.unwrap_err();
    assert!(matches!(err, Error::OutcomeUnknown { idempotent: true, .. }), "{err:?}");
    assert!(log.count("PutItem") >= 2, "{:?}", log.operations());

    server.resume();
    // The server now handles what it received while paused; give it a moment.
    let mut n = stored_n(&endpoint, "c").await;
    for _ in 0..10 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        n = stored_n(&endpoint, "c").await;
    }
    let n: i64 = n.expect("the counter exists").parse().unwrap();
    assert!(n <= 1, "the increment was applied {n} times");
    assert_eq!(stored_n(&endpoint, "p").await.as_deref(), Some("7"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_a_configured_handle_gives_up_in_time() {
    let server = OwnServer::new("hung-every");
    let endpoint = server.start();
    let setup = Db::local(&endpoint);
    Counter::create_table(&setup).await.unwrap();
    Counter { id: "c".into(), n: 0 }.put(&setup).await.unwrap();

    let db = Db::from_sdk_config(&sdk_config(&endpoint).await);
    let f = Counter::fields();
    server.pause();

    let bound = OPERATION + Duration::from_secs(2);
    let timed = |name: &'static str, started: Instant, result: dynorm::Result<()>| {
        let waited = started.elapsed();
        assert!(waited < bound, "{name} returned after {waited:?}");
        (name, result.expect_err(name))
    };
    let item = Counter { id: "w".into(), n: 1 };
    let (get, put, update, delete, query, scan, transact, batch) = tokio::join!(
        async {
            let t = Instant::now();
            timed("get", t, Counter::get(&db, "c").await.map(drop))
        },
        async {
            let t = Instant::now();
            timed("put", t, item.put(&db).await)
        },
        async {
            let t = Instant::now();
            timed(
                "update",
                t,
                Counter::update_by_key(&db, "c").set(f.n(), 5).await.map(drop),
            )
        },
        async {
            let t = Instant::now();
            timed("delete", t, Counter::delete_by_key(&db, "c").await)
        },
        async {
            let t = Instant::now();
            timed("query", t, Counter::query(&db, "c").collect_all().await.map(drop))
        },
        async {
            let t = Instant::now();
            timed("scan", t, Counter::scan(&db).collect_all().await.map(drop))
        },
        async {
            let t = Instant::now();
            let transaction = db
                .transact_write()
                .write(Counter::update_by_key(&db, "c").increment(f.n(), 1));
            timed("transact_write", t, transaction.await)
        },
        async {
            let t = Instant::now();
            let batch = db.batch_write().put(&item).deadline(OPERATION).send().await;
            timed("batch_write", t, batch.map(drop))
        },
    );
    server.resume();

    for (name, err) in [&get, &query, &scan] {
        assert!(matches!(err, Error::Unavailable { .. }), "{name}: {err:?}");
        assert!(!err.may_have_applied(), "{name}");
    }
    for (name, err) in [&put, &update, &delete] {
        assert!(
            matches!(err, Error::OutcomeUnknown { idempotent: true, .. }),
            "{name}: {err:?}"
        );
    }
    let (_, err) = &transact;
    assert!(
        matches!(err, Error::OutcomeUnknown { idempotent: false, .. }),
        "{err:?}"
    );
    let (_, err) = &batch;
    assert!(matches!(err, Error::BatchIncomplete { .. }), "{err:?}");
}

#[test]
fn handles_built_from_the_aws_configuration_have_bounded_timeouts() {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .build();
    let db = Db::from_sdk_config(&config);
    let timeouts = db.client().config().timeout_config().cloned().unwrap();
    assert_eq!(timeouts.connect_timeout(), Some(dynorm::DEFAULT_CONNECT_TIMEOUT));
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(dynorm::DEFAULT_ATTEMPT_TIMEOUT)
    );
    assert_eq!(timeouts.operation_timeout(), Some(dynorm::DEFAULT_OPERATION_TIMEOUT));
}
