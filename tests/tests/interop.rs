//! Interop with boto3, the AWS SDK for Python, against DynamoDB Local: boto3 reads back
//! every attribute type dynorm writes with the exact DynamoDB type and value, and dynorm
//! reads what boto3 writes (Decimal numbers in their several forms, sets of each kind,
//! binary, NULL, nested maps, a version a Python writer bumped).
//!
//! The Python side is `tests/interop/boto3_interop.py`, run with the python of a private
//! virtual environment that `scripts/python-env` makes (boto3 from PyPI, pinned);
//! `scripts/test` exports its path as `DYNORM_PYTHON`, and this test runs the script
//! itself when it is not set.

use std::collections::{BTreeSet, HashSet};
use std::process::Command;

use dynorm::{Document, DynaModel, Error, Number};
use dynorm_tests::{db, endpoint};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Place {
    city: String,
    codes: HashSet<String>,
}

/// What dynorm writes; `check-dynorm-item` knows the same item.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "interop", hash_key = "id")]
struct Written {
    id: String,
    text: String,
    tags: HashSet<String>,
    scores: BTreeSet<Number>,
    blobs: HashSet<Vec<u8>>,
    empty_tags: BTreeSet<String>,
    data: Vec<u8>,
    digest: [u8; 16],
    big: Number,
    huge: u128,
    money: rust_decimal::Decimal,
    tiny: f64,
    large: f64,
    float: f64,
    flag: bool,
    nothing: Option<String>,
    list: (String, u32),
    nested: Place,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Zip {
    code: u32,
}

#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Town {
    city: String,
    zip: Zip,
}

/// What boto3 writes with `write-boto3-item`.
#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "interop", hash_key = "id")]
struct FromPython {
    id: String,
    hundred: u64,
    hundred_exp: u64,
    big: Number,
    tiny: f64,
    tags: HashSet<String>,
    scores: BTreeSet<Number>,
    blobs: HashSet<Vec<u8>>,
    data: Vec<u8>,
    nothing: Option<String>,
    nested: Town,
    #[dynorm(version)]
    version: u64,
}

/// The python of the private environment with boto3.
fn python() -> String {
    if let Ok(python) = std::env::var("DYNORM_PYTHON") {
        return python;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/python-env");
    let out = Command::new(script).output().expect("run scripts/python-env");
    assert!(
        out.status.success(),
        "scripts/python-env failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .expect("a python path");
    line.trim().to_owned()
}

/// Runs the Python side; returns its stdout, trimmed, after checking it succeeded.
fn boto3(table: &str, command: &str, id: &str) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/interop/boto3_interop.py");
    let out = Command::new(python())
        .args([script, "--endpoint", &endpoint(), "--table", table, command, "--id", id])
        .output()
        .expect("run the boto3 script");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "boto3 {command} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn boto3_reads_what_dynorm_writes_and_dynorm_reads_what_boto3_writes() {
    let db = db("interop");
    Written::create_table(&db).await.unwrap();
    let table = db.table_name::<Written>();

    let written = Written {
        id: "w1".into(),
        text: "héllo".into(),
        tags: HashSet::from(["a".into(), "b".into()]),
        scores: ["1", "2.5", "-3"].iter().map(|n| n.parse().unwrap()).collect(),
        blobs: HashSet::from([vec![0, 1], vec![255]]),
        empty_tags: BTreeSet::new(),
        data: vec![0, 1, 2, 255],
        digest: std::array::from_fn(|i| i as u8),
        big: "12345678901234567890123456789012345678".parse().unwrap(),
        huge: 10u128.pow(38) - 1,
        money: "1234.5678".parse().unwrap(),
        tiny: 1e-130,
        large: 1e125,
        float: 0.1,
        flag: true,
        nothing: None,
        list: ("x".into(), 1),
        nested: Place {
            city: "Paris".into(),
            codes: HashSet::from(["75001".into()]),
        },
        version: 0,
    };
    written.put(&db).await.unwrap();
    assert_eq!(boto3(&table, "check-dynorm-item", "w1"), "ok");
    let back = Written::get(&db, "w1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(back, Written { version: 1, ..written });

    assert_eq!(boto3(&table, "write-boto3-item", "p1"), "ok");
    let from_python = FromPython::get(&db, "p1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(from_python.hundred, 100, "Decimal('100.0')");
    assert_eq!(from_python.hundred_exp, 100, "Decimal('1E+2')");
    assert_eq!(from_python.big.to_string(), "12345678901234567890123456789012345678");
    assert_eq!(from_python.big.to_u128(), Some(12345678901234567890123456789012345678));
    assert_eq!(from_python.tiny, 1e-130);
    assert_eq!(from_python.tags, HashSet::from(["a".into(), "b".into()]));
    let scores: Vec<String> = from_python.scores.iter().map(Number::to_string).collect();
    assert_eq!(scores, ["1", "2.5"]);
    assert_eq!(from_python.blobs, HashSet::from([vec![0], vec![1, 2]]));
    assert_eq!(from_python.data, [0, 255]);
    assert_eq!(from_python.nothing, None);
    assert_eq!(
        from_python.nested,
        Town {
            city: "Paris".into(),
            zip: Zip { code: 75001 },
        }
    );
    assert_eq!(from_python.version, 7);

    // A Python writer bumps the version: dynorm's stale copy conflicts, a fresh read saves.
    assert_eq!(boto3(&table, "bump-version", "p1"), "8");
    let mut stale = from_python.clone();
    assert!(matches!(stale.save(&db).await, Err(Error::VersionConflict { .. })));
    let mut fresh = FromPython::get(&db, "p1").consistent_read(true).await.unwrap().unwrap();
    assert_eq!(fresh.version, 8);
    fresh.tags.insert("rust".into());
    fresh.save(&db).await.unwrap();
    assert_eq!(fresh.version, 9);
    assert_eq!(boto3(&table, "bump-version", "p1"), "10");
}
