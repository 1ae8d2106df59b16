//! The connection handle: one shared SDK client, a table-name prefix, and the cache of
//! tables already verified.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_sdk_dynamodb::Client;

use crate::model::DynaModel;
use crate::observe::CapacityMeter;
use crate::table::EnsureTable;
use crate::Result;

/// A cheap-to-clone handle on DynamoDB.
///
/// It wraps one `aws_sdk_dynamodb::Client` shared by every clone, so connections are
/// reused. Each handle has an optional table-name prefix (for environments such as
/// `dev-` or `prod-`) and remembers which tables it has already verified with
/// [`DynaModel::ensure_table`]. Several handles side by side reach several accounts or
/// regions.
///
/// ```no_run
/// # async fn run() {
/// use dynorm::Db;
///
/// // The standard AWS chain: environment, profile, IMDS; honours AWS_ENDPOINT_URL_DYNAMODB.
/// let prod = Db::from_env().await.with_table_prefix("prod-");
///
/// // DynamoDB Local with static test credentials.
/// let local = Db::local("http://127.0.0.1:8000");
///
/// // A client you built yourself, with auto-created tables.
/// let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
/// let dev = Db::builder(client).table_prefix("dev-").auto_create_tables(true).build();
/// # }
/// ```
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    meter: Option<CapacityMeter>,
}

struct Inner {
    client: Client,
    table_prefix: String,
    auto_create_tables: bool,
    table_wait_timeout: Duration,
    verified: Mutex<HashSet<String>>,
    cursor_key: Option<CursorKey>,
}

impl fmt::Debug for Db {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Db")
            .field("table_prefix", &self.inner.table_prefix)
            .field("auto_create_tables", &self.inner.auto_create_tables)
            .field("capacity_meter", &self.meter.is_some())
            .finish_non_exhaustive()
    }
}

impl Db {
    /// A handle from the standard AWS configuration chain (`aws-config`): credentials,
    /// region and endpoint from the environment, profile files or instance metadata.
    /// `AWS_ENDPOINT_URL_DYNAMODB` points it at another endpoint, such as DynamoDB Local.
    pub async fn from_env() -> Db {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Db::from_client(Client::new(&config))
    }

    /// A handle on a client built from an `SdkConfig` you loaded.
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Db {
        Db::from_client(Client::new(config))
    }

    /// A handle on a client you built, with its own retry, timeout and interceptor setup.
    pub fn from_client(client: Client) -> Db {
        Db::builder(client).build()
    }

    /// A handle on DynamoDB Local (or any endpoint) with static test credentials, region
    /// `us-east-1`, a 5-second connect timeout and a 60-second timeout per attempt, so a
    /// server that stops answering gives [`Error::Unavailable`](crate::Error::Unavailable)
    /// instead of a hang.
    pub fn local(endpoint: impl Into<String>) -> Db {
        Db::from_client(Db::local_client(endpoint))
    }

    /// The client [`Db::local`] uses, for callers who want to adjust it.
    pub fn local_client(endpoint: impl Into<String>) -> Client {
        Client::from_conf(Db::local_config(endpoint).build())
    }

    /// The client configuration [`Db::local`] uses, to add interceptors or retry settings.
    pub fn local_config(endpoint: impl Into<String>) -> aws_sdk_dynamodb::config::Builder {
        aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("dynorm", "dynorm", None, None, "dynorm-local"))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            )
    }

    /// Starts a handle on `client` with options.
    pub fn builder(client: Client) -> DbBuilder {
        DbBuilder {
            client,
            table_prefix: String::new(),
            auto_create_tables: false,
            table_wait_timeout: Duration::from_secs(300),
            cursor_key: None,
        }
    }

    /// A new handle on the same client (and capacity meter) with another table-name
    /// prefix, and its own cache of verified tables.
    pub fn with_table_prefix(&self, prefix: impl Into<String>) -> Db {
        Db::builder(self.inner.client.clone())
            .table_prefix(prefix)
            .auto_create_tables(self.inner.auto_create_tables)
            .table_wait_timeout(self.inner.table_wait_timeout)
            .with_cursor_key(self.inner.cursor_key.clone())
            .build()
            .keeping_meter(self)
    }

    /// A new handle on the same client whose read cursors are signed with `key`; see
    /// [`DbBuilder::cursor_key`].
    pub fn with_cursor_key(&self, key: impl AsRef<[u8]>) -> Db {
        Db::builder(self.inner.client.clone())
            .table_prefix(self.inner.table_prefix.clone())
            .auto_create_tables(self.inner.auto_create_tables)
            .table_wait_timeout(self.inner.table_wait_timeout)
            .cursor_key(key)
            .build()
            .keeping_meter(self)
    }

    fn keeping_meter(mut self, from: &Db) -> Db {
        self.meter = from.meter.clone();
        self
    }

    /// The same handle (same client, prefix and verified tables), whose requests add the
    /// capacity they consume to `meter`. See [`CapacityMeter`].
    pub fn with_capacity_meter(&self, meter: &CapacityMeter) -> Db {
        Db {
            inner: Arc::clone(&self.inner),
            meter: Some(meter.clone()),
        }
    }

    /// The capacity meter of this handle, if one is attached.
    pub fn capacity_meter(&self) -> Option<&CapacityMeter> {
        self.meter.as_ref()
    }

    /// What to send as `ReturnConsumedCapacity`.
    pub(crate) fn capacity_mode(&self) -> Option<ReturnConsumedCapacity> {
        self.meter.as_ref().map(|m| m.mode().clone())
    }

    /// Adds the consumed capacity of an operation's one response to the meter, if one is
    /// attached, and records it on the operation's span.
    pub(crate) fn record_capacity<'c>(&self, consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) {
        if let Some(meter) = &self.meter {
            let units = meter.record(consumed);
            tracing::Span::current().record("consumed_capacity", units);
        }
    }

    /// Adds the consumed capacity of one of an operation's many responses (a batch) to
    /// the meter, if one is attached.
    pub(crate) fn add_capacity<'c>(&self, consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) {
        if let Some(meter) = &self.meter {
            meter.record(consumed);
        }
    }

    /// The key that signs read cursors, if one is set.
    pub(crate) fn cursor_key(&self) -> Option<&[u8]> {
        self.inner.cursor_key.as_ref().map(|k| &*k.0)
    }

    /// A batch of puts and deletes, across tables; see [`BatchWrite`](crate::batch::BatchWrite).
    pub fn batch_write(&self) -> crate::batch::BatchWrite<'_> {
        crate::batch::BatchWrite::new(self)
    }

    /// A batch of reads by key, across tables; see [`BatchGet`](crate::batch::BatchGet).
    pub fn batch_get(&self) -> crate::batch::BatchGet<'_> {
        crate::batch::BatchGet::new(self)
    }

    /// An all-or-nothing group of writes; see [`TransactWrite`](crate::transact::TransactWrite).
    pub fn transact_write(&self) -> crate::transact::TransactWrite<'_> {
        crate::transact::TransactWrite::new(self)
    }

    /// A consistent read of several items; see [`TransactGet`](crate::transact::TransactGet).
    pub fn transact_get(&self) -> crate::transact::TransactGet<'_> {
        crate::transact::TransactGet::new(self)
    }

    /// The raw SDK client, for anything dynorm does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The table-name prefix of this handle (empty when none).
    pub fn table_prefix(&self) -> &str {
        &self.inner.table_prefix
    }

    /// Whether operations create a model's table on first use.
    pub fn auto_create_tables(&self) -> bool {
        self.inner.auto_create_tables
    }

    /// How long table operations wait for a table to become ACTIVE.
    pub fn table_wait_timeout(&self) -> Duration {
        self.inner.table_wait_timeout
    }

    /// The full name of a model's table on this handle: prefix plus the model's name.
    pub fn table_name<M: DynaModel>(&self) -> String {
        self.resolve_table_name(M::schema().name)
    }

    /// The full name of any table on this handle: prefix plus `name`.
    pub fn resolve_table_name(&self, name: &str) -> String {
        let mut full = String::with_capacity(self.inner.table_prefix.len() + name.len());
        full.push_str(&self.inner.table_prefix);
        full.push_str(name);
        full
    }

    /// Whether this handle has verified the table (by `ensure_table` or `create_table`).
    pub fn is_verified(&self, table: &str) -> bool {
        self.verified().contains(table)
    }

    pub(crate) fn mark_verified(&self, table: &str) {
        self.verified().insert(table.to_owned());
    }

    pub(crate) fn forget_verified(&self, table: &str) {
        self.verified().remove(table);
    }

    fn verified(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        // The set stays consistent even if a holder panicked: inserts and removes are atomic.
        self.inner.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs before every item operation: creates the table on first use when the
    /// handle was built with `auto_create_tables(true)`.
    pub(crate) async fn prepare<M: DynaModel>(&self, table: &str) -> Result<()> {
        if self.inner.auto_create_tables && !self.is_verified(table) {
            EnsureTable::<M>::new(self).await?;
        }
        Ok(())
    }
}

/// A cursor signing key; never printed.
#[derive(Clone)]
struct CursorKey(Arc<[u8]>);

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// Options for a [`Db`] handle. Start with [`Db::builder`].
#[derive(Debug)]
#[must_use = "call .build() to get the handle"]
pub struct DbBuilder {
    client: Client,
    table_prefix: String,
    auto_create_tables: bool,
    table_wait_timeout: Duration,
    cursor_key: Option<CursorKey>,
}

impl DbBuilder {
    /// The secret that signs read cursors ([`ReadStream::cursor`](crate::ReadStream::cursor)).
    /// Handles that share the key accept each other's cursors. Use at least 32 random
    /// bytes, and keep it out of source code; keys under 16 bytes are refused when a
    /// cursor is made or read ([`CursorProblem::WeakKey`](crate::CursorProblem::WeakKey)).
    /// Cursors are signed, not encrypted: their holder can read the key values in them.
    pub fn cursor_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.cursor_key = Some(CursorKey(Arc::from(key.as_ref())));
        self
    }

    fn with_cursor_key(mut self, key: Option<CursorKey>) -> Self {
        self.cursor_key = key;
        self
    }

    /// A prefix put before every model's table name, such as `"dev-"`.
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.table_prefix = prefix.into();
        self
    }

    /// Create a model's table on first use (off by default). Meant for local development
    /// and tests; production tables usually come from infrastructure code.
    pub fn auto_create_tables(mut self, yes: bool) -> Self {
        self.auto_create_tables = yes;
        self
    }

    /// How long to wait for a table to become ACTIVE (default five minutes).
    pub fn table_wait_timeout(mut self, timeout: Duration) -> Self {
        self.table_wait_timeout = timeout;
        self
    }

    /// The handle.
    pub fn build(self) -> Db {
        Db {
            inner: Arc::new(Inner {
                client: self.client,
                table_prefix: self.table_prefix,
                auto_create_tables: self.auto_create_tables,
                table_wait_timeout: self.table_wait_timeout,
                verified: Mutex::new(HashSet::new()),
                cursor_key: self.cursor_key,
            }),
            meter: None,
        }
    }
}
