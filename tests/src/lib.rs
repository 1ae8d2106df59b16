//! Shared helpers for dynorm's integration tests: a handle on DynamoDB Local (the one
//! `scripts/test` started, else one of the test binary's own through `dynorm-local`), a
//! unique table prefix per test, and a log of the requests a handle sent.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use dynorm::Db;

/// The endpoint of the DynamoDB Local server under test: `DYNAMODB_ENDPOINT` (set by
/// `scripts/test`), else a server this test binary starts on first use and stops when it
/// exits, so plain `cargo test` works too.
pub fn endpoint() -> String {
    dynorm_local::endpoint().unwrap_or_else(|e| panic!("no DynamoDB Local for the integration tests: {e}"))
}

/// A table-name prefix no other test uses, so tests can run in parallel on one server.
pub fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{test}-{}-{n}-{nanos}-", std::process::id())
}

/// A handle on DynamoDB Local with a unique table prefix.
pub fn db(test: &str) -> Db {
    Db::local(endpoint()).with_table_prefix(unique_prefix(test))
}

/// A handle on DynamoDB Local with a unique table prefix, and the log of every request
/// it sends.
pub fn logged_db(test: &str) -> (Db, RequestLog) {
    let log = RequestLog::default();
    let client = aws_sdk_dynamodb::Client::from_conf(Db::local_config(endpoint()).interceptor(log.clone()).build());
    let db = Db::builder(client).table_prefix(unique_prefix(test)).build();
    (db, log)
}

/// The DynamoDB operations a client sent, in order (`GetItem`, `DescribeTable`, ...).
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<String>>>, Arc<InFlight>);

/// Requests sent and not yet answered, and the most seen at once.
#[derive(Debug, Default)]
pub struct InFlight {
    now: std::sync::atomic::AtomicUsize,
    max: std::sync::atomic::AtomicUsize,
}

impl RequestLog {
    /// Every operation sent so far.
    pub fn operations(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    /// How many requests of one operation were sent.
    pub fn count(&self, operation: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|o| *o == operation).count()
    }

    /// How many requests were sent in all.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether no request was sent.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets what was logged.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
        self.1.max.store(0, Ordering::SeqCst);
    }

    /// The most requests that were in flight at once since the last `clear`.
    pub fn max_in_flight(&self) -> usize {
        self.1.max.load(Ordering::SeqCst)
    }
}

impl Intercept for RequestLog {
    fn name(&self) -> &'static str {
        "RequestLog"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = context.request().headers().get("x-amz-target").unwrap_or("unknown");
        let operation = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.0.lock().unwrap().push(operation);
        let now = self.1.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.1.max.fetch_max(now, Ordering::SeqCst);
        Ok(())
    }

    fn read_before_deserialization(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef<
            '_,
        >,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.1.now.fetch_sub(1, Ordering::SeqCst);
        Ok(())
    }
}

/// Sends an item straight to the model's table with the raw client, past every dynorm
/// check, and tells whether DynamoDB accepted it: the server's own verdict, to compare
/// dynorm's client-side checks with.
pub async fn server_accepts<M: dynorm::DynaModel>(db: &Db, item: dynorm::Item) -> bool {
    db.client()
        .put_item()
        .table_name(db.table_name::<M>())
        .set_item(Some(item))
        .send()
        .await
        .is_ok()
}

/// Writes items straight into the model's table with raw `BatchWriteItem` calls (25 per
/// request, eight requests at a time, unprocessed items resent): fast seeding for tests
/// of reads, independent of dynorm's write path.
pub async fn seed<M: dynorm::DynaModel>(db: &Db, items: &[M]) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    use futures::StreamExt;
    let table = db.table_name::<M>();
    let requests: Vec<Vec<WriteRequest>> = items
        .chunks(25)
        .map(|chunk| {
            chunk
                .iter()
                .map(|m| {
                    let put = PutRequest::builder()
                        .set_item(Some(dynorm::to_item(m).expect("item encodes")))
                        .build()
                        .expect("put request");
                    WriteRequest::builder().put_request(put).build()
                })
                .collect()
        })
        .collect();
    futures::stream::iter(requests)
        .for_each_concurrent(8, |mut batch| {
            let table = table.clone();
            async move {
                while !batch.is_empty() {
                    let out = db
                        .client()
                        .batch_write_item()
                        .request_items(&table, batch)
                        .send()
                        .await
                        .expect("batch write");
                    batch = out
                        .unprocessed_items
                        .and_then(|mut u| u.remove(&table))
                        .unwrap_or_default();
                }
            }
        })
        .await;
}

/// A DynamoDB Local server of one test's own (through `scripts/dynamodb-local`, on a port
/// and database directory of its own), so the test can kill, pause or restart it without
/// disturbing other tests. Stopped (and resumed first, if paused) when dropped.
pub struct OwnServer {
    script: std::path::PathBuf,
    state: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
}

impl OwnServer {
    /// A server (not started yet) with its files under a directory named for `test`.
    pub fn new(test: &str) -> OwnServer {
        let root = std::env::temp_dir().join(format!("dynorm-{test}-{}", std::process::id()));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        OwnServer {
            script: std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dynamodb-local"),
            state: root.join("state"),
            data: root.join("data"),
            port,
        }
    }

    fn command(&self, action: &str) -> String {
        let out = std::process::Command::new("bash")
            .arg(&self.script)
            .arg(action)
            .env_remove("DYNAMODB_ENDPOINT")
            .env("DYNORM_STATE_DIR", &self.state)
            .env("DYNAMODB_LOCAL_DB_PATH", &self.data)
            .env("DYNAMODB_LOCAL_PORT", self.port.to_string())
            .output()
            .expect("runs scripts/dynamodb-local");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .last()
            .unwrap_or_default()
            .to_owned()
    }

    /// Starts the server (on the same database files as before, if it ran already) and
    /// returns its endpoint.
    pub fn start(&self) -> String {
        self.command("start")
    }

    fn pid(&self) -> String {
        std::fs::read_to_string(self.state.join("pid"))
            .expect("the server runs")
            .trim()
            .to_owned()
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill")
            .arg(signal)
            .arg(self.pid())
            .status()
            .expect("runs kill");
        assert!(status.success());
    }

    /// Kills the server at once, as a crash would.
    pub fn kill(&self) {
        self.signal("-9");
        let _ = std::fs::remove_file(self.state.join("pid"));
        let _ = std::fs::remove_file(self.state.join("endpoint"));
    }

    /// Freezes the server (SIGSTOP): connections are still accepted, nothing is answered.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a paused server run again (SIGCONT); it then handles what it received.
    pub fn resume(&self) {
        self.signal("-CONT");
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        if self.state.join("pid").exists() {
            // A paused server cannot stop; let it go on first.
            let _ = std::process::Command::new("kill").arg("-CONT").arg(self.pid()).status();
        }
        self.command("stop");
        let _ = std::fs::remove_dir_all(self.state.parent().expect("a parent directory"));
    }
}
