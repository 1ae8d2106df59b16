//! Model hooks: code that runs before and after a model's saves, updates, deletes and
//! loads (DynamORM's signals).

use crate::error::BoxError;
use crate::error::{Error, Result};
use crate::model::{HookFns, Model};
use crate::value::Item;

/// Code run around a model's operations, like DynamORM's signals: before and after each
/// save, update and delete, and when an item is loaded. Every method has a no-op default;
/// implement the ones you need.
///
/// Enable hooks with `hooks` in the model's `#[table(..)]` attribute, then implement
/// this trait. Without `hooks`, the derive implements it with the defaults, so an impl of
/// your own is a compile error ("conflicting implementations") rather than hooks that
/// silently never run.
///
/// A `before_*` hook can refuse its operation by returning an error: nothing is sent, and
/// the operation fails with [`Error::Hook`]. `after_*` hooks run once DynamoDB has
/// accepted the write, so they cannot fail it. Hooks are synchronous and run on the
/// task of the operation: keep them quick (checks, derived values, metrics, logs).
///
/// Which operations run which hook:
///
/// | hook | runs for |
/// |---|---|
/// | `before_save`, `after_save` | `put`, `put_unique`, `save`, [`Tracked::save`](crate::Tracked::save), a put in a batch write or a transaction |
/// | `before_update`, `after_update` | `update`, `update_by_key`, an update in a transaction |
/// | `before_delete`, `after_delete` | `delete`, `delete_by_key`, a delete in a batch write or a transaction |
/// | `before_load`, `after_load` | every item dynorm decodes into the model: `get`, queries and scans, batch and transactional gets, relationships, change streams, backfills, and the instance a `save` or `update` refreshes; `before_load` sees the item after any schema migrations |
///
/// In batch writes and transactions the `before_*` hooks run when the write is added, so
/// a refusal stops the whole batch or transaction before anything is sent. Their
/// `after_*` hooks run for each write once it is applied, on a copy rather than your
/// instance: `after_save` receives the item decoded (in a batch, as written, with its
/// next version; in a transaction, as the instance was when added), and `after_update`
/// and `after_delete` the key only.
///
/// ```
/// use dynorm::{BoxError, DynaModel, Hooks, Item};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(DynaModel, Serialize, Deserialize, validator::Validate)]
/// #[table(name = "accounts", hash_key = "id", hooks)]
/// struct Account {
///     id: String,
///     owner: String,
///     #[serde(default)]
///     balance: i64,
/// }
///
/// impl Hooks for Account {
///     fn before_save(&self) -> Result<(), BoxError> {
///         if self.balance < 0 {
///             return Err(format!("account {} would be overdrawn", self.id).into());
///         }
///         Ok(())
///     }
///
///     fn before_load(item: &mut Item) -> Result<(), BoxError> {
///         // Items written before the rename kept the owner in `user`.
///         if let Some(user) = item.remove("user") {
///             item.entry("owner".into()).or_insert(user);
///         }
///         Ok(())
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has `hooks` in its #[table] attribute but does not implement `dynorm::Hooks`",
    label = "hooks enabled here",
    note = "add `impl dynorm::Hooks for {Self} {{ .. }}` with the hooks you need, or remove `hooks`"
)]
pub trait Hooks: Model {
    /// Before this instance is written whole. Returning an error refuses the write.
    fn before_save(&self) -> Result<(), BoxError> {
        Ok(())
    }

    /// After this instance was written. For `save`, the instance is already refreshed
    /// (new version, timestamps).
    fn after_save(&self) {}

    /// Before an update of the item with this key; `instance` is the instance being
    /// updated, or `None` for an update by key. Returning an error refuses the update.
    fn before_update(key: &Self::Key, instance: Option<&Self>) -> Result<(), BoxError> {
        let _ = (key, instance);
        Ok(())
    }

    /// After the item with this key was updated; `item` is the item after the update
    /// when DynamoDB returned it whole (the default `ALL_NEW`).
    fn after_update(key: &Self::Key, item: Option<&Self>) {
        let _ = (key, item);
    }

    /// Before the item with this key is deleted; `instance` is the instance being deleted,
    /// or `None` for a delete by key. Returning an error refuses the delete.
    fn before_delete(key: &Self::Key, instance: Option<&Self>) -> Result<(), BoxError> {
        let _ = (key, instance);
        Ok(())
    }

    /// After the item with this key was deleted.
    fn after_delete(key: &Self::Key, instance: Option<&Self>) {
        let _ = (key, instance);
    }

    /// Before a stored item is decoded into the model: the place to upgrade items written
    /// by older versions of the model. An error fails this item only.
    fn before_load(item: &mut Item) -> Result<(), BoxError> {
        let _ = item;
        Ok(())
    }

    /// After an item was decoded into this instance. An error fails this item only.
    fn after_load(&mut self) -> Result<(), BoxError> {
        Ok(())
    }
}

/// The hooks `M` implements. A function with a bound, rather than a method, so a missing
/// impl reports `Hooks`' own message.
pub const fn hook_fns<M: Hooks>() -> HookFns<M> {
    HookFns::<M>::of()
}

impl<M: Hooks> HookFns<M> {
    /// The hooks `M` implements.
    const fn of() -> Self {
        HookFns {
            before_save: M::before_save,
            after_save: M::after_save,
            before_update: M::before_update,
            after_update: M::after_update,
            before_delete: M::before_delete,
            after_delete: M::after_delete,
            before_load: M::before_load,
            after_load: M::after_load,
        }
    }
}

fn refused<M>(hook: &'static str) -> impl FnOnce(BoxError) -> Error {
    move |source| Error::Hook {
        model: std::any::type_name::<M>(),
        hook,
        source,
    }
}

/// Whether the model runs hooks.
pub(crate) fn enabled<M: Model>() -> bool {
    M::hooks().is_some()
}

pub(crate) fn before_save<M: Model>(model: &M) -> Result<()> {
    match M::hooks() {
        Some(h) => (h.before_save)(model).map_err(refused::<M>("before_save")),
        None => Ok(()),
    }
}

pub(crate) fn after_save<M: Model>(model: &M) {
    if let Some(h) = M::hooks() {
        (h.after_save)(model);
    }
}

pub(crate) fn before_update<M: Model>(key: &M::Key, instance: Option<&M>) -> Result<()> {
    match M::hooks() {
        Some(h) => (h.before_update)(key, instance).map_err(refused::<M>("before_update")),
        None => Ok(()),
    }
}

pub(crate) fn after_update<M: Model>(key: &M::Key, item: Option<&M>) {
    if let Some(h) = M::hooks() {
        (h.after_update)(key, item);
    }
}

pub(crate) fn before_delete<M: Model>(key: &M::Key, instance: Option<&M>) -> Result<()> {
    match M::hooks() {
        Some(h) => (h.before_delete)(key, instance).map_err(refused::<M>("before_delete")),
        None => Ok(()),
    }
}

pub(crate) fn after_delete<M: Model>(key: &M::Key, instance: Option<&M>) {
    if let Some(h) = M::hooks() {
        (h.after_delete)(key, instance);
    }
}

/// Decodes a stored item into the model, with its load hooks.
pub(crate) fn load<M: Model>(mut item: Item) -> Result<M> {
    // The type first (an item of another entity is not this model's to migrate), then
    // the migrations: the hooks see the item in the model's current shape.
    if let Some(entity) = M::SCHEMA.entity {
        crate::template::check_type(M::SCHEMA, entity, &item)?;
    }
    crate::migrate::migrate::<M>(&mut item)?;
    if M::hooks().is_none() {
        return crate::model::decode_current(item);
    }
    before_load::<M>(&mut item)?;
    let mut model: M = crate::model::decode_current(item)?;
    after_load(&mut model)?;
    Ok(model)
}

pub(crate) fn before_load<M: Model>(item: &mut Item) -> Result<()> {
    match M::hooks() {
        Some(h) => (h.before_load)(item).map_err(refused::<M>("before_load")),
        None => Ok(()),
    }
}

pub(crate) fn after_load<M: Model>(model: &mut M) -> Result<()> {
    match M::hooks() {
        Some(h) => (h.after_load)(model).map_err(refused::<M>("after_load")),
        None => Ok(()),
    }
}

/// The `after_save` of a put in a batch or transaction, which holds the item written
/// rather than the instance: `None` when the model has no hooks, so nothing is kept.
pub(crate) fn after_save_item<M: Model>(item: &Item) -> Option<AfterHook> {
    enabled::<M>().then(|| {
        let item = item.clone();
        Box::new(move || {
            // The item was encoded from a model, so it decodes; if a custom serde
            // representation does not round-trip, there is no instance to hand over.
            if let Ok(model) = crate::model::model_from_item::<M>(item) {
                after_save(&model);
            }
        }) as AfterHook
    })
}

/// The `after_update` or `after_delete` of a write in a batch or transaction.
pub(crate) fn after_key<M: Model>(key: &M::Key, delete: bool) -> Option<AfterHook> {
    enabled::<M>().then(|| {
        let key = key.clone();
        Box::new(move || {
            if delete {
                after_delete::<M>(&key, None);
            } else {
                after_update::<M>(&key, None);
            }
        }) as AfterHook
    })
}

/// An `after_*` hook kept until its write is applied.
pub(crate) type AfterHook = Box<dyn FnOnce() + Send + Sync>;
