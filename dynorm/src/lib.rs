//! # dynorm
//!
//! A derive-macro DynamoDB document mapper on the official `aws-sdk-dynamodb`.
//!
//! Annotate a struct with `#[derive(DynaModel)]` and a `#[table(..)]` attribute, and it
//! gets typed, async operations: [`get`](DynaModel::get), [`put`](DynaModel::put),
//! [`put_unique`](DynaModel::put_unique), [`save`](DynaModel::save),
//! [`update`](DynaModel::update), [`delete`](DynaModel::delete), partial saves through
//! [`Tracked`], a [`Manager`] (`Book::objects(&db)`), and table management
//! ([`create_table`](DynaModel::create_table), [`ensure_table`](DynaModel::ensure_table),
//! ...). Conditions and updates are written in Rust on typed paths ([`expr`]). Queries
//! and scans, on the table and on each index, are lazy [`ReadStream`]s. Many items at
//! once go through [`batch`] writes and reads (chunked, concurrent, nothing dropped), and
//! all-or-nothing changes through [`transact`]ions.
//!
//! ```no_run
//! use dynorm::{Db, DynaModel, Error, Index};
//! use futures::TryStreamExt;
//! use serde::{Deserialize, Serialize};
//! use validator::Validate;
//!
//! #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone, PartialEq)]
//! #[table(name = "books", hash_key = "isbn")]
//! #[global_index(name = "by-author", hash_key = "author", range_key = "published")]
//! struct Book {
//!     isbn: String,
//!     #[validate(length(min = 1))]
//!     title: String,
//!     author: String,
//!     published: u16,
//!     #[serde(default)]
//!     views: u64,
//!     #[dynorm(version)]
//!     #[serde(default)]
//!     version: u64,
//! }
//!
//! # async fn run() -> dynorm::Result<()> {
//! let db = Db::from_env().await; // or Db::local("http://127.0.0.1:8000")
//! Book::ensure_table(&db).await?;
//!
//! let mut book = Book {
//!     isbn: "978-0441013593".into(),
//!     title: "Dune".into(),
//!     author: "Frank Herbert".into(),
//!     published: 1965,
//!     views: 0,
//!     version: 0,
//! };
//! book.save(&db).await?; // version 0 means new: fails if a versioned item has this key
//! assert_eq!(book.version, 1);
//!
//! let f = Book::fields();
//! book.update(&db).increment(f.views(), 1).condition(f.published().lt(2000)).await?;
//! assert_eq!((book.views, book.version), (1, 2));
//!
//! let mut copy = Book::get(&db, "978-0441013593").tracked().await?.expect("stored");
//! copy.title = "Dune (1965)".into();
//! copy.save(&db).await?; // sends SET title, conditioned on version 2
//! match book.delete(&db).await {
//!     Err(Error::VersionConflict { .. }) => {} // `book` is stale now
//!     other => panic!("{other:?}"),
//! }
//!
//! // Queries and scans are lazy streams; each index has a typed handle.
//! let sixties: Vec<Book> = Book::by_author()
//!     .query(&db, "Frank Herbert")
//!     .range(|published| published.between(1960, 1969))
//!     .filter(f.views().gt(0))
//!     .recursive()
//!     .collect_all()
//!     .await?;
//! let mut every = Book::scan(&db).segments(4); // a parallel scan, merged
//! while let Some(book) = every.try_next().await? {
//!     println!("{}", book.title);
//! }
//! copy.delete(&db).await?;
//! # Ok(()) }
//! ```
//!
//! Every operation is a `#[must_use]` builder: `.await` it, or call `.to_input()` to get
//! the SDK input it would send, without a network call; [`Db::offline`] is a handle for
//! that alone, with no client configuration or endpoint. Client-side checks (validation,
//! item and key sizes, empty sets, non-finite numbers, malformed expressions) run before
//! any request, and every failure is a variant of [`Error`].
//!
//! ## Tour
//!
//! | To | Use |
//! |---|---|
//! | declare a model, its keys and indexes | [`derive@DynaModel`], `#[table]`, `#[global_index]`, `#[local_index]`, `#[dynorm(version / created_at / updated_at / ttl)]` |
//! | read and write one item | [`DynaModel`]'s methods and their builders in [`ops`] |
//! | write conditions and updates | [`DynaModel::fields`] and the typed paths of [`expr`] |
//! | save only what changed | [`Tracked`] |
//! | query and scan tables and indexes | [`ReadStream`] ([`Query`], [`Scan`]), [`Index`], cursors |
//! | load related items | [`rel`]: one-to-many, many-to-one, one-to-one fields |
//! | write or read many items | [`batch`] |
//! | change several items all or nothing | [`transact`] |
//! | create and manage tables | [`table`], [`DynaModel::ensure_table`] |
//! | run code around operations | [`Hooks`] (`#[table(.., hooks)]`) |
//! | follow requests and their cost | `tracing` spans (see below), [`CapacityMeter`] |
//! | reach the SDK | [`Db::client`], `.to_input()` on every builder |
//!
//! ## Architecture
//!
//! The crate is built in layers; each module imports only from the layers below it (no
//! import cycles), so a change in one room touches only what stands on it.
//!
//! 1. **Data**: `schema` (what the derive says about a model's table and items, as a
//!    static [`TableSchema`] built by a struct literal) and `value` (items, their sizes as
//!    DynamoDB counts them, DynamoDB's numbers), with the codec over them: `encode` and
//!    `decode` (dynorm's serde serializer and deserializer, writing and reading the SDK's
//!    values directly, with the schema's shapes for sets, binary data and numbers, a
//!    bounded depth, and errors that say where) and `number` ([`Number`]).
//! 2. **Errors**: `error`, with the payloads errors carry ([`batch::BatchOp`],
//!    [`transact::CancelReason`]).
//! 3. **Keys, conversions and checks**: `key` ([`KeyAttribute`], [`PrimaryKey`]), `item`
//!    (conversions with typed errors, and the client-side checks, all
//!    from `&TableSchema`), [`bytes`], `timestamp`.
//! 4. **Expressions, observability, retries**: [`expr`] (typed paths, conditions,
//!    updates, placeholder-only rendering), `observe` (spans, [`CapacityMeter`]),
//!    `retry` (what the SDK may resend, and the outcome of every attempt).
//! 5. **The handle**: `db` ([`Db`]).
//! 6. **The core contract**: `model` ([`Model`], what the derive implements: the schema,
//!    the key and version of an instance, hooks, relationship glue) and `hooks`
//!    ([`Hooks`]).
//! 7. **Operations on that contract**: [`ops`] (one file per verb), [`read`] (the typed
//!    stream over a non-generic plan and page state machine), [`batch`], [`transact`],
//!    [`table`], `tracked` ([`Tracked`]), [`rel`]. Request building, rendering, checks
//!    and read planning work from the static schema; generic code sits at the edges
//!    (encoding, decoding, the typed builders).
//! 8. **The verbs users call**: `verbs` ([`DynaModel`], implemented for every [`Model`])
//!    and `manager` ([`Manager`]).
//!
//! The derive (`dynorm-derive`) follows the same rule: parse (`ast`, `attr`), validate
//! (`valid/`, small named checks producing a resolved model), then expand (`expand`,
//! `document`, `relation`), with `naming` holding every generated name and `fallback`
//! the stub emitted beside an error.
//!
//! ## Observability
//!
//! Every request runs in a DEBUG `tracing` span named `dynorm.<operation>`
//! (`dynorm.get_item`, `dynorm.query`, `dynorm.batch_write_item`, ...; table management
//! opens INFO spans) whose fields follow the OpenTelemetry semantic conventions for
//! DynamoDB clients: `db.system.name` (`aws.dynamodb`), `db.operation.name`,
//! `aws.dynamodb.table_names`, `aws.dynamodb.index_name`, `aws.dynamodb.consistent_read`,
//! `aws.dynamodb.limit`, `aws.dynamodb.projection`, `aws.dynamodb.segment`,
//! `aws.dynamodb.total_segments`, `aws.dynamodb.count`, `aws.dynamodb.scanned_count` and
//! `aws.dynamodb.consumed_capacity` (when a [`CapacityMeter`] asks for it), with
//! `otel.name` (`GetItem books`) and `otel.kind` for `tracing-opentelemetry`. Attribute
//! values (keys, items, expression values) are logged only at TRACE, where dynorm logs
//! each SDK input.
//!
//! ## Features
//!
//! - `rust_decimal`: `rust_decimal::Decimal` as a DynamoDB number in keys, conditions and
//!   `add` ([`KeyAttribute`], `Ordered`, `Numeric`). A `Decimal` field is stored as `N`
//!   without the feature too. Off by default.
//! - `test-util`: `dynorm::testing`, a unit-test double (canned responses from
//!   `aws-smithy-mocks` rules, every request recorded with its SDK input) for code that
//!   uses dynorm.
//!
//! No feature is on by default.
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The layers, bottom first; each module imports only from layers below it.
// 1. Data: the schema and DynamoDB values.
mod schema;
mod table_plan;
mod value;
// The codec: Rust values to DynamoDB values and back, as the schema's shapes say.
mod decode;
mod encode;
mod number;
// 2. Errors and the payloads they carry.
mod error;
// 3. Keys, encoding and item checks.
pub mod bytes;
mod item;
mod key;
mod template;
mod timestamp;
// 4. Expressions, observability, retries.
mod budget;
pub mod expr;
mod observe;
mod retry;
// 5. The handle.
mod db;
// 6. The core contract the derive implements, and hooks.
mod hooks;
mod model;
// 7. Operations on that contract.
pub mod backfill;
pub mod batch;
pub mod changes;
pub mod drift;
pub mod entity;
pub mod iam;
pub mod migrate;
pub mod ops;
pub mod read;
pub mod rel;
pub mod table;
mod tracked;
pub mod transact;
// 8. The verbs users call, and the manager.
mod manager;
mod verbs;
// Test doubles for users' unit tests, on top of everything.
#[cfg(feature = "test-util")]
#[cfg_attr(docsrs, doc(cfg(feature = "test-util")))]
pub mod testing;

pub use budget::CapacityBudget;
pub use db::{Db, DbBuilder, DEFAULT_ATTEMPT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT, DEFAULT_OPERATION_TIMEOUT};
pub use drift::{PlanStep, TablePlan};
pub use entity::{Collection, DynaTable, Entity, SortPrefix};
pub use error::{BoxError, CursorProblem, Error, KeyProblem, Result, ValueError, ValueProblem, WriteOutcome};
pub use expr::{Condition, Document, Path, Update};
pub use hooks::Hooks;
pub use item::{from_item, to_item};
pub use key::{IntoKey, KeyAttribute, KeyPart, NoRange, PrimaryKey};
pub use manager::Manager;
pub use model::{Model, TableDef};
pub use number::{Number, NumberError};
pub use observe::CapacityMeter;
pub use read::{ConsistentRead, Index, Query, ReadStream, Scan, Table};
pub use schema::{
    ComputedKey, Encryption, EntitySchema, FieldShape, IndexSchema, KeyAttr, KeyCase, KeySource, KeyTemplate, KeyType,
    LazyShape, Projection, SchemaVersion, Shape, StoredAttributes, StoredKey, StreamView, TableClass, TableOptions,
    TableSchema, TemplatePart, Throughput, TimestampField,
};
pub use timestamp::Timestamp;
pub use tracked::{SaveChanges, Tracked};
pub use value::{item_size, value_size, Item, MAX_DEPTH, MAX_HASH_KEY_SIZE, MAX_ITEM_SIZE, MAX_RANGE_KEY_SIZE};
pub use verbs::DynaModel;

/// Derives [`Collection`](trait@Collection) for an enum whose variants each hold one
/// entity sharing a partition: one query reads them all, each item decoded into the
/// variant its type attribute names. See [`entity`].
pub use dynorm_derive::Collection;
/// Derives [`Document`] for a struct stored inside a model (a nested map), so its fields
/// get typed paths: `User::fields().address().fields().city()`.
///
/// Attribute names follow serde, as for [`DynaModel`](derive@DynaModel). A model already
/// implements `Document`; derive it only on nested structs.
///
/// ```
/// use dynorm::{DynaModel, Document};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Document, Serialize, Deserialize)]
/// struct Address {
///     city: String,
///     #[serde(rename = "postCode")]
///     post_code: String,
/// }
///
/// #[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
/// #[table(name = "users", hash_key = "id")]
/// struct User {
///     id: String,
///     address: Address,
/// }
///
/// let city = User::fields().address().fields().city();
/// assert_eq!(city.to_string(), "address.city");
/// let in_lyon = city.eq("Lyon");
/// ```
pub use dynorm_derive::Document;
/// Derives [`DynaModel`] for a struct with named fields.
///
/// The struct must also implement `Serialize`, `Deserialize` and `validator::Validate`
/// (derive them; `Validate` with no rules accepts everything).
///
/// # Container attributes
///
/// - `#[table(name = "...", hash_key = "field", range_key = "field", read = N, write = N, stream = "...")]`,
///   required, once. `range_key` is optional. Billing is on-demand unless `read` and
///   `write` (provisioned capacity units) are both given. `stream` is one of
///   `"keys_only"`, `"new_image"`, `"old_image"`, `"new_and_old_images"`.
///   `partition_key` and `sort_key` are accepted as aliases.
/// - `#[global_index(name = "...", hash_key = "field", range_key = "field", projection = ..., read = N, write = N)]`,
///   repeatable. `projection` is `all` (the default), `keys_only`, or
///   `include(field, ...)`, bare or as a string. An index on a provisioned table without
///   its own `read`/`write` takes the table's.
/// - `#[local_index(name = "...", range_key = "field", projection = ...)]`, repeatable, on
///   a table with a range key; it shares the table's hash key.
///
/// Keys name fields by their Rust name (or by their serialized name). Key fields must be
/// strings, integers (up to 128 bits), [`Number`], `Vec<u8>` or `[u8; N]` (binary), or
/// types that implement [`KeyAttribute`].
///
/// # Field attributes
///
/// - `#[dynorm(version)]` on one integer field: the optimistic-locking version.
/// - `#[dynorm(ttl)]` on one integer (or `Option` of one) field holding epoch seconds:
///   time to live is enabled on it when the table is created.
/// - `#[dynorm(created_at)]` on one [`Timestamp`] field: set on the item's first write and
///   never overwritten (whole-item writes of such a model are sent as `UpdateItem` with
///   `if_not_exists`).
/// - `#[dynorm(updated_at)]` on one [`Timestamp`] field: set on every write.
///
/// # Entities of a single-table design
///
/// Instead of `#[table]`, an entity names a table declared with
/// [`#[derive(DynaTable)]`](derive@DynaTable) and gives the templates of its keys:
///
/// - `#[entity(table = Table, name = "user", pk = "ORG#{org_id}", sk = "USER#{user_id}", case = "lower", hooks)]`:
///   `name` is the type name written in the table's type attribute (the struct's name by
///   default); `sk` is required exactly when the table has a sort key; `case` writes
///   every key of the entity in lower or upper case.
/// - `#[entity_index(name = "gsi1", pk = "EMAIL#{email}", sk = "USER")]`, repeatable: the
///   entity's templates for an index of the table; an entity writes the key attributes
///   of the indexes it uses only (and of an index only when all its template fields are
///   present: a sparse index). `pk = ["a", "b"], sk = ["c"]` uses a multi-attribute
///   index whose key attributes are the entity's own fields.
///
/// Templates are literal text and `{field}`s (`{field:6}` zero-pads to a width; integers
/// of a sort template are padded to their type's width); a template of one field stores
/// the field's own value and type. The entity's key is a generated `{Name}Key` of the
/// template fields, converted from a tuple of them (`User::get(&db, ("acme", "u1"))`);
/// `User::query(&db, partition)`, `User::scan(&db)` and one handle per index
/// (`User::gsi1()`) read only this entity's items. See [`entity`].
///
/// # Generated items
///
/// - `impl Model` (the schema as a static [`TableSchema`], the key, the version) and
///   [`Document`] for the struct; [`DynaModel`]'s verbs come with `Model`.
/// - `{Name}Fields<R>`, a struct with one method per stored field returning its typed
///   [`Path`], reached through `Name::fields()`. It has the struct's visibility.
///
/// Attribute names are the ones serde writes: `#[serde(rename)]`, `#[serde(rename_all)]`
/// and `#[serde(skip)]` are followed.
///
/// Every misuse (a missing `#[table]`, a key naming no field, an unsupported key type,
/// duplicate index names, two version fields, an unknown attribute key, ...) is a compile
/// error pointing at the offending tokens.
///
/// ```
/// use dynorm::DynaModel;
/// use serde::{Deserialize, Serialize};
///
/// #[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
/// #[table(name = "threads", hash_key = "forum_name", range_key = "subject", read = 5, write = 5)]
/// #[global_index(name = "by-author", hash_key = "author", range_key = "last_post", projection = keys_only)]
/// #[local_index(name = "by-views", range_key = "views", projection = include(author))]
/// #[serde(rename_all = "camelCase")]
/// struct Thread {
///     forum_name: String,
///     subject: String,
///     author: String,
///     last_post: u64,
///     views: u32,
///     #[dynorm(ttl)]
///     expires_at: Option<u64>,
/// }
///
/// let schema = Thread::schema();
/// assert_eq!(schema.hash_key.name, "forumName");
/// assert_eq!(schema.range_key.map(|k| k.key_type), Some(dynorm::KeyType::String));
/// assert_eq!(schema.global_indexes[0].projection, dynorm::Projection::KeysOnly);
/// assert_eq!(schema.ttl_attribute, Some("expiresAt"));
/// ```
pub use dynorm_derive::DynaModel;
/// Derives [`DynaTable`](trait@DynaTable): the table of a single-table design, declared
/// once on a struct whose fields are the key attributes of the table and its indexes.
///
/// `#[table(name = "..", hash_key = "field", range_key = "field", type_attribute = "..", read = N, write = N, stream = "..")]`
/// and `#[global_index(..)]`/`#[local_index(..)]` as for [`DynaModel`](derive@DynaModel);
/// `type_attribute` names the attribute holding each item's entity type (`_type` by
/// default). See [`entity`] for the entities on it.
pub use dynorm_derive::DynaTable;
/// Derives [`KeyAttribute`] for a newtype around a key type.
pub use dynorm_derive::KeyAttribute;

/// The AWS configuration loader dynorm's handles are built from, re-exported so versions
/// always match: `dynorm::aws_config::load_from_env().await` gives the `SdkConfig` that
/// [`Db::from_sdk_config`] and `aws_sdk_dynamodb::Client::new` take.
pub use aws_config;
/// The Lambda event types [`changes`] reads.
#[cfg(feature = "lambda")]
#[cfg_attr(docsrs, doc(cfg(feature = "lambda")))]
pub use aws_lambda_events;
/// The SDK crate dynorm is built on, re-exported so versions always match.
pub use aws_sdk_dynamodb;
/// The DynamoDB Streams SDK the stream reader uses.
#[cfg(feature = "streams")]
#[cfg_attr(docsrs, doc(cfg(feature = "streams")))]
pub use aws_sdk_dynamodbstreams;

/// The `futures` crate, for `StreamExt` and `TryStreamExt` on read streams.
pub use futures;
/// serde, re-exported so versions match.
pub use serde;
/// serde_dynamo, re-exported for its set helpers: `#[serde(with = "dynorm::serde_dynamo::string_set")]`.
pub use serde_dynamo;
/// validator, re-exported so the `Validate` every model implements is the one dynorm uses.
pub use validator;

/// Everything a model file usually needs: `use dynorm::prelude::*;`.
pub mod prelude {
    pub use crate::{Condition, Db, Document, DynaModel, Error, Index, IntoKey, KeyAttribute, Result, Tracked, Update};
}

/// Every Rust snippet of the README, compiled (and run unless marked `no_run`) as a
/// doctest, so the README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
mod readme_doctests {}

/// Items the derive's generated code uses. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::expr::{KeyPath, Path};
    pub use crate::hooks::hook_fns;
    pub use crate::key::NoRange;
    pub use crate::model::HookFns;
    pub use crate::ops::write_back;
    pub use crate::read::{ConsistentRead, Index, PrefixKey};
    pub use crate::schema::{
        ComputedKey, EntitySchema, FieldShape, IndexSchema, KeyAttr, KeyCase, KeySource, KeyTemplate, KeyType,
        LazyShape, Projection, SchemaVersion, Shape, StoredAttributes, StoredKey, StreamView, TableOptions,
        TableSchema, TemplatePart, Throughput, TimestampField,
    };
    pub use crate::value::ValueError;
    pub use aws_sdk_dynamodb::types::AttributeValue;
    pub use core;
    pub use futures::future::BoxFuture;
    pub use serde;
    pub use serde_dynamo;

    /// Encodes a field's value as it is stored: the way serde writes it, with `shape`
    /// (a set, binary data, a number).
    pub fn encode<T: serde::Serialize + ?Sized>(value: &T, shape: Shape) -> Result<AttributeValue, ValueError> {
        crate::encode::to_attribute_value(value, 1, shape)
    }

    /// Picks a type's shape: its `Document` shape when it is a nested document (see
    /// [`ViaDocument`]), plain otherwise. Used as `(&ShapeProbe::<T>::new()).shape()`
    /// on a concrete type.
    pub struct ShapeProbe<T: ?Sized>(core::marker::PhantomData<fn() -> T>);

    impl<T: ?Sized> ShapeProbe<T> {
        /// The probe.
        pub const fn new() -> Self {
            ShapeProbe(core::marker::PhantomData)
        }
    }

    impl<T: ?Sized> Default for ShapeProbe<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// The shape of a nested document, chosen first.
    pub trait ViaDocument {
        /// The shape.
        fn shape(&self) -> Shape;
    }

    impl<T: crate::Document + ?Sized> ViaDocument for ShapeProbe<T> {
        fn shape(&self) -> Shape {
            T::__SHAPE
        }
    }

    /// The shape of any other type: plain.
    pub trait ViaPlain {
        /// The shape.
        fn shape(&self) -> Shape;
    }

    impl<T: ?Sized> ViaPlain for &ShapeProbe<T> {
        fn shape(&self) -> Shape {
            Shape::Plain
        }
    }

    pub use crate::entity::{
        assert_key_part, collection_query, decode_entity, distinct_key_attributes, entity_key_value, find_index,
        has_index, has_sort_key, index_has_keys, index_key_name, is_global_index, is_multi_attribute_index, is_number,
        key_is_string, native_query, partition_template, query as entity_query, same_template, scan as entity_scan,
        str_eq, type_name_of, unknown_type, AutoWidth, Templated,
    };

    /// The key type of the stub impl emitted when the derive reports an error, so the
    /// user sees that error and not a cascade.
    pub type FallbackKey = String;

    /// The schema of that stub impl; never read, as the crate does not compile.
    pub const FALLBACK_SCHEMA: TableSchema = TableSchema {
        name: "",
        hash_key: KeyAttr {
            name: "",
            key_type: KeyType::String,
        },
        range_key: None,
        stored_key: StoredKey {
            hash: KeySource::Field,
            range: None,
        },
        throughput: None,
        stream: None,
        global_indexes: &[],
        local_indexes: &[],
        attributes: StoredAttributes {
            names: &[],
            flattened: false,
            shape: Shape::Plain,
        },
        version_attribute: None,
        version_max: u64::MAX,
        ttl_attribute: None,
        created_at: None,
        updated_at: None,
        entity: None,
        options: TableOptions {
            deletion_protection: None,
            table_class: None,
            encryption: None,
            tags: &[],
            point_in_time_recovery: None,
        },
        schema_version: None,
    };
}
