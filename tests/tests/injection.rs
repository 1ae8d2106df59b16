//! Property test against DynamoDB Local: attribute names and values of any shape
//! (reserved words; `#`, `:`, `.`, `[` and spaces; any Unicode) round-trip through put,
//! conditional update and get, and no user byte ever appears in expression text.

use std::collections::BTreeMap;
use std::future::IntoFuture;

use aws_sdk_dynamodb::types::AttributeValue;
use dynorm::expr::Path;
use dynorm::{DynaModel, Error};
use dynorm_tests::db;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(DynaModel, Serialize, Deserialize, validator::Validate, Debug, Clone, PartialEq)]
#[table(name = "inject", hash_key = "id")]
struct Entry {
    id: String,
    attrs: BTreeMap<String, String>,
}

/// Names: DynamoDB reserved words, expression punctuation, and any Unicode.
fn any_name() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(vec![
            "name", "status", "size", "SET", "REMOVE", "AND", "attribute_exists", "count",
            "#n0", ":v0", "a.b", "x[0]", "with space", "#", ":", ".", "[", "]", "(", ")", "=",
        ])
        .prop_map(String::from),
        3 => "[a-z#:.\\[\\]()= ,<>-]{1,12}",
        3 => prop::string::string_regex(".{1,16}").unwrap(),
    ]
}

fn any_value() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any_name(),
        1 => prop::string::string_regex(".{0,40}").unwrap(),
    ]
}

const KEYWORDS: &[&str] = &[
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "if_not_exists",
    "list_append",
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
    "size",
];

/// Expression text may hold only placeholders, keywords, list indexes and punctuation.
fn only_placeholders(expression: &str) -> Result<(), String> {
    let mut rest = String::new();
    let mut chars = expression.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '#' || c == ':' {
            let tag = chars.next();
            if !matches!((c, tag), ('#', Some('n')) | (':', Some('v'))) {
                return Err(format!("stray `{c}` in `{expression}`"));
            }
            let mut digits = 0;
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
                digits += 1;
            }
            if digits == 0 {
                return Err(format!("placeholder without a number in `{expression}`"));
            }
            rest.push(' ');
        } else {
            rest.push(c);
        }
    }
    for c in rest.chars() {
        if !(c.is_ascii_alphanumeric() || " _.,()[]=<>+-".contains(c)) {
            return Err(format!("unexpected `{c}` in `{expression}`"));
        }
    }
    for word in rest.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if !(word.is_empty() || word.bytes().all(|b| b.is_ascii_digit()) || KEYWORDS.contains(&word)) {
            return Err(format!("unexpected word `{word}` in `{expression}`"));
        }
    }
    Ok(())
}

#[test]
fn any_name_and_value_round_trips_through_placeholders() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = db("injection");
    runtime.block_on(Entry::create_table(&db).into_future()).unwrap();
    let f = Entry::fields();
    let config = ProptestConfig {
        cases: 150,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let case = std::cell::Cell::new(0u32);
    proptest!(config, |(key in any_name(), first in any_value(), second in any_value(), top in any_name(), top_value in any_value())| {
        case.set(case.get() + 1);
        let id = format!("e{}", case.get());
        let entry = Entry { id: id.clone(), attrs: [(key.clone(), first.clone())].into_iter().collect() };
        runtime.block_on(entry.put(&db).into_future()).unwrap();

        // A model path with a map key, and a top-level attribute the model does not know.
        let unknown: Path<Entry, String> = Path::unchecked([top.clone()]);
        let update = Entry::update_by_key(&db, id.as_str())
            .set(f.attrs().key(key.clone()), second.clone())
            .set(unknown.clone(), top_value.clone())
            .condition(f.attrs().key(key.clone()).eq(&first) & unknown.not_exists() & f.id().begins_with("e"))
            .return_values(dynorm::ops::ReturnValues::None);
        let input = update.to_input().unwrap();
        for text in [input.update_expression().unwrap(), input.condition_expression().unwrap()] {
            if let Err(problem) = only_placeholders(text) {
                prop_assert!(false, "{}", problem);
            }
        }
        let result = runtime.block_on(update.into_future());
        if top == "attrs" || top == "id" {
            // Overlaps a model attribute: DynamoDB (or dynorm) must refuse, not corrupt.
            prop_assert!(result.is_err());
            return Ok(());
        }
        result.unwrap();

        let stored = runtime
            .block_on(db.client().get_item().table_name(db.table_name::<Entry>())
                .key("id", AttributeValue::S(id.clone())).consistent_read(true).send())
            .unwrap()
            .item
            .unwrap();
        prop_assert_eq!(stored.get(&top), Some(&AttributeValue::S(top_value.clone())));
        let attrs = stored["attrs"].as_m().unwrap();
        prop_assert_eq!(attrs.get(&key), Some(&AttributeValue::S(second.clone())));

        // A failing condition on the same names is a typed error, not a malformed request.
        if first != second {
            let err = runtime
                .block_on(Entry::update_by_key(&db, id.as_str())
                    .set(f.attrs().key(key.clone()), "x")
                    .condition(f.attrs().key(key.clone()).eq(&first))
                    .into_future())
                .err();
            prop_assert!(matches!(err, Some(Error::ConditionFailed { .. })), "{:?}", err);
        }
    });
}
