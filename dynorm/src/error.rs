//! The one error type of dynorm, and its `Result` alias.

use std::fmt;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use aws_sdk_dynamodb::types::TableStatus;

use crate::schema::KeyType;
use crate::value::Item;
pub use crate::value::{ValueError, ValueProblem};

/// Why a handle refuses every request before anything is resolved or sent, raised from
/// the handle's own interceptor so that every request of the handle reports it.
#[derive(Debug, Clone)]
pub(crate) enum HandleRefusal {
    /// The endpoint is no usable URL.
    InvalidEndpoint { endpoint: String, problem: &'static str },
    /// The handle is [`Db::offline`](crate::Db::offline): it has no connection.
    Offline,
}

impl fmt::Display for HandleRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandleRefusal::InvalidEndpoint { endpoint, problem } => {
                write!(f, "invalid DynamoDB endpoint `{endpoint}`: {problem}")
            }
            HandleRefusal::Offline => f.write_str(OFFLINE),
        }
    }
}

impl std::error::Error for HandleRefusal {}

impl HandleRefusal {
    pub(crate) fn to_error(&self) -> Error {
        match self {
            HandleRefusal::InvalidEndpoint { endpoint, problem } => Error::InvalidEndpoint {
                endpoint: endpoint.clone(),
                problem,
            },
            HandleRefusal::Offline => Error::Offline,
        }
    }
}

const OFFLINE: &str = "the handle is offline (Db::offline): it builds requests and sends none";

fn find_source<'a, T: std::error::Error + 'static>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a T> {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        next = e.source();
    }
    None
}

/// `Result` with dynorm's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error: the SDK error kept as the source of [`Error::Service`],
/// [`Error::Throttled`] and [`Error::Unavailable`], and what a [`Hooks`](super::Hooks)
/// method returns to refuse an operation.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in dynorm.
///
/// Match on the variant; no variant needs its message parsed. Variants for client-side
/// checks ([`Validation`](Error::Validation), [`ItemTooLarge`](Error::ItemTooLarge),
/// [`InvalidKey`](Error::InvalidKey), [`InvalidItem`](Error::InvalidItem)) are returned
/// before any request is sent.
///
/// # Was the write applied?
///
/// Every error says whether the write it reports may have been applied
/// ([`Error::write_outcome`], [`Error::may_have_applied`]):
///
/// | variant | write applied? | retry the same write? |
/// |---|---|---|
/// | `Validation`, `InvalidKey`, `InvalidItem`, `ItemTooLarge`, `InvalidExpression`, `InvalidRequest`, `InvalidCursor`, `InvalidTableName`, `InvalidEndpoint`, `DuplicateKey`, `TransactionTooLarge`, `VersionOverflow` | no, nothing was sent | no: fix the input first |
/// | `Offline` | no, nothing was sent: the handle has no connection | on a handle that has one |
/// | `Hook` (a `before_*` hook) | no, nothing was sent | when the hook allows it |
/// | `Unavailable` | no: no connection was made, or a read got no answer | yes, later |
/// | `Throttled` | no: DynamoDB refused it | yes, after a pause |
/// | `ConditionFailed`, `AlreadyExists`, `VersionConflict` | no: its condition did not hold | after reading the item again |
/// | `TransactionCanceled` | no: nothing of the transaction was written | for conflicts and throttling, yes; for failed conditions, after reading again |
/// | `TableNotFound`, `TableNotActive`, `TableExists`, `Service` | no: DynamoDB refused it | once the cause is fixed |
/// | `OutcomeUnknown` | **maybe**: sent, no answer | when `idempotent` is true; otherwise read the item first |
/// | `Applied` | **yes**; what came after the write failed | no: read the item, it holds the write |
/// | `BatchIncomplete` | **partly**: `left` lists what was not applied (or whose request got no answer) | the entries in `left` (batch puts and deletes are harmless to repeat) |
/// | `Decode`, `Encode`, `Serialization`, `PartialItem`, `WaitTimeout` | no write involved, or nothing was sent | no |
///
/// dynorm never resends a write that may have been applied unless the repeat is harmless
/// (see [`OutcomeUnknown`](Error::OutcomeUnknown)); versioned writes are conditioned on
/// the version they read, so a repeat of one that was applied is refused with
/// `VersionConflict` rather than applied twice.
///
/// # What errors print
///
/// The items and keys an error carries (the current item of a failed condition, a
/// duplicate key, what a batch left) never appear in its `Display`, and `Debug` shows
/// them only by their shape (attribute count and size, key names and sizes); read them
/// through the variants' fields. [`InvalidItem`](Error::InvalidItem) names only the
/// top-level attribute. Messages dynorm passes on from other libraries may quote the
/// value they are about: `validator`'s field errors ([`Validation`](Error::Validation))
/// and the messages of `Serialize`/`Deserialize` impls (a custom message, an unknown
/// enum variant). dynorm's own decoding errors ([`Decode`](Error::Decode)) name the path,
/// the expected type and the stored DynamoDB type, not the stored value.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model's `validator` rules rejected the item; nothing was sent.
    #[error("validation failed: {0}")]
    Validation(#[from] validator::ValidationErrors),

    /// A write that requires a new item (`put_unique`, the manager's `create`) found an
    /// item with the same key.
    #[error("an item with this key already exists in table `{table}`")]
    AlreadyExists {
        /// The full table name, prefix included.
        table: String,
        /// The existing item, as DynamoDB returned it. Decode it with [`from_item`](super::from_item).
        item: Option<Box<Item>>,
    },

    /// The write's condition expression evaluated to false.
    #[error("the condition of a write to table `{table}` failed")]
    ConditionFailed {
        /// The full table name, prefix included.
        table: String,
        /// The item as it is in the table, when DynamoDB returned it
        /// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`). Decode it with
        /// [`from_item`](super::from_item).
        item: Option<Box<Item>>,
    },

    /// A versioned write (`#[dynorm(version)]`) found another version in the table than
    /// the one it was based on: someone else wrote the item since it was read. Read it
    /// again and retry. The first write of a new item fails this way when the item exists.
    #[error("version conflict in table `{table}`: the item changed since version {expected}")]
    VersionConflict {
        /// The full table name, prefix included.
        table: String,
        /// The version the write expected to find (0 for a first write).
        expected: u64,
        /// The item as it is in the table, when DynamoDB returned it. Decode it with
        /// [`Error::current_item`].
        item: Option<Box<Item>>,
    },

    /// A condition, filter or update that DynamoDB would reject: an empty update, two
    /// actions on overlapping paths, an `IN` with no values. Nothing was sent.
    #[error("invalid expression: {0}")]
    InvalidExpression(String),

    /// A read option that DynamoDB would reject, such as `limit(0)` or `segments(0)`.
    /// Nothing was sent.
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// A cursor given to [`resume`](super::ReadStream::resume) was not made by this
    /// read, or was changed. No page was read.
    #[error("invalid cursor: {0}")]
    InvalidCursor(CursorProblem),

    /// An item read from an index with a partial projection, or read with
    /// `specific_attributes`, lacks attributes the target type needs.
    #[error(
        "an item read from {source_name} ({projection}) cannot be decoded as `{target}`: {error}; \
         read it into a type with only those attributes (`.read_as::<T>()`), \
         or give the missing fields `#[serde(default)]`"
    )]
    PartialItem {
        /// The table, or `index `name` of table `name``.
        source_name: String,
        /// Which attributes the read returns, such as `keys-only projection`.
        projection: String,
        /// The type the item was decoded into.
        target: &'static str,
        /// The decoding error.
        #[source]
        error: Box<ValueError>,
    },

    /// A batch could not finish: its deadline passed with items DynamoDB left
    /// unprocessed, or a request failed for good. `left` lists every put and delete not
    /// applied (or whose request's outcome is unknown) and every key not read; everything
    /// else in the batch was applied or read.
    #[error("batch incomplete: {} entr{} left{}", left.len(), if left.len() == 1 { "y" } else { "ies" }, cause.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    BatchIncomplete {
        /// The entries not applied or not read.
        left: Vec<BatchOp>,
        /// The error that stopped the batch, when one did (rather than its deadline).
        cause: Option<Box<Error>>,
    },

    /// DynamoDB cancelled a transaction: nothing was written. `reasons` holds one entry
    /// per item, in the order of the transaction (code `None` for the items that were
    /// fine), with the current item where a condition failed.
    #[error("transaction canceled: {}", reasons.iter().filter(|r| r.code != CancelCode::None).map(|r| format!("item {} in `{}`: {:?}", r.index, r.table, r.code)).collect::<Vec<_>>().join(", "))]
    TransactionCanceled {
        /// Why each item was cancelled.
        reasons: Vec<CancelReason>,
    },

    /// A transaction over DynamoDB's limits: more than 100 items, or more than 4 MB.
    /// Nothing was sent.
    #[error("a transaction holds at most 100 items and 4 MB, not {items} items and {bytes} bytes")]
    TransactionTooLarge {
        /// The items in the transaction.
        items: usize,
        /// Their size in bytes, as dynorm counts it.
        bytes: usize,
    },

    /// The same key appears twice in one batch write or transaction (DynamoDB rejects
    /// those). Nothing was sent.
    #[error("the same key appears twice in a batch or transaction on table `{table}`")]
    DuplicateKey {
        /// The full table name, prefix included.
        table: String,
        /// The item or key written twice.
        key: Item,
    },

    /// The table does not exist (DynamoDB's `ResourceNotFoundException`).
    #[error("table `{table}` does not exist")]
    TableNotFound {
        /// The full table name, prefix included.
        table: String,
    },

    /// `create_table` found the table already there and `allow_existing` was not set.
    #[error("table `{table}` already exists")]
    TableExists {
        /// The full table name, prefix included.
        table: String,
    },

    /// The table exists but cannot be used in its current status (for example `DELETING`).
    #[error("table `{table}` is {}, not ACTIVE", status.as_str())]
    TableNotActive {
        /// The full table name, prefix included.
        table: String,
        /// The status DynamoDB reported, such as `Deleting` or `Archived`.
        status: TableStatus,
    },

    /// Waiting for a table to reach the wanted status took longer than allowed.
    #[error("table `{table}` did not become {} within {waited:?}", wanted.as_str())]
    WaitTimeout {
        /// The full table name, prefix included.
        table: String,
        /// The status waited for.
        wanted: TableStatus,
        /// How long dynorm waited.
        waited: std::time::Duration,
    },

    /// Turning a value into DynamoDB attributes, or attributes into a value, failed in
    /// serde_dynamo (dynorm's own encoder and decoder report [`Encode`](Error::Encode)
    /// and [`Decode`](Error::Decode)); for code of the application's own that calls
    /// serde_dynamo, such as a hook.
    #[error("serialization failed: {0}")]
    Serialization(#[from] serde_dynamo::Error),

    /// An item (or value) DynamoDB returned cannot be decoded into the Rust type: the
    /// error names the type, the attribute path (`blobs[0]`, `address.city`), what the
    /// type expected and the DynamoDB type stored there.
    #[error("cannot decode `{target}` from DynamoDB: {error}")]
    Decode {
        /// The type the item was decoded into (its Rust type name).
        target: &'static str,
        /// Where and why.
        #[source]
        error: Box<ValueError>,
    },

    /// A value cannot be encoded for DynamoDB (a map whose keys are not strings, a
    /// `Serialize` impl that failed, a set of mixed element types). Nothing was sent.
    #[error("cannot encode `{target}` for DynamoDB: {error}")]
    Encode {
        /// The type encoded (its Rust type name).
        target: &'static str,
        /// Where and why.
        #[source]
        error: Box<ValueError>,
    },

    /// The item is larger than DynamoDB's 400 KB (409,600 bytes) limit, counted the way
    /// DynamoDB counts it. Nothing was sent.
    #[error("item is {size} bytes, over DynamoDB's limit of {limit} bytes")]
    ItemTooLarge {
        /// The item's size in bytes, counted as DynamoDB does.
        size: usize,
        /// The limit, 409,600 bytes.
        limit: usize,
    },

    /// A key attribute value that DynamoDB would reject. Nothing was sent.
    #[error("invalid key attribute `{attribute}`: {problem}")]
    InvalidKey {
        /// The key's attribute name.
        attribute: String,
        /// What is wrong with it.
        problem: KeyProblem,
    },

    /// The table exists but differs from the model (`ensure_table`): the plan lists the
    /// differences. Apply them with `apply_table`, or let `ensure_table` apply the safe
    /// ones with `apply_safe_changes(true)`.
    #[error("table `{table}` differs from its model: {plan}")]
    TableDrift {
        /// The full table name.
        table: String,
        /// What differs.
        plan: Box<crate::table_plan::TablePlan>,
    },

    /// A table plan was not applied, and nothing was changed: a step only a new table
    /// can make (the table's key, a local index), or destructive steps the caller did
    /// not allow (`ApplyTable::allow_destructive`).
    #[error("the plan for table `{}` was not applied: {reason}", plan.table)]
    PlanRefused {
        /// The plan, unapplied.
        plan: Box<crate::table_plan::TablePlan>,
        /// Why.
        reason: String,
    },

    /// Applying a table plan failed part way: `applied` were made, `remaining` (the
    /// failed step first) were not.
    #[error("applying the plan for table `{table}` stopped after {} of {} steps", applied.len(), applied.len() + remaining.steps.len())]
    PlanIncomplete {
        /// The full table name.
        table: String,
        /// The steps applied, in order.
        applied: Vec<crate::table_plan::PlanStep>,
        /// What is left, the failed step first.
        remaining: Box<crate::table_plan::TablePlan>,
        /// Why the step failed.
        #[source]
        source: Box<Error>,
    },

    /// An item read as an entity of a single-table design holds another entity's type
    /// name in its type attribute (or none): it is not decoded as this entity.
    #[error("an item of table `{table}` is {} where {expected} was expected", found.as_deref().map(|f| format!("of entity type `{f}`")).unwrap_or_else(|| "without an entity type".to_owned()))]
    WrongEntity {
        /// The table's declared name.
        table: &'static str,
        /// The entity type (or collection) the item was read as.
        expected: &'static str,
        /// The type name the item holds, if any.
        found: Option<String>,
    },

    /// A migration step (`#[schema(migrations = [..])]`) failed on an item read at an
    /// older schema version: that item is not decoded.
    #[error("migrating an item of table `{table}` from schema version {from} to {} failed: {source}", from + 1)]
    Migration {
        /// The model's declared table name.
        table: &'static str,
        /// The version the failed step migrates from.
        from: u32,
        /// The error the step returned.
        #[source]
        source: BoxError,
    },

    /// An item's schema version is one the model cannot read: newer than the version
    /// it writes (the item was written by newer code), or not a version number.
    #[error(
        "an item of table `{table}` has schema version `{found}`, which this model (version {current}) cannot read"
    )]
    SchemaVersion {
        /// The model's declared table name.
        table: &'static str,
        /// The version attribute's value as stored.
        found: String,
        /// The version the model writes.
        current: u32,
    },

    /// An update was refused because the stored item is at an older schema version than
    /// the model writes: updating it in place would mix the two shapes. Read the item
    /// (it is migrated) and save it, or run a backfill, first. Nothing was written.
    #[error("the item in table `{table}` is at schema version {stored}; the update needs version {current}: read and save it, or backfill the table, first")]
    OutdatedItem {
        /// The full table name.
        table: String,
        /// The stored item's schema version.
        stored: u32,
        /// The version the model writes.
        current: u32,
    },

    /// A backfill worker no longer holds the segment it was working on: its lease ran
    /// out and another worker claimed it. The work done up to the last checkpoint is
    /// kept; the other worker goes on from there.
    #[error("run `{run}`: segment {segment} was claimed by another worker")]
    LeaseLost {
        /// The run.
        run: String,
        /// The segment.
        segment: u32,
    },

    /// A checkpoint store failed to read or save a run's progress.
    #[error("the checkpoints of run `{run}` could not be read or saved: {source}")]
    Checkpoint {
        /// The run.
        run: String,
        /// What failed.
        #[source]
        source: BoxError,
    },

    /// A non-key attribute value that DynamoDB would reject. Nothing was sent.
    ///
    /// `Display` names only the top-level attribute: the rest of the path may be map keys
    /// taken from the item's data.
    #[error("invalid value in attribute `{}`: {problem}", top_attribute(path))]
    InvalidItem {
        /// The attribute path, such as `tags` or `address.lines[2]`. Past its first step
        /// it may hold map keys from the item's data.
        path: String,
        /// What is wrong with it.
        problem: ValueProblem,
    },

    /// DynamoDB throttled the request, after the SDK's own retries.
    #[error("request to table `{table}` throttled by DynamoDB")]
    Throttled {
        /// The full table name, prefix included.
        table: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },

    /// DynamoDB could not be reached: no connection could be made (refused, name not
    /// resolved, connect timeout), or a read got no answer in time or a server error
    /// (5xx), after the SDK's own retries. **No write was applied**: a write that was sent
    /// and got no answer is [`OutcomeUnknown`](Error::OutcomeUnknown) instead. Worth
    /// retrying later.
    #[error("DynamoDB unavailable for table `{table}`: {}", aws_smithy_types::error::display::DisplayErrorContext(source.as_ref()))]
    Unavailable {
        /// The full table name, prefix included.
        table: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },

    /// A write was sent and no answer came back: the attempt timed out after the request
    /// left, the connection broke before the response, or DynamoDB answered with a server
    /// error (5xx). **The write may have been applied.**
    ///
    /// dynorm never resends such a write on its own unless repeating it is harmless
    /// (`idempotent`): whole-item puts and deletes without conditions, updates made only of
    /// SET, REMOVE and set ADD/DELETE without conditions or list indexes, batch writes, and
    /// transactions (always sent with an idempotency token). A write whose resend then
    /// failed otherwise (throttled, no connection) is still reported here, since its first
    /// attempt may have been applied. Increments, number `ADD`, `list_append`,
    /// and every conditional or versioned write are sent once per attempt that could have
    /// been applied: the SDK's retry stops there and this error says so.
    ///
    /// Before retrying a write with `idempotent: false`, read the item: a versioned write
    /// retried blindly fails with [`VersionConflict`](Error::VersionConflict) when the
    /// first one was applied (versions refuse a repeat), a unique put with
    /// [`AlreadyExists`](Error::AlreadyExists), and an increment would count twice.
    #[error("the outcome of a write to table `{table}` is unknown (it may have been applied): {}", aws_smithy_types::error::display::DisplayErrorContext(source.as_ref()))]
    OutcomeUnknown {
        /// The full table name (or names), prefix included.
        table: String,
        /// Whether sending the same write again is harmless (it cannot apply twice).
        idempotent: bool,
        /// The SDK error.
        #[source]
        source: BoxError,
    },

    /// The write **was applied**, then a step after it failed: decoding the item DynamoDB
    /// returned into the instance (its `after_load` hook included), or saving the related
    /// items declared with `cascade`. The instance was not refreshed: it still holds the
    /// version it had before the write, so read the item again before writing it again.
    #[error("the write to table `{table}` was applied, but {source}")]
    Applied {
        /// The full table name, prefix included.
        table: String,
        /// What failed after the write.
        #[source]
        source: Box<Error>,
    },

    /// The next version of a `#[dynorm(version)]` field does not fit the field's type
    /// (a `u8` version at 255): a version the model cannot read back is never stored.
    /// Writes that know the version refuse it before sending; an update by key, which
    /// adds 1 to the stored version, is refused by DynamoDB through its condition. Use a
    /// wider type for the version field.
    #[error("the version of an item in table `{table}` is at {current}, the maximum of its field's type")]
    VersionOverflow {
        /// The full table name, prefix included.
        table: String,
        /// The version the item holds.
        current: u64,
    },

    /// A table name (the handle's prefix plus the model's name) that DynamoDB would
    /// reject: 3 to 255 characters from `a-z`, `A-Z`, `0-9`, `_`, `-` and `.`. Nothing was
    /// sent.
    #[error("invalid table name `{name}`: {problem}")]
    InvalidTableName {
        /// The full table name, prefix included.
        name: String,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The endpoint a handle was given is not a usable URL (empty, no `http://` or
    /// `https://` scheme, no host, a port outside 1..=65535). Nothing was sent.
    #[error("invalid DynamoDB endpoint `{endpoint}`: {problem}")]
    InvalidEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        problem: &'static str,
    },

    /// The handle is offline ([`Db::offline`](super::Db::offline)): it has no client
    /// connection, so it builds requests (`.to_input()`) and sends none. Nothing was sent.
    #[error("{}", OFFLINE)]
    Offline,

    /// A model hook ([`Hooks`](super::Hooks)) refused the operation. A `before_*` hook
    /// stops its operation before anything is sent; `after_load` fails the one item it
    /// was given.
    #[error("`{hook}` hook of `{model}` refused the operation: {source}")]
    Hook {
        /// The model's type name.
        model: &'static str,
        /// The hook: `before_save`, `before_update`, `before_delete`, `before_load` or
        /// `after_load`.
        hook: &'static str,
        /// The error the hook returned.
        #[source]
        source: BoxError,
    },

    /// The SDK refused to build a request dynorm prepared (a required field was missing):
    /// a defect of dynorm, reported rather than panicking. Nothing was sent.
    #[error("the SDK could not build the request: {0}")]
    Build(#[source] aws_sdk_dynamodb::error::BuildError),

    /// Any other error DynamoDB or the SDK returned, including configuration problems
    /// (credentials, region or endpoint that could not be resolved); the SDK error is the
    /// source.
    #[error("DynamoDB error{}: {message}", code.as_deref().map(|c| format!(" {c}")).unwrap_or_default())]
    Service {
        /// DynamoDB's error code, such as `ValidationException`, when there is one.
        code: Option<String>,
        /// DynamoDB's message, or the SDK error's display text.
        message: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },
}

/// Why a key attribute value is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyProblem {
    /// An empty string or binary value: DynamoDB does not allow empty key attributes.
    Empty,
    /// Longer than DynamoDB allows: 2048 bytes for a hash key, 1024 for a range key.
    TooLong {
        /// The value's length in bytes.
        len: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The key attribute is missing from the serialized item.
    Missing,
    /// The key attribute was serialized with another DynamoDB type than the table
    /// declares (for example a `Vec<u8>` written as a list: use `dynorm::bytes`).
    WrongType {
        /// The type the table declares.
        expected: KeyType,
    },
    /// The value of a relationship key template's field contains the literal text that
    /// follows the field in the template (its separator), which would make the key
    /// ambiguous: the key could not be parsed back into the values it was made of.
    TemplateSeparator {
        /// The template's field.
        field: &'static str,
    },
    /// A number in a padded template field (an integer of a sort key template) is not a
    /// non-negative integer: a negative or fractional number cannot be padded so that it
    /// sorts as text.
    NotPaddable {
        /// The template's field.
        field: &'static str,
    },
    /// A number in a padded template field has more digits than the field's width.
    TooWide {
        /// The template's field.
        field: &'static str,
        /// The declared width.
        width: u8,
    },
    /// The two bounds of a condition on a multi-attribute sort key differ before their
    /// last value: DynamoDB compares only the last given attribute.
    BoundsDiffer,
    /// A template field's value is neither a string nor a number.
    NotAKeyPart {
        /// The template's field.
        field: &'static str,
    },
}

impl fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyProblem::Empty => f.write_str("key attributes cannot be empty"),
            KeyProblem::TooLong { len, limit } => {
                write!(f, "{len} bytes, over the limit of {limit} bytes")
            }
            KeyProblem::Missing => f.write_str("missing from the item"),
            KeyProblem::WrongType { expected } => {
                write!(
                    f,
                    "not stored as the table's key type {}",
                    expected.scalar_attribute_type().as_str()
                )
            }
            KeyProblem::TemplateSeparator { field } => write!(
                f,
                "the value of field `{field}` contains the key template's separator text, which would make the key ambiguous"
            ),
            KeyProblem::NotPaddable { field } => write!(
                f,
                "the value of field `{field}` must be a non-negative integer to be padded in the key template"
            ),
            KeyProblem::TooWide { field, width } => {
                write!(f, "the value of field `{field}` has more than the template's {width} digits")
            }
            KeyProblem::BoundsDiffer => f.write_str(
                "the bounds of a multi-attribute sort key condition must have the same values before their last one",
            ),
            KeyProblem::NotAKeyPart { field } => {
                write!(f, "the value of field `{field}` is neither a string nor a number")
            }
        }
    }
}

/// Why a cursor was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CursorProblem {
    /// The handle has no cursor key: set one with
    /// [`DbBuilder::cursor_key`](super::DbBuilder::cursor_key).
    NoKey,
    /// The handle's cursor key is shorter than 16 bytes.
    WeakKey,
    /// Not a cursor: not base64url, or too short.
    Malformed,
    /// The signature does not match: the cursor was edited, or signed with another key.
    BadSignature,
    /// The cursor was made by another query (table, index, key condition, filter,
    /// projection or segments differ).
    OtherQuery,
}

impl fmt::Display for CursorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CursorProblem::NoKey => "the handle has no cursor key (DbBuilder::cursor_key)",
            CursorProblem::WeakKey => "the handle's cursor key is shorter than 16 bytes",
            CursorProblem::Malformed => "not a dynorm cursor",
            CursorProblem::BadSignature => "the signature does not match: the cursor was changed",
            CursorProblem::OtherQuery => "the cursor belongs to another query",
        })
    }
}

/// A value that could not be encoded: [`Error::InvalidItem`] for a value DynamoDB would
/// reject (nested too deep, too many digits), [`Error::Encode`] otherwise.
impl From<ValueError> for Error {
    fn from(error: ValueError) -> Self {
        match error.problem {
            Some(problem) => Error::InvalidItem {
                path: error.path,
                problem,
            },
            None => Error::Encode {
                target: "a value",
                error: Box::new(error),
            },
        }
    }
}

/// The SDK's input builders only fail when a required field is missing, which dynorm
/// always sets; this keeps such a failure typed rather than a panic.
pub(crate) fn build_error(err: aws_sdk_dynamodb::error::BuildError) -> Error {
    Error::Build(err)
}

/// The first step of an attribute path (`address` of `address.lines[2]`).
fn top_attribute(path: &str) -> &str {
    path.find(['.', '[']).map_or(path, |at| &path[..at])
}

/// What a failed call says about its write: whether it may have been applied.
///
/// | outcome | may have been applied | variants |
/// |---|---|---|
/// | `NotSent` | no | client-side checks, `Unavailable`, `Hook`, `Offline` |
/// | `Refused` | no | `ConditionFailed`, `AlreadyExists`, `VersionConflict`, `TransactionCanceled`, `Throttled`, `TableNotFound`, `TableNotActive`, `Service` |
/// | `Unknown` | maybe | `OutcomeUnknown` |
/// | `Applied` | yes | `Applied` |
/// | `Partial` | some of it | `BatchIncomplete` (its `left` lists what was not applied, or whose outcome is unknown) |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WriteOutcome {
    /// Nothing reached DynamoDB: a client-side check refused the request, a hook stopped
    /// it, or no connection could be made.
    NotSent,
    /// DynamoDB answered and did not apply the write.
    Refused,
    /// The request was sent and no answer came back: it may have been applied.
    Unknown,
    /// The write was applied; what failed came after it.
    Applied,
    /// Part of a batch was applied.
    Partial,
}

/// How a request went out, as far as an SDK error tells.
enum Transport {
    /// It was never sent: it could not be built or signed (credentials, region,
    /// endpoint), which retrying will not mend.
    Unbuilt,
    /// It was never sent: no connection could be made.
    Unreachable,
    /// It was sent and no usable answer came back.
    NoAnswer,
    /// DynamoDB answered.
    Answered,
}

/// Whether an error raised while sending means the request never left this machine: no
/// connection could be made (refused, unresolvable name, connect timeout or failed TLS
/// handshake), so nothing reached DynamoDB.
pub(crate) fn never_sent(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(hyper) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            if hyper.is_connect() {
                return true;
            }
        }
        if e.is::<aws_smithy_runtime_api::client::dns::ResolveDnsError>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable
            ) {
                return true;
            }
        }
        next = e.source();
    }
    false
}

fn transport<E, R>(err: &SdkError<E, R>) -> Transport
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err {
        SdkError::ConstructionFailure(_) => Transport::Unbuilt,
        SdkError::DispatchFailure(failure) => match failure.as_connector_error() {
            Some(connector) if never_sent(connector) => Transport::Unreachable,
            Some(connector) if connector.is_io() || connector.is_timeout() => Transport::NoAnswer,
            // Signing or identity problems surface here too, before anything is sent.
            _ => Transport::Unbuilt,
        },
        SdkError::ServiceError(_) => Transport::Answered,
        _ => Transport::NoAnswer,
    }
}

impl Error {
    /// Maps the SDK error of a read (or of a request that writes nothing) to the matching
    /// variant. `table` names the table for the variants that carry it.
    pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, table: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Error::map_sdk(err, table, None)
    }

    /// Maps the SDK error of a write. A write that was sent and got no answer, or a server
    /// error, is [`Error::OutcomeUnknown`]: it may have been applied. `idempotent` says
    /// whether sending it again is harmless.
    pub(crate) fn from_sdk_write<E>(err: SdkError<E, HttpResponse>, table: &str, idempotent: bool) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        Error::map_sdk(err, table, Some(idempotent))
    }

    fn map_sdk<E>(err: SdkError<E, HttpResponse>, table: &str, write: Option<bool>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let table = table.to_owned();
        // No answer to a request that was sent: a write may have been applied; a read
        // just failed.
        let no_answer = |table: String, source: BoxError| match write {
            Some(idempotent) => Error::OutcomeUnknown {
                table,
                idempotent,
                source,
            },
            None => Error::Unavailable { table, source },
        };
        if find_source::<SentWithoutAnswer>(&err).is_some() {
            // An earlier attempt of this write was sent and got no answer.
            return no_answer(table, Box::new(err));
        }
        if let SdkError::ConstructionFailure(_) = &err {
            if let Some(refusal) = find_source::<HandleRefusal>(&err) {
                return refusal.to_error();
            }
        }
        let server_error = match (transport(&err), &err) {
            (Transport::Unbuilt, _) => false,
            (Transport::Unreachable, _) => {
                return Error::Unavailable {
                    table,
                    source: Box::new(err),
                }
            }
            (Transport::NoAnswer, _) => return no_answer(table, Box::new(err)),
            (Transport::Answered, SdkError::ServiceError(service)) => service.raw().status().is_server_error(),
            (Transport::Answered, _) => false,
        };
        let code = err.code().map(str::to_owned);
        match code.as_deref() {
            Some("ResourceNotFoundException") => Error::TableNotFound { table },
            Some("ConditionalCheckFailedException") => Error::ConditionFailed { table, item: None },
            Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => {
                Error::Throttled {
                    table,
                    source: Box::new(err),
                }
            }
            // A server error does not say the write was not applied.
            Some("ServiceUnavailable" | "InternalServerError" | "RequestTimeout" | "RequestTimeoutException") => {
                no_answer(table, Box::new(err))
            }
            // The same transaction (same token) is still being applied: an earlier attempt
            // of this call reached DynamoDB.
            Some("TransactionInProgressException") if write.is_some() => no_answer(table, Box::new(err)),
            _ if server_error => no_answer(table, Box::new(err)),
            _ => Error::Service {
                message: err
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| aws_smithy_types::error::display::DisplayErrorContext(&err).to_string()),
                code,
                source: Box::new(err),
            },
        }
    }

    /// Whether the write this error reports may have been applied; see [`WriteOutcome`]
    /// and the table in the [`Error`] docs.
    pub fn write_outcome(&self) -> WriteOutcome {
        match self {
            Error::OutcomeUnknown { .. } => WriteOutcome::Unknown,
            Error::Applied { .. } => WriteOutcome::Applied,
            Error::BatchIncomplete { left, .. } if left.iter().any(|op| !matches!(op, BatchOp::Get { .. })) => {
                WriteOutcome::Partial
            }
            // A batch of reads applied no write.
            Error::BatchIncomplete { .. } => WriteOutcome::Refused,
            Error::AlreadyExists { .. }
            | Error::ConditionFailed { .. }
            | Error::VersionConflict { .. }
            | Error::OutdatedItem { .. }
            | Error::TransactionCanceled { .. }
            | Error::Throttled { .. }
            | Error::TableNotFound { .. }
            | Error::TableExists { .. }
            | Error::TableNotActive { .. }
            | Error::Service { .. } => WriteOutcome::Refused,
            _ => WriteOutcome::NotSent,
        }
    }

    /// Whether the write may have been applied: [`WriteOutcome::Unknown`],
    /// [`WriteOutcome::Applied`] or [`WriteOutcome::Partial`].
    pub fn may_have_applied(&self) -> bool {
        matches!(
            self.write_outcome(),
            WriteOutcome::Unknown | WriteOutcome::Applied | WriteOutcome::Partial
        )
    }

    /// The item the failed write found in the table, for
    /// [`AlreadyExists`](Error::AlreadyExists),
    /// [`ConditionFailed`](Error::ConditionFailed) and
    /// [`VersionConflict`](Error::VersionConflict) when DynamoDB returned it, decoded
    /// into `T` (the model, or a projection of it).
    pub fn current_item<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T>> {
        match self {
            Error::AlreadyExists { item: Some(item), .. }
            | Error::ConditionFailed { item: Some(item), .. }
            | Error::VersionConflict { item: Some(item), .. } => Some(
                crate::decode::from_item(Item::clone(item), crate::schema::Shape::Plain).map_err(|error| {
                    Error::Decode {
                        target: std::any::type_name::<T>(),
                        error: Box::new(error),
                    }
                }),
            ),
            _ => None,
        }
    }

    /// The DynamoDB error code behind a [`Service`](Error::Service) error, if any.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Service { code, .. } => code.as_deref(),
            _ => None,
        }
    }
}

/// Shows an item by its shape only: attribute count and size, never names or values.
/// Items in errors may belong to someone other than the caller.
pub(crate) struct ItemSummary<'a>(pub &'a Item);

impl fmt::Debug for ItemSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Item {{ {} attributes, {} bytes }}",
            self.0.len(),
            crate::value::item_size(self.0)
        )
    }
}

/// Shows a key by its attribute names and sizes, never its values.
pub(crate) struct KeySummary<'a>(pub &'a Item);

impl fmt::Debug for KeySummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<(&String, usize)> = self
            .0
            .iter()
            .map(|(name, value)| (name, crate::value::value_size(value)))
            .collect();
        names.sort();
        f.write_str("Key { ")?;
        for (i, (name, size)) in names.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}: {size} bytes")?;
        }
        f.write_str(" }")
    }
}

/// `Debug` prints no attribute value of any item: items and keys that an error carries
/// (the current item of a failed condition, a duplicate key, what a batch left) appear
/// as their attribute count and size, or their key names and sizes. Read them through
/// the variants' fields or [`Error::current_item`].
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn item(item: &Option<Box<Item>>) -> Option<ItemSummary<'_>> {
            item.as_deref().map(ItemSummary)
        }
        match self {
            Error::Validation(e) => f.debug_tuple("Validation").field(e).finish(),
            Error::TableDrift { table, plan } => f
                .debug_struct("TableDrift")
                .field("table", table)
                .field("plan", plan)
                .finish(),
            Error::PlanRefused { plan, reason } => f
                .debug_struct("PlanRefused")
                .field("plan", plan)
                .field("reason", reason)
                .finish(),
            Error::PlanIncomplete {
                table,
                applied,
                remaining,
                source,
            } => f
                .debug_struct("PlanIncomplete")
                .field("table", table)
                .field("applied", applied)
                .field("remaining", remaining)
                .field("source", source)
                .finish(),
            Error::WrongEntity { table, expected, found } => f
                .debug_struct("WrongEntity")
                .field("table", table)
                .field("expected", expected)
                .field("found", found)
                .finish(),
            Error::Migration { table, from, source } => f
                .debug_struct("Migration")
                .field("table", table)
                .field("from", from)
                .field("source", source)
                .finish(),
            Error::SchemaVersion { table, found, current } => f
                .debug_struct("SchemaVersion")
                .field("table", table)
                .field("found", found)
                .field("current", current)
                .finish(),
            Error::OutdatedItem { table, stored, current } => f
                .debug_struct("OutdatedItem")
                .field("table", table)
                .field("stored", stored)
                .field("current", current)
                .finish(),
            Error::LeaseLost { run, segment } => f
                .debug_struct("LeaseLost")
                .field("run", run)
                .field("segment", segment)
                .finish(),
            Error::Checkpoint { run, source } => f
                .debug_struct("Checkpoint")
                .field("run", run)
                .field("source", source)
                .finish(),
            Error::AlreadyExists { table, item: i } => f
                .debug_struct("AlreadyExists")
                .field("table", table)
                .field("item", &item(i))
                .finish(),
            Error::ConditionFailed { table, item: i } => f
                .debug_struct("ConditionFailed")
                .field("table", table)
                .field("item", &item(i))
                .finish(),
            Error::VersionConflict {
                table,
                expected,
                item: i,
            } => f
                .debug_struct("VersionConflict")
                .field("table", table)
                .field("expected", expected)
                .field("item", &item(i))
                .finish(),
            Error::InvalidExpression(m) => f.debug_tuple("InvalidExpression").field(m).finish(),
            Error::InvalidRequest(m) => f.debug_tuple("InvalidRequest").field(m).finish(),
            Error::InvalidCursor(p) => f.debug_tuple("InvalidCursor").field(p).finish(),
            Error::PartialItem {
                source_name,
                projection,
                target,
                error,
            } => f
                .debug_struct("PartialItem")
                .field("source_name", source_name)
                .field("projection", projection)
                .field("target", target)
                .field("error", error)
                .finish(),
            Error::BatchIncomplete { left, cause } => f
                .debug_struct("BatchIncomplete")
                .field("left", left)
                .field("cause", cause)
                .finish(),
            Error::TransactionCanceled { reasons } => {
                f.debug_struct("TransactionCanceled").field("reasons", reasons).finish()
            }
            Error::TransactionTooLarge { items, bytes } => f
                .debug_struct("TransactionTooLarge")
                .field("items", items)
                .field("bytes", bytes)
                .finish(),
            Error::DuplicateKey { table, key } => f
                .debug_struct("DuplicateKey")
                .field("table", table)
                .field("key", &KeySummary(key))
                .finish(),
            Error::TableNotFound { table } => f.debug_struct("TableNotFound").field("table", table).finish(),
            Error::TableExists { table } => f.debug_struct("TableExists").field("table", table).finish(),
            Error::TableNotActive { table, status } => f
                .debug_struct("TableNotActive")
                .field("table", table)
                .field("status", status)
                .finish(),
            Error::WaitTimeout { table, wanted, waited } => f
                .debug_struct("WaitTimeout")
                .field("table", table)
                .field("wanted", wanted)
                .field("waited", waited)
                .finish(),
            Error::Serialization(e) => f.debug_tuple("Serialization").field(e).finish(),
            Error::Decode { target, error } => f
                .debug_struct("Decode")
                .field("target", target)
                .field("error", error)
                .finish(),
            Error::Encode { target, error } => f
                .debug_struct("Encode")
                .field("target", target)
                .field("error", error)
                .finish(),
            Error::ItemTooLarge { size, limit } => f
                .debug_struct("ItemTooLarge")
                .field("size", size)
                .field("limit", limit)
                .finish(),
            Error::InvalidKey { attribute, problem } => f
                .debug_struct("InvalidKey")
                .field("attribute", attribute)
                .field("problem", problem)
                .finish(),
            Error::InvalidItem { path, problem } => f
                .debug_struct("InvalidItem")
                .field("attribute", &top_attribute(path))
                .field("problem", problem)
                .finish_non_exhaustive(),
            Error::Throttled { table, source } => f
                .debug_struct("Throttled")
                .field("table", table)
                .field("source", source)
                .finish(),
            Error::Unavailable { table, source } => f
                .debug_struct("Unavailable")
                .field("table", table)
                .field("source", source)
                .finish(),
            Error::OutcomeUnknown {
                table,
                idempotent,
                source,
            } => f
                .debug_struct("OutcomeUnknown")
                .field("table", table)
                .field("idempotent", idempotent)
                .field("source", source)
                .finish(),
            Error::Applied { table, source } => f
                .debug_struct("Applied")
                .field("table", table)
                .field("source", source)
                .finish(),
            Error::VersionOverflow { table, current } => f
                .debug_struct("VersionOverflow")
                .field("table", table)
                .field("current", current)
                .finish(),
            Error::InvalidTableName { name, problem } => f
                .debug_struct("InvalidTableName")
                .field("name", name)
                .field("problem", problem)
                .finish(),
            Error::InvalidEndpoint { endpoint, problem } => f
                .debug_struct("InvalidEndpoint")
                .field("endpoint", endpoint)
                .field("problem", problem)
                .finish(),
            Error::Offline => f.write_str("Offline"),
            Error::Hook { model, hook, source } => f
                .debug_struct("Hook")
                .field("model", model)
                .field("hook", hook)
                .field("source", source)
                .finish(),
            Error::Build(e) => f.debug_tuple("Build").field(e).finish(),
            Error::Service { code, message, source } => f
                .debug_struct("Service")
                .field("code", code)
                .field("message", message)
                .field("source", source)
                .finish(),
        }
    }
}

/// One entry of a batch, as [`Error::BatchIncomplete`] reports it. Its `Debug` shows
/// items by their size and keys by their attribute names, never their values.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum BatchOp {
    /// A put of this item.
    Put {
        /// The full table name.
        table: String,
        /// The item.
        item: Item,
    },
    /// A delete of the item with this key.
    Delete {
        /// The full table name.
        table: String,
        /// The key.
        key: Item,
    },
    /// A read of the item with this key.
    Get {
        /// The full table name.
        table: String,
        /// The key.
        key: Item,
    },
}

impl std::fmt::Debug for BatchOp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BatchOp::Put { table, item } => f
                .debug_struct("Put")
                .field("table", table)
                .field("item", &ItemSummary(item))
                .finish(),
            BatchOp::Delete { table, key } => f
                .debug_struct("Delete")
                .field("table", table)
                .field("key", &KeySummary(key))
                .finish(),
            BatchOp::Get { table, key } => f
                .debug_struct("Get")
                .field("table", table)
                .field("key", &KeySummary(key))
                .finish(),
        }
    }
}

/// Why DynamoDB cancelled one item of a transaction. Its `Debug` shows the current item
/// by its size only.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct CancelReason {
    /// The item's position in the transaction.
    pub index: usize,
    /// The item's table.
    pub table: String,
    /// What happened to it.
    pub code: CancelCode,
    /// DynamoDB's message, if any.
    pub message: Option<String>,
    /// The item as it is, when its condition failed (decode it with
    /// `dynorm::from_item`).
    pub item: Option<Item>,
}

impl std::fmt::Debug for CancelReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CancelReason")
            .field("index", &self.index)
            .field("table", &self.table)
            .field("code", &self.code)
            .field("message", &self.message)
            .field("item", &self.item.as_ref().map(ItemSummary))
            .finish()
    }
}

/// DynamoDB's cancellation reason codes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CancelCode {
    /// This item was fine; another one cancelled the transaction.
    None,
    /// Its condition (or version check) did not hold.
    ConditionalCheckFailed,
    /// Another transaction or write was working on the item.
    TransactionConflict,
    /// Throttled.
    Throttled,
    /// The item collection of a local index would exceed 10 GB.
    ItemCollectionSizeLimitExceeded,
    /// The request for this item was invalid.
    ValidationError,
    /// Another code.
    Other(String),
}

impl CancelCode {
    pub(crate) fn parse(code: &str) -> CancelCode {
        match code {
            "None" => CancelCode::None,
            "ConditionalCheckFailed" => CancelCode::ConditionalCheckFailed,
            "TransactionConflict" => CancelCode::TransactionConflict,
            "ProvisionedThroughputExceeded" | "ThrottlingError" | "RequestLimitExceeded" => CancelCode::Throttled,
            "ItemCollectionSizeLimitExceeded" => CancelCode::ItemCollectionSizeLimitExceeded,
            "ValidationError" => CancelCode::ValidationError,
            other => CancelCode::Other(other.to_owned()),
        }
    }
}

/// The error of a write one of whose attempts was sent without an answer, around the
/// error the request ended with.
#[derive(Debug)]
pub(crate) struct SentWithoutAnswer(pub(crate) BoxError);

impl fmt::Display for SentWithoutAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "an attempt was sent and got no answer; the request then ended with: {}",
            self.0
        )
    }
}

impl std::error::Error for SentWithoutAnswer {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.0.as_ref())
    }
}
