//! The core contract between the derive and the engine: what `#[derive(DynaModel)]`
//! implements for a model. Its schema is static data ([`TableSchema`]); the few functions
//! are what data cannot say: the key and version of an instance, the model's hooks, and
//! its relationship glue. Operations are bounded on [`Model`]; users call them through
//! `DynaModel`, the verbs trait implemented for every model.

use std::fmt;

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::Db;
use crate::error::{BoxError, Result};
use crate::expr::Document;
use crate::key::PrimaryKey;
use crate::schema::TableSchema;
use crate::value::Item;

/// What has a table description: every model (through `#[derive(DynaModel)]`) and
/// every single-table declaration (`#[derive(DynaTable)]`). Table management
/// (`create_table`, `ensure_table`, ..) works on either.
pub trait TableDef: Send + Sync + 'static {
    /// The table description (for a model, its [`Model::SCHEMA`]).
    const TABLE: &'static TableSchema;
}

/// What `#[derive(DynaModel)]` implements: a document stored in its own DynamoDB table.
///
/// Call a model's operations through `DynaModel`, which every `Model` implements; this
/// trait is the derive's side of the contract, and its items are for dynorm's engine.
pub trait Model:
    TableDef + Document + Serialize + DeserializeOwned + validator::Validate + Send + Sync + Sized + 'static
{
    /// The primary key: the hash key field's type, or a tuple of the hash and range key
    /// fields' types.
    type Key: PrimaryKey + fmt::Debug;

    /// The table and item description.
    const SCHEMA: &'static TableSchema;

    /// This item's primary key.
    fn key(&self) -> Self::Key;

    /// The `#[dynorm(version)]` field's value; `None` without one.
    fn version(&self) -> Option<u64> {
        None
    }

    /// The model's hooks, when `#[table(hooks)]` enables them.
    fn hooks() -> Option<HookFns<Self>> {
        None
    }

    /// Migrates an item stored at schema version `from` to version `from + 1`: step
    /// `from` of the `#[schema(migrations = [..])]` chain. Without `#[schema]`, there
    /// is nothing to migrate.
    fn migrate(from: u32, item: &mut Item) -> Result<(), BoxError> {
        let _ = (from, item);
        Ok(())
    }

    /// Writes back an item a `get` migrated, for a model with `#[schema(.., write_back)]`
    /// (the derive implements it only then, so other models compile no write-back).
    fn write_back_migrated<'a>(db: &'a Db, stored: &'a Item, migrated: &'a Item) -> BoxFuture<'a, ()> {
        let _ = (db, stored, migrated);
        Box::pin(std::future::ready(()))
    }

    /// Whether the model has one-to-one relationships declared with `cascade`: without
    /// them, writes skip [`cascade_save`](Self::cascade_save) and
    /// [`cascade_delete`](Self::cascade_delete) (and the boxed future each would make).
    const CASCADES: bool = false;

    /// Saves the loaded one-to-one related items declared with `cascade`; called after a
    /// `put` or `save` of this instance.
    fn cascade_save<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, Result<()>> {
        let _ = db;
        Box::pin(async { Ok(()) })
    }

    /// Deletes the one-to-one related items declared with `cascade`; called after an
    /// instance's `delete`.
    fn cascade_delete<'a>(&'a self, db: &'a Db) -> BoxFuture<'a, Result<()>> {
        let _ = db;
        Box::pin(async { Ok(()) })
    }

    /// Moves the loaded relationship fields of `from` into this instance: an instance
    /// refreshed from the table keeps what was loaded.
    fn take_relations(&mut self, from: &mut Self) {
        let _ = from;
    }
}

/// A model's hooks as function pointers, so operations bounded by [`Model`] alone can
/// run them. Built by the derive (through `hook_fns`) for models with `#[table(hooks)]`.
#[doc(hidden)]
pub struct HookFns<M: Model> {
    pub(crate) before_save: fn(&M) -> Result<(), BoxError>,
    pub(crate) after_save: fn(&M),
    pub(crate) before_update: fn(&M::Key, Option<&M>) -> Result<(), BoxError>,
    pub(crate) after_update: fn(&M::Key, Option<&M>),
    pub(crate) before_delete: fn(&M::Key, Option<&M>) -> Result<(), BoxError>,
    pub(crate) after_delete: fn(&M::Key, Option<&M>),
    pub(crate) before_load: fn(&mut Item) -> Result<(), BoxError>,
    pub(crate) after_load: fn(&mut M) -> Result<(), BoxError>,
}

impl Db {
    /// The full name of a model's table on this handle: prefix plus the model's name.
    pub fn table_name<M: TableDef>(&self) -> String {
        self.resolve_table_name(M::TABLE.name)
    }
}

/// Encodes a model into its item, sets, binary data and numbers stored as such.
pub(crate) fn model_to_item<M: Model>(model: &M) -> Result<Item> {
    let mut item = crate::item::encode_item(model, M::SCHEMA.attributes.shape)?;
    if let Some(version) = M::SCHEMA.schema_version {
        item.insert(
            version.attribute.to_owned(),
            crate::migrate::version_value(version.current),
        );
    }
    if let Some(entity) = M::SCHEMA.entity {
        crate::template::complete_item(entity, &mut item)?;
    }
    Ok(item)
}

/// Decodes an item of the model `M`'s table into `U` (the model, or a projection of
/// it), reading its attributes as the model stores them.
pub(crate) fn decode_projection<M: Model, U: DeserializeOwned>(mut item: Item) -> Result<U> {
    check_entity_type::<M>(&item)?;
    crate::migrate::migrate::<M>(&mut item)?;
    crate::item::decode_item(item, M::SCHEMA.attributes.shape)
}

/// Decodes an item read from an index that does not project every attribute (so not
/// the schema version attribute either): migrated only when it holds the version
/// attribute, since its absence says nothing about the item's version.
pub(crate) fn decode_index_projection<M: Model, U: DeserializeOwned>(mut item: Item) -> Result<U> {
    check_entity_type::<M>(&item)?;
    if M::SCHEMA.schema_version.is_some_and(|v| item.contains_key(v.attribute)) {
        crate::migrate::migrate::<M>(&mut item)?;
    }
    crate::item::decode_item(item, M::SCHEMA.attributes.shape)
}

/// Refuses an item of another entity type before anything else reads it.
fn check_entity_type<M: Model>(item: &Item) -> Result<()> {
    match M::SCHEMA.entity {
        Some(entity) => crate::template::check_type(M::SCHEMA, entity, item),
        None => Ok(()),
    }
}

/// Decodes a model from its item, migrated first when it is at an older schema version.
pub(crate) fn model_from_item<M: Model>(mut item: Item) -> Result<M> {
    check_entity_type::<M>(&item)?;
    crate::migrate::migrate::<M>(&mut item)?;
    decode_current(item)
}

/// Decodes a model from an item at the model's schema version.
pub(crate) fn decode_current<M: Model>(item: Item) -> Result<M> {
    if let Some(entity) = M::SCHEMA.entity {
        crate::template::check_type(M::SCHEMA, entity, &item)?;
    }
    crate::item::decode_item(item, M::SCHEMA.attributes.shape)
}
