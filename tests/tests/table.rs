//! Table management from the model, checked through DescribeTable on DynamoDB Local.

use aws_sdk_dynamodb::types::{
    BillingMode, KeyType, ProjectionType, ScalarAttributeType, StreamViewType, TableStatus, TimeToLiveStatus,
};
use dynorm::{DynaModel, Error};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "threads", hash_key = "forum_name", range_key = "subject")]
#[global_index(name = "by-author", hash_key = "author", range_key = "last_post", projection = "all")]
#[global_index(name = "by-views", hash_key = "forum_name", range_key = "views", projection = keys_only)]
#[local_index(name = "by-replies", range_key = "replies", projection = include(author, tags))]
struct Thread {
    forum_name: String,
    subject: String,
    author: String,
    last_post: u64,
    views: i64,
    replies: u32,
    tags: Vec<String>,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(
    name = "sessions",
    hash_key = "token",
    read = 5,
    write = 3,
    stream = "new_and_old_images"
)]
#[global_index(name = "by-user", hash_key = "user", read = 2, write = 1)]
#[global_index(name = "by-device", hash_key = "device", projection = "keys_only")]
struct Session {
    token: String,
    user: String,
    device: String,
    #[dynorm(ttl)]
    expires_at: u64,
}

#[tokio::test]
async fn create_table_builds_keys_indexes_and_projections() {
    let db = db("table-create");
    Thread::create_table(&db).await.unwrap();
    let table = db
        .client()
        .describe_table()
        .table_name(db.table_name::<Thread>())
        .send()
        .await
        .unwrap()
        .table
        .unwrap();

    assert_eq!(table.table_status, Some(TableStatus::Active));
    assert_eq!(
        table.billing_mode_summary.as_ref().and_then(|b| b.billing_mode.clone()),
        Some(BillingMode::PayPerRequest)
    );
    let keys: Vec<(String, KeyType)> = table
        .key_schema()
        .iter()
        .map(|k| (k.attribute_name.clone(), k.key_type.clone()))
        .collect();
    assert_eq!(
        keys,
        [("forum_name".into(), KeyType::Hash), ("subject".into(), KeyType::Range)]
    );

    let mut defs: Vec<(String, ScalarAttributeType)> = table
        .attribute_definitions()
        .iter()
        .map(|d| (d.attribute_name.clone(), d.attribute_type.clone()))
        .collect();
    defs.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        defs,
        [
            ("author".into(), ScalarAttributeType::S),
            ("forum_name".into(), ScalarAttributeType::S),
            ("last_post".into(), ScalarAttributeType::N),
            ("replies".into(), ScalarAttributeType::N),
            ("subject".into(), ScalarAttributeType::S),
            ("views".into(), ScalarAttributeType::N),
        ]
    );

    let mut gsis = table.global_secondary_indexes().to_vec();
    gsis.sort_by(|a, b| a.index_name.cmp(&b.index_name));
    assert_eq!(gsis.len(), 2);
    let by_author = &gsis[0];
    assert_eq!(by_author.index_name.as_deref(), Some("by-author"));
    let author_keys: Vec<&str> = by_author
        .key_schema()
        .iter()
        .map(|k| k.attribute_name.as_str())
        .collect();
    assert_eq!(author_keys, ["author", "last_post"]);
    assert_eq!(
        by_author.projection.as_ref().and_then(|p| p.projection_type.clone()),
        Some(ProjectionType::All)
    );
    let by_views = &gsis[1];
    assert_eq!(by_views.index_name.as_deref(), Some("by-views"));
    assert_eq!(
        by_views.projection.as_ref().and_then(|p| p.projection_type.clone()),
        Some(ProjectionType::KeysOnly)
    );

    let lsis = table.local_secondary_indexes();
    assert_eq!(lsis.len(), 1);
    assert_eq!(lsis[0].index_name.as_deref(), Some("by-replies"));
    let lsi_keys: Vec<&str> = lsis[0].key_schema().iter().map(|k| k.attribute_name.as_str()).collect();
    assert_eq!(lsi_keys, ["forum_name", "replies"]);
    let projection = lsis[0].projection.as_ref().unwrap();
    assert_eq!(projection.projection_type, Some(ProjectionType::Include));
    let mut included = projection.non_key_attributes().to_vec();
    included.sort();
    assert_eq!(included, ["author", "tags"]);

    // The table is usable right away.
    let mut thread = Thread {
        forum_name: "rust".into(),
        subject: "async".into(),
        author: "ferris".into(),
        last_post: 1,
        views: 10,
        replies: 2,
        tags: vec!["help".into()],
        version: 0,
    };
    thread.save(&db).await.unwrap();
    assert_eq!(thread.version, 1);
    assert_eq!(
        Thread::get(&db, ("rust", "async")).consistent_read(true).await.unwrap(),
        Some(thread)
    );
}

#[tokio::test]
async fn provisioned_throughput_stream_and_ttl() {
    let db = db("table-provisioned");
    Session::create_table(&db).await.unwrap();
    let table_name = db.table_name::<Session>();
    let table = db
        .client()
        .describe_table()
        .table_name(&table_name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();

    let throughput = table.provisioned_throughput.clone().unwrap();
    assert_eq!(
        (throughput.read_capacity_units, throughput.write_capacity_units),
        (Some(5), Some(3))
    );
    let stream = table.stream_specification.clone().unwrap();
    assert!(stream.stream_enabled);
    assert_eq!(stream.stream_view_type, Some(StreamViewType::NewAndOldImages));

    let mut gsis = table.global_secondary_indexes().to_vec();
    gsis.sort_by(|a, b| a.index_name.cmp(&b.index_name));
    let capacity = |i: usize| {
        let t = gsis[i].provisioned_throughput.as_ref().unwrap();
        (t.read_capacity_units, t.write_capacity_units)
    };
    assert_eq!(gsis[0].index_name.as_deref(), Some("by-device"));
    assert_eq!(
        capacity(0),
        (Some(5), Some(3)),
        "an index without throughput takes the table's"
    );
    assert_eq!(gsis[1].index_name.as_deref(), Some("by-user"));
    assert_eq!(capacity(1), (Some(2), Some(1)));

    let ttl = db
        .client()
        .describe_time_to_live()
        .table_name(&table_name)
        .send()
        .await
        .unwrap()
        .time_to_live_description
        .unwrap();
    assert_eq!(ttl.attribute_name.as_deref(), Some("expires_at"));
    assert!(matches!(
        ttl.time_to_live_status,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
}

#[tokio::test]
async fn existing_table_is_an_error_unless_allowed() {
    let db = db("table-exists");
    Session::create_table(&db).await.unwrap();
    let err = Session::create_table(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::TableExists { table } if *table == db.table_name::<Session>()),
        "{err:?}"
    );
    Session::create_table(&db).allow_existing(true).await.unwrap();
}

#[tokio::test]
async fn exists_delete_and_wait() {
    let db = db("table-delete");
    assert!(!Thread::table_exists(&db).await.unwrap());
    assert!(matches!(
        Thread::wait_until_active(&db).await,
        Err(Error::TableNotFound { .. })
    ));
    Thread::create_table(&db).wait(false).await.unwrap();
    Thread::wait_until_active(&db).await.unwrap();
    assert!(Thread::table_exists(&db).await.unwrap());

    Thread::delete_table(&db).await.unwrap();
    assert!(!Thread::table_exists(&db).await.unwrap());
    let err = Thread::delete_table(&db).await.unwrap_err();
    assert!(matches!(err, Error::TableNotFound { .. }), "{err:?}");
    Thread::delete_table(&db).allow_missing(true).await.unwrap();
}

#[tokio::test]
async fn ensure_table_creates_once_then_trusts_its_cache() {
    let (db, log) = logged_db("table-ensure");
    Session::ensure_table(&db).await.unwrap();
    assert_eq!(log.count("CreateTable"), 1, "{:?}", log.operations());
    assert!(Session::table_exists(&db).await.unwrap());
    assert!(db.is_verified(&db.table_name::<Session>()));

    log.clear();
    Session::ensure_table(&db).await.unwrap();
    assert!(log.is_empty(), "second ensure_table sent {:?}", log.operations());

    // A fresh handle on the same tables checks once with DescribeTable and creates nothing.
    let (again, again_log) = logged_db("unused");
    let again = again.with_table_prefix(db.table_prefix());
    Session::ensure_table(&again).await.unwrap();
    assert_eq!(again_log.count("DescribeTable"), 1);
    assert_eq!(again_log.count("CreateTable"), 0);
}

#[tokio::test]
async fn auto_create_checks_the_table_once_per_handle() {
    let (db, log) = logged_db("table-auto");
    let db = dynorm::Db::builder(db.client().clone())
        .table_prefix(db.table_prefix())
        .auto_create_tables(true)
        .build();
    let session = Session {
        token: "t".into(),
        user: "u".into(),
        device: "d".into(),
        expires_at: 1_900_000_000,
    };
    session.put(&db).await.unwrap();
    let after_first = log.count("DescribeTable");
    assert!(after_first >= 1);
    assert_eq!(log.count("CreateTable"), 1);
    Session::get(&db, "t").await.unwrap().unwrap();
    session.delete(&db).await.unwrap();
    assert_eq!(log.count("DescribeTable"), after_first, "{:?}", log.operations());
}

#[tokio::test]
async fn ensure_table_turns_on_a_missing_time_to_live() {
    // The table exists, made elsewhere (from the same input) without time to live.
    let (db, _log) = logged_db("table-ensure-ttl");
    let mut input = Session::create_table(&db).to_input().unwrap();
    let client = db.client();
    client
        .create_table()
        .table_name(input.table_name.take().unwrap())
        .set_attribute_definitions(input.attribute_definitions.take())
        .set_key_schema(input.key_schema.take())
        .set_billing_mode(input.billing_mode.take())
        .set_provisioned_throughput(input.provisioned_throughput.take())
        .set_global_secondary_indexes(input.global_secondary_indexes.take())
        .set_stream_specification(input.stream_specification.take())
        .send()
        .await
        .unwrap();
    let ttl = |db: dynorm::Db| async move {
        db.client()
            .describe_time_to_live()
            .table_name(db.table_name::<Session>())
            .send()
            .await
            .unwrap()
            .time_to_live_description
            .and_then(|d| d.time_to_live_status)
    };
    assert_eq!(ttl(db.clone()).await, Some(TimeToLiveStatus::Disabled));
    Session::ensure_table(&db).await.unwrap();
    assert!(matches!(
        ttl(db.clone()).await,
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    ));
}
