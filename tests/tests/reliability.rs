//! Reliability guarantees, as a user checks them: conditions of any depth and width never
//! overflow the stack, condition values are checked before sending, bad endpoints and
//! table names are typed errors, key attributes cannot be updated, narrow version fields
//! never overflow, wide partial saves fall back to a whole-item write, errors keep item
//! contents out of their text, and handles always have timeouts.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::expr::Path;
use dynorm::{Condition, Db, DynaModel, Error, ValueProblem, WriteOutcome};
use dynorm_tests::{endpoint, logged_db, unique_prefix, RequestLog};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "notes", hash_key = "id")]
struct Note {
    id: String,
    name: String,
    #[serde(default)]
    score: f64,
    #[serde(
        default,
        skip_serializing_if = "BTreeSet::is_empty",
        with = "dynorm::serde_dynamo::string_set"
    )]
    tags: BTreeSet<String>,
}

fn note(id: &str) -> Note {
    Note {
        id: id.into(),
        name: "first".into(),
        score: 1.5,
        tags: ["a".to_owned()].into(),
    }
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "events", hash_key = "stream", range_key = "seq")]
struct Event {
    stream: String,
    seq: u64,
    body: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "small-versions", hash_key = "id")]
struct Small {
    id: String,
    label: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u8,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "wide", hash_key = "id")]
struct Wide {
    id: String,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "wide-versioned", hash_key = "id")]
struct WideVersioned {
    id: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
    #[serde(flatten)]
    extra: BTreeMap<String, String>,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "vaults", hash_key = "id")]
struct Vault {
    id: String,
    owner: String,
    #[serde(default)]
    readings: HashMap<String, f64>,
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The item as stored, read with the raw client.
async fn raw_item<M: DynaModel>(db: &Db, key: &[(&str, AttributeValue)]) -> Option<dynorm::Item> {
    let mut get = db
        .client()
        .get_item()
        .table_name(db.table_name::<M>())
        .consistent_read(true);
    for (name, value) in key {
        get = get.key(*name, value.clone());
    }
    get.send().await.expect("raw get_item").item
}

fn assert_nothing_sent(log: &RequestLog) {
    assert!(log.is_empty(), "requests were sent: {:?}", log.operations());
}

fn assert_invalid_expression<T: std::fmt::Debug>(result: dynorm::Result<T>, what: &str) {
    match result {
        Err(Error::InvalidExpression(_)) => {}
        other => panic!("{what}: expected InvalidExpression, got {other:?}"),
    }
}

fn assert_value_problem<T: std::fmt::Debug>(result: dynorm::Result<T>, expected: ValueProblem, what: &str) {
    match result {
        Err(Error::InvalidItem { problem, .. }) if problem == expected => {}
        other => panic!("{what}: expected InvalidItem {{ problem: {expected:?} }}, got {other:?}"),
    }
}

// 1. Deep and wide conditions.

#[tokio::test]
async fn wide_any_filters_are_refused_without_sending() {
    let (db, log) = logged_db("rel-wide");
    Note::create_table(&db).await.unwrap();
    log.clear();
    let f = Note::fields();
    for width in [3_000usize, 100_000] {
        let any = || Condition::any((0..width).map(|i| f.name().eq(format!("n{i}")))).unwrap();

        let scanned = Note::scan(&db).filter(any()).collect_all().await;
        assert_invalid_expression(scanned, &format!("scan filter of {width}"));
        let queried = Note::query(&db, "k").filter(any()).collect_all().await;
        assert_invalid_expression(queried, &format!("query filter of {width}"));
        let counted = Note::scan(&db).filter(any()).count().await;
        assert_invalid_expression(counted, &format!("scan count of {width}"));
        assert_invalid_expression(Note::scan(&db).filter(any()).to_input(), "scan to_input");
        assert_invalid_expression(any().build(), "build");

        // The same width as a write's condition.
        let n = note("w");
        assert_invalid_expression(n.put(&db).condition(any()).await, "put condition");
        let all = Condition::all((0..width).map(|i| f.name().ne(format!("n{i}")))).unwrap();
        assert_invalid_expression(
            Note::update_by_key(&db, "w").set(f.name(), "x").condition(all).await,
            "update condition",
        );
        assert_nothing_sent(&log);
    }
}

#[tokio::test]
async fn wide_filter_stream_reports_the_error_once_then_ends() {
    use futures::StreamExt;
    let (db, log) = logged_db("rel-wide-stream");
    let f = Note::fields();
    let any = Condition::any((0..3_000).map(|i| f.name().eq(format!("n{i}")))).unwrap();
    let mut stream = Note::scan(&db).filter(any);
    match stream.next().await {
        Some(Err(Error::InvalidExpression(_))) => {}
        other => panic!("expected InvalidExpression first, got {other:?}"),
    }
    assert!(stream.next().await.is_none(), "the stream ends after the error");
    assert_nothing_sent(&log);
}

#[test]
fn deep_alternating_and_or_chain_is_cloned_dropped_and_refused() {
    let f = Note::fields();
    let x = f.name().eq("x");
    let y = f.score().gt(1.0);
    let mut c = f.name().eq("start");
    for _ in 0..50_000 {
        c = (c | x.clone()) & y.clone();
    }
    let copy = c.clone();
    drop(copy);
    let copy = c.clone();
    assert_invalid_expression(copy.build(), "50,000-deep & | chain");
    assert_invalid_expression(c.build(), "50,000-deep & | chain, original");
}

#[test]
fn deep_not_and_chain_is_cloned_dropped_and_refused() {
    let f = Note::fields();
    let y = f.score().lt(2.0);
    // `!` then `&`, 100,000 times: nothing cancels, the nesting only deepens.
    let mut c = f.name().eq("start");
    for _ in 0..100_000 {
        c = !c & y.clone();
    }
    let copy = c.clone();
    drop(copy);
    assert_invalid_expression(c.clone().build(), "100,000-deep ! & chain");
    drop(c);

    // The other alternation: `!(c & y)`.
    let mut c = f.name().eq("start");
    for _ in 0..100_000 {
        c = !(c & y.clone());
    }
    let copy = c.clone();
    drop(copy);
    assert_invalid_expression(c.build(), "100,000-deep !(&) chain");
}

#[tokio::test]
async fn deep_conditions_are_refused_by_requests_without_sending() {
    let (db, log) = logged_db("rel-deep");
    let f = Note::fields();
    let deep = || {
        let mut c = f.name().eq("start");
        for _ in 0..50_000 {
            c = (c | f.name().eq("x")) & !f.score().gt(1.0);
        }
        c
    };
    assert_invalid_expression(Note::scan(&db).filter(deep()).collect_all().await, "scan");
    assert_invalid_expression(note("d").put(&db).condition(deep()).await, "put");
    assert_invalid_expression(
        Note::update_by_key(&db, "d").set(f.name(), "v").condition(deep()).await,
        "update",
    );
    assert_invalid_expression(Note::delete_by_key(&db, "d").condition(deep()).await, "delete");
    assert_nothing_sent(&log);
}

#[tokio::test]
async fn a_small_combined_filter_still_works() {
    let (db, _log) = logged_db("rel-small-filter");
    Note::create_table(&db).await.unwrap();
    for (id, name, score) in [("a", "alpha", 1.0), ("b", "beta", 5.0), ("c", "gamma", 9.0)] {
        let mut n = note(id);
        n.name = name.into();
        n.score = score;
        n.put(&db).await.unwrap();
    }
    let f = Note::fields();
    let cond = (f.name().eq("alpha") | f.name().eq("gamma")) & !f.score().gt(5.0);
    let found = Note::scan(&db).filter(cond).recursive().collect_all().await.unwrap();
    assert_eq!(found.into_iter().map(|n| n.id).collect::<Vec<_>>(), ["a"]);
}

// 2. Condition and filter values are checked before sending.

/// Makes the same condition afresh for each request.
type MakeCondition<'a> = Box<dyn Fn() -> Condition<Note> + 'a>;

#[tokio::test]
async fn bad_condition_values_are_refused_before_sending() {
    let (db, log) = logged_db("rel-values");
    Note::create_table(&db).await.unwrap();
    let stored = note("v");
    stored.put(&db).await.unwrap();
    log.clear();

    let f = Note::fields();
    let cases: Vec<(&str, MakeCondition<'_>, ValueProblem)> = vec![
        (
            "eq NaN",
            Box::new(|| f.score().eq(f64::NAN)),
            ValueProblem::NonFiniteNumber,
        ),
        (
            "lt infinity",
            Box::new(|| f.score().lt(f64::INFINITY)),
            ValueProblem::NonFiniteNumber,
        ),
        (
            "ge -infinity",
            Box::new(|| f.score().ge(f64::NEG_INFINITY)),
            ValueProblem::NonFiniteNumber,
        ),
        (
            "eq 1e200",
            Box::new(|| f.score().eq(1e200)),
            ValueProblem::NumberOutOfRange,
        ),
        (
            "between 0 and 1e200",
            Box::new(|| f.score().between(0.0, 1e200)),
            ValueProblem::NumberOutOfRange,
        ),
        (
            "in [1, NaN]",
            Box::new(|| f.score().is_in([1.0, f64::NAN])),
            ValueProblem::NonFiniteNumber,
        ),
        (
            "eq empty set",
            Box::new(|| f.tags().eq(BTreeSet::new())),
            ValueProblem::EmptySet,
        ),
        (
            "inside an or",
            Box::new(|| f.name().eq("first") | f.score().eq(f64::NAN)),
            ValueProblem::NonFiniteNumber,
        ),
    ];
    for (what, cond, problem) in &cases {
        assert_value_problem(
            stored.put(&db).condition(cond()).await,
            *problem,
            &format!("put {what}"),
        );
        let mut copy = stored.clone();
        assert_value_problem(
            copy.save(&db).condition(cond()).await,
            *problem,
            &format!("save {what}"),
        );
        assert_value_problem(
            Note::update_by_key(&db, "v")
                .set(f.name(), "changed")
                .condition(cond())
                .await,
            *problem,
            &format!("update {what}"),
        );
        assert_value_problem(
            Note::delete_by_key(&db, "v").condition(cond()).await,
            *problem,
            &format!("delete {what}"),
        );
        assert_value_problem(
            Note::scan(&db).filter(cond()).collect_all().await,
            *problem,
            &format!("scan {what}"),
        );
        assert_value_problem(
            Note::query(&db, "v").filter(cond()).collect_all().await,
            *problem,
            &format!("query {what}"),
        );
        assert_value_problem(cond().build(), *problem, &format!("build {what}"));
    }
    assert_nothing_sent(&log);

    // Nothing was written.
    let item = raw_item::<Note>(&db, &[("id", s("v"))]).await.expect("still stored");
    assert_eq!(item.get("name"), Some(&s("first")));
    assert_eq!(dynorm::from_item::<Note>(item).unwrap(), stored);
}

#[test]
fn bad_condition_values_name_the_attribute() {
    let f = Note::fields();
    match f.score().eq(f64::NAN).build() {
        Err(Error::InvalidItem { path, .. }) => assert_eq!(path, "score"),
        other => panic!("expected InvalidItem, got {other:?}"),
    }
    match f.tags().eq(BTreeSet::new()).build() {
        Err(Error::InvalidItem { path, .. }) => assert_eq!(path, "tags"),
        other => panic!("expected InvalidItem, got {other:?}"),
    }
}

// 3. Bad endpoints.

/// Endpoints that are not usable URLs: empty, no scheme, another scheme, no host, and
/// ports outside 1..=65535 (which must not fall back to port 80).
const BAD_ENDPOINTS: [&str; 11] = [
    "",
    "   ",
    "http://127.0.0.1:99999",
    "http://127.0.0.1:65536",
    "http://127.0.0.1:0",
    "http://127.0.0.1:",
    "127.0.0.1:8000",
    "localhost:8000",
    "ftp://127.0.0.1:8000",
    "http://",
    "http://:8000",
];

#[test]
fn try_local_refuses_unusable_endpoints() {
    let mut accepted = Vec::new();
    for bad in BAD_ENDPOINTS {
        match Db::try_local(bad) {
            Err(Error::InvalidEndpoint { endpoint, .. }) => assert_eq!(endpoint, bad),
            Err(other) => panic!("{bad:?}: expected InvalidEndpoint, got {other:?}"),
            Ok(_) => accepted.push(bad),
        }
    }
    assert!(
        accepted.is_empty(),
        "Db::try_local accepted unusable endpoints: {accepted:?}"
    );
    for good in [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:65535",
        "https://dynamodb.us-east-1.amazonaws.com",
        "http://localhost",
    ] {
        assert!(Db::try_local(good).is_ok(), "{good} is a usable endpoint");
    }
}

#[tokio::test]
async fn local_handles_on_unusable_endpoints_fail_every_request_with_a_typed_error() {
    let mut failures = Vec::new();
    for bad in BAD_ENDPOINTS {
        let log = RequestLog::default();
        let client = aws_sdk_dynamodb::Client::from_conf(Db::local_config(bad).interceptor(log.clone()).build());
        let logged = Db::builder(client).table_prefix(unique_prefix("rel-endpoint")).build();
        let plain = Db::local(bad).with_table_prefix(unique_prefix("rel-endpoint"));
        for (handle, db) in [("logged", &logged), ("Db::local", &plain)] {
            let mut check = |what: &str, result: Result<(), Error>| match result {
                Err(Error::InvalidEndpoint { endpoint, .. }) if endpoint == bad => {}
                other => failures.push(format!(
                    "{bad:?} ({handle}) {what}: expected InvalidEndpoint, got {}",
                    match other {
                        Err(e) => format!("{e}"),
                        Ok(()) => "Ok".to_owned(),
                    }
                )),
            };
            check("get", Note::get(db, "k").await.map(drop));
            check("put", note("k").put(db).await);
            check("save", note("k").save(db).await);
            check(
                "update",
                Note::update_by_key(db, "k")
                    .set(Note::fields().name(), "n")
                    .await
                    .map(drop),
            );
            check("delete", Note::delete_by_key(db, "k").await.map(drop));
            check("scan", Note::scan(db).collect_all().await.map(drop));
            check("query", Note::query(db, "k").collect_all().await.map(drop));
            // A batch reports the refusal as the cause of a batch left whole.
            let batch = db
                .batch_write()
                .put(&note("k"))
                .deadline(Duration::from_secs(2))
                .send()
                .await
                .map(drop);
            check(
                "batch_write",
                match batch {
                    Err(Error::BatchIncomplete {
                        left,
                        cause: Some(cause),
                    }) if left.len() == 1 => Err(*cause),
                    other => other,
                },
            );
            check("create_table", Note::create_table(db).await);
            let err = Note::get(db, "k").await.unwrap_err();
            if err.write_outcome() != WriteOutcome::NotSent || err.may_have_applied() {
                failures.push(format!(
                    "{bad:?} ({handle}): outcome {:?} of {err}",
                    err.write_outcome()
                ));
            }
            // The raw client refuses too, without a panic.
            if db.client().list_tables().send().await.is_ok() {
                failures.push(format!("{bad:?} ({handle}): raw list_tables succeeded"));
            }
        }
        if !log.is_empty() {
            failures.push(format!("{bad:?}: requests were sent: {:?}", log.operations()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

// 4. Table names.

#[tokio::test]
async fn invalid_table_names_are_refused_before_sending() {
    let (base, log) = logged_db("rel-names");
    let long = "p".repeat(256 - "notes".len());
    for prefix in ["bad prefix ", "tab\t", "é-", "a/b-", long.as_str()] {
        let db = base.with_table_prefix(prefix);
        let name = db.table_name::<Note>();
        let refused = |what: &str, result: Result<(), Error>| match result {
            Err(Error::InvalidTableName { name: got, .. }) => assert_eq!(got, name, "{what}"),
            other => panic!("prefix {prefix:?} {what}: expected InvalidTableName, got {other:?}"),
        };
        let n = note("k");
        refused("get", Note::get(&db, "k").await.map(drop));
        refused("put", n.put(&db).await);
        refused("save", n.clone().save(&db).await);
        refused(
            "update",
            Note::update_by_key(&db, "k")
                .set(Note::fields().name(), "x")
                .await
                .map(drop),
        );
        refused("delete", Note::delete_by_key(&db, "k").await.map(drop));
        refused("scan", Note::scan(&db).collect_all().await.map(drop));
        refused("scan count", Note::scan(&db).count().await.map(drop));
        refused("query", Note::query(&db, "k").collect_all().await.map(drop));
        refused("batch_write", db.batch_write().put(&n).send().await.map(drop));
        refused(
            "batch_write delete",
            db.batch_write().delete::<Note>("k").send().await.map(drop),
        );
        refused("batch_get", db.batch_get().get::<Note>("k").send().await.map(drop));
        refused("transact_write", db.transact_write().write(n.put(&db)).send().await);
        refused(
            "transact_write update",
            db.transact_write()
                .write(Note::update_by_key(&db, "k").set(Note::fields().name(), "y"))
                .send()
                .await,
        );
        assert_nothing_sent(&log);
    }
}

#[tokio::test]
async fn table_management_refuses_invalid_table_names() {
    let (base, log) = logged_db("rel-names-admin");
    for prefix in ["bad prefix ", "é-"] {
        let db = base.with_table_prefix(prefix);
        let result = Note::create_table(&db).await;
        assert!(
            matches!(result, Err(Error::InvalidTableName { .. })),
            "prefix {prefix:?} create_table: expected InvalidTableName, got {result:?}"
        );
        let result = Note::ensure_table(&db).await;
        assert!(
            matches!(result, Err(Error::InvalidTableName { .. })),
            "prefix {prefix:?} ensure_table: expected InvalidTableName, got {result:?}"
        );
    }
    assert_nothing_sent(&log);
}

#[tokio::test]
async fn a_table_name_of_255_bytes_is_sent() {
    let (base, log) = logged_db("rel-names-edge");
    let prefix = "p".repeat(255 - "notes".len());
    let db = base.with_table_prefix(prefix);
    assert_eq!(db.table_name::<Note>().len(), 255);
    // The name passes the client check; the table does not exist.
    let result = Note::get(&db, "k").await;
    assert!(matches!(result, Err(Error::TableNotFound { .. })), "{result:?}");
    assert_eq!(log.count("GetItem"), 1, "{:?}", log.operations());
}

// 5. Key attributes cannot be updated.

#[tokio::test]
async fn key_attributes_cannot_be_updated() {
    let (db, log) = logged_db("rel-keys");
    Note::create_table(&db).await.unwrap();
    Event::create_table(&db).await.unwrap();
    note("k").put(&db).await.unwrap();
    let event = Event {
        stream: "s".into(),
        seq: 1,
        body: "b".into(),
    };
    event.put(&db).await.unwrap();
    log.clear();

    let id = || Path::<Note, String>::unchecked(["id"]);
    assert_invalid_expression(Note::update_by_key(&db, "k").set(id(), "other").await, "SET hash key");
    assert_invalid_expression(
        Note::update_by_key(&db, "k").set_if_not_exists(id(), "other").await,
        "SET if_not_exists hash key",
    );
    assert_invalid_expression(Note::update_by_key(&db, "k").remove(id()).await, "REMOVE hash key");
    // Typed key paths (`Note::fields().id()`) are `KeyPath`s, which update methods do
    // not take: only an unchecked path can name a key attribute here.
    assert_invalid_expression(
        Note::update_by_key(&db, "k")
            .set(Note::fields().name(), "fine")
            .set(id(), "other")
            .await,
        "SET hash key among other actions",
    );
    assert_invalid_expression(Note::update_by_key(&db, "k").set(id(), "other").to_input(), "to_input");

    let seq = || Path::<Event, u64>::unchecked(["seq"]);
    let stream = || Path::<Event, String>::unchecked(["stream"]);
    assert_invalid_expression(
        Event::update_by_key(&db, ("s", 1u64)).remove(seq()).await,
        "REMOVE range key",
    );
    assert_invalid_expression(
        Event::update_by_key(&db, ("s", 1u64)).set(seq(), 2u64).await,
        "SET range key",
    );
    assert_invalid_expression(
        Event::update_by_key(&db, ("s", 1u64)).increment(seq(), 1u64).await,
        "increment range key",
    );
    assert_invalid_expression(
        Event::update_by_key(&db, ("s", 1u64)).remove(stream()).await,
        "REMOVE hash key of a hash+range model",
    );
    let mut instance = event.clone();
    assert_invalid_expression(
        instance.update(&db).set(seq(), 7u64).await,
        "instance update of the range key",
    );
    let transact = db
        .transact_write()
        .write(Event::update_by_key(&db, ("s", 1u64)).remove(seq()))
        .send()
        .await;
    assert_invalid_expression(transact, "transaction update of the range key");
    assert_nothing_sent(&log);

    // Nothing changed.
    assert_eq!(
        Note::get(&db, "k").consistent_read(true).await.unwrap(),
        Some(note("k"))
    );
    assert_eq!(
        Event::get(&db, ("s", 1u64)).consistent_read(true).await.unwrap(),
        Some(event)
    );
}

// 6. A narrow version field.

async fn seed_small(db: &Db, id: &str, version: u8) {
    db.client()
        .put_item()
        .table_name(db.table_name::<Small>())
        .item("id", s(id))
        .item("label", s("seeded"))
        .item("version", AttributeValue::N(version.to_string()))
        .send()
        .await
        .expect("seed");
}

#[tokio::test]
async fn a_u8_version_at_its_maximum_is_never_overflowed() {
    let (db, log) = logged_db("rel-version");
    Small::create_table(&db).await.unwrap();
    seed_small(&db, "full", 255).await;

    let mut full = Small::get(&db, "full")
        .consistent_read(true)
        .await
        .unwrap()
        .expect("seeded");
    assert_eq!(full.version, 255);
    log.clear();

    full.label = "changed".into();
    let overflow = |what: &str, result: Result<(), Error>| match result {
        Err(Error::VersionOverflow { current: 255, table }) => {
            assert_eq!(table, db.table_name::<Small>(), "{what}")
        }
        other => panic!("{what}: expected VersionOverflow {{ current: 255 }}, got {other:?}"),
    };
    overflow("save", full.save(&db).await);
    assert_eq!(full.version, 255, "a refused save leaves the instance as it was");
    overflow("put", full.put(&db).await);
    overflow("save without version check", full.save(&db).skip_version_check().await);
    overflow(
        "instance update",
        full.update(&db).set(Small::fields().label(), "u").await.map(drop),
    );
    overflow(
        "update by key expecting 255",
        Small::update_by_key(&db, "full")
            .expect_version(255)
            .set(Small::fields().label(), "u")
            .await
            .map(drop),
    );
    let mut tracked = Small::get(&db, "full")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    log.clear();
    tracked.label = "tracked".into();
    overflow("tracked save", tracked.save(&db).await.map(drop));
    overflow("transaction put", db.transact_write().write(full.put(&db)).send().await);
    assert_nothing_sent(&log);

    // DynamoDB checks an update by key (it adds 1 to the stored version): one request.
    let err = Small::update_by_key(&db, "full")
        .set(Small::fields().label(), "by key")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::VersionOverflow { current: 255, .. }),
        "update by key: {err:?}"
    );
    assert_eq!(log.count("UpdateItem"), 1, "{:?}", log.operations());
    assert_eq!(log.len(), 1, "{:?}", log.operations());
    let err = Small::update_by_key(&db, "full")
        .skip_version_check()
        .set(Small::fields().label(), "by key")
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::VersionOverflow { current: 255, .. }),
        "update by key without version check: {err:?}"
    );

    // The item is unchanged and still reads back.
    let stored = raw_item::<Small>(&db, &[("id", s("full"))]).await.expect("stored");
    assert_eq!(stored.get("version"), Some(&AttributeValue::N("255".into())));
    assert_eq!(stored.get("label"), Some(&s("seeded")));
    let read = Small::get(&db, "full")
        .consistent_read(true)
        .await
        .unwrap()
        .expect("readable");
    assert_eq!((read.version, read.label.as_str()), (255, "seeded"));
}

#[tokio::test]
async fn a_u8_version_at_254_saves_to_255() {
    let (db, log) = logged_db("rel-version-254");
    Small::create_table(&db).await.unwrap();
    seed_small(&db, "almost", 254).await;

    let mut item = Small::get(&db, "almost").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(item.version, 254);
    item.label = "last".into();
    item.save(&db).await.unwrap();
    assert_eq!(item.version, 255);
    let stored = raw_item::<Small>(&db, &[("id", s("almost"))]).await.unwrap();
    assert_eq!(stored.get("version"), Some(&AttributeValue::N("255".into())));
    assert_eq!(stored.get("label"), Some(&s("last")));

    // The next save is refused before sending.
    log.clear();
    item.label = "one more".into();
    assert!(matches!(
        item.save(&db).await,
        Err(Error::VersionOverflow { current: 255, .. })
    ));
    assert_nothing_sent(&log);

    // An update by key at 254 goes through, to 255.
    seed_small(&db, "almost-2", 254).await;
    let updated = Small::update_by_key(&db, "almost-2")
        .set(Small::fields().label(), "by key")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((updated.version, updated.label.as_str()), (255, "by key"));
}

// 7. Wide partial saves.

#[tokio::test]
async fn a_partial_save_of_600_attributes_writes_the_whole_item() {
    let (db, log) = logged_db("rel-wide-save");
    Wide::create_table(&db).await.unwrap();
    let wide = Wide {
        id: "w".into(),
        extra: (0..600).map(|i| (format!("attr{i:03}"), format!("old{i}"))).collect(),
    };
    wide.put(&db).await.unwrap();

    let mut tracked = Wide::get(&db, "w")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tracked.extra.len(), 600);
    for (i, value) in tracked.extra.values_mut().enumerate() {
        *value = format!("new{i}");
    }
    log.clear();
    let sent = tracked.save(&db).await.unwrap();
    assert!(sent);
    assert_eq!(log.count("PutItem"), 1, "{:?}", log.operations());
    assert_eq!(log.count("UpdateItem"), 0, "{:?}", log.operations());

    let stored = raw_item::<Wide>(&db, &[("id", s("w"))]).await.unwrap();
    assert_eq!(stored.len(), 601);
    for i in 0..600 {
        assert_eq!(
            stored.get(&format!("attr{i:03}")),
            Some(&s(&format!("new{i}"))),
            "attr{i:03}"
        );
    }
    assert!(!tracked.is_changed().unwrap(), "the snapshot moved on");

    // A save with 3 changes is still a partial update.
    for key in ["attr000", "attr300", "attr599"] {
        tracked.extra.insert(key.into(), "third".into());
    }
    log.clear();
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(log.operations(), ["UpdateItem"]);
    let stored = raw_item::<Wide>(&db, &[("id", s("w"))]).await.unwrap();
    assert_eq!(stored.get("attr300"), Some(&s("third")));
    assert_eq!(stored.get("attr301"), Some(&s("new301")));
    assert_eq!(stored.len(), 601);
}

#[tokio::test]
async fn a_wide_partial_save_keeps_the_item_must_exist_condition() {
    let (db, log) = logged_db("rel-wide-gone");
    Wide::create_table(&db).await.unwrap();
    let wide = Wide {
        id: "gone".into(),
        extra: (0..600).map(|i| (format!("attr{i:03}"), "old".to_owned())).collect(),
    };
    wide.put(&db).await.unwrap();
    let mut tracked = Wide::get(&db, "gone")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    Wide::delete_by_key(&db, "gone").await.unwrap();
    for value in tracked.extra.values_mut() {
        *value = "new".into();
    }
    log.clear();
    let err = tracked.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err:?}");
    assert_eq!(log.operations(), ["PutItem"]);
    assert!(
        raw_item::<Wide>(&db, &[("id", s("gone"))]).await.is_none(),
        "a deleted item is not recreated by a partial save"
    );
    assert!(tracked.is_changed().unwrap(), "the changes are still pending");
}

#[tokio::test]
async fn a_wide_partial_save_of_a_versioned_model_keeps_the_version_check() {
    let (db, log) = logged_db("rel-wide-version");
    WideVersioned::create_table(&db).await.unwrap();
    let mut wide = WideVersioned {
        id: "wv".into(),
        version: 0,
        extra: (0..600).map(|i| (format!("attr{i:03}"), "old".to_owned())).collect(),
    };
    wide.save(&db).await.unwrap();
    assert_eq!(wide.version, 1);

    let mut tracked = WideVersioned::get(&db, "wv")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    let mut stale = WideVersioned::get(&db, "wv")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    for value in tracked.extra.values_mut() {
        *value = "first".into();
    }
    log.clear();
    assert!(tracked.save(&db).await.unwrap());
    assert_eq!(log.operations(), ["PutItem"]);
    assert_eq!(tracked.version, 2);
    let stored = raw_item::<WideVersioned>(&db, &[("id", s("wv"))]).await.unwrap();
    assert_eq!(stored.get("version"), Some(&AttributeValue::N("2".into())));
    assert_eq!(stored.get("attr123"), Some(&s("first")));

    // A stale copy's wide save is refused, and the item keeps the first save.
    for value in stale.extra.values_mut() {
        *value = "second".into();
    }
    let err = stale.save(&db).await.unwrap_err();
    assert!(matches!(err, Error::VersionConflict { expected: 1, .. }), "{err:?}");
    let stored = raw_item::<WideVersioned>(&db, &[("id", s("wv"))]).await.unwrap();
    assert_eq!(stored.get("version"), Some(&AttributeValue::N("2".into())));
    assert_eq!(stored.get("attr123"), Some(&s("first")));
}

// 8. Errors keep item contents out of Display and Debug.

#[tokio::test]
async fn invalid_item_errors_do_not_show_map_keys() {
    let (db, log) = logged_db("rel-secret-key");
    let vault = Vault {
        id: "v".into(),
        owner: "o".into(),
        readings: [("secret-key-123".to_owned(), f64::NAN)].into(),
    };
    let err = vault.put(&db).await.unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidItem {
                problem: ValueProblem::NonFiniteNumber,
                ..
            }
        ),
        "{err:?}"
    );
    let display = err.to_string();
    let debug = format!("{err:?}");
    let pretty = format!("{err:#?}");
    for text in [&display, &debug, &pretty] {
        assert!(!text.contains("secret-key-123"), "leaks the map key: {text}");
    }
    assert!(display.contains("readings"), "names the attribute: {display}");
    assert!(debug.contains("readings"), "names the attribute: {debug}");
    // The full path is still there for code that matches on it.
    let Error::InvalidItem { path, .. } = &err else {
        unreachable!()
    };
    assert!(path.starts_with("readings"), "{path}");
    assert_eq!(err.write_outcome(), WriteOutcome::NotSent);

    // The same through an update value and a condition value.
    let f = Vault::fields();
    let err = Vault::update_by_key(&db, "v")
        .set(f.readings().key("secret-key-123"), f64::NAN)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::InvalidItem { .. }), "{err:?}");
    assert!(!err.to_string().contains("secret-key-123"), "{err}");
    assert!(!format!("{err:?}").contains("secret-key-123"), "{err:?}");
    let err = f
        .readings()
        .key("secret-key-123")
        .eq(f64::INFINITY)
        .build()
        .unwrap_err();
    assert!(!err.to_string().contains("secret-key-123"), "{err}");
    assert!(!format!("{err:?}").contains("secret-key-123"), "{err:?}");
    assert_nothing_sent(&log);
}

#[tokio::test]
async fn condition_failures_do_not_show_the_stored_item() {
    let (db, log) = logged_db("rel-secret-item");
    Vault::create_table(&db).await.unwrap();
    let stored = Vault {
        id: "v".into(),
        owner: "private-value-456".into(),
        readings: [("reading-key-789".to_owned(), 1.0)].into(),
    };
    stored.put(&db).await.unwrap();
    log.clear();

    let f = Vault::fields();
    let mut other = stored.clone();
    other.owner = "someone".into();
    let err = other.put(&db).condition(f.owner().eq("nope")).await.unwrap_err();
    assert!(matches!(err, Error::ConditionFailed { .. }), "{err:?}");
    assert_eq!(log.count("PutItem"), 1);
    for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains("private-value-456"), "leaks a value: {text}");
        assert!(!text.contains("reading-key-789"), "leaks a map key: {text}");
    }
    let current: Vault = err.current_item().expect("the item came back").unwrap();
    assert_eq!(current, stored);
    assert_eq!(err.write_outcome(), WriteOutcome::Refused);
    assert!(!err.may_have_applied());

    // The update path too.
    let err = Vault::update_by_key(&db, "v")
        .set(f.owner(), "x")
        .condition(f.owner().eq("nope"))
        .await
        .unwrap_err();
    assert!(!format!("{err:?}").contains("private-value-456"), "{err:?}");
    assert_eq!(err.current_item::<Vault>().unwrap().unwrap(), stored);

    // Unique puts.
    let err = stored.put_unique(&db).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists { .. }), "{err:?}");
    assert!(!format!("{err:?}").contains("private-value-456"), "{err:?}");
    assert_eq!(err.current_item::<Vault>().unwrap().unwrap(), stored);

    // A cancelled transaction.
    let err = db
        .transact_write()
        .write(other.put(&db).condition(f.owner().eq("nope")))
        .send()
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("expected TransactionCanceled, got {err:?}")
    };
    assert!(reasons[0].item.is_some(), "the current item came back");
    for text in [err.to_string(), format!("{err:?}"), format!("{err:#?}")] {
        assert!(!text.contains("private-value-456"), "leaks a value: {text}");
        assert!(!text.contains("reading-key-789"), "leaks a map key: {text}");
    }
    assert_eq!(err.write_outcome(), WriteOutcome::Refused);

    // Nothing changed.
    assert_eq!(Vault::get(&db, "v").consistent_read(true).await.unwrap(), Some(stored));
}

#[test]
fn write_outcomes_of_local_errors() {
    let err = Note::fields().score().eq(f64::NAN).build().unwrap_err();
    assert_eq!(err.write_outcome(), WriteOutcome::NotSent);
    let err = Db::try_local("").unwrap_err();
    assert!(matches!(err, Error::InvalidEndpoint { .. }));
    assert_eq!(err.write_outcome(), WriteOutcome::NotSent);
    assert!(!err.may_have_applied());
}

#[tokio::test]
async fn validation_errors_are_not_sent() {
    #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
    #[table(name = "checked", hash_key = "id")]
    struct Checked {
        id: String,
        #[validate(length(min = 1))]
        label: String,
    }
    let (db, log) = logged_db("rel-validation");
    let err = Checked {
        id: "c".into(),
        label: String::new(),
    }
    .put(&db)
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert_eq!(err.write_outcome(), WriteOutcome::NotSent);
    assert_nothing_sent(&log);
}

// 9. Default timeouts.

fn bare_sdk_config() -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build()
}

#[test]
fn handles_from_an_sdk_config_without_timeouts_get_dynorm_defaults() {
    let db = Db::from_sdk_config(&bare_sdk_config());
    let config = db.client().config();
    let timeouts = config.timeout_config().expect("a timeout config");
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(dynorm::DEFAULT_ATTEMPT_TIMEOUT)
    );
    assert_eq!(timeouts.operation_timeout(), Some(dynorm::DEFAULT_OPERATION_TIMEOUT));
    assert_eq!(timeouts.connect_timeout(), Some(dynorm::DEFAULT_CONNECT_TIMEOUT));
    // Every clone and prefixed handle shares the client.
    let prefixed = db.with_table_prefix("dev-");
    let timeouts = prefixed.client().config().timeout_config().unwrap();
    assert_eq!(timeouts.operation_timeout(), Some(dynorm::DEFAULT_OPERATION_TIMEOUT));
}

#[test]
fn timeouts_the_sdk_config_sets_are_kept() {
    use aws_config::timeout::TimeoutConfig;
    let config = bare_sdk_config()
        .to_builder()
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_millis(1500))
                .build(),
        )
        .build();
    let db = Db::from_sdk_config(&config);
    let timeouts = db.client().config().timeout_config().unwrap();
    assert_eq!(timeouts.operation_attempt_timeout(), Some(Duration::from_millis(1500)));
    assert_eq!(timeouts.operation_timeout(), Some(dynorm::DEFAULT_OPERATION_TIMEOUT));
    assert!(timeouts.connect_timeout().is_some());

    // A timeout disabled on purpose stays disabled.
    let config = bare_sdk_config()
        .to_builder()
        .timeout_config(TimeoutConfig::builder().disable_operation_timeout().build())
        .build();
    let db = Db::from_sdk_config(&config);
    let timeouts = db.client().config().timeout_config().unwrap();
    assert_eq!(timeouts.operation_timeout(), None);
    assert_eq!(
        timeouts.operation_attempt_timeout(),
        Some(dynorm::DEFAULT_ATTEMPT_TIMEOUT)
    );
}

#[test]
fn the_builder_applies_a_timeout_config() {
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let client = Db::local_client("http://127.0.0.1:8000");
    let before = client.config().timeout_config().cloned().unwrap();
    let db = Db::builder(client)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(7))
                .build(),
        )
        .build();
    let timeouts = db.client().config().timeout_config().unwrap();
    assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(7)));
    // What the given config leaves unset keeps the client's values.
    assert_eq!(timeouts.operation_attempt_timeout(), before.operation_attempt_timeout());
    assert_eq!(timeouts.connect_timeout(), before.connect_timeout());
    assert!(timeouts.connect_timeout().is_some());
}

#[tokio::test]
async fn a_builder_timeout_is_enforced_and_the_handle_still_works() {
    use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
    let db = Db::builder(Db::local_client(endpoint()))
        .table_prefix(unique_prefix("rel-timeout"))
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .build();
    Note::create_table(&db).await.unwrap();
    note("t").put(&db).await.unwrap();
    assert_eq!(
        Note::get(&db, "t").consistent_read(true).await.unwrap(),
        Some(note("t"))
    );
}
