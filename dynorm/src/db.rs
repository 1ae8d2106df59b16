//! The connection handle: one shared SDK client, a table-name prefix, and the cache of
//! tables already verified.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use aws_sdk_dynamodb::config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{ConsumedCapacity, ReturnConsumedCapacity};
use aws_sdk_dynamodb::Client;

use crate::error::{Error, HandleRefusal, Result};
use crate::observe::CapacityMeter;

/// How long a handle dynorm builds waits to connect, unless the configuration it is
/// built from sets a connect timeout (`aws-config` sets 3.1 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// How long one attempt of a request may take on a handle dynorm builds from the AWS
/// configuration, unless that configuration sets it. DynamoDB answers in milliseconds;
/// ten seconds leaves room for 16 MB batch reads over a slow link.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may take in all, retries included, on a handle dynorm builds from
/// the AWS configuration, unless that configuration sets it.
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// dynorm's default timeouts: connect, attempt and operation.
fn default_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(DEFAULT_CONNECT_TIMEOUT)
        .operation_attempt_timeout(DEFAULT_ATTEMPT_TIMEOUT)
        .operation_timeout(DEFAULT_OPERATION_TIMEOUT)
        .build()
}

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
    budget: Option<crate::budget::CapacityBudget>,
}

struct Inner {
    /// The client as given: what [`Db::client`] hands out, untouched.
    client: Client,
    /// The same client with dynorm's outcome tracking, for its own writes.
    tracked: Client,
    /// The tracked client, whose retry never resends a write that may have been applied:
    /// for writes a repeat could change (see `retry`).
    once_only: Client,
    table_prefix: String,
    /// Declared table names mapped to deployed ones, used as they are (no prefix).
    table_names: HashMap<String, String>,
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
    ///
    /// Requests are bounded in time: the chain's connect timeout (3.1 s), and unless the
    /// configuration sets them, [`DEFAULT_ATTEMPT_TIMEOUT`] per attempt and
    /// [`DEFAULT_OPERATION_TIMEOUT`] per request, retries included. A server that stops
    /// answering gives [`Error::Unavailable`](crate::Error::Unavailable) (a read) or
    /// [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) (a write) within that bound.
    /// To choose other timeouts, load the configuration yourself and use
    /// [`Db::from_sdk_config`], or give [`DbBuilder::timeout_config`].
    pub async fn from_env() -> Db {
        let config = aws_config::load_defaults(BehaviorVersion::latest()).await;
        Db::from_sdk_config(&config)
    }

    /// A handle on a client built from an `SdkConfig` you loaded. The timeouts the
    /// configuration sets are kept; those it leaves unset get dynorm's defaults
    /// ([`DEFAULT_CONNECT_TIMEOUT`], [`DEFAULT_ATTEMPT_TIMEOUT`],
    /// [`DEFAULT_OPERATION_TIMEOUT`]), so the handle never waits forever. A timeout the
    /// configuration disables explicitly stays disabled.
    ///
    /// ```no_run
    /// # async fn run() {
    /// use std::time::Duration;
    /// use aws_config::timeout::TimeoutConfig;
    ///
    /// let config = aws_config::from_env()
    ///     .timeout_config(
    ///         TimeoutConfig::builder()
    ///             .operation_attempt_timeout(Duration::from_secs(2))
    ///             .operation_timeout(Duration::from_secs(5))
    ///             .build(),
    ///     )
    ///     .load()
    ///     .await;
    /// let db = dynorm::Db::from_sdk_config(&config);
    /// # }
    /// ```
    pub fn from_sdk_config(config: &aws_config::SdkConfig) -> Db {
        let mut timeouts = config
            .timeout_config()
            .cloned()
            .unwrap_or_else(|| TimeoutConfig::builder().build());
        timeouts.take_defaults_from(&default_timeouts());
        let config = config.to_builder().timeout_config(timeouts).build();
        Db::from_client(Client::new(&config))
    }

    /// A handle on a client you built, with its own retry, timeout and interceptor setup,
    /// kept as they are. A client built without timeouts waits as long as the server
    /// takes: set them on its configuration (`timeout_config`), or give
    /// [`DbBuilder::timeout_config`].
    pub fn from_client(client: Client) -> Db {
        Db::builder(client).build()
    }

    /// A handle on DynamoDB Local (or any endpoint) with static test credentials, region
    /// `us-east-1`, a 5-second connect timeout and a 60-second timeout per attempt, so a
    /// server that stops answering gives [`Error::Unavailable`](crate::Error::Unavailable)
    /// (or [`Error::OutcomeUnknown`](crate::Error::OutcomeUnknown) for a write) instead of
    /// a hang.
    ///
    /// An endpoint that is not a usable URL (empty, without `http://` or `https://`, a
    /// port outside 1..=65535) gives a handle whose every request fails with
    /// [`Error::InvalidEndpoint`](crate::Error::InvalidEndpoint), before anything is sent;
    /// [`Db::try_local`] reports it at once.
    pub fn local(endpoint: impl Into<String>) -> Db {
        Db::from_client(Db::local_client(endpoint))
    }

    /// [`Db::local`], refusing an endpoint that is not a usable URL with
    /// [`Error::InvalidEndpoint`](crate::Error::InvalidEndpoint).
    pub fn try_local(endpoint: impl Into<String>) -> Result<Db> {
        let endpoint = endpoint.into();
        if let Err(problem) = check_endpoint(&endpoint) {
            return Err(Error::InvalidEndpoint { endpoint, problem });
        }
        Ok(Db::local(endpoint))
    }

    /// The client [`Db::local`] uses, for callers who want to adjust it.
    pub fn local_client(endpoint: impl Into<String>) -> Client {
        Client::from_conf(Db::local_config(endpoint).build())
    }

    /// The client configuration [`Db::local`] uses, to add interceptors or retry settings.
    /// An endpoint that is not a usable URL is not set: the configuration's requests then
    /// fail with [`Error::InvalidEndpoint`](crate::Error::InvalidEndpoint).
    pub fn local_config(endpoint: impl Into<String>) -> aws_sdk_dynamodb::config::Builder {
        let endpoint = endpoint.into();
        let builder = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("dynorm", "dynorm", None, None, "dynorm-local"))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        match check_endpoint(&endpoint) {
            Ok(()) => builder.endpoint_url(endpoint),
            Err(problem) => {
                builder.interceptor(RefuseEveryRequest(HandleRefusal::InvalidEndpoint { endpoint, problem }))
            }
        }
    }

    /// A handle with no connection: every builder made from it works as usual up to the
    /// request, so `.to_input()` gives the SDK input it would send (table prefix included),
    /// with no client configuration, endpoint, credentials or runtime; sending anything
    /// fails with [`Error::Offline`](crate::Error::Offline) before any request is
    /// resolved or sent. For tests and tools that inspect requests. Give it a table prefix
    /// with [`with_table_prefix`](Db::with_table_prefix).
    ///
    /// ```
    /// use dynorm::{Db, DynaModel, Error};
    /// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
    /// # #[table(name = "books", hash_key = "isbn")]
    /// # struct Book { isbn: String, title: String }
    ///
    /// let db = Db::offline().with_table_prefix("dev-");
    /// let input = Book::get(&db, "978-0441013593").consistent_read(true).to_input()?;
    /// assert_eq!(input.table_name(), Some("dev-books"));
    /// let f = Book::fields();
    /// let update = Book::update_by_key(&db, "978-0441013593").set(f.title(), "Dune").to_input()?;
    /// assert_eq!(update.update_expression(), Some("SET #n0 = :v0"));
    ///
    /// // Sending fails at once, without a network call.
    /// # futures::executor::block_on(async {
    /// let sent = Book::get(&db, "978-0441013593").await;
    /// assert!(matches!(sent, Err(Error::Offline)));
    /// # });
    /// # Ok::<(), dynorm::Error>(())
    /// ```
    pub fn offline() -> Db {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            // Nothing is ever sent: no retry, no timeout, so no sleep implementation is needed.
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .timeout_config(TimeoutConfig::disabled())
            .interceptor(RefuseEveryRequest(HandleRefusal::Offline))
            .build();
        Db::from_client(Client::from_conf(config))
    }

    /// Starts a handle on `client` with options.
    pub fn builder(client: Client) -> DbBuilder {
        DbBuilder {
            client,
            timeouts: None,
            table_prefix: String::new(),
            table_names: HashMap::new(),
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
            .table_names(self.inner.table_names.clone())
            .auto_create_tables(self.inner.auto_create_tables)
            .table_wait_timeout(self.inner.table_wait_timeout)
            .cursor_key_option(self.inner.cursor_key.clone())
            .build()
            .keeping_meter(self)
    }

    /// A new handle on the same client whose read cursors are signed with `key`; see
    /// [`DbBuilder::cursor_key`].
    pub fn with_cursor_key(&self, key: impl AsRef<[u8]>) -> Db {
        Db::builder(self.inner.client.clone())
            .table_prefix(self.inner.table_prefix.clone())
            .table_names(self.inner.table_names.clone())
            .auto_create_tables(self.inner.auto_create_tables)
            .table_wait_timeout(self.inner.table_wait_timeout)
            .cursor_key(key)
            .build()
            .keeping_meter(self)
    }

    fn keeping_meter(mut self, from: &Db) -> Db {
        self.meter = from.meter.clone();
        self.budget = from.budget.clone();
        self
    }

    /// The same handle, whose requests stay within `budget`: each waits until the
    /// budget allows it, and what it consumed is taken from the budget. Share one
    /// budget between handles and backfills to keep them within one rate together.
    /// See [`CapacityBudget`](crate::CapacityBudget).
    pub fn with_capacity_budget(&self, budget: &crate::budget::CapacityBudget) -> Db {
        Db {
            inner: Arc::clone(&self.inner),
            meter: self.meter.clone(),
            budget: Some(budget.clone()),
        }
    }

    /// The capacity budget of this handle, if one is attached.
    pub fn capacity_budget(&self) -> Option<&crate::budget::CapacityBudget> {
        self.budget.as_ref()
    }

    /// Waits until the handle's budget, if any, allows a request of `kind`.
    pub(crate) async fn ticket(&self, kind: crate::budget::Spend) -> crate::budget::Ticket {
        match &self.budget {
            // Boxed: the wait holds a timer, which every request's future would
            // otherwise carry.
            Some(budget) => Box::pin(budget.acquire(kind)).await,
            None => crate::budget::Ticket::none(),
        }
    }

    /// The same handle (same client, prefix and verified tables), whose requests add the
    /// capacity they consume to `meter`. See [`CapacityMeter`].
    pub fn with_capacity_meter(&self, meter: &CapacityMeter) -> Db {
        Db {
            inner: Arc::clone(&self.inner),
            meter: Some(meter.clone()),
            budget: self.budget.clone(),
        }
    }

    /// The capacity meter of this handle, if one is attached.
    pub fn capacity_meter(&self) -> Option<&CapacityMeter> {
        self.meter.as_ref()
    }

    /// What to send as `ReturnConsumedCapacity`.
    pub(crate) fn capacity_mode(&self) -> Option<ReturnConsumedCapacity> {
        match (&self.meter, &self.budget) {
            (Some(m), _) => Some(m.mode().clone()),
            (None, Some(_)) => Some(ReturnConsumedCapacity::Total),
            (None, None) => None,
        }
    }

    /// Adds the consumed capacity of an operation's one response to the meter, if one is
    /// attached, and records it on the operation's span.
    pub(crate) fn record_capacity<'c>(&self, consumed: impl IntoIterator<Item = &'c ConsumedCapacity>) {
        if let Some(meter) = &self.meter {
            let consumed: Vec<&ConsumedCapacity> = consumed.into_iter().collect();
            meter.record(consumed.iter().copied());
            let json = crate::observe::capacity_json(consumed);
            tracing::Span::current().record("aws.dynamodb.consumed_capacity", json.as_str());
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

    /// The raw SDK client, for anything dynorm does not cover.
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The client a write is sent with: the handle's own when a repeat of the write is
    /// harmless (`idempotent`), else its twin whose retry never resends an attempt that
    /// may have been applied.
    pub(crate) fn write_client(&self, idempotent: bool) -> &Client {
        if idempotent {
            &self.inner.tracked
        } else {
            &self.inner.once_only
        }
    }

    /// The client dynorm sends its reads with: the handle's own, since a read applies
    /// nothing and needs no outcome tracking.
    pub(crate) fn read_client(&self) -> &Client {
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

    /// The full name of any table on this handle: the deployed name `name` is mapped
    /// to (see [`DbBuilder::table_name`]), else prefix plus `name`.
    pub fn resolve_table_name(&self, name: &str) -> String {
        if let Some(deployed) = self.inner.table_names.get(name) {
            return deployed.clone();
        }
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
}

/// Refuses a table name DynamoDB would reject: 3 to 255 characters from `a-z`, `A-Z`,
/// `0-9`, `_`, `-` and `.`.
pub(crate) fn check_table_name(name: &str) -> Result<()> {
    let problem = if name.len() < 3 {
        "a table name has at least 3 characters"
    } else if name.len() > 255 {
        "a table name has at most 255 characters"
    } else if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        "a table name holds only a-z, A-Z, 0-9, `_`, `-` and `.`"
    } else {
        return Ok(());
    };
    Err(Error::InvalidTableName {
        name: name.to_owned(),
        problem,
    })
}

/// Refuses a table-name prefix that no table name could start with: characters outside
/// DynamoDB's set, or longer than a whole name.
fn check_prefix(prefix: &str) -> Result<()> {
    let bad = prefix.len() > 252
        || !prefix
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if bad {
        return Err(Error::InvalidTableName {
            name: prefix.to_owned(),
            problem: "a table-name prefix holds at most 252 characters from a-z, A-Z, 0-9, `_`, `-` and `.`",
        });
    }
    Ok(())
}

/// Why `endpoint` cannot be a DynamoDB endpoint, if it cannot.
fn check_endpoint(endpoint: &str) -> std::result::Result<(), &'static str> {
    if endpoint.trim().is_empty() {
        return Err("the endpoint is empty");
    }
    let uri: http::Uri = endpoint.parse().map_err(|_| "not a URL")?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err("the endpoint must start with http:// or https://");
    }
    let authority = uri.authority().ok_or("the endpoint has no host")?;
    if authority.host().is_empty() {
        return Err("the endpoint has no host");
    }
    // `Authority::port` is `None` for a port that is no u16 (`:99999`), which the SDK
    // would replace by the scheme's default: read the text after the host instead.
    let text = authority.as_str();
    let after_host = text.rfind(']').map_or(text, |end| &text[end..]);
    if let Some(at) = after_host.rfind(':') {
        match after_host[at + 1..].parse::<u16>() {
            Ok(1..) => {}
            _ => return Err("the port must be between 1 and 65535"),
        }
    }
    Ok(())
}

/// Fails every request of a client whose configuration is unusable, or of an offline
/// handle, with the typed problem, before anything is resolved or sent.
#[derive(Debug)]
struct RefuseEveryRequest(HandleRefusal);

impl aws_smithy_runtime_api::client::interceptors::Intercept for RefuseEveryRequest {
    fn name(&self) -> &'static str {
        "dynorm: refuse every request of an unusable configuration"
    }

    fn read_before_execution(
        &self,
        _context: &aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_smithy_types::config_bag::ConfigBag,
    ) -> std::result::Result<(), aws_smithy_runtime_api::box_error::BoxError> {
        Err(Box::new(self.0.clone()))
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
    timeouts: Option<TimeoutConfig>,
    table_prefix: String,
    table_names: HashMap<String, String>,
    auto_create_tables: bool,
    table_wait_timeout: Duration,
    cursor_key: Option<CursorKey>,
}

impl DbBuilder {
    /// The secret that signs read cursors ([`ReadStream::cursor`](super::ReadStream::cursor)).
    /// Handles that share the key accept each other's cursors. Use at least 32 random
    /// bytes, and keep it out of source code; keys under 16 bytes are refused when a
    /// cursor is made or read ([`CursorProblem::WeakKey`](crate::CursorProblem::WeakKey)).
    /// Cursors are signed, not encrypted: their holder can read the key values in them.
    pub fn cursor_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.cursor_key = Some(CursorKey(Arc::from(key.as_ref())));
        self
    }

    fn cursor_key_option(mut self, key: Option<CursorKey>) -> Self {
        self.cursor_key = key;
        self
    }

    /// A prefix put before every model's table name, such as `"dev-"`.
    pub fn table_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.table_prefix = prefix.into();
        self
    }

    /// Maps a model's declared table name (`#[table(name = "books")]`) to the name the
    /// table is deployed under, such as one taken from infrastructure outputs
    /// (`"prod-books-3FA9"`). The deployed name is used as it is, without the prefix, by
    /// every request, the verified-table cache, cursors and batches.
    ///
    /// ```
    /// # let client = dynorm::aws_sdk_dynamodb::Client::from_conf(dynorm::Db::local_config("http://127.0.0.1:8000").build());
    /// let db = dynorm::Db::builder(client)
    ///     .table_prefix("dev-")
    ///     .table_name("books", "prod-books-3FA9")
    ///     .try_build()
    ///     .unwrap();
    /// assert_eq!(db.resolve_table_name("books"), "prod-books-3FA9");
    /// assert_eq!(db.resolve_table_name("authors"), "dev-authors");
    /// ```
    pub fn table_name(mut self, declared: impl Into<String>, deployed: impl Into<String>) -> Self {
        self.table_names.insert(declared.into(), deployed.into());
        self
    }

    /// Maps several declared table names to deployed ones (see [`table_name`](Self::table_name)).
    pub fn table_names<D: Into<String>, N: Into<String>>(mut self, names: impl IntoIterator<Item = (D, N)>) -> Self {
        self.table_names
            .extend(names.into_iter().map(|(d, n)| (d.into(), n.into())));
        self
    }

    /// Maps `declared` to the deployed name in the environment variable `var`, when it is
    /// set (and not empty): `.table_name_from_env("books", "BOOKS_TABLE")`, as a Lambda
    /// function gets its table names from its configuration.
    pub fn table_name_from_env(self, declared: impl Into<String>, var: &str) -> Self {
        match std::env::var(var) {
            Ok(deployed) if !deployed.is_empty() => self.table_name(declared, deployed),
            _ => self,
        }
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

    /// Timeouts for the handle's requests (connect, per attempt, per request), in place
    /// of the client's; those `timeouts` leaves unset keep the client's values.
    pub fn timeout_config(mut self, timeouts: TimeoutConfig) -> Self {
        self.timeouts = Some(timeouts);
        self
    }

    /// The handle, after checking the table prefix and every deployed table name:
    /// [`Error::InvalidTableName`](crate::Error::InvalidTableName) for one DynamoDB
    /// would refuse. ([`build`](Self::build) checks them at each request instead.)
    pub fn try_build(self) -> Result<Db> {
        if !self.table_prefix.is_empty() {
            check_prefix(&self.table_prefix)?;
        }
        for deployed in self.table_names.values() {
            check_table_name(deployed)?;
        }
        Ok(self.build())
    }

    /// The handle.
    pub fn build(self) -> Db {
        let client = match self.timeouts {
            None => self.client,
            Some(mut timeouts) => {
                if let Some(current) = self.client.config().timeout_config() {
                    timeouts.take_defaults_from(current);
                }
                Client::from_conf(self.client.config().to_builder().timeout_config(timeouts).build())
            }
        };
        let (tracked, once_only) = crate::retry::handle_clients(&client);
        Db {
            inner: Arc::new(Inner {
                tracked,
                once_only,
                client,
                table_prefix: self.table_prefix,
                table_names: self.table_names,
                auto_create_tables: self.auto_create_tables,
                table_wait_timeout: self.table_wait_timeout,
                verified: Mutex::new(HashSet::new()),
                cursor_key: self.cursor_key,
            }),
            meter: None,
            budget: None,
        }
    }
}
