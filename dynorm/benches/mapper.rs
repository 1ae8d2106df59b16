//! dynorm's client-side CPU overhead, against hand-written `aws-sdk-dynamodb` +
//! `serde_dynamo` code doing the same work.
//!
//! Run with `cargo bench -p dynorm` (or `cargo bench -p dynorm --bench mapper -- GROUP`
//! for one group).
//!
//! Every group holds one pair of functions, `dynorm` and `raw`, printed side by side:
//!
//! | group                     | `dynorm`                                             | `raw`                                                        |
//! | ------------------------- | ---------------------------------------------------- | ------------------------------------------------------------ |
//! | `get_item_1kb`            | `Doc::get(&db, key).await`                           | `get_item()` + `serde_dynamo::from_item`                     |
//! | `put_validated`           | `doc.put(&db).await`                                 | `validate()` + `serde_dynamo::to_item` + `put_item()`        |
//! | `update_condition_3_sets` | `update_by_key(..).set(..) x3 .condition(..).await`  | hand-written `SET` + condition, `ALL_NEW`, decode            |
//! | `query_page_1mb`          | `Doc::query(&db, pk).collect_all().await`            | `query()` + `serde_dynamo::from_item` per item               |
//! | `partial_save_diff`       | `Tracked<Doc>`: change 3 fields, `save(&db).await`   | field-by-field diff, `SET` of the changes, `ALL_NEW`, decode |
//! | `entity_put`              | `ticket.put(&db).await` (an entity: 4 keys from templates, the type) | `validate()` + `serde_dynamo::to_item` + the same keys by `format!` + `put_item()` |
//! | `entity_get`              | `Ticket::get(&db, (org, number)).await`              | keys by `format!`, `get_item()`, type check, decode           |
//! | `collection_page_1mb`     | `OrgItem::query(&db, org).collect_all().await`       | `query()`, dispatch on `_type`, `serde_dynamo::from_item`     |
//! | `batch_get_100`           | `db.batch_get().get_all(keys).await`, then `models()` (100 keys, in key order) | one `BatchGetItem` of 100 keys, `UnprocessedKeys` sent again, `serde_dynamo::from_item` |
//! | `batch_write_100`         | `db.batch_write().put_all(&docs).concurrency(4).await` (100 docs) | requests of 25, validated and encoded, 4 in flight (`buffer_unordered`), `UnprocessedItems` sent again |
//!
//! No network is involved, yet both sides go through the whole SDK (request
//! serialization, endpoint resolution, SigV4 signing, response deserialization): the
//! client's HTTP layer is [`Canned`], a connector that answers every request at once
//! with a fixed DynamoDB JSON body. Both sides of a pair share one client, and so one
//! canned response. The bodies are built from the benchmark's items in DynamoDB's wire
//! format, and before a group is measured both sides are run once and must decode the
//! same values, so no side is measuring an error path. The requests each side sends
//! are made as alike as the APIs allow (same attributes, same options such as
//! `ReturnValuesOnConditionCheckFailure`, placeholders of similar lengths); their sizes
//! are printed when the group starts.
//!
//! The model, [`Doc`], has 10 attributes (strings, numbers, a bool, a list, a map),
//! about 1 KB as DynamoDB counts item size, and `validator` rules (length, range,
//! email). Everything runs on a current-thread tokio runtime.
//!
//! On a shared or virtual machine, timings can drift by tens of percent for seconds at a
//! time, so a pair's two criterion lines may come from different phases. After its
//! criterion group, each pair is therefore measured again interleaved (blocks of
//! `dynorm` and `raw` iterations in ABBA order, so both sides see the same machine state),
//! and the medians of the per-round ratios are printed together at the end: the figures
//! in `BENCHMARKS.md`. `DYNORM_BENCH_ROUNDS` sets the number of rounds (default 400; a
//! quarter of that for the 1 MB page); `DYNORM_BENCH_ONLY=partial,update` runs only the
//! pairs whose names contain one of the words.

use std::collections::{BTreeMap, HashMap};
use std::error::Error as StdError;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use aws_sdk_dynamodb::Client;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;
use bytes::Bytes;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use dynorm::{Db, DynaModel, Item, Tracked};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::runtime::Runtime;
use validator::Validate;

type BoxError = Box<dyn StdError + Send + Sync>;

/// The table of [`Doc`].
const TABLE: &str = "bench_docs";
/// The hash key every benchmark item shares.
const PK: &str = "tenant-0042";
/// DynamoDB's limit on the data one query page reads.
const PAGE_BYTES: usize = 1024 * 1024;

/// The benchmark model: 10 attributes, about 1 KB.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "bench_docs", hash_key = "pk", range_key = "sk")]
struct Doc {
    pk: String,
    sk: String,
    #[validate(length(min = 1, max = 200))]
    title: String,
    #[validate(email)]
    email: String,
    #[validate(length(max = 4000))]
    body: String,
    #[validate(range(min = 18, max = 150))]
    age: u32,
    #[validate(range(min = 0.0, max = 100.0))]
    score: f64,
    active: bool,
    #[validate(length(max = 32))]
    tags: Vec<String>,
    attrs: BTreeMap<String, String>,
}

/// The `n`th item of the [`PK`] partition.
fn doc(n: usize) -> Doc {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"];
    let mut body = String::new();
    while body.len() < 690 {
        body.push_str(words[(n + body.len()) % words.len()]);
        body.push(' ');
    }
    Doc {
        pk: PK.into(),
        sk: format!("doc-{n:06}"),
        title: format!("Quarterly report {n}: throughput, latency and storage costs"),
        email: format!("owner{n}@example.com"),
        body,
        age: 18 + (n % 80) as u32,
        score: (n % 400) as f64 / 4.0,
        active: true,
        tags: words.iter().map(|w| format!("tag-{w}")).collect(),
        attrs: (0..6).map(|i| (format!("attr{i}"), format!("value-{n}-{i}"))).collect(),
    }
}

/// The single-table pairs' table: one table, an overloaded index.
#[derive(dynorm::DynaTable)]
#[table(name = "bench_app", hash_key = "pk", range_key = "sk")]
#[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
#[allow(dead_code)]
struct App {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
}

/// An entity of about 1 KB, with a table key and an index key from templates.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = App, name = "ticket", pk = "ORG#{org_id}", sk = "TICKET#{number}")]
#[entity_index(name = "gsi1", pk = "STATUS#{status}", sk = "{number}")]
struct Ticket {
    org_id: String,
    number: u32,
    #[validate(length(min = 1, max = 200))]
    title: String,
    status: String,
    #[validate(email)]
    reporter: String,
    #[validate(length(max = 4000))]
    body: String,
    priority: u8,
    tags: Vec<String>,
}

/// Another entity of the same partition.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[entity(table = App, name = "member", pk = "ORG#{org_id}", sk = "MEMBER#{user_id}")]
struct Member {
    org_id: String,
    user_id: String,
    #[validate(email)]
    email: String,
    bio: String,
}

#[derive(dynorm::Collection, Debug, Clone, PartialEq)]
enum OrgItem {
    Ticket(Ticket),
    Member(Member),
}

const ORG: &str = "org-0042";

fn ticket(n: u32) -> Ticket {
    let d = doc(n as usize);
    Ticket {
        org_id: ORG.into(),
        number: n,
        title: d.title,
        status: if n.is_multiple_of(3) { "closed" } else { "open" }.into(),
        reporter: d.email,
        body: d.body,
        priority: (n % 5) as u8,
        tags: d.tags,
    }
}

fn member(n: u32) -> Member {
    let d = doc(n as usize);
    Member {
        org_id: ORG.into(),
        user_id: format!("user-{n:05}"),
        email: d.email,
        bio: d.body,
    }
}

/// The item dynorm stores for an entity, as the raw side builds it by hand.
fn raw_ticket_item(t: &Ticket) -> Result<Item, BoxError> {
    let mut item: Item = serde_dynamo::to_item(t)?;
    item.insert("pk".into(), AttributeValue::S(format!("ORG#{}", t.org_id)));
    item.insert("sk".into(), AttributeValue::S(format!("TICKET#{:010}", t.number)));
    item.insert("gsi1pk".into(), AttributeValue::S(format!("STATUS#{}", t.status)));
    item.insert("gsi1sk".into(), AttributeValue::S(format!("{:010}", t.number)));
    item.insert("_type".into(), AttributeValue::S("ticket".into()));
    Ok(item)
}

fn raw_member_item(m: &Member) -> Result<Item, BoxError> {
    let mut item: Item = serde_dynamo::to_item(m)?;
    item.insert("pk".into(), AttributeValue::S(format!("ORG#{}", m.org_id)));
    item.insert("sk".into(), AttributeValue::S(format!("MEMBER#{}", m.user_id)));
    item.insert("_type".into(), AttributeValue::S("member".into()));
    Ok(item)
}

async fn raw_entity_put(client: &Client, t: &Ticket) -> Result<(), BoxError> {
    t.validate()?;
    let item = raw_ticket_item(t)?;
    client
        .put_item()
        .table_name("bench_app")
        .set_item(Some(item))
        .send()
        .await?;
    Ok(())
}

async fn raw_entity_get(client: &Client, org: &str, number: u32) -> Result<Option<Ticket>, BoxError> {
    let output = client
        .get_item()
        .table_name("bench_app")
        .key("pk", AttributeValue::S(format!("ORG#{org}")))
        .key("sk", AttributeValue::S(format!("TICKET#{number:010}")))
        .consistent_read(false)
        .send()
        .await?;
    match output.item {
        Some(item) if item.get("_type") == Some(&AttributeValue::S("ticket".into())) => {
            Ok(Some(serde_dynamo::from_item(item)?))
        }
        Some(_) => Err("not a ticket".into()),
        None => Ok(None),
    }
}

async fn raw_collection(client: &Client, org: &str) -> Result<Vec<OrgItem>, BoxError> {
    let output = client
        .query()
        .table_name("bench_app")
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", "pk")
        .expression_attribute_values(":pk", AttributeValue::S(format!("ORG#{org}")))
        .scan_index_forward(true)
        .send()
        .await?;
    let mut out = Vec::new();
    for item in output.items.unwrap_or_default() {
        let decoded = match item.get("_type") {
            Some(AttributeValue::S(t)) if t == "ticket" => OrgItem::Ticket(serde_dynamo::from_item(item)?),
            Some(AttributeValue::S(t)) if t == "member" => OrgItem::Member(serde_dynamo::from_item(item)?),
            _ => return Err("unknown type".into()),
        };
        out.push(decoded);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// The mocked HTTP layer
// ---------------------------------------------------------------------------------------

/// An HTTP client that answers every request with status 200 and one fixed DynamoDB
/// JSON body (a cheap `Bytes` clone), and records the size of the last request body.
#[derive(Debug, Clone)]
struct Canned {
    body: Bytes,
    last_request_len: Arc<AtomicUsize>,
}

impl HttpConnector for Canned {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let len = request.body().bytes().map_or(0, <[u8]>::len);
        self.last_request_len.store(len, Ordering::Relaxed);
        let mut response = HttpResponse::new(
            StatusCode::try_from(200).expect("valid status"),
            SdkBody::from(self.body.clone()),
        );
        response
            .headers_mut()
            .insert("content-type", "application/x-amz-json-1.0");
        HttpConnectorFuture::ready(Ok(response))
    }
}

/// Hands out one shared [`Canned`] connector, as a real client hands out its pool.
#[derive(Debug, Clone)]
struct CannedClient {
    connector: SharedHttpConnector,
}

impl HttpClient for CannedClient {
    fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
        self.connector.clone()
    }
}

/// One SDK client answering every request with `response`, and the dynorm handle on it.
struct Mocked {
    client: Client,
    db: Db,
    canned: Canned,
}

impl Mocked {
    fn new(response: &Value) -> Self {
        let canned = Canned {
            body: Bytes::from(serde_json::to_vec(response).expect("JSON")),
            last_request_len: Arc::default(),
        };
        let http = CannedClient {
            connector: SharedHttpConnector::new(canned.clone()),
        };
        let config = aws_sdk_dynamodb::Config::builder()
            .http_client(http)
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDBENCH", "bench-secret", None, None, "bench"))
            .endpoint_url("http://localhost:8000")
            .build();
        let client = Client::from_conf(config);
        Mocked {
            db: Db::from_client(client.clone()),
            client,
            canned,
        }
    }

    /// The body size of the last request sent.
    fn last_request_len(&self) -> usize {
        self.canned.last_request_len.load(Ordering::Relaxed)
    }
}

/// A value in DynamoDB's wire format: `{"S": "..."}`, `{"N": "..."}`, ...
fn wire(value: &AttributeValue) -> Value {
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::Null(_) => json!({ "NULL": true }),
        AttributeValue::Ss(v) => json!({ "SS": v }),
        AttributeValue::Ns(v) => json!({ "NS": v }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": wire_item(map) }),
        AttributeValue::B(b) => json!({ "B": aws_smithy_types::base64::encode(b) }),
        AttributeValue::Bs(v) => json!({ "BS": v.iter().map(aws_smithy_types::base64::encode).collect::<Vec<_>>() }),
        // Only the SDK makes `Unknown`, when it parses a type it does not know; items
        // encoded by serde_dynamo never hold one.
        other => unreachable!("not an attribute value serde_dynamo writes: {other:?}"),
    }
}

/// An item in DynamoDB's wire format.
fn wire_item(item: &HashMap<String, AttributeValue>) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), wire(v))).collect::<Map<_, _>>())
}

fn item_of(doc: &Doc) -> Item {
    serde_dynamo::to_item(doc).expect("encodes")
}

/// Runs both sides once, outside the measurement: they must agree on the result, and
/// their request sizes are printed.
fn check_pair<T: PartialEq + std::fmt::Debug>(
    group: &str,
    rt: &Runtime,
    mocked: &Mocked,
    dynorm: impl AsyncFnOnce() -> T,
    raw: impl AsyncFnOnce() -> T,
    expected: &T,
) {
    let got = rt.block_on(dynorm());
    let dynorm_len = mocked.last_request_len();
    assert_eq!(&got, expected, "{group}: dynorm's result");
    let got = rt.block_on(raw());
    let raw_len = mocked.last_request_len();
    assert_eq!(&got, expected, "{group}: raw result");
    println!("{group}: request body {dynorm_len} bytes (dynorm), {raw_len} bytes (raw)");
}

// ---------------------------------------------------------------------------------------
// The raw SDK side
// ---------------------------------------------------------------------------------------

async fn raw_get(client: &Client, pk: &str, sk: &str) -> Result<Option<Doc>, BoxError> {
    let output = client
        .get_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .consistent_read(false)
        .send()
        .await?;
    Ok(output.item.map(serde_dynamo::from_item).transpose()?)
}

async fn raw_put(client: &Client, doc: &Doc) -> Result<(), BoxError> {
    doc.validate()?;
    let item: Item = serde_dynamo::to_item(doc)?;
    client.put_item().table_name(TABLE).set_item(Some(item)).send().await?;
    Ok(())
}

/// The change the update benchmarks make.
#[derive(Clone)]
struct Change {
    title: String,
    age: u32,
    score: f64,
}

async fn raw_update(client: &Client, pk: &str, sk: &str, change: &Change) -> Result<Option<Doc>, BoxError> {
    let output = client
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(pk.to_owned()))
        .key("sk", AttributeValue::S(sk.to_owned()))
        .update_expression("SET #title = :title, #age = :age, #score = :score")
        .condition_expression("#active = :active")
        .expression_attribute_names("#title", "title")
        .expression_attribute_names("#age", "age")
        .expression_attribute_names("#score", "score")
        .expression_attribute_names("#active", "active")
        .expression_attribute_values(":title", AttributeValue::S(change.title.clone()))
        .expression_attribute_values(":age", AttributeValue::N(change.age.to_string()))
        .expression_attribute_values(":score", AttributeValue::N(change.score.to_string()))
        .expression_attribute_values(":active", AttributeValue::Bool(true))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await?;
    Ok(output.attributes.map(serde_dynamo::from_item).transpose()?)
}

async fn raw_query(client: &Client, pk: &str) -> Result<Vec<Doc>, BoxError> {
    let output = client
        .query()
        .table_name(TABLE)
        .key_condition_expression("#pk = :pk")
        .expression_attribute_names("#pk", "pk")
        .expression_attribute_values(":pk", AttributeValue::S(pk.to_owned()))
        .scan_index_forward(true)
        .send()
        .await?;
    // Item by item: `serde_dynamo::from_items` first converts the whole page to its own
    // representation, which makes it about 8% slower on a 1 MB page.
    Ok(output
        .items
        .unwrap_or_default()
        .into_iter()
        .map(serde_dynamo::from_item)
        .collect::<Result<Vec<Doc>, _>>()?)
}

/// What a careful hand-written program keeps for a partial save: the instance as
/// loaded, and the instance being edited.
#[derive(Debug, Clone, PartialEq)]
struct RawTracked {
    loaded: Doc,
    current: Doc,
}

impl RawTracked {
    fn new(loaded: Doc) -> Self {
        RawTracked {
            current: loaded.clone(),
            loaded,
        }
    }
}

/// Saves what changed: validates, refuses a changed key, compares field by field, sends
/// `SET` for the changed attributes on the condition that the item exists, and refreshes
/// both instances from the item returned (`ALL_NEW`), as [`Tracked::save`] does.
async fn raw_partial_save(client: &Client, tracked: &mut RawTracked) -> Result<bool, BoxError> {
    let (old, new) = (&tracked.loaded, &tracked.current);
    new.validate()?;
    if old.pk != new.pk || old.sk != new.sk {
        return Err("a save cannot change the key".into());
    }
    let mut sets: Vec<&str> = Vec::new();
    let mut names = HashMap::new();
    let mut values = HashMap::new();
    macro_rules! diff {
        ($field:ident, $value:expr) => {
            if old.$field != new.$field {
                sets.push(concat!("#", stringify!($field), " = :", stringify!($field)));
                names.insert(
                    concat!("#", stringify!($field)).to_owned(),
                    stringify!($field).to_owned(),
                );
                values.insert(concat!(":", stringify!($field)).to_owned(), $value);
            }
        };
    }
    diff!(title, AttributeValue::S(new.title.clone()));
    diff!(email, AttributeValue::S(new.email.clone()));
    diff!(body, AttributeValue::S(new.body.clone()));
    diff!(age, AttributeValue::N(new.age.to_string()));
    diff!(score, AttributeValue::N(new.score.to_string()));
    diff!(active, AttributeValue::Bool(new.active));
    diff!(tags, serde_dynamo::to_attribute_value(&new.tags)?);
    diff!(attrs, serde_dynamo::to_attribute_value(&new.attrs)?);
    if sets.is_empty() {
        return Ok(false);
    }
    names.insert("#pk".to_owned(), "pk".to_owned());
    let output = client
        .update_item()
        .table_name(TABLE)
        .key("pk", AttributeValue::S(new.pk.clone()))
        .key("sk", AttributeValue::S(new.sk.clone()))
        .update_expression(format!("SET {}", sets.join(", ")))
        .condition_expression("attribute_exists(#pk)")
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .return_values(ReturnValue::AllNew)
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await?;
    let fresh: Doc = serde_dynamo::from_item(output.attributes.ok_or("no attributes returned")?)?;
    tracked.loaded = fresh.clone();
    tracked.current = fresh;
    Ok(true)
}

// ---------------------------------------------------------------------------------------
// The benchmarks
// ---------------------------------------------------------------------------------------

fn get_item_1kb(c: &mut Criterion, rt: &Runtime) -> String {
    let stored = doc(7);
    let mocked = Mocked::new(&json!({ "Item": wire_item(&item_of(&stored)) }));
    let (client, db) = (&mocked.client, &mocked.db);
    let (pk, sk) = (stored.pk.clone(), stored.sk.clone());
    println!(
        "get_item_1kb: item of {} bytes, {} attributes",
        dynorm::item_size(&item_of(&stored)),
        item_of(&stored).len()
    );
    check_pair(
        "get_item_1kb",
        rt,
        &mocked,
        async || Doc::get(db, (&pk, &sk)).await.expect("dynorm get"),
        async || raw_get(client, &pk, &sk).await.expect("raw get"),
        &Some(stored.clone()),
    );

    let mut group = c.benchmark_group("get_item_1kb");
    group.bench_function("dynorm", |b| {
        b.to_async(rt)
            .iter(|| async { Doc::get(db, (&pk, &sk)).await.expect("dynorm get") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_get(client, &pk, &sk).await.expect("raw get") })
    });
    group.finish();

    let (pk, sk) = (&pk, &sk);
    interleaved(
        "get_item_1kb",
        rt,
        rounds(400),
        40,
        || (),
        |_| async move { Doc::get(db, (pk, sk)).await.expect("dynorm get") },
        || (),
        |_| async move { raw_get(client, pk, sk).await.expect("raw get") },
    )
}

fn put_validated(c: &mut Criterion, rt: &Runtime) -> String {
    let mocked = Mocked::new(&json!({}));
    let (client, db) = (&mocked.client, &mocked.db);
    let doc = doc(11);
    assert!(doc.validate().is_ok());
    check_pair(
        "put_validated",
        rt,
        &mocked,
        async || doc.put(db).await.expect("dynorm put"),
        async || raw_put(client, &doc).await.expect("raw put"),
        &(),
    );

    let mut group = c.benchmark_group("put_validated");
    group.bench_function("dynorm", |b| {
        b.to_async(rt).iter(|| async { doc.put(db).await.expect("dynorm put") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_put(client, &doc).await.expect("raw put") })
    });
    group.finish();

    let doc = &doc;
    interleaved(
        "put_validated",
        rt,
        rounds(400),
        40,
        || (),
        |_| async move { doc.put(db).await.expect("dynorm put") },
        || (),
        |_| async move { raw_put(client, doc).await.expect("raw put") },
    )
}

async fn dynorm_update(db: &Db, pk: &str, sk: &str, change: &Change) -> Option<Doc> {
    let f = Doc::fields();
    Doc::update_by_key(db, (pk, sk))
        .set(f.title(), &change.title)
        .set(f.age(), change.age)
        .set(f.score(), change.score)
        .condition(f.active().eq(true))
        .await
        .expect("dynorm update")
}

fn update_condition_3_sets(c: &mut Criterion, rt: &Runtime) -> String {
    let change = Change {
        title: "Quarterly report, revised".into(),
        age: 42,
        score: 97.5,
    };
    let updated = Doc {
        title: change.title.clone(),
        age: change.age,
        score: change.score,
        ..doc(3)
    };
    let mocked = Mocked::new(&json!({ "Attributes": wire_item(&item_of(&updated)) }));
    let (client, db) = (&mocked.client, &mocked.db);
    let (pk, sk) = (updated.pk.clone(), updated.sk.clone());
    check_pair(
        "update_condition_3_sets",
        rt,
        &mocked,
        async || dynorm_update(db, &pk, &sk, &change).await,
        async || raw_update(client, &pk, &sk, &change).await.expect("raw update"),
        &Some(updated.clone()),
    );

    let mut group = c.benchmark_group("update_condition_3_sets");
    group.bench_function("dynorm", |b| {
        b.to_async(rt).iter(|| dynorm_update(db, &pk, &sk, &change))
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_update(client, &pk, &sk, &change).await.expect("raw update") })
    });
    group.finish();

    let (pk, sk, change) = (&pk, &sk, &change);
    interleaved(
        "update_condition_3_sets",
        rt,
        rounds(400),
        30,
        || (),
        |_| dynorm_update(db, pk, sk, change),
        || (),
        |_| async move { raw_update(client, pk, sk, change).await.expect("raw update") },
    )
}

fn query_page_1mb(c: &mut Criterion, rt: &Runtime) -> String {
    // As many ~1 KB items as fit in DynamoDB's 1 MB page.
    let mut docs = Vec::new();
    let mut bytes = 0;
    for n in 0.. {
        let d = doc(n);
        bytes += dynorm::item_size(&item_of(&d));
        if bytes > PAGE_BYTES {
            break;
        }
        docs.push(d);
    }
    let items: Vec<Value> = docs.iter().map(|d| wire_item(&item_of(d))).collect();
    // No LastEvaluatedKey: both sides make exactly one request.
    let response = json!({ "Items": items, "Count": docs.len(), "ScannedCount": docs.len() });
    let mocked = Mocked::new(&response);
    println!(
        "query_page_1mb: {} items, response body {} bytes",
        docs.len(),
        mocked.canned.body.len()
    );
    let (client, db) = (&mocked.client, &mocked.db);
    check_pair(
        "query_page_1mb",
        rt,
        &mocked,
        async || Doc::query(db, PK).collect_all().await.expect("dynorm query"),
        async || raw_query(client, PK).await.expect("raw query"),
        &docs,
    );

    let mut group = c.benchmark_group("query_page_1mb");
    group.sample_size(30).measurement_time(Duration::from_secs(15));
    group.bench_function("dynorm", |b| {
        b.to_async(rt)
            .iter(|| async { Doc::query(db, PK).collect_all().await.expect("dynorm query") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_query(client, PK).await.expect("raw query") })
    });
    group.finish();

    interleaved(
        "query_page_1mb",
        rt,
        rounds(100),
        1,
        || (),
        |_| async move { Doc::query(db, PK).collect_all().await.expect("dynorm query") },
        || (),
        |_| async move { raw_query(client, PK).await.expect("raw query") },
    )
}

/// The edit both sides make before saving: three scalar fields.
fn edit(doc: &mut Doc, change: &Change) {
    doc.title.clone_from(&change.title);
    doc.age = change.age;
    doc.active = false;
}

fn partial_save_diff(c: &mut Criterion, rt: &Runtime) -> String {
    let loaded = doc(5);
    let stored = item_of(&loaded);
    let change = Change {
        title: "Quarterly report, final".into(),
        age: 64,
        score: 0.0,
    };
    let mut saved = loaded.clone();
    edit(&mut saved, &change);
    // Both sides ask for ALL_NEW and refresh the instance from it.
    let mocked = Mocked::new(&json!({ "Attributes": wire_item(&item_of(&saved)) }));
    let (client, db) = (&mocked.client, &mocked.db);
    let tracked = || Tracked::<Doc>::from_item(stored.clone()).expect("tracks");
    let raw_tracked = || RawTracked::new(serde_dynamo::from_item(stored.clone()).expect("decodes"));
    check_pair(
        "partial_save_diff",
        rt,
        &mocked,
        async || {
            let mut t = tracked();
            edit(&mut t, &change);
            assert!(t.save(db).await.expect("dynorm save"));
            assert!(!t.is_changed().expect("diff"));
            t.into_inner()
        },
        async || {
            let mut t = raw_tracked();
            edit(&mut t.current, &change);
            assert!(raw_partial_save(client, &mut t).await.expect("raw save"));
            assert_eq!(t.loaded, t.current);
            t.current
        },
        &saved,
    );

    // The instance is loaded (untimed setup), then edited and saved (timed).
    let change = &change;
    let mut group = c.benchmark_group("partial_save_diff");
    group.bench_function("dynorm", |b| {
        b.to_async(rt).iter_batched(
            tracked,
            |mut t| async move {
                edit(&mut t, change);
                black_box(t.save(db).await.expect("dynorm save"));
                t
            },
            BatchSize::SmallInput,
        )
    });
    group.bench_function("raw", |b| {
        b.to_async(rt).iter_batched(
            raw_tracked,
            |mut t| async move {
                edit(&mut t.current, change);
                black_box(raw_partial_save(client, &mut t).await.expect("raw save"));
                t
            },
            BatchSize::SmallInput,
        )
    });
    group.finish();

    interleaved(
        "partial_save_diff",
        rt,
        rounds(400),
        20,
        tracked,
        |mut t| async move {
            edit(&mut t, change);
            black_box(t.save(db).await.expect("dynorm save"));
            t
        },
        raw_tracked,
        |mut t| async move {
            edit(&mut t.current, change);
            black_box(raw_partial_save(client, &mut t).await.expect("raw save"));
            t
        },
    )
}

/// Alternates blocks of `dynorm` and `raw` iterations (ABBA), so both see the same
/// machine state; on a machine whose speed drifts, a pair's criterion lines can come
/// from different phases, these cannot. Returns the median of the per-round ratios, as a
/// line to print.
// Two sides, each with a setup and a body, plus the run's shape.
#[allow(clippy::too_many_arguments)]
fn interleaved<I, J, O, P, FD, FR>(
    name: &str,
    rt: &Runtime,
    rounds: usize,
    block: usize,
    mut setup_d: impl FnMut() -> I,
    mut dynorm: impl FnMut(I) -> FD,
    mut setup_r: impl FnMut() -> J,
    mut raw: impl FnMut(J) -> FR,
) -> String
where
    FD: std::future::Future<Output = O>,
    FR: std::future::Future<Output = P>,
{
    let mut ratios = Vec::new();
    let (mut td, mut tr) = (Vec::new(), Vec::new());
    rt.block_on(async {
        for round in 0..rounds {
            let mut time_d = 0f64;
            let mut time_r = 0f64;
            for side in [round % 2, 1 - round % 2] {
                if side == 0 {
                    let inputs: Vec<I> = (0..block).map(|_| setup_d()).collect();
                    let mut outs = Vec::with_capacity(block);
                    let start = std::time::Instant::now();
                    for i in inputs {
                        outs.push(dynorm(i).await);
                    }
                    time_d = start.elapsed().as_nanos() as f64 / block as f64;
                    drop(black_box(outs));
                } else {
                    let inputs: Vec<J> = (0..block).map(|_| setup_r()).collect();
                    let mut outs = Vec::with_capacity(block);
                    let start = std::time::Instant::now();
                    for i in inputs {
                        outs.push(raw(i).await);
                    }
                    time_r = start.elapsed().as_nanos() as f64 / block as f64;
                    drop(black_box(outs));
                }
            }
            if round >= rounds / 10 {
                ratios.push(time_d / time_r);
                td.push(time_d);
                tr.push(time_r);
            }
        }
    });
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 2]
    };
    let p10 = |v: &mut Vec<f64>| {
        v.sort_by(|a, b| a.partial_cmp(b).unwrap());
        v[v.len() / 10]
    };
    let (md, mr) = (med(&mut td), med(&mut tr));
    let (ld, lr) = (p10(&mut td), p10(&mut tr));
    format!(
        "{name}: dynorm/raw {:.3} (median of {} rounds of {block}); dynorm median {:.1} µs, p10 {:.1} µs; raw median {:.1} µs, p10 {:.1} µs",
        med(&mut ratios),
        ratios.len(),
        md / 1e3,
        ld / 1e3,
        mr / 1e3,
        lr / 1e3
    )
}

/// Writes per `BatchWriteItem`, and requests in flight (dynorm's default).
const BATCH_WRITES: usize = 25;
const BATCH_IN_FLIGHT: usize = 4;

/// A raw batch write of `docs`: validated and encoded per request of 25, 4 requests in
/// flight, each response's `UnprocessedItems` sent again.
async fn raw_batch_write(client: &Client, docs: &[Doc]) -> Result<(), BoxError> {
    use futures::{StreamExt, TryStreamExt};
    futures::stream::iter(docs.chunks(BATCH_WRITES))
        .map(|chunk| async move {
            let mut requests = chunk
                .iter()
                .map(|doc| {
                    doc.validate()?;
                    let item: Item = serde_dynamo::to_item(doc)?;
                    let put = aws_sdk_dynamodb::types::PutRequest::builder()
                        .set_item(Some(item))
                        .build()?;
                    Ok(aws_sdk_dynamodb::types::WriteRequest::builder()
                        .put_request(put)
                        .build())
                })
                .collect::<Result<Vec<_>, BoxError>>()?;
            while !requests.is_empty() {
                let out = client.batch_write_item().request_items(TABLE, requests).send().await?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut left| left.remove(TABLE))
                    .unwrap_or_default();
            }
            Ok::<(), BoxError>(())
        })
        .buffer_unordered(BATCH_IN_FLIGHT)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

fn batch_write_100(c: &mut Criterion, rt: &Runtime) -> String {
    let mocked = Mocked::new(&json!({ "UnprocessedItems": {} }));
    let (client, db) = (&mocked.client, &mocked.db);
    let docs: Vec<Doc> = (0..100).map(doc).collect();
    let docs = &docs;
    let dynorm_write = async || {
        let out = db
            .batch_write()
            .put_all(docs)
            .concurrency(BATCH_IN_FLIGHT)
            .send()
            .await
            .expect("dynorm batch write");
        out.applied
    };
    let raw_write = async || {
        raw_batch_write(client, docs).await.expect("raw batch write");
        docs.len()
    };
    check_pair("batch_write_100", rt, &mocked, dynorm_write, raw_write, &100);

    let mut group = c.benchmark_group("batch_write_100");
    group.bench_function("dynorm", |b| b.to_async(rt).iter(dynorm_write));
    group.bench_function("raw", |b| b.to_async(rt).iter(raw_write));
    group.finish();

    interleaved(
        "batch_write_100",
        rt,
        rounds(100),
        2,
        || (),
        |_| dynorm_write(),
        || (),
        |_| raw_write(),
    )
}

/// A raw batch get of 100 keys: one `BatchGetItem`, unprocessed keys sent again, every
/// item decoded.
async fn raw_batch_get(client: &Client, docs: &[Doc]) -> Result<Vec<Doc>, BoxError> {
    let mut keys: Vec<Item> = docs
        .iter()
        .map(|d| {
            HashMap::from([
                ("pk".to_owned(), AttributeValue::S(d.pk.clone())),
                ("sk".to_owned(), AttributeValue::S(d.sk.clone())),
            ])
        })
        .collect();
    let mut found = Vec::with_capacity(keys.len());
    loop {
        let request = aws_sdk_dynamodb::types::KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .build()?;
        let out = client.batch_get_item().request_items(TABLE, request).send().await?;
        for item in out.responses.and_then(|mut r| r.remove(TABLE)).unwrap_or_default() {
            found.push(serde_dynamo::from_item(item)?);
        }
        match out.unprocessed_keys.and_then(|mut left| left.remove(TABLE)) {
            Some(left) if !left.keys.is_empty() => keys = left.keys,
            _ => return Ok(found),
        }
    }
}

fn batch_get_100(c: &mut Criterion, rt: &Runtime) -> String {
    let docs: Vec<Doc> = (0..100).map(doc).collect();
    let items: Vec<Value> = docs.iter().map(|d| wire_item(&item_of(d))).collect();
    let mocked = Mocked::new(&json!({ "Responses": { TABLE: items }, "UnprocessedKeys": {} }));
    let (client, db) = (&mocked.client, &mocked.db);
    let docs = &docs;
    // dynorm gives the models in the order of the keys asked; the canned response is in
    // that order too, so both sides return the same list.
    let dynorm_get = async || {
        let mut out = db
            .batch_get()
            .get_all::<Doc, _>(docs.iter().map(|d| (d.pk.as_str(), d.sk.as_str())))
            .send()
            .await
            .expect("dynorm batch get");
        out.models::<Doc>().expect("models")
    };
    let raw_get = async || raw_batch_get(client, docs).await.expect("raw batch get");
    check_pair("batch_get_100", rt, &mocked, dynorm_get, raw_get, docs);

    let mut group = c.benchmark_group("batch_get_100");
    group.bench_function("dynorm", |b| b.to_async(rt).iter(dynorm_get));
    group.bench_function("raw", |b| b.to_async(rt).iter(raw_get));
    group.finish();

    interleaved(
        "batch_get_100",
        rt,
        rounds(100),
        2,
        || (),
        |_| dynorm_get(),
        || (),
        |_| raw_get(),
    )
}

fn entity_put(c: &mut Criterion, rt: &Runtime) -> String {
    let mocked = Mocked::new(&json!({}));
    let (client, db) = (&mocked.client, &mocked.db);
    let t = ticket(11);
    assert_eq!(
        dynorm::DynaModel::to_item(&t).expect("encodes"),
        raw_ticket_item(&t).expect("encodes")
    );
    check_pair(
        "entity_put",
        rt,
        &mocked,
        async || t.put(db).await.expect("dynorm put"),
        async || raw_entity_put(client, &t).await.expect("raw put"),
        &(),
    );
    let mut group = c.benchmark_group("entity_put");
    group.bench_function("dynorm", |b| {
        b.to_async(rt).iter(|| async { t.put(db).await.expect("dynorm put") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_entity_put(client, &t).await.expect("raw put") })
    });
    group.finish();
    let t = &t;
    interleaved(
        "entity_put",
        rt,
        rounds(400),
        40,
        || (),
        |_| async move { t.put(db).await.expect("dynorm put") },
        || (),
        |_| async move { raw_entity_put(client, t).await.expect("raw put") },
    )
}

fn entity_get(c: &mut Criterion, rt: &Runtime) -> String {
    let stored = ticket(7);
    let mocked = Mocked::new(&json!({ "Item": wire_item(&raw_ticket_item(&stored).expect("encodes")) }));
    let (client, db) = (&mocked.client, &mocked.db);
    check_pair(
        "entity_get",
        rt,
        &mocked,
        async || Ticket::get(db, (ORG, 7)).await.expect("dynorm get"),
        async || raw_entity_get(client, ORG, 7).await.expect("raw get"),
        &Some(stored.clone()),
    );
    let mut group = c.benchmark_group("entity_get");
    group.bench_function("dynorm", |b| {
        b.to_async(rt)
            .iter(|| async { Ticket::get(db, (ORG, 7)).await.expect("dynorm get") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_entity_get(client, ORG, 7).await.expect("raw get") })
    });
    group.finish();
    interleaved(
        "entity_get",
        rt,
        rounds(400),
        40,
        || (),
        |_| async move { Ticket::get(db, (ORG, 7)).await.expect("dynorm get") },
        || (),
        |_| async move { raw_entity_get(client, ORG, 7).await.expect("raw get") },
    )
}

fn collection_page_1mb(c: &mut Criterion, rt: &Runtime) -> String {
    // Tickets and members, alternating, as many as fit in a 1 MB page.
    let (mut items, mut expected) = (Vec::new(), Vec::new());
    let mut bytes = 0;
    for n in 0.. {
        let (item, model) = if n % 2 == 0 {
            let t = ticket(n);
            (raw_ticket_item(&t).expect("encodes"), OrgItem::Ticket(t))
        } else {
            let m = member(n);
            (raw_member_item(&m).expect("encodes"), OrgItem::Member(m))
        };
        bytes += dynorm::item_size(&item);
        if bytes > PAGE_BYTES {
            break;
        }
        items.push(wire_item(&item));
        expected.push(model);
    }
    let response = json!({ "Items": items, "Count": expected.len(), "ScannedCount": expected.len() });
    let mocked = Mocked::new(&response);
    println!(
        "collection_page_1mb: {} items, response body {} bytes",
        expected.len(),
        mocked.canned.body.len()
    );
    let (client, db) = (&mocked.client, &mocked.db);
    check_pair(
        "collection_page_1mb",
        rt,
        &mocked,
        async || OrgItem::query(db, ORG).collect_all().await.expect("dynorm collection"),
        async || raw_collection(client, ORG).await.expect("raw collection"),
        &expected,
    );
    let mut group = c.benchmark_group("collection_page_1mb");
    group.sample_size(30).measurement_time(Duration::from_secs(15));
    group.bench_function("dynorm", |b| {
        b.to_async(rt)
            .iter(|| async { OrgItem::query(db, ORG).collect_all().await.expect("dynorm collection") })
    });
    group.bench_function("raw", |b| {
        b.to_async(rt)
            .iter(|| async { raw_collection(client, ORG).await.expect("raw collection") })
    });
    group.finish();
    interleaved(
        "collection_page_1mb",
        rt,
        rounds(100),
        1,
        || (),
        |_| async move { OrgItem::query(db, ORG).collect_all().await.expect("dynorm collection") },
        || (),
        |_| async move { raw_collection(client, ORG).await.expect("raw collection") },
    )
}

/// The interleaved rounds of a pair: `per_400` rounds by default, scaled by
/// `DYNORM_BENCH_ROUNDS`.
fn rounds(per_400: usize) -> usize {
    let rounds: usize = std::env::var("DYNORM_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(400);
    (rounds * per_400 / 400).max(10)
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    type Pair = fn(&mut Criterion, &Runtime) -> String;
    let pairs: [(&str, Pair); 10] = [
        ("get_item_1kb", get_item_1kb),
        ("put_validated", put_validated),
        ("update_condition_3_sets", update_condition_3_sets),
        ("query_page_1mb", query_page_1mb),
        ("partial_save_diff", partial_save_diff),
        ("entity_put", entity_put),
        ("entity_get", entity_get),
        ("collection_page_1mb", collection_page_1mb),
        ("batch_write_100", batch_write_100),
        ("batch_get_100", batch_get_100),
    ];
    // `DYNORM_BENCH_ONLY=update,partial` runs only the pairs whose names contain one of
    // the words (criterion's own filter skips its measurements, not the interleaved ones).
    let only = std::env::var("DYNORM_BENCH_ONLY").unwrap_or_default();
    let wanted = |name: &str| only.is_empty() || only.split(',').any(|word| name.contains(word.trim()));
    let ratios: Vec<String> = pairs
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .map(|(_, pair)| pair(c, &rt))
        .collect();
    // Printed together at the end, after criterion's own output.
    println!("\nRatios, dynorm and raw interleaved (ABBA blocks):");
    for line in ratios {
        println!("{line}");
    }
}

criterion_group!(mapper, benches);
criterion_main!(mapper);
