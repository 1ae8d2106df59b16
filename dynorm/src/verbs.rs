//! The verbs every model has: `DynaModel`, the trait users call, implemented for every
//! [`Model`] the derive describes. The top layer: each verb makes the builder of an
//! operation below it.

use crate::db::Db;
use crate::drift::EnsureTable;
use crate::expr::Path;
use crate::key::{IntoKey, KeyPart, PrimaryKey};
use crate::manager::Manager;
use crate::model::Model;
use crate::ops::{DeleteItem, GetItem, OnInstance, PutItem, SaveItem, UpdateItem};
use crate::read::{Index, Query, Scan, Table};
use crate::schema::TableSchema;
use crate::table::{CreateTable, DeleteTable, TableExistence, WaitUntilActive};

/// A document stored in its own DynamoDB table. Implement it with `#[derive(DynaModel)]`.
///
/// The provided methods are the model's operations. Each returns a `#[must_use]` builder:
/// chain options on it, then `.await` it (or call `.send()`). The builders of single
/// requests (`get`, `put`, `put_unique`, `save`, `delete`, `delete_by_key`,
/// `create_table`, `delete_table`) also have `.to_input()`, which returns the SDK input
/// they would send without sending anything.
///
/// ```no_run
/// use dynorm::{Db, DynaModel};
/// use serde::{Deserialize, Serialize};
/// use validator::Validate;
///
/// #[derive(DynaModel, Serialize, Deserialize, Validate, Debug, Clone)]
/// #[table(name = "books", hash_key = "isbn")]
/// struct Book {
///     isbn: String,
///     #[validate(length(min = 1))]
///     title: String,
/// }
///
/// # async fn run() -> dynorm::Result<()> {
/// let db = Db::local("http://127.0.0.1:8000");
/// Book::ensure_table(&db).await?;
/// let book = Book { isbn: "0-7475-3269-9".into(), title: "Philosopher's Stone".into() };
/// book.put(&db).await?;
/// let again = Book::get(&db, "0-7475-3269-9").consistent_read(true).await?;
/// assert_eq!(again.map(|b| b.title), Some(book.title.clone()));
/// book.delete(&db).await?;
/// # Ok(()) }
/// ```
#[doc(alias = "Model")]
pub trait DynaModel: Model {
    /// The table description generated from the model's attributes.
    fn schema() -> &'static TableSchema {
        Self::SCHEMA
    }

    /// This item's primary key.
    fn pk(&self) -> Self::Key {
        self.key()
    }

    /// The item this model is stored as: sets as `SS`/`NS`/`BS` (an empty one left
    /// out), byte vectors as `B`, [`Number`](crate::Number)s and decimals as `N`, the
    /// rest as serde writes it. Nothing is checked or sent.
    fn to_item(&self) -> crate::Result<crate::Item>
    where
        Self: Sized,
    {
        crate::model::model_to_item(self)
    }

    /// Decodes a stored item into the model, the inverse of [`to_item`](Self::to_item):
    /// a missing set attribute reads as an empty set. No hook runs. A value that does not
    /// fit is [`Error::Decode`](crate::Error::Decode), naming the attribute path, what
    /// the model expected and the DynamoDB type stored.
    fn from_item(item: crate::Item) -> crate::Result<Self>
    where
        Self: Sized,
    {
        crate::model::model_from_item(item)
    }

    /// Reads one item by key. Resolves to `Ok(None)` when there is no such item.
    fn get(db: &Db, key: impl IntoKey<Self::Key>) -> GetItem<'_, Self> {
        GetItem::new(db, key.into_key())
    }

    /// Writes this item, replacing any item with the same key. Validates first.
    fn put<'a>(&'a self, db: &'a Db) -> PutItem<'a, Self> {
        PutItem::new(db, self)
    }

    /// Writes this item only if no item has its key; otherwise fails with
    /// [`Error::AlreadyExists`](crate::error::Error::AlreadyExists).
    fn put_unique<'a>(&'a self, db: &'a Db) -> PutItem<'a, Self> {
        PutItem::new(db, self).unique()
    }

    /// Saves this instance: validates it, writes the whole item and refreshes the
    /// instance with what was written (the new version, the timestamps).
    ///
    /// With a `#[dynorm(version)]` field the write is conditioned on the version this
    /// instance holds (a version of 0 means "new": the stored item, if any, must have no
    /// version) and stores
    /// the next version; a stale instance fails with
    /// [`Error::VersionConflict`](crate::error::Error::VersionConflict). To send only what
    /// changed since the item was read, use [`Tracked`](crate::tracked::Tracked).
    fn save<'a>(&'a mut self, db: &'a Db) -> SaveItem<'a, Self> {
        SaveItem::new_save(db, self)
    }

    /// Updates this instance's item with the actions chained on the builder, and
    /// refreshes the instance from the item DynamoDB returns (`ALL_NEW`).
    ///
    /// A versioned model's update is conditioned on this instance's version and
    /// increments it. The instance with the update applied must pass the model's
    /// `validator` rules, or nothing is sent ([`Error::Validation`](crate::Error::Validation));
    /// see [`UpdateItem`'s validation](crate::ops::UpdateItem#validation).
    fn update<'a>(&'a mut self, db: &'a Db) -> UpdateItem<'a, Self, OnInstance<'a, Self>> {
        UpdateItem::for_instance(db, self)
    }

    /// Updates an item by key with the actions chained on the builder. Resolves to the
    /// item after the update (`ALL_NEW`, by default). As in DynamoDB, an update of a
    /// missing item creates it; add a condition such as `f.id().exists()` to prevent that.
    ///
    /// Not validated: the model's `validator` rules do not run on an update by key, which
    /// has no instance to run them on (see
    /// [`UpdateItem`'s validation](crate::ops::UpdateItem#validation)).
    fn update_by_key(db: &Db, key: impl IntoKey<Self::Key>) -> UpdateItem<'_, Self> {
        UpdateItem::for_key(db, key.into_key())
    }

    /// Queries the table: the items whose hash key is `hash`, in range key order. Chain
    /// a range key condition, a filter and read options; see [`ReadStream`](crate::read::ReadStream).
    /// Indexes are queried through the methods the derive generates, such as
    /// `Book::by_author().query(&db, "Herbert")`.
    fn query(db: &Db, hash: impl KeyPart<<Self::Key as PrimaryKey>::Hash>) -> Query<'_, Table<Self>> {
        Index::query(Table::new(), db, hash)
    }

    /// Scans the table. See [`ReadStream`](crate::read::ReadStream).
    fn scan(db: &Db) -> Scan<'_, Table<Self>> {
        Index::scan(Table::new(), db)
    }

    /// The model's typed attribute paths, one method per field, for conditions, filters
    /// and updates: `Book::fields().title().eq("Dune")`.
    fn fields() -> Self::Fields<Self> {
        Self::__fields(Path::root())
    }

    /// Deletes this instance's item, and the one-to-one related items declared with
    /// `cascade`.
    ///
    /// A versioned model's delete is conditioned on this instance's version.
    fn delete<'a>(&'a self, db: &'a Db) -> DeleteItem<'a, Self> {
        DeleteItem::new(db, self.key(), self.version()).cascading(self)
    }

    /// Deletes an item by key. Deleting a missing item succeeds.
    fn delete_by_key(db: &Db, key: impl IntoKey<Self::Key>) -> DeleteItem<'_, Self> {
        DeleteItem::new(db, key.into_key(), None)
    }

    /// The model's manager: `create`, `get` and `delete` in one place, botocraft style.
    fn objects(db: &Db) -> Manager<'_, Self> {
        Manager::new(db)
    }

    /// Creates the model's table, with its indexes, billing, stream and time to live.
    fn create_table(db: &Db) -> CreateTable<'_, Self> {
        CreateTable::new(db)
    }

    /// Deletes the model's table.
    fn delete_table(db: &Db) -> DeleteTable<'_, Self> {
        DeleteTable::new(db)
    }

    /// Whether the model's table exists.
    fn table_exists(db: &Db) -> TableExistence<'_, Self> {
        TableExistence::new(db)
    }

    /// Waits until the model's table is ACTIVE.
    fn wait_until_active(db: &Db) -> WaitUntilActive<'_, Self> {
        WaitUntilActive::new(db)
    }

    /// Creates the table if it is missing and waits for it; checks once per handle.
    fn ensure_table(db: &Db) -> EnsureTable<'_, Self> {
        EnsureTable::new(db)
    }

    /// Compares the live table with the model: the [`TablePlan`](crate::TablePlan) of
    /// what differs (indexes to create, delete or replace, billing and capacity, stream,
    /// time to live), empty when the table matches. Sends DescribeTable and
    /// DescribeTimeToLive; changes nothing.
    fn plan_table(db: &Db) -> crate::drift::PlanTable<'_, Self> {
        crate::drift::PlanTable::new(db)
    }

    /// Brings the live table to the model, one `UpdateTable` per step, each waited for;
    /// destructive steps only with `allow_destructive(true)`. See
    /// [`ApplyTable`](crate::drift::ApplyTable).
    fn apply_table(db: &Db) -> crate::drift::ApplyTable<'_, Self> {
        crate::drift::ApplyTable::new(db)
    }

    /// The table as a CloudFormation `AWS::DynamoDB::Table` resource (JSON), under the
    /// name this handle gives it: what `create_table` would create, for infrastructure
    /// code to generate or check its definition from. Sends nothing.
    fn cloudformation(db: &Db) -> crate::Result<serde_json::Value> {
        crate::drift::cloudformation(Self::SCHEMA, &db.table_name::<Self>())
    }
}

impl<M: Model> DynaModel for M {}
