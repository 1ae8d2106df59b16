//! Transactions against DynamoDB Local: all-or-nothing writes across tables with their
//! conditions and version checks, typed cancellation reasons, idempotency tokens, limits
//! checked before sending, and consistent multi-item reads.

use dynorm::transact::{CancelCode, ConditionCheck};
use dynorm::{DynaModel, Error};
use dynorm_tests::{db, logged_db};
use serde::{Deserialize, Serialize};
use validator::Validate;

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "tx_accounts", hash_key = "id")]
struct Account {
    id: String,
    balance: i64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "tx_ledger", hash_key = "account", range_key = "seq")]
struct Entry {
    account: String,
    seq: u64,
    amount: i64,
}

#[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
#[table(name = "tx_docs", hash_key = "id")]
struct Doc {
    id: String,
    #[validate(length(min = 1))]
    text: String,
    #[dynorm(version)]
    #[serde(default)]
    version: u64,
}

async fn setup(test: &str) -> dynorm::Db {
    let db = db(test);
    Account::create_table(&db).await.unwrap();
    Entry::create_table(&db).await.unwrap();
    Doc::create_table(&db).await.unwrap();
    for (id, balance) in [("alice", 100), ("bob", 20)] {
        Account { id: id.into(), balance }.put(&db).await.unwrap();
    }
    db
}

async fn balance(db: &dynorm::Db, id: &str) -> i64 {
    Account::get(db, id)
        .consistent_read(true)
        .await
        .unwrap()
        .unwrap()
        .balance
}

#[tokio::test]
async fn a_transfer_applies_all_or_nothing() {
    let db = setup("tx-transfer").await;
    let f = Account::fields();
    let transfer = |amount: i64, seq: u64| {
        let entry = Entry {
            account: "alice".into(),
            seq,
            amount: -amount,
        };
        (entry, amount)
    };

    let (entry, amount) = transfer(30, 1);
    db.transact_write()
        .write(
            Account::update_by_key(&db, "alice")
                .decrement(f.balance(), amount)
                .condition(f.balance().ge(amount)),
        )
        .write(
            Account::update_by_key(&db, "bob")
                .increment(f.balance(), amount)
                .condition(f.id().exists()),
        )
        .write(entry.put_unique(&db))
        .await
        .unwrap();
    assert_eq!((balance(&db, "alice").await, balance(&db, "bob").await), (70, 50));

    // Too much: the condition on alice fails, nothing changes, and the reasons say which.
    let (entry, amount) = transfer(500, 2);
    let err = db
        .transact_write()
        .write(entry.put_unique(&db))
        .write(
            Account::update_by_key(&db, "alice")
                .decrement(f.balance(), amount)
                .condition(f.balance().ge(amount)),
        )
        .write(Account::update_by_key(&db, "bob").increment(f.balance(), amount))
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("expected TransactionCanceled, got {err:?}");
    };
    assert_eq!(reasons.len(), 3);
    assert_eq!(reasons[0].code, CancelCode::None);
    assert_eq!(reasons[1].code, CancelCode::ConditionalCheckFailed);
    assert!(reasons[1].table.ends_with("tx_accounts"));
    let current: Account = dynorm::from_item(reasons[1].item.clone().expect("current item")).unwrap();
    assert_eq!(current.balance, 70);
    assert_eq!(reasons[2].code, CancelCode::None);
    assert!(err.to_string().contains("ConditionalCheckFailed"), "{err}");
    assert_eq!((balance(&db, "alice").await, balance(&db, "bob").await), (70, 50));
    assert!(Entry::get(&db, ("alice", 2u64)).await.unwrap().is_none());

    // A condition check on another item, and a delete.
    let err = db
        .transact_write()
        .write(ConditionCheck::<Account>::new(&db, "carol", f.id().exists()))
        .write(Entry::delete_by_key(&db, ("alice", 1u64)))
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(reasons[0].code, CancelCode::ConditionalCheckFailed);
    assert!(reasons[0].item.is_none(), "carol does not exist");
    assert!(Entry::get(&db, ("alice", 1u64)).await.unwrap().is_some());
    db.transact_write()
        .write(ConditionCheck::<Account>::new(&db, "bob", f.balance().eq(50)))
        .write(Entry::delete_by_key(&db, ("alice", 1u64)))
        .await
        .unwrap();
    assert!(Entry::get(&db, ("alice", 1u64)).await.unwrap().is_none());
}

#[tokio::test]
async fn versions_take_part() {
    let db = setup("tx-versions").await;
    let mut doc = Doc {
        id: "d".into(),
        text: "one".into(),
        version: 0,
    };
    doc.save(&db).await.unwrap();
    assert_eq!(doc.version, 1);

    // A put at version 1 stores version 2.
    let mut next = Doc {
        text: "two".into(),
        ..doc.clone()
    };
    db.transact_write().write(next.put(&db)).await.unwrap();
    let stored = Doc::get(&db, "d").consistent_read(true).await.unwrap().unwrap();
    assert_eq!((stored.text.as_str(), stored.version), ("two", 2));

    // The stale instance (version 1) cancels the transaction, with the current item.
    let stale = Doc {
        text: "stale".into(),
        ..doc.clone()
    };
    let err = db
        .transact_write()
        .write(stale.put(&db))
        .write(Account::update_by_key(&db, "bob").increment(Account::fields().balance(), 1))
        .await
        .unwrap_err();
    let Error::TransactionCanceled { reasons } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(reasons[0].code, CancelCode::ConditionalCheckFailed);
    let current: Doc = dynorm::from_item(reasons[0].item.clone().unwrap()).unwrap();
    assert_eq!(current.version, 2);
    assert_eq!(balance(&db, "bob").await, 20);

    // Instance update and delete carry their version checks too.
    next.version = 2;
    db.transact_write()
        .write(next.update(&db).set(Doc::fields().text(), "three"))
        .await
        .unwrap();
    let stored = Doc::get(&db, "d").consistent_read(true).await.unwrap().unwrap();
    assert_eq!((stored.text.as_str(), stored.version), ("three", 3));
    let err = db.transact_write().write(doc.delete(&db)).await.unwrap_err();
    assert!(matches!(err, Error::TransactionCanceled { .. }), "{err:?}");
    db.transact_write().write(stored.delete(&db)).await.unwrap();
    assert!(Doc::get(&db, "d").consistent_read(true).await.unwrap().is_none());
}

#[tokio::test]
async fn an_idempotent_retry_applies_once() {
    let db = setup("tx-token").await;
    let f = Account::fields();
    // Tokens are the account's (the server's), not the table's: unique per run.
    let token = |n: u32| format!("{}deposit-{n}", db.table_prefix());
    for _ in 0..3 {
        db.transact_write()
            .write(Account::update_by_key(&db, "bob").increment(f.balance(), 5))
            .token(token(1))
            .await
            .unwrap();
    }
    assert_eq!(balance(&db, "bob").await, 25);
    db.transact_write()
        .write(Account::update_by_key(&db, "bob").increment(f.balance(), 5))
        .token(token(2))
        .await
        .unwrap();
    assert_eq!(balance(&db, "bob").await, 30);

    // The same token on other writes is refused by DynamoDB.
    let err = db
        .transact_write()
        .write(Account::update_by_key(&db, "bob").increment(f.balance(), 6))
        .token(token(2))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("IdempotentParameterMismatchException"), "{err:?}");
    assert_eq!(balance(&db, "bob").await, 30);
}

#[tokio::test]
async fn limits_are_checked_before_sending() {
    let (db, log) = logged_db("tx-limits");
    let f = Account::fields();
    let entries: Vec<Entry> = (0..101)
        .map(|seq| Entry {
            account: "a".into(),
            seq,
            amount: 1,
        })
        .collect();
    let mut tx = db.transact_write();
    for e in &entries {
        tx = tx.write(e.put(&db));
    }
    assert!(matches!(
        tx.send().await,
        Err(Error::TransactionTooLarge { items: 101, .. })
    ));

    let err = db
        .transact_write()
        .write(Account::update_by_key(&db, "bob").increment(f.balance(), 1))
        .write(Account::delete_by_key(&db, "bob"))
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateKey { table, key } if table.ends_with("tx_accounts") && key.len() == 1),
        "{err:?}"
    );

    let big: Vec<Doc> = (0..12)
        .map(|i| Doc {
            id: format!("big{i}"),
            text: "x".repeat(390_000),
            version: 0,
        })
        .collect();
    let mut tx = db.transact_write();
    for d in &big {
        tx = tx.write(d.put(&db));
    }
    let err = tx.send().await.unwrap_err();
    assert!(
        matches!(err, Error::TransactionTooLarge { items: 12, bytes } if bytes > 4 * 1024 * 1024),
        "{err:?}"
    );

    let invalid = Doc {
        id: "x".into(),
        text: String::new(),
        version: 0,
    };
    let err = db.transact_write().write(invalid.put(&db)).send().await.unwrap_err();
    assert!(matches!(err, Error::Validation(_)), "{err:?}");
    assert!(matches!(
        db.transact_write().send().await,
        Err(Error::InvalidRequest(_))
    ));
    assert!(log.is_empty(), "nothing sent: {:?}", log.operations());
}

#[tokio::test]
async fn a_transactional_read_of_several_models() {
    let db = setup("tx-get").await;
    Entry {
        account: "alice".into(),
        seq: 7,
        amount: 3,
    }
    .put(&db)
    .await
    .unwrap();
    let mut tx = db.transact_get();
    let alice = tx.get::<Account>("alice");
    let entry = tx.get::<Entry>(("alice", 7u64));
    let nobody = tx.read(Account::get(&db, "nobody")).unwrap();
    let mut out = tx.send().await.unwrap();
    assert_eq!(out.take(alice).unwrap().unwrap().balance, 100);
    assert_eq!(out.take(entry).unwrap().unwrap().amount, 3);
    assert_eq!(out.take(nobody).unwrap(), None);
    assert_eq!(out.take(alice).unwrap(), None, "taken already");
}
