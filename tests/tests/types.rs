//! Rust types stored as DynamoDB types with no annotation: sets as `SS`/`NS`/`BS`, byte
//! vectors as `B`, exact numbers as `N`, floats across DynamoDB's whole range. Each test
//! writes through dynorm, reads the item back with the raw client, checks the stored
//! DynamoDB types, and reads the model back equal.

use std::collections::{BTreeSet, HashMap, HashSet};

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::{Db, Document, DynaModel, Error, Number};
use dynorm_tests::db;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq, Default)]
struct Address {
    city: String,
    codes: HashSet<String>,
    #[serde(default)]
    photo: Vec<u8>,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq, Default)]
#[table(name = "typed", hash_key = "id")]
struct Typed {
    id: String,
    tags: HashSet<String>,
    scores: BTreeSet<u32>,
    blobs: HashSet<Vec<u8>>,
    empty_tags: BTreeSet<String>,
    maybe_tags: Option<HashSet<String>>,
    data: Vec<u8>,
    digest: [u8; 16],
    chunk: bytes::Bytes,
    numbers: Vec<Number>,
    big: Number,
    huge: u128,
    negative: i128,
    money: rust_decimal::Decimal,
    maybe_money: Option<rust_decimal::Decimal>,
    address: Address,
    homes: Vec<Address>,
    by_name: HashMap<String, Vec<u8>>,
    #[dynorm(list)]
    ordered: BTreeSet<String>,
    #[dynorm(list)]
    raw_bytes: Vec<u8>,
}

fn sample(id: &str) -> Typed {
    Typed {
        id: id.into(),
        tags: HashSet::from(["a".into(), "b".into()]),
        scores: BTreeSet::from([1, 20, 300]),
        blobs: HashSet::from([vec![0, 1], vec![255]]),
        empty_tags: BTreeSet::new(),
        maybe_tags: Some(HashSet::from(["x".into()])),
        data: vec![0, 1, 2, 255],
        digest: std::array::from_fn(|i| i as u8),
        chunk: bytes::Bytes::from_static(b"chunk"),
        numbers: vec![
            "0.1".parse().unwrap(),
            "-12345678901234567890.123456789".parse().unwrap(),
        ],
        big: "12345678901234567890123456789012345678".parse().unwrap(),
        huge: 99_999_999_999_999_999_999_999_999_999_999_999_999,
        negative: -99_999_999_999_999_999_999_999_999_999_999_999_999,
        money: "1234.5678".parse().unwrap(),
        maybe_money: Some("-0.01".parse().unwrap()),
        address: Address {
            city: "Paris".into(),
            codes: HashSet::from(["75001".into()]),
            photo: vec![9, 9],
        },
        homes: vec![Address {
            city: "Lyon".into(),
            codes: HashSet::new(),
            photo: vec![],
        }],
        by_name: HashMap::from([("a".into(), vec![1u8, 2])]),
        ordered: BTreeSet::from(["z".into(), "y".into()]),
        raw_bytes: vec![7, 8],
    }
}

async fn raw(db: &Db, table: &str, id: &str) -> HashMap<String, AttributeValue> {
    db.client()
        .get_item()
        .table_name(table)
        .key("id", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("stored")
}

fn strings(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn sets_bytes_and_numbers_are_stored_as_dynamodb_types_and_read_back_equal() {
    let db = db("types");
    Typed::create_table(&db).await.unwrap();
    let table = db.table_name::<Typed>();
    let typed = sample("t1");
    typed.put(&db).await.unwrap();

    let item = raw(&db, &table, "t1").await;
    assert_eq!(strings(item["tags"].as_ss().unwrap().clone()), ["a", "b"]);
    assert_eq!(strings(item["scores"].as_ns().unwrap().clone()), ["1", "20", "300"]);
    let mut blobs: Vec<Vec<u8>> = item["blobs"]
        .as_bs()
        .unwrap()
        .iter()
        .map(|b| b.as_ref().to_vec())
        .collect();
    blobs.sort();
    assert_eq!(blobs, [vec![0, 1], vec![255]]);
    assert!(!item.contains_key("empty_tags"), "an empty set is left out");
    assert_eq!(item["maybe_tags"].as_ss().unwrap(), &["x".to_owned()]);
    assert_eq!(item["data"].as_b().unwrap().as_ref(), &[0, 1, 2, 255]);
    assert_eq!(item["digest"].as_b().unwrap().as_ref(), &typed.digest);
    assert_eq!(item["chunk"].as_b().unwrap().as_ref(), b"chunk");
    let numbers = item["numbers"].as_l().unwrap();
    assert_eq!(numbers[0].as_n().unwrap(), "0.1");
    assert_eq!(numbers[1].as_n().unwrap(), "-12345678901234567890.123456789");
    assert_eq!(item["big"].as_n().unwrap(), "12345678901234567890123456789012345678");
    assert_eq!(item["huge"].as_n().unwrap(), "99999999999999999999999999999999999999");
    assert_eq!(
        item["negative"].as_n().unwrap(),
        "-99999999999999999999999999999999999999"
    );
    assert_eq!(item["money"].as_n().unwrap(), "1234.5678");
    assert_eq!(item["maybe_money"].as_n().unwrap(), "-0.01");
    let address = item["address"].as_m().unwrap();
    assert_eq!(address["codes"].as_ss().unwrap(), &["75001".to_owned()]);
    assert_eq!(address["photo"].as_b().unwrap().as_ref(), &[9, 9]);
    let home = item["homes"].as_l().unwrap()[0].as_m().unwrap();
    assert!(
        !home.contains_key("codes"),
        "an empty set inside a document is left out"
    );
    assert_eq!(home["photo"].as_b().unwrap().as_ref(), &[] as &[u8]);
    assert_eq!(item["by_name"].as_m().unwrap()["a"].as_b().unwrap().as_ref(), &[1, 2]);
    assert_eq!(
        item["ordered"].as_l().unwrap(),
        &[AttributeValue::S("y".into()), AttributeValue::S("z".into())],
        "#[dynorm(list)] keeps a list"
    );
    assert_eq!(
        item["raw_bytes"].as_l().unwrap(),
        &[AttributeValue::N("7".into()), AttributeValue::N("8".into())]
    );

    let back = Typed::get(&db, "t1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(back, typed);
    // The same through a query, a scan, a batch and the model's own conversion.
    let scanned: Vec<Typed> = Typed::scan(&db).collect_all().await.unwrap();
    assert_eq!(scanned, std::slice::from_ref(&typed));
    assert_eq!(Typed::from_item(item.clone()).unwrap(), typed);
    assert_eq!(Typed::from_item(typed.to_item().unwrap()).unwrap(), typed);
    let mut got = db.batch_get().get::<Typed>("t1").send().await.unwrap();
    assert_eq!(got.models::<Typed>().unwrap(), [typed]);
}

#[tokio::test]
async fn set_operations_apply_to_sets_of_each_kind() {
    let db = db("types-setops");
    Typed::create_table(&db).await.unwrap();
    let table = db.table_name::<Typed>();
    let mut typed = sample("t2");
    typed.put(&db).await.unwrap();
    let f = Typed::fields();
    Typed::update_by_key(&db, "t2")
        .add_to_set(f.maybe_tags(), ["c"])
        .add_to_set(f.scores(), [4000u32])
        .add_to_set(f.blobs(), [vec![7u8, 7]])
        .delete_from_set(f.tags(), ["a"])
        .add_to_set(f.empty_tags(), ["first"])
        .condition(f.tags().contains("b") & f.blobs().contains(vec![255u8]) & f.data().eq(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    let item = raw(&db, &table, "t2").await;
    assert_eq!(strings(item["tags"].as_ss().unwrap().clone()), ["b"]);
    assert_eq!(strings(item["maybe_tags"].as_ss().unwrap().clone()), ["c", "x"]);
    assert_eq!(item["scores"].as_ns().unwrap().len(), 4);
    assert_eq!(item["blobs"].as_bs().unwrap().len(), 3);
    assert_eq!(item["empty_tags"].as_ss().unwrap(), &["first".to_owned()]);

    // Deleting the last element removes the attribute; the model reads an empty set.
    Typed::update_by_key(&db, "t2")
        .delete_from_set(f.empty_tags(), ["first"])
        .await
        .unwrap();
    assert!(!raw(&db, &table, "t2").await.contains_key("empty_tags"));
    let back = Typed::get(&db, "t2").consistent_read(true).await.unwrap().unwrap();
    assert!(back.empty_tags.is_empty());

    // A set condition value is encoded as the set it is compared with.
    typed.tags = back.tags.clone();
    let same = Typed::update_by_key(&db, "t2")
        .set(f.money(), rust_decimal::Decimal::new(5, 1))
        .condition(f.tags().eq(back.tags.clone()) & f.big().gt("1E+37".parse::<Number>().unwrap()))
        .await;
    assert!(same.is_ok(), "{same:?}");
    assert_eq!(raw(&db, &table, "t2").await["money"].as_n().unwrap(), "0.5");
    // An increment on a 128-bit integer and on an exact number.
    Typed::update_by_key(&db, "t2")
        .add(f.huge(), 0u128)
        .add(f.big(), Number::from(2u8))
        .await
        .unwrap();
    let item = raw(&db, &table, "t2").await;
    assert_eq!(item["big"].as_n().unwrap(), "12345678901234567890123456789012345680");

    // Map entries and list elements are encoded as the container stores them.
    Typed::update_by_key(&db, "t2")
        .set(f.by_name().key("b"), vec![3u8])
        .set(f.homes().at(0).fields().photo(), vec![4u8])
        .add_to_set(f.address().fields().codes(), ["75002"])
        .condition(f.by_name().key("a").eq(vec![1u8, 2]) & f.numbers().at(0).eq("0.1".parse::<Number>().unwrap()))
        .await
        .unwrap();
    let item = raw(&db, &table, "t2").await;
    assert_eq!(item["by_name"].as_m().unwrap()["b"].as_b().unwrap().as_ref(), &[3]);
    let home = item["homes"].as_l().unwrap()[0].as_m().unwrap();
    assert_eq!(home["photo"].as_b().unwrap().as_ref(), &[4]);
    let codes = item["address"].as_m().unwrap()["codes"].as_ss().unwrap().clone();
    assert_eq!(strings(codes), ["75001", "75002"]);
}

#[tokio::test]
async fn a_partial_save_of_a_set_sends_a_set_and_an_emptied_set_is_removed() {
    let db = db("types-partial");
    Typed::create_table(&db).await.unwrap();
    let table = db.table_name::<Typed>();
    sample("t3").put(&db).await.unwrap();
    let mut tracked = Typed::get(&db, "t3")
        .consistent_read(true)
        .tracked()
        .await
        .unwrap()
        .unwrap();
    tracked.tags.insert("new".into());
    tracked.maybe_tags = Some(HashSet::new());
    tracked.scores.clear();
    tracked.data.push(42);
    tracked.save(&db).await.unwrap();
    let item = raw(&db, &table, "t3").await;
    assert_eq!(strings(item["tags"].as_ss().unwrap().clone()), ["a", "b", "new"]);
    assert!(!item.contains_key("scores"));
    assert!(!item.contains_key("maybe_tags"));
    assert_eq!(item["data"].as_b().unwrap().as_ref(), &[0, 1, 2, 255, 42]);
    let back = Typed::get(&db, "t3").consistent_read(true).await.unwrap().unwrap();
    assert!(back.scores.is_empty());
    assert_eq!(back.maybe_tags, None, "an emptied optional set reads back as None");
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "floats", hash_key = "id")]
struct Floats {
    id: u32,
    value: f64,
    single: f32,
}

#[tokio::test]
async fn floats_from_1e_minus_130_to_1e125_round_trip_exactly() {
    let db = db("types-floats");
    Floats::create_table(&db).await.unwrap();
    let table = db.table_name::<Floats>();
    let values = [
        1e-130,
        -1e-130,
        1.5e-100,
        0.1,
        1.0 / 3.0,
        123.456,
        1e21,
        1e38,
        1e40,
        1.7976e100,
        1e125,
        -1e125,
        0.0,
    ];
    for (id, value) in values.into_iter().enumerate() {
        let f = Floats {
            id: id as u32,
            value,
            single: value as f32,
        };
        let single_ok = f.single.is_finite() && (f.single == 0.0 || f.single.abs() >= 1e-38);
        let f = Floats {
            single: if single_ok { f.single } else { 1.0 },
            ..f
        };
        f.put(&db).await.unwrap_or_else(|e| panic!("{value}: {e}"));
        let back = Floats::get(&db, id as u32)
            .consistent_read(true)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(back, f, "{value}");
        let stored = db
            .client()
            .get_item()
            .table_name(&table)
            .key("id", AttributeValue::N(id.to_string()))
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        let n = stored["value"].as_n().unwrap();
        assert_eq!(n.parse::<f64>().unwrap(), value, "{value} stored as {n}");
    }
    // Outside DynamoDB's range: refused before sending.
    let out = Floats {
        id: 99,
        value: 1e126,
        single: 1.0,
    };
    assert!(matches!(
        out.put(&db).await,
        Err(Error::InvalidItem {
            problem: dynorm::ValueProblem::NumberOutOfRange,
            ..
        })
    ));
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "wide", hash_key = "id")]
struct Wide {
    id: u128,
    value: i128,
}

#[tokio::test]
async fn a_128_bit_integer_over_38_digits_is_refused_with_a_typed_error() {
    let db = db("types-wide");
    Wide::create_table(&db).await.unwrap();
    let ok = Wide {
        id: 10u128.pow(37),
        value: i128::from(i64::MIN) * 1000,
    };
    ok.put(&db).await.unwrap();
    assert_eq!(
        Wide::get(&db, 10u128.pow(37)).consistent_read(true).await.unwrap(),
        Some(ok)
    );
    let too_wide = Wide {
        id: 1,
        value: i128::MAX,
    };
    match too_wide.put(&db).await {
        Err(Error::InvalidItem { path, problem }) => {
            assert_eq!(path, "value");
            assert_eq!(problem, dynorm::ValueProblem::TooManyDigits);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        Wide::get(&db, u128::MAX).await,
        Err(Error::InvalidKey { .. }) | Err(Error::Service { .. })
    ));
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "blobs", hash_key = "id")]
struct Blobs {
    id: String,
    blobs: Vec<DerivedBin>,
    address: Option<Address>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
struct DerivedBin(Vec<u8>);

#[tokio::test]
async fn a_value_that_cannot_be_decoded_names_the_model_the_path_and_both_types() {
    let db = db("types-decode");
    Blobs::create_table(&db).await.unwrap();
    let table = db.table_name::<Blobs>();
    let item = HashMap::from([
        ("id".to_owned(), AttributeValue::S("b1".into())),
        (
            "blobs".to_owned(),
            AttributeValue::L(vec![AttributeValue::S("not bytes".into())]),
        ),
    ]);
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let err = Blobs::get(&db, "b1").await.unwrap_err();
    let Error::Decode { target, error } = &err else {
        panic!("{err:?}");
    };
    assert!(target.ends_with("Blobs"), "{target}");
    assert_eq!(error.path, "blobs[0]");
    assert_eq!(error.stored, Some("S"));
    assert!(error.expected.is_some());
    let message = err.to_string();
    assert!(message.contains("Blobs") && message.contains("blobs[0]"), "{message}");
    assert!(
        message.contains("stored S") && message.contains("expected"),
        "{message}"
    );

    let item = HashMap::from([
        ("id".to_owned(), AttributeValue::S("b2".into())),
        ("blobs".to_owned(), AttributeValue::L(vec![])),
        (
            "address".to_owned(),
            AttributeValue::M(HashMap::from([("city".to_owned(), AttributeValue::N("75".into()))])),
        ),
    ]);
    db.client()
        .put_item()
        .table_name(&table)
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
    let err = Blobs::get(&db, "b2").await.unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("address.city") && message.contains("stored N"),
        "{message}"
    );
    // Binary stored where the model has it reads back, with no serde helper.
    let fine = Blobs {
        id: "b3".into(),
        blobs: vec![DerivedBin(vec![1, 2, 3])],
        address: None,
    };
    fine.put(&db).await.unwrap();
    assert_eq!(Blobs::get(&db, "b3").await.unwrap(), Some(fine));
}
