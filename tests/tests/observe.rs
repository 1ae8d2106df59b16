//! Observability: one span per operation with its table, index and operation name (the
//! OpenTelemetry conventions' fields; `otel.rs` exports them);
//! attribute values never logged above TRACE; consumed capacity on a meter when asked.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use dynorm::{CapacityMeter, DynaModel, Error, Index};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "observed_notes", hash_key = "owner", range_key = "n")]
#[global_index(name = "by-topic", hash_key = "topic", range_key = "n")]
struct Note {
    owner: String,
    n: u32,
    topic: String,
    body: String,
}

/// A span or event as the subscriber saw it.
#[derive(Debug, Clone)]
struct Seen {
    kind: &'static str,
    name: String,
    target: String,
    level: Level,
    fields: BTreeMap<String, String>,
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Seen>>>);

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

/// Where a span's entry is kept, to add the fields recorded later.
struct Slot(usize);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let meta = attrs.metadata();
        let mut seen = self.0.lock().unwrap();
        seen.push(Seen {
            kind: "span",
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
        });
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Slot(seen.len() - 1));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(slot) = span.extensions().get::<Slot>().map(|s| s.0) else {
            return;
        };
        let mut seen = self.0.lock().unwrap();
        values.record(&mut Fields(&mut seen[slot].fields));
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let meta = event.metadata();
        self.0.lock().unwrap().push(Seen {
            kind: "event",
            name: meta.name().to_owned(),
            target: meta.target().to_owned(),
            level: *meta.level(),
            fields,
        });
    }
}

impl Capture {
    fn dynorm(&self) -> Vec<Seen> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.target.starts_with("dynorm"))
            .cloned()
            .collect()
    }

    fn spans(&self, name: &str) -> Vec<Seen> {
        self.dynorm()
            .into_iter()
            .filter(|s| s.kind == "span" && s.name == name)
            .collect()
    }
}

fn note(owner: &str, n: u32, body: &str) -> Note {
    Note {
        owner: owner.into(),
        n,
        topic: "rust".into(),
        body: body.into(),
    }
}

/// Runs one of each operation, with `secret` in every key and value, under a subscriber
/// that sees everything down to TRACE.
async fn run_everything(db: &dynorm::Db, secret: &str) {
    let f = Note::fields();
    let owner = format!("owner-{secret}");
    note(&owner, 1, secret).put(db).await.unwrap();
    Note::get(db, (owner.as_str(), 1)).await.unwrap().unwrap();
    Note::update_by_key(db, (owner.as_str(), 1))
        .set(f.body(), format!("{secret}-2"))
        .condition(f.body().eq(secret))
        .await
        .unwrap();
    let failed = Note::update_by_key(db, (owner.as_str(), 1))
        .set(f.body(), secret)
        .condition(f.body().eq(secret))
        .await
        .unwrap_err();
    assert!(matches!(failed, Error::ConditionFailed { .. }), "{failed:?}");
    Note::query(db, owner.as_str()).collect_all().await.unwrap();
    Note::by_topic().query(db, "rust").collect_all().await.unwrap();
    Note::scan(db).segments(2).collect_all().await.unwrap();
    db.batch_write()
        .put(&note(&owner, 2, secret))
        .put(&note(&owner, 3, secret))
        .send()
        .await
        .unwrap();
    db.batch_get().get::<Note>((owner.as_str(), 2)).send().await.unwrap();
    db.transact_write()
        .write(note(&owner, 4, secret).put(db))
        .write(Note::delete_by_key(db, (owner.as_str(), 3)))
        .send()
        .await
        .unwrap();
    Note::delete_by_key(db, (owner.as_str(), 2)).await.unwrap();
}

#[tokio::test]
async fn each_operation_has_a_span_with_its_table_index_and_name() {
    let db = db("observe_spans");
    Note::ensure_table(&db).await.unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    run_everything(&db, "plain").await;

    let table = db.table_name::<Note>();
    let expect = [
        ("dynorm.put_item", "PutItem"),
        ("dynorm.get_item", "GetItem"),
        ("dynorm.update_item", "UpdateItem"),
        ("dynorm.query", "Query"),
        ("dynorm.scan", "Scan"),
        ("dynorm.batch_write_item", "BatchWriteItem"),
        ("dynorm.batch_get_item", "BatchGetItem"),
        ("dynorm.transact_write_items", "TransactWriteItems"),
        ("dynorm.delete_item", "DeleteItem"),
    ];
    for (name, op) in expect {
        let spans = capture.spans(name);
        assert!(!spans.is_empty(), "no `{name}` span");
        for span in spans {
            assert_eq!(span.level, Level::DEBUG, "{span:?}");
            assert_eq!(
                span.fields.get("db.operation.name").map(String::as_str),
                Some(op),
                "{span:?}"
            );
            assert_eq!(span.fields.get("aws.dynamodb.table_names"), Some(&table), "{span:?}");
        }
    }
    assert_eq!(capture.spans("dynorm.update_item").len(), 2, "one span per operation");
    assert_eq!(capture.spans("dynorm.scan").len(), 2, "one span per segment's request");
    let queries = capture.spans("dynorm.query");
    assert_eq!(queries.len(), 2);
    assert_eq!(
        queries[0].fields.get("aws.dynamodb.index_name"),
        None,
        "the table query has no index"
    );
    assert_eq!(
        queries[1].fields.get("aws.dynamodb.index_name").map(String::as_str),
        Some("by-topic")
    );
    assert!(
        capture
            .dynorm()
            .iter()
            .all(|s| s.kind != "span" || !s.fields.contains_key("aws.dynamodb.consumed_capacity")),
        "no capacity recorded when no meter asks for it"
    );
}

#[tokio::test]
async fn attribute_values_are_only_logged_at_trace() {
    let db = db("observe_levels");
    Note::ensure_table(&db).await.unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let secret = "s3cret-7f1e9a";
    run_everything(&db, secret).await;

    let seen = capture.dynorm();
    let leaks: Vec<&Seen> = seen
        .iter()
        .filter(|s| s.level != Level::TRACE)
        .filter(|s| s.fields.values().any(|v| v.contains(secret)) || s.name.contains(secret))
        .collect();
    assert!(leaks.is_empty(), "values logged above TRACE: {leaks:#?}");
    let at_trace = seen
        .iter()
        .filter(|s| s.level == Level::TRACE && s.fields.values().any(|v| v.contains(secret)))
        .count();
    assert!(at_trace > 0, "TRACE shows what was sent, values included");
    assert!(
        seen.iter().any(|s| s.level == Level::DEBUG),
        "operations are visible at DEBUG"
    );
}

#[tokio::test]
async fn a_capacity_meter_adds_up_what_each_request_consumed() {
    let db = db("observe_capacity");
    Note::ensure_table(&db).await.unwrap();
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _default = tracing::subscriber::set_default(subscriber);

    let meter = CapacityMeter::new();
    let metered = db.with_capacity_meter(&meter);
    assert!(db.capacity_meter().is_none(), "the original handle stays unmetered");
    let table = db.table_name::<Note>();

    note("cap", 1, &"x".repeat(2500)).put(&metered).await.unwrap();
    assert_eq!(meter.requests(), 1);
    assert_eq!(
        meter.total(),
        6.0,
        "a 2.5 KB put takes 3 write units, and 3 more in the index"
    );
    let put_span = capture.spans("dynorm.put_item").pop().unwrap();
    let recorded = put_span.fields.get("aws.dynamodb.consumed_capacity").unwrap();
    assert!(
        recorded.starts_with('[') && recorded.contains(&format!("\"TableName\":\"{table}\"")),
        "{recorded}"
    );
    assert!(recorded.contains("\"CapacityUnits\":6"), "{recorded}");

    meter.reset();
    Note::get(&metered, ("cap", 1)).consistent_read(true).await.unwrap();
    assert_eq!(
        (meter.requests(), meter.total()),
        (1, 1.0),
        "a strongly consistent read of 2.5 KB"
    );
    Note::get(&db, ("cap", 1)).await.unwrap();
    assert_eq!(meter.requests(), 1, "the unmetered handle adds nothing");

    meter.reset();
    let notes: Vec<Note> = (2..=30).map(|n| note("cap", n, "y")).collect();
    metered.batch_write().put_all(&notes).send().await.unwrap();
    assert_eq!(meter.requests(), 2, "two batch requests");
    assert_eq!(
        meter.total(),
        58.0,
        "one unit per small item written, and one in the index"
    );
    assert_eq!(meter.table_units(&table), 58.0);

    meter.reset();
    let read = Note::query(&metered, "cap")
        .page_size(10)
        .recursive()
        .collect_all()
        .await
        .unwrap();
    assert_eq!(read.len(), 30);
    assert_eq!(meter.requests(), 4, "one report per page");
    assert!(meter.total() > 0.0);

    meter.reset();
    metered
        .transact_write()
        .write(note("cap", 31, "z").put(&metered))
        .write(Note::delete_by_key(&metered, ("cap", 2)))
        .send()
        .await
        .unwrap();
    assert_eq!(meter.requests(), 1);
    assert!(
        meter.total() >= 4.0,
        "transactional writes take two units per item: {}",
        meter.total()
    );

    // Per index: a put into a table with a GSI also writes the index.
    let indexed = CapacityMeter::with_indexes();
    note("cap", 32, "w")
        .put(&db.with_capacity_meter(&indexed))
        .await
        .unwrap();
    let by_table = indexed.by_table();
    assert_eq!(by_table.len(), 1);
    assert_eq!(by_table[0].table_name.as_deref(), Some(table.as_str()));
    let gsi = by_table[0]
        .global_secondary_indexes
        .as_ref()
        .expect("per-index capacity");
    assert!(gsi.contains_key("by-topic"), "{gsi:?}");
}
