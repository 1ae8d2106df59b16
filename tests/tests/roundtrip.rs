//! Property test against DynamoDB Local: for arbitrary model values, a put either
//! round-trips exactly through get, or fails with a client-side error before any request.
//! A server-side rejection would mean a check is missing; a changed value would mean data
//! was lost.

use std::collections::{BTreeMap, BTreeSet};
use std::future::IntoFuture;

use dynorm::{DynaModel, Error};
use dynorm_tests::logged_db;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "props", hash_key = "id", range_key = "seq")]
#[global_index(name = "by-owner", hash_key = "owner")]
struct Prop {
    id: String,
    seq: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    text: String,
    score: f64,
    #[serde(default, with = "dynorm::serde_dynamo::string_set")]
    labels: BTreeSet<String>,
    attrs: BTreeMap<String, Vec<u32>>,
    #[serde(with = "dynorm::bytes")]
    blob: Vec<u8>,
    flag: Option<bool>,
}

/// Mostly valid strings (any Unicode, or characters used in expressions), sometimes
/// empty, so both the round trip and the client-side rejection get exercised.
fn any_string(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::string::string_regex(&format!(".{{1,{max}}}")).unwrap(),
        3 => "[a-z#:.\\[\\]= ]{1,12}",
        1 => Just(String::new()),
    ]
}

fn any_prop() -> impl Strategy<Value = Prop> {
    (
        (any_string(40), any::<i64>(), prop::option::of(any_string(20))),
        (
            prop::string::string_regex(".{0,200}").unwrap(),
            prop_oneof![8 => -1e12..1e12f64, 2 => any::<f64>()],
            prop_oneof![8 => prop::collection::btree_set(any_string(8), 1..4), 1 => Just(BTreeSet::new())],
        ),
        prop::collection::btree_map(any_string(6), prop::collection::vec(any::<u32>(), 0..4), 0..4),
        (
            prop::collection::vec(any::<u8>(), 0..64),
            prop::option::of(any::<bool>()),
        ),
    )
        .prop_map(|((id, seq, owner), (text, score, labels), attrs, (blob, flag))| Prop {
            id,
            seq,
            owner,
            text,
            score,
            labels,
            attrs,
            blob,
            flag,
        })
}

#[test]
fn arbitrary_models_round_trip_or_fail_before_sending() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (db, log) = logged_db("roundtrip");
    runtime.block_on(Prop::create_table(&db).into_future()).unwrap();

    let round_trips = std::cell::Cell::new(0u32);
    let config = ProptestConfig {
        cases: 500,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(prop in any_prop())| {
        log.clear();
        let result = runtime.block_on(prop.put(&db).into_future());
        match result {
            Ok(()) => {
                let loaded = runtime
                    .block_on(Prop::get(&db, prop.pk()).consistent_read(true).into_future())
                    .unwrap();
                prop_assert_eq!(loaded, Some(prop.clone()));
                round_trips.set(round_trips.get() + 1);
            }
            Err(Error::InvalidKey { .. } | Error::InvalidItem { .. } | Error::ItemTooLarge { .. }) => {
                prop_assert!(log.is_empty(), "a client-side rejection sent {:?}", log.operations());
            }
            Err(other) => prop_assert!(false, "the server rejected what dynorm let through: {other:?}"),
        }
    });
    // Guard against a generator that only produces rejected values.
    println!(
        "{} of 500 generated models were stored and read back",
        round_trips.get()
    );
    assert!(round_trips.get() >= 125, "only {} round trips", round_trips.get());
}
