//! Nesting depth: a document nested far deeper than DynamoDB's 32 levels gets
//! `InvalidItem { problem: TooDeep }` before any request, without the encoder recursing
//! through it (it used to overflow the stack in a debug build), and values as deep as
//! DynamoDB allows still round-trip.

use dynorm::{Document, DynaModel, Error, ValueProblem};
use dynorm_tests::{logged_db, server_accepts};
use serde::{Deserialize, Serialize};
use validator::Validate;

/// A recursive document: each node is one map level.
#[derive(Document, Serialize, Deserialize, Debug, Clone, PartialEq)]
struct Node {
    n: u32,
    child: Option<Box<Node>>,
}

/// `len` nodes, built without recursion. The outermost node has `n == len`.
fn chain(len: u32) -> Node {
    let mut node = Node { n: 1, child: None };
    for n in 2..=len {
        node = Node {
            n,
            child: Some(Box::new(node)),
        };
    }
    node
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "trees", hash_key = "id")]
struct Tree {
    id: String,
    /// Level 1: a tree of `k` nodes reaches level `k`.
    root: Node,
}

fn tree(id: &str, nodes: u32) -> Tree {
    Tree {
        id: id.into(),
        root: chain(nodes),
    }
}

fn too_deep<T: std::fmt::Debug>(result: dynorm::Result<T>) -> String {
    match result {
        Err(Error::InvalidItem {
            path,
            problem: ValueProblem::TooDeep,
        }) => path,
        other => panic!("expected InvalidItem {{ problem: TooDeep }}, got {other:?}"),
    }
}

/// `root.child.child...`: the node at level 32.
fn level_32_path() -> String {
    format!("root{}", ".child".repeat(31))
}

#[tokio::test]
async fn a_document_1000_levels_deep_is_rejected_before_sending() {
    let (db, log) = logged_db("depth-1000");
    let mut deep = tree("deep", 1000);

    assert_eq!(too_deep(deep.put(&db).await), level_32_path());
    assert_eq!(too_deep(deep.put_unique(&db).await), level_32_path());
    assert_eq!(too_deep(deep.save(&db).await), level_32_path());
    assert_eq!(too_deep(Tree::objects(&db).create(&deep).await), level_32_path());
    assert_eq!(too_deep(deep.put(&db).to_input()), level_32_path());
    assert_eq!(too_deep(dynorm::to_item(&deep)), level_32_path());
    let batch = db.batch_write().put(&deep).send().await;
    assert!(batch.is_err(), "{batch:?}");
    let transaction = db.transact_write().write(deep.put(&db)).await;
    assert!(transaction.is_err(), "{transaction:?}");

    // As an update or condition value, the document is encoded without recursing too.
    let f = Tree::fields();
    let update = Tree::update_by_key(&db, "deep").set(f.root(), deep.root.clone()).await;
    let condition = tree("deep", 2).put(&db).condition(f.root().eq(deep.root.clone())).await;
    for result in [update.map(|_| ()), condition.map(|_| ())] {
        match result {
            Err(Error::InvalidItem {
                problem: ValueProblem::TooDeep,
                ..
            }) => {}
            other => panic!("expected a too-deep error, got {other:?}"),
        }
    }
    assert!(log.is_empty(), "sent {:?}", log.operations());
}

#[tokio::test]
async fn the_deepest_document_dynamodb_accepts_round_trips() {
    let (db, log) = logged_db("depth-boundary");
    Tree::create_table(&db).await.unwrap();

    // 31 nodes: the innermost map is at level 31, its `child` (null) at level 32.
    let deepest = tree("deepest", 31);
    deepest.put(&db).await.unwrap();
    let loaded = Tree::get(&db, "deepest").consistent_read(true).await.unwrap();
    assert_eq!(loaded, Some(deepest.clone()));
    let f = Tree::fields();
    Tree::update_by_key(&db, "deepest")
        .set(f.root(), chain(31))
        .condition(f.root().eq(deepest.root.clone()))
        .await
        .unwrap();

    // 32 nodes: a map at level 32. dynorm rejects it, and so does DynamoDB.
    log.clear();
    let over = tree("over", 32);
    assert_eq!(too_deep(over.put(&db).await), level_32_path());
    assert!(log.is_empty(), "sent {:?}", log.operations());
    let raw: dynorm::Item = dynorm::serde_dynamo::to_item(&over).unwrap();
    assert!(
        !server_accepts::<Tree>(&db, raw).await,
        "DynamoDB Local accepted a map at level 32"
    );
    let raw: dynorm::Item = dynorm::serde_dynamo::to_item(&deepest).unwrap();
    assert!(server_accepts::<Tree>(&db, raw).await);
}
