//! The lock example's recipe under contention: 20 contenders never hold the lock at the
//! same time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use dynorm::DynaModel;
use dynorm_tests::db;

#[path = "../../examples/lock/lock.rs"]
#[allow(dead_code)]
mod lock;

use lock::{lock, unlock, Lock};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_contenders_never_hold_the_lock_together() {
    let db = Arc::new(db("lock_example"));
    Lock::ensure_table(&db).await.unwrap();
    let holders = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let acquired = Arc::new(AtomicU32::new(0));
    let mut tasks = Vec::new();
    for worker in 0..20 {
        let (db, holders, most, acquired) = (db.clone(), holders.clone(), most.clone(), acquired.clone());
        tasks.push(tokio::spawn(async move {
            let me = format!("w{worker}");
            for _ in 0..3 {
                while !lock(&db, "job", "k", &me, Duration::from_secs(60)).await.unwrap() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                acquired.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
                assert!(unlock(&db, "job", "k", &me).await.unwrap());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(acquired.load(Ordering::SeqCst), 60);
    assert_eq!(most.load(Ordering::SeqCst), 1, "the lock was held twice at once");
    // Only the holder can release; an expired lease can be taken over.
    assert!(lock(&db, "job", "k", "a", Duration::from_millis(0)).await.unwrap());
    assert!(!unlock(&db, "job", "k", "b").await.unwrap());
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(lock(&db, "job", "k", "b", Duration::from_secs(60)).await.unwrap());
    assert!(!lock(&db, "job", "k", "a", Duration::from_secs(60)).await.unwrap());
    assert!(!unlock(&db, "job", "k", "a").await.unwrap());
    assert!(unlock(&db, "job", "k", "b").await.unwrap());
}
