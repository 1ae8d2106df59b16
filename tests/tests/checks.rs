//! Client-side checks: each bad input gets its typed error before any request is sent,
//! and the item-size count matches DynamoDB Local at the 400 KB boundary.

use std::collections::{BTreeSet, HashMap};

use dynorm::{DynaModel, Error, KeyProblem, ValueProblem};
use dynorm_tests::{logged_db, server_accepts};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "docs", hash_key = "id", range_key = "part")]
struct Doc {
    id: String,
    part: String,
    #[validate(length(min = 1, max = 10))]
    label: String,
    #[serde(default, with = "dynorm::serde_dynamo::string_set")]
    labels: BTreeSet<String>,
    score: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    extra: Option<serde_json::Value>,
}

fn doc() -> Doc {
    Doc {
        id: "d".into(),
        part: "p".into(),
        label: "ok".into(),
        labels: ["a".to_owned()].into(),
        score: 1.5,
        extra: None,
    }
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "big", hash_key = "id")]
struct Big {
    id: String,
    data: String,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "mixed", hash_key = "id")]
struct Mixed {
    id: String,
    data: String,
    n: i64,
    list: Vec<String>,
    map: HashMap<String, bool>,
}

#[tokio::test]
async fn validation_stops_the_write() {
    let (db, log) = logged_db("checks-validate");
    let mut bad = doc();
    bad.label = "far too long for the rule".into();
    let err = bad.put(&db).await.unwrap_err();
    let Error::Validation(errors) = &err else {
        panic!("expected a validation error, got {err:?}")
    };
    assert!(errors.field_errors().contains_key("label"));
    assert!(matches!(bad.save(&db).await, Err(Error::Validation(_))));
    assert!(matches!(bad.put_unique(&db).await, Err(Error::Validation(_))));
    assert!(matches!(
        Doc::objects(&db).create(&bad).await,
        Err(Error::Validation(_))
    ));
    assert!(matches!(bad.put(&db).to_input(), Err(Error::Validation(_))));
    assert!(log.is_empty(), "sent {:?}", log.operations());
}

#[tokio::test]
async fn empty_and_oversized_keys_are_rejected_before_sending() {
    let (db, log) = logged_db("checks-keys");
    let problem = |r: dynorm::Result<()>| match r {
        Err(Error::InvalidKey { attribute, problem }) => (attribute, problem),
        other => panic!("expected InvalidKey, got {other:?}"),
    };

    let mut empty_hash = doc();
    empty_hash.id.clear();
    assert_eq!(problem(empty_hash.put(&db).await), ("id".into(), KeyProblem::Empty));
    let mut empty_range = doc();
    empty_range.part.clear();
    assert_eq!(problem(empty_range.put(&db).await), ("part".into(), KeyProblem::Empty));
    assert!(matches!(Doc::get(&db, ("", "p")).await, Err(Error::InvalidKey { .. })));
    assert!(matches!(
        Doc::delete_by_key(&db, ("d", "")).await,
        Err(Error::InvalidKey { .. })
    ));

    let mut long_hash = doc();
    long_hash.id = "h".repeat(2049);
    assert_eq!(
        problem(long_hash.put(&db).await),
        ("id".into(), KeyProblem::TooLong { len: 2049, limit: 2048 })
    );
    let mut long_range = doc();
    long_range.part = "r".repeat(1025);
    assert_eq!(
        problem(long_range.put(&db).await),
        ("part".into(), KeyProblem::TooLong { len: 1025, limit: 1024 })
    );
    let err = Doc::get(&db, ("h".repeat(2049), "p")).await.unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidKey {
            problem: KeyProblem::TooLong { .. },
            ..
        }
    ));
    assert!(log.is_empty(), "sent {:?}", log.operations());
}

#[tokio::test]
async fn keys_at_the_size_limits_are_accepted_by_dynamodb() {
    let (db, _log) = logged_db("checks-key-limits");
    Doc::create_table(&db).await.unwrap();
    let mut edge = doc();
    edge.id = "h".repeat(2048);
    edge.part = "r".repeat(1024);
    edge.put(&db).await.unwrap();
    let loaded = Doc::get(&db, edge.pk()).consistent_read(true).await.unwrap();
    assert_eq!(loaded, Some(edge));
}

#[tokio::test]
async fn empty_sets_and_non_finite_numbers_are_rejected_before_sending() {
    let (db, log) = logged_db("checks-values");
    // DynamoDB cannot store an empty set: a model leaves it out of the item...
    let mut empty = doc();
    empty.labels.clear();
    assert!(!empty.to_item().unwrap().contains_key("labels"));
    // ...and an empty set as an expression value is refused before sending.
    let f = Doc::fields();
    let err = Doc::update_by_key(&db, ("d", "p"))
        .set(f.score(), 1.0)
        .condition(f.labels().eq(BTreeSet::new()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidItem { path, problem: ValueProblem::EmptySet } if path == "labels"),
        "{err:?}"
    );

    for score in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let mut bad = doc();
        bad.score = score;
        let err = bad.put(&db).await.unwrap_err();
        assert!(
            matches!(&err, Error::InvalidItem { path, problem: ValueProblem::NonFiniteNumber } if path == "score"),
            "{score}: {err:?}"
        );
    }
    assert!(log.is_empty(), "sent {:?}", log.operations());
}

#[tokio::test]
async fn nesting_deeper_than_32_levels_is_rejected_before_sending() {
    let (db, log) = logged_db("checks-depth");
    let nest = |levels: usize| {
        let mut value = serde_json::json!("leaf");
        for _ in 0..levels {
            value = serde_json::json!([value]);
        }
        value
    };
    let mut deep = doc();
    // `extra` is level 1; 32 nested lists inside it reach level 33.
    deep.extra = Some(nest(32));
    let err = deep.put(&db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidItem {
                problem: ValueProblem::TooDeep,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(log.is_empty());

    Doc::create_table(&db).await.unwrap();
    let mut ok = doc();
    ok.extra = Some(nest(31));
    ok.put(&db).await.unwrap();
}

#[tokio::test]
async fn item_size_boundary_matches_dynamodb() {
    let (db, log) = logged_db("checks-size");
    Big::create_table(&db).await.unwrap();
    log.clear();
    // "id" + "k" + "data" = 7 bytes, so a 409,593-byte string makes exactly 409,600.
    let at_limit = Big {
        id: "k".into(),
        data: "x".repeat(409_593),
    };
    assert_eq!(dynorm::item_size(&dynorm::to_item(&at_limit).unwrap()), 409_600);
    at_limit.put(&db).await.unwrap();
    let loaded = Big::get(&db, "k").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(loaded.data.len(), 409_593);
    assert_eq!(log.count("PutItem"), 1);

    log.clear();
    let over = Big {
        id: "k".into(),
        data: "x".repeat(409_594),
    };
    let err = over.put(&db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::ItemTooLarge {
                size: 409_601,
                limit: 409_600
            }
        ),
        "{err:?}"
    );
    assert!(log.is_empty(), "sent {:?}", log.operations());

    // The server draws the line at the same byte.
    let raw = dynorm::to_item(&over).unwrap();
    let server = server_accepts::<Big>(&db, raw).await;
    assert!(!server, "DynamoDB Local accepted a 409,601-byte item");
}

#[tokio::test]
async fn size_of_numbers_lists_and_maps_matches_dynamodb() {
    let (db, _log) = logged_db("checks-size-mixed");
    Mixed::create_table(&db).await.unwrap();
    let make = |data_len: usize| Mixed {
        id: "k".into(),
        data: "x".repeat(data_len),
        n: -123_456_789,
        list: vec!["ab".into(), "cde".into()],
        map: HashMap::from([("flag".to_owned(), true), ("other".to_owned(), false)]),
    };
    let base = dynorm::item_size(&dynorm::to_item(&make(0)).unwrap());
    let at_limit = make(409_600 - base);
    assert_eq!(dynorm::item_size(&dynorm::to_item(&at_limit).unwrap()), 409_600);
    at_limit.put(&db).await.unwrap();

    let over = make(409_601 - base);
    assert!(matches!(
        over.put(&db).await,
        Err(Error::ItemTooLarge { size: 409_601, .. })
    ));
    let raw = dynorm::to_item(&over).unwrap();
    let server = server_accepts::<Mixed>(&db, raw).await;
    assert!(!server, "DynamoDB Local accepted the 409,601-byte item");
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "accounts", hash_key = "id")]
#[global_index(name = "by-email", hash_key = "email", projection = keys_only)]
struct Account {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    email: Option<String>,
}

#[tokio::test]
async fn optional_index_keys_make_a_sparse_index() {
    let (db, log) = logged_db("checks-sparse");
    Account::create_table(&db).await.unwrap();
    let defs = Account::schema().global_indexes[0].hash_key;
    assert_eq!(defs.key_type, dynorm::KeyType::String);

    Account {
        id: "a".into(),
        email: None,
    }
    .put(&db)
    .await
    .unwrap();
    Account {
        id: "b".into(),
        email: Some("b@example.com".into()),
    }
    .put(&db)
    .await
    .unwrap();
    let indexed = db
        .client()
        .scan()
        .table_name(db.table_name::<Account>())
        .index_name("by-email")
        .send()
        .await
        .unwrap();
    assert_eq!(indexed.count, 1, "only the account with an email is in the index");

    log.clear();
    let err = Account {
        id: "c".into(),
        email: Some(String::new()),
    }
    .put(&db)
    .await
    .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidKey { attribute, problem: KeyProblem::Empty } if attribute == "email"),
        "{err:?}"
    );
    assert!(log.is_empty(), "sent {:?}", log.operations());
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "numbers", hash_key = "id")]
struct Numbered {
    id: String,
    data: String,
    n: serde_json::Number,
}

#[tokio::test]
async fn number_sizes_match_dynamodb_at_the_boundary() {
    let (db, _log) = logged_db("checks-number-size");
    Numbered::create_table(&db).await.unwrap();
    let numbers = [
        "0",
        "-0",
        "1",
        "-1",
        "1.5",
        "-1.1",
        "11000",
        "0.1",
        "123.45",
        "-123456789",
        "1e-5",
        "98765.4321",
    ];
    for n in numbers {
        let make = |len: usize| Numbered {
            id: "k".into(),
            data: "x".repeat(len),
            n: n.parse().unwrap(),
        };
        let base = dynorm::item_size(&dynorm::to_item(&make(0)).unwrap());
        let at_limit = make(409_600 - base);
        at_limit
            .put(&db)
            .await
            .unwrap_or_else(|e| panic!("{n}: 409,600 bytes rejected: {e}"));

        let over = dynorm::to_item(&make(409_601 - base)).unwrap();
        assert_eq!(dynorm::item_size(&over), 409_601);
        let server = server_accepts::<Numbered>(&db, over).await;
        assert!(
            !server,
            "{n}: DynamoDB Local accepted 409,601 bytes, so dynorm over-counts"
        );
    }
}

#[tokio::test]
async fn numbers_dynamodb_cannot_store_are_rejected_before_sending() {
    let (db, log) = logged_db("checks-number-range");
    for (score, problem) in [
        (1e200, ValueProblem::NumberOutOfRange),
        (f64::MIN_POSITIVE, ValueProblem::NumberOutOfRange),
        (-1e130, ValueProblem::NumberOutOfRange),
    ] {
        let mut bad = doc();
        bad.score = score;
        let err = bad.put(&db).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidItem { problem: p, .. } if p == problem),
            "{score}: {err:?}"
        );
    }
    assert!(log.is_empty(), "sent {:?}", log.operations());

    // The server agrees: the same values are refused when sent raw.
    Doc::create_table(&db).await.unwrap();
    let mut raw = dynorm::to_item(&doc()).unwrap();
    raw.insert(
        "score".into(),
        aws_sdk_dynamodb::types::AttributeValue::N(1e200f64.to_string()),
    );
    let server = server_accepts::<Doc>(&db, raw).await;
    assert!(!server);
}

#[tokio::test]
async fn nesting_limit_is_dynamodbs() {
    // Raw items, straight to the server: 32 levels of lists are refused, 31 accepted,
    // which is where dynorm draws its line.
    let (db, _log) = logged_db("checks-depth-server");
    Doc::create_table(&db).await.unwrap();
    let nest = |levels: usize| {
        let mut value = aws_sdk_dynamodb::types::AttributeValue::S("leaf".into());
        for _ in 0..levels {
            value = aws_sdk_dynamodb::types::AttributeValue::L(vec![value]);
        }
        value
    };
    for (levels, accepted) in [(31, true), (32, false)] {
        let mut raw = dynorm::to_item(&doc()).unwrap();
        raw.insert("extra".into(), nest(levels));
        let server = server_accepts::<Doc>(&db, raw).await;
        assert_eq!(server, accepted, "{levels} levels");
    }
}

#[tokio::test]
async fn duplicate_set_elements_are_rejected_before_sending() {
    #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
    #[table(name = "tagged", hash_key = "id")]
    struct Tagged {
        id: String,
        #[serde(with = "dynorm::serde_dynamo::string_set")]
        tags: Vec<String>,
    }
    let (db, log) = logged_db("checks-dup-set");
    let err = Tagged {
        id: "t".into(),
        tags: vec!["a".into(), "a".into()],
    }
    .put(&db)
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidItem {
                problem: ValueProblem::DuplicateSetElement,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(log.is_empty());
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "posts", hash_key = "id")]
#[global_index(name = "by-author", hash_key = "author", range_key = "slug")]
struct Post {
    id: String,
    author: String,
    slug: String,
}

#[tokio::test]
async fn index_keys_follow_the_key_rules_before_sending() {
    let (db, log) = logged_db("checks-index-keys");
    let post = |author: String, slug: String| Post {
        id: "p".into(),
        author,
        slug,
    };
    let err = post(String::new(), "s".into()).put(&db).await.unwrap_err();
    assert!(matches!(&err, Error::InvalidKey { attribute, problem: KeyProblem::Empty } if attribute == "author"));
    let err = post("a".repeat(2049), "s".into()).put(&db).await.unwrap_err();
    assert!(matches!(
        &err,
        Error::InvalidKey {
            problem: KeyProblem::TooLong { limit: 2048, .. },
            ..
        }
    ));
    let err = post("a".into(), "s".repeat(1025)).put(&db).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidKey { attribute, problem: KeyProblem::TooLong { limit: 1024, .. } } if attribute == "slug")
    );
    assert!(log.is_empty(), "sent {:?}", log.operations());

    // The same values sent raw are refused by the server.
    Post::create_table(&db).await.unwrap();
    let raw = dynorm::to_item(&post(String::new(), "s".into())).unwrap();
    let server = server_accepts::<Post>(&db, raw).await;
    assert!(!server);
    post("a".repeat(2048), "s".repeat(1024)).put(&db).await.unwrap();
}

#[tokio::test]
async fn empty_binary_keys_are_rejected_before_sending() {
    #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
    #[table(name = "chunks", hash_key = "digest")]
    struct Chunk {
        #[serde(with = "dynorm::bytes")]
        digest: Vec<u8>,
    }
    let (db, log) = logged_db("checks-empty-binary");
    let err = Chunk { digest: vec![] }.put(&db).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidKey {
                problem: KeyProblem::Empty,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(matches!(
        Chunk::get(&db, Vec::<u8>::new()).await,
        Err(Error::InvalidKey { .. })
    ));
    assert!(log.is_empty());
}
