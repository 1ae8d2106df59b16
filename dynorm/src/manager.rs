//! The botocraft-style manager: `Model::objects(&db)` gathers a model's verbs in one place.

use crate::expr::Update;
use crate::key::IntoKey;
use crate::ops::{DeleteItem, GetItem, GetMany, PutItem, UpdateItem};
use crate::{Db, Model};

/// A model's verbs on one handle: `create`, `get`, `get_many`, `list`, `update`,
/// `partial_update` and `delete`. Made by `DynaModel::objects`.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let books = Book::objects(&db);
/// books.create(&Book { isbn: "1".into(), title: "Dune".into() }).await?;
/// let dune = books.get("1").await?;
/// books.delete("1").await?;
/// # Ok(()) }
/// ```
pub struct Manager<'a, M: Model> {
    db: &'a Db,
    _model: std::marker::PhantomData<fn() -> M>,
}

impl<M: Model> std::fmt::Debug for Manager<'_, M> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Manager").field("table", &M::SCHEMA.name).finish()
    }
}

impl<M: Model> Clone for Manager<'_, M> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<M: Model> Copy for Manager<'_, M> {}

impl<'a, M: Model> Manager<'a, M> {
    pub(crate) fn new(db: &'a Db) -> Self {
        Manager {
            db,
            _model: std::marker::PhantomData,
        }
    }

    /// The handle this manager uses.
    pub fn db(&self) -> &'a Db {
        self.db
    }

    /// Creates a new item; fails with [`Error::AlreadyExists`](crate::Error::AlreadyExists)
    /// when one with the same key exists.
    pub fn create(&self, model: &'a M) -> PutItem<'a, M> {
        PutItem::new(self.db, model).unique()
    }

    /// Reads an item by key; `Ok(None)` when absent.
    pub fn get(&self, key: impl IntoKey<M::Key>) -> GetItem<'a, M> {
        GetItem::new(self.db, key.into_key())
    }

    /// Reads many items by key (`BatchGetItem`), in the order of `keys`; keys with no item
    /// are skipped. See [`GetMany`].
    pub fn get_many<K: IntoKey<M::Key>>(&self, keys: impl IntoIterator<Item = K>) -> GetMany<'a, M> {
        GetMany::new(self.db, keys.into_iter().map(IntoKey::into_key).collect())
    }

    /// Every item of the table: a lazy scan stream. Add `.recursive()` to read past the
    /// first page, or `.segments(n)` for a parallel scan; see [`ReadStream`](crate::ReadStream).
    pub fn list(&self) -> crate::Scan<'a, crate::Table<M>> {
        crate::Index::scan(crate::Table::new(), self.db)
    }

    /// Deletes an item by key.
    pub fn delete(&self, key: impl IntoKey<M::Key>) -> DeleteItem<'a, M> {
        DeleteItem::new(self.db, key.into_key(), None)
    }

    /// Updates an item by key with the actions chained on the builder; see
    /// [`UpdateItem`]. Not validated, as every update by key.
    pub fn update(&self, key: impl IntoKey<M::Key>) -> UpdateItem<'a, M> {
        UpdateItem::for_key(self.db, key.into_key())
    }

    /// Updates an item by key with a prepared [`Update`]: only the attributes it names
    /// change. Not validated, as every update by key.
    pub fn partial_update(&self, key: impl IntoKey<M::Key>, update: Update<M>) -> UpdateItem<'a, M> {
        UpdateItem::for_key(self.db, key.into_key()).apply(update)
    }
}
