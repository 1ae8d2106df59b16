//! How transport and configuration failures surface, against real (unreachable or
//! misconfigured) endpoints on loopback.

use std::future::IntoFuture;
use std::time::Duration;

use aws_sdk_dynamodb::config::retry::RetryConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
use dynorm::{Db, DynaModel, Error};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "notes", hash_key = "id")]
struct Note {
    id: String,
}

/// A loopback port nothing listens on.
fn closed_port_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test]
async fn unreachable_server_is_unavailable() {
    let config = Db::local_config(closed_port_endpoint())
        .retry_config(RetryConfig::disabled())
        .build();
    let db = Db::from_client(aws_sdk_dynamodb::Client::from_conf(config));
    let err = Note::get(&db, "x").await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    let err = Note { id: "x".into() }.put(&db).await.unwrap_err();
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
}

#[tokio::test]
async fn missing_credentials_are_not_unavailability() {
    // No credentials provider at all: retrying can never help, so this must not be
    // reported as Unavailable.
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(closed_port_endpoint())
        .retry_config(RetryConfig::disabled())
        .build();
    let db = Db::from_client(aws_sdk_dynamodb::Client::from_conf(config));
    let err = tokio::time::timeout(Duration::from_secs(30), Note::get(&db, "x").into_future())
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(err, Error::Service { .. }), "{err:?}");
}
