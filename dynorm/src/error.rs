//! The one error type of dynorm, and its `Result` alias.

use std::fmt;

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use aws_sdk_dynamodb::types::TableStatus;

use crate::{Item, KeyType};

/// `Result` with dynorm's [`Error`] as the default error type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A boxed error: the SDK error kept as the source of [`Error::Service`],
/// [`Error::Throttled`] and [`Error::Unavailable`], and what a [`Hooks`](crate::Hooks)
/// method returns to refuse an operation.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in dynorm.
///
/// Match on the variant; no variant needs its message parsed. Variants for client-side
/// checks ([`Validation`](Error::Validation), [`ItemTooLarge`](Error::ItemTooLarge),
/// [`InvalidKey`](Error::InvalidKey), [`InvalidItem`](Error::InvalidItem)) are returned
/// before any request is sent.
#[derive(Debug, thiserror::Error)]
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
        /// The existing item, as DynamoDB returned it. Decode it with [`crate::from_item`].
        item: Option<Box<Item>>,
    },

    /// The write's condition expression evaluated to false.
    #[error("the condition of a write to table `{table}` failed")]
    ConditionFailed {
        /// The full table name, prefix included.
        table: String,
        /// The item as it is in the table, when DynamoDB returned it
        /// (`ReturnValuesOnConditionCheckFailure = ALL_OLD`). Decode it with
        /// [`crate::from_item`].
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

    /// A cursor given to [`resume`](crate::ReadStream::resume) was not made by this
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
        error: serde_dynamo::Error,
    },

    /// A batch could not finish: its deadline passed with items DynamoDB left
    /// unprocessed, or a request failed for good. `left` lists every put and delete not
    /// applied (or whose request's outcome is unknown) and every key not read; everything
    /// else in the batch was applied or read.
    #[error("batch incomplete: {} entr{} left{}", left.len(), if left.len() == 1 { "y" } else { "ies" }, cause.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    BatchIncomplete {
        /// The entries not applied or not read.
        left: Vec<crate::batch::BatchOp>,
        /// The error that stopped the batch, when one did (rather than its deadline).
        cause: Option<Box<Error>>,
    },

    /// DynamoDB cancelled a transaction: nothing was written. `reasons` holds one entry
    /// per item, in the order of the transaction (code `None` for the items that were
    /// fine), with the current item where a condition failed.
    #[error("transaction canceled: {}", reasons.iter().filter(|r| r.code != crate::transact::CancelCode::None).map(|r| format!("item {} in `{}`: {:?}", r.index, r.table, r.code)).collect::<Vec<_>>().join(", "))]
    TransactionCanceled {
        /// Why each item was cancelled.
        reasons: Vec<crate::transact::CancelReason>,
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

    /// Turning a model into DynamoDB attributes, or attributes into a model, failed.
    #[error("serialization failed: {0}")]
    Serialization(#[from] serde_dynamo::Error),

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

    /// A non-key attribute value that DynamoDB would reject. Nothing was sent.
    #[error("invalid value at `{path}`: {problem}")]
    InvalidItem {
        /// The attribute path, such as `tags` or `address.lines[2]`.
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

    /// DynamoDB could not be reached, did not answer in time, or answered with a server
    /// error (5xx), after the SDK's own retries. Worth retrying later.
    #[error("DynamoDB unavailable for table `{table}`: {}", aws_smithy_types::error::display::DisplayErrorContext(source.as_ref()))]
    Unavailable {
        /// The full table name, prefix included.
        table: String,
        /// The SDK error.
        #[source]
        source: BoxError,
    },

    /// A model hook ([`Hooks`](crate::Hooks)) refused the operation. A `before_*` hook
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
        }
    }
}

/// Why a cursor was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CursorProblem {
    /// The handle has no cursor key: set one with
    /// [`DbBuilder::cursor_key`](crate::DbBuilder::cursor_key).
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

/// Why an attribute value is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueProblem {
    /// A string, number or binary set with no elements: DynamoDB does not store empty sets.
    EmptySet,
    /// A number that is NaN, infinite or otherwise not a decimal: DynamoDB numbers are
    /// finite decimals.
    NonFiniteNumber,
    /// A number outside DynamoDB's range: magnitudes from 1E-130 to 9.99..9E+125.
    NumberOutOfRange,
    /// A number with more than DynamoDB's 38 significant digits.
    TooManyDigits,
    /// A string, number or binary set with the same element twice.
    DuplicateSetElement,
    /// An attribute or map key that is the empty string (for example a `HashMap` with an
    /// empty key): DynamoDB rejects empty attribute names.
    EmptyAttributeName,
    /// Nested deeper than DynamoDB's 32 levels.
    TooDeep,
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueProblem::EmptySet => f.write_str("DynamoDB does not store empty sets"),
            ValueProblem::NonFiniteNumber => f.write_str("NaN and infinite numbers cannot be stored"),
            ValueProblem::NumberOutOfRange => f.write_str("outside DynamoDB's number range (1E-130 to 9.9E+125)"),
            ValueProblem::TooManyDigits => f.write_str("more than 38 significant digits"),
            ValueProblem::DuplicateSetElement => f.write_str("a set cannot hold the same element twice"),
            ValueProblem::EmptyAttributeName => f.write_str("attribute names and map keys cannot be empty"),
            ValueProblem::TooDeep => f.write_str("nested deeper than DynamoDB's 32 levels"),
        }
    }
}

impl Error {
    /// Maps an SDK error to the matching variant. `table` names the table for the
    /// variants that carry it.
    pub(crate) fn from_sdk<E>(err: SdkError<E, HttpResponse>, table: &str) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let server_error = match &err {
            SdkError::TimeoutError(_) => {
                return Error::Unavailable {
                    table: table.to_owned(),
                    source: Box::new(err),
                }
            }
            SdkError::DispatchFailure(failure) if failure.is_io() || failure.is_timeout() => {
                return Error::Unavailable {
                    table: table.to_owned(),
                    source: Box::new(err),
                };
            }
            SdkError::ResponseError(response) => response.raw().status().is_server_error(),
            SdkError::ServiceError(service) => service.raw().status().is_server_error(),
            // Credentials, region or endpoint that could not be resolved, a request that
            // could not be built: retrying will not help, so these are Service errors.
            _ => false,
        };
        let code = err.code().map(str::to_owned);
        match code.as_deref() {
            Some("ResourceNotFoundException") => Error::TableNotFound {
                table: table.to_owned(),
            },
            Some("ConditionalCheckFailedException") => Error::ConditionFailed {
                table: table.to_owned(),
                item: None,
            },
            Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => {
                Error::Throttled {
                    table: table.to_owned(),
                    source: Box::new(err),
                }
            }
            Some("ServiceUnavailable" | "InternalServerError" | "RequestTimeout" | "RequestTimeoutException") => {
                Error::Unavailable {
                    table: table.to_owned(),
                    source: Box::new(err),
                }
            }
            _ if server_error => Error::Unavailable {
                table: table.to_owned(),
                source: Box::new(err),
            },
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

    /// The item the failed write found in the table, for
    /// [`AlreadyExists`](Error::AlreadyExists),
    /// [`ConditionFailed`](Error::ConditionFailed) and
    /// [`VersionConflict`](Error::VersionConflict) when DynamoDB returned it, decoded
    /// into `T` (the model, or a projection of it).
    pub fn current_item<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T>> {
        match self {
            Error::AlreadyExists { item: Some(item), .. }
            | Error::ConditionFailed { item: Some(item), .. }
            | Error::VersionConflict { item: Some(item), .. } => Some(crate::from_item(Item::clone(item))),
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
