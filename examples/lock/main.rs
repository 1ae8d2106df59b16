//! The lock recipe under contention: 20 workers each take the same lock, do some work
//! while holding it, and release it. A shared counter of current holders shows that the
//! lock is never held twice at once.
//!
//! Run it with `scripts/demo`, which starts DynamoDB Local, or with `DYNAMODB_ENDPOINT`
//! pointing at one.

mod lock;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dynorm::{Db, DynaModel};
use lock::{lock, unlock, Lock};

const WORKERS: usize = 20;
const ROUNDS: usize = 3;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = match std::env::var("DYNAMODB_ENDPOINT") {
        Ok(endpoint) => Db::local(endpoint),
        Err(_) => Db::from_env().await,
    };
    let db = Arc::new(db.with_table_prefix(format!("lock-demo-{}-", std::process::id())));
    Lock::ensure_table(&db).await?;

    let holders = Arc::new(AtomicU32::new(0));
    let most = Arc::new(AtomicU32::new(0));
    let attempts = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..WORKERS {
        let (db, holders, most, attempts) = (db.clone(), holders.clone(), most.clone(), attempts.clone());
        workers.push(tokio::spawn(async move {
            let me = format!("worker-{worker}");
            for _ in 0..ROUNDS {
                loop {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    if lock(&db, "report", "2026-11", &me, Duration::from_secs(30)).await? {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                let now = holders.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(2)).await;
                holders.fetch_sub(1, Ordering::SeqCst);
                assert!(unlock(&db, "report", "2026-11", &me).await?, "{me} lost its lock");
            }
            Ok::<_, dynorm::Error>(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    println!(
        "{WORKERS} workers took the lock {} times in {:.2?}, with {} attempts in all.",
        WORKERS * ROUNDS,
        started.elapsed(),
        attempts.load(Ordering::SeqCst)
    );
    println!(
        "Most holders at any moment: {} (the lock was never held twice).",
        most.load(Ordering::SeqCst)
    );
    let free = Lock::get(&db, ("report", "2026-11")).consistent_read(true).await?;
    println!("Final state: {free:?}");
    Lock::delete_table(&db).await?;
    Ok(())
}
