//! dynorm's spans exported through `tracing-opentelemetry` to an in-memory OpenTelemetry
//! exporter carry the semantic conventions' attributes for DynamoDB clients, and no
//! attribute value.

use std::collections::HashMap;

use dynorm::{CapacityMeter, DynaModel, Index};
use dynorm_tests::db;
use futures::TryStreamExt;
use opentelemetry::trace::{SpanKind, TracerProvider as _};
use opentelemetry::Value;
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde::{Deserialize, Serialize};
use tracing_subscriber::layer::SubscriberExt;

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "otel_notes", hash_key = "owner", range_key = "n")]
#[global_index(name = "by-topic", hash_key = "topic", range_key = "n")]
struct Note {
    owner: String,
    n: u32,
    topic: String,
    body: String,
}

fn attributes(span: &SpanData) -> HashMap<String, Value> {
    span.attributes
        .iter()
        .map(|kv| (kv.key.as_str().to_owned(), kv.value.clone()))
        .collect()
}

fn text(attrs: &HashMap<String, Value>, key: &str) -> Option<String> {
    attrs.get(key).map(|v| v.as_str().into_owned())
}

#[tokio::test]
async fn spans_follow_the_opentelemetry_conventions_for_dynamodb() {
    let db = db("otel");
    Note::ensure_table(&db).await.unwrap();
    let table = db.table_name::<Note>();

    let exporter = InMemorySpanExporter::default();
    let provider = SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let tracer = provider.tracer("dynorm-test");
    let subscriber = tracing_subscriber::registry().with(tracing_opentelemetry::layer().with_tracer(tracer));
    let _default = tracing::subscriber::set_default(subscriber);

    let secret = "otel-s3cret-41";
    let meter = CapacityMeter::new();
    let metered = db.with_capacity_meter(&meter);
    for n in 0..3 {
        let note = Note {
            owner: "o".into(),
            n,
            topic: "t".into(),
            body: secret.into(),
        };
        note.put(&metered).await.unwrap();
    }
    Note::get(&db, ("o", 1)).consistent_read(true).await.unwrap().unwrap();
    #[derive(Deserialize)]
    struct Body {
        #[allow(dead_code)]
        body: String,
    }
    let by_topic: Vec<Body> = Note::by_topic()
        .query(&db, "t")
        .page_size(2)
        .specific_attributes(Note::fields().body())
        .read_as::<Body>()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_topic.len(), 2);
    let scanned: Vec<Note> = Note::scan(&db).segments(2).collect_all().await.unwrap();
    assert_eq!(scanned.len(), 3);

    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let named = |name: &str| -> Vec<&SpanData> { spans.iter().filter(|s| s.name == name).collect() };

    let get = named(&format!("GetItem {table}"));
    assert_eq!(
        get.len(),
        1,
        "one span per get: {:?}",
        spans.iter().map(|s| &s.name).collect::<Vec<_>>()
    );
    assert_eq!(get[0].span_kind, SpanKind::Client);
    let attrs = attributes(get[0]);
    assert_eq!(text(&attrs, "db.system.name").as_deref(), Some("aws.dynamodb"));
    assert_eq!(text(&attrs, "db.operation.name").as_deref(), Some("GetItem"));
    assert_eq!(text(&attrs, "rpc.system").as_deref(), Some("aws-api"));
    assert_eq!(text(&attrs, "rpc.service").as_deref(), Some("DynamoDB"));
    assert_eq!(text(&attrs, "rpc.method").as_deref(), Some("GetItem"));
    assert_eq!(text(&attrs, "aws.dynamodb.table_names"), Some(table.clone()));
    assert_eq!(attrs.get("aws.dynamodb.consistent_read"), Some(&Value::Bool(true)));

    let puts = named(&format!("PutItem {table}"));
    assert_eq!(puts.len(), 3);
    let capacity = text(&attributes(puts[0]), "aws.dynamodb.consumed_capacity").expect("capacity recorded");
    assert!(capacity.contains("\"CapacityUnits\""), "{capacity}");

    let query = named(&format!("Query {table}"));
    assert_eq!(query.len(), 1);
    let attrs = attributes(query[0]);
    assert_eq!(text(&attrs, "aws.dynamodb.index_name").as_deref(), Some("by-topic"));
    assert_eq!(attrs.get("aws.dynamodb.limit"), Some(&Value::I64(2)));
    assert_eq!(attrs.get("aws.dynamodb.count"), Some(&Value::I64(2)));
    assert_eq!(attrs.get("aws.dynamodb.scanned_count"), Some(&Value::I64(2)));
    assert_eq!(attrs.get("aws.dynamodb.consistent_read"), Some(&Value::Bool(false)));
    let projection = text(&attrs, "aws.dynamodb.projection").expect("projection recorded");
    assert!(projection.starts_with('#'), "placeholders only: {projection}");

    let scans = named(&format!("Scan {table}"));
    assert_eq!(scans.len(), 2, "one span per segment's request");
    let mut segments: Vec<Value> = scans
        .iter()
        .map(|s| attributes(s)["aws.dynamodb.segment"].clone())
        .collect();
    segments.sort_by_key(|v| v.to_string());
    assert_eq!(segments, [Value::I64(0), Value::I64(1)]);
    for scan in &scans {
        assert_eq!(
            attributes(scan).get("aws.dynamodb.total_segments"),
            Some(&Value::I64(2))
        );
    }

    // No attribute value reaches the exported spans.
    for span in &spans {
        for kv in &span.attributes {
            assert!(!kv.value.as_str().contains(secret), "{} = {}", kv.key, kv.value);
        }
        assert!(!span.name.contains(secret));
    }
}
