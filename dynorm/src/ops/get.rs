use std::marker::PhantomData;

use aws_sdk_dynamodb::operation::get_item::builders::GetItemInputBuilder;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use tracing::Instrument;

use super::{build_error, into_future};
use crate::item::key_item;
use crate::observe::op_span;
use crate::{Db, Error, Item, Model, Result, Tracked};

/// Reads one item by primary key. Made by `DynaModel::get`.
///
/// Resolves to `Ok(None)` when no item has the key.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct GetItem<'a, M: Model> {
    db: &'a Db,
    key: M::Key,
    consistent_read: bool,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: Model> GetItem<'a, M> {
    pub(crate) fn new(db: &'a Db, key: M::Key) -> Self {
        GetItem {
            db,
            key,
            consistent_read: false,
            _model: PhantomData,
        }
    }

    /// Asks for a strongly consistent read (eventually consistent by default).
    pub fn consistent_read(mut self, consistent: bool) -> Self {
        self.consistent_read = consistent;
        self
    }

    /// The SDK input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<GetItemInput> {
        self.input_builder(self.db.table_name::<M>())?
            .build()
            .map_err(build_error)
    }

    fn input_builder(&self, table: String) -> Result<GetItemInputBuilder> {
        Ok(GetItemInput::builder()
            .table_name(table)
            .set_key(Some(key_item(M::SCHEMA, &self.key)?))
            .consistent_read(self.consistent_read)
            .set_return_consumed_capacity(self.db.capacity_mode()))
    }

    /// Sends the request.
    ///
    /// An item at an older schema version is migrated; with `#[schema(write_back)]`,
    /// the migrated item is then written back, conditioned on the item being unchanged
    /// since it was read.
    pub async fn send(self) -> Result<Option<M>> {
        let db = self.db;
        let Some(stored) = self.send_item().await? else {
            return Ok(None);
        };
        if M::SCHEMA.schema_version.is_some_and(|v| v.write_back) {
            let mut item = stored.clone();
            if crate::migrate::migrate::<M>(&mut item)?.is_some() {
                M::write_back_migrated(db, &stored, &item).await;
            }
            return crate::hooks::load(item).map(Some);
        }
        crate::hooks::load(stored).map(Some)
    }

    /// Sends the request; resolves to the item as stored.
    pub(crate) async fn send_item(self) -> Result<Option<Item>> {
        let table = self.db.table_name::<M>();
        let span = op_span!(
            "dynorm.get_item",
            "GetItem",
            table,
            aws.dynamodb.consistent_read = self.consistent_read
        );
        async move {
            let input = self.input_builder(table.clone())?;
            tracing::trace!(input = ?input, "get_item");
            self.db.prepare::<M>(&table).await?;
            // Boxed: the SDK's future is large, and moving it inside ours costs more.
            let mut ticket = self.db.ticket(crate::budget::Spend::Read).await;
            let output = Box::pin(input.send_with(self.db.read_client()))
                .await
                .map_err(|e| ticket.fail(Error::from_sdk(e, &table)))?;
            ticket.settle(output.consumed_capacity());
            self.db.record_capacity(output.consumed_capacity());
            Ok(output.item)
        }
        .instrument(span)
        .await
    }
}

into_future!(GetItem, Option<M>);

impl<'a, M: Model> GetItem<'a, M> {
    /// Reads the item as a [`Tracked`] instance, whose
    /// [`save`](Tracked::save) sends only what changed.
    pub fn tracked(self) -> GetTracked<'a, M> {
        GetTracked(self)
    }
}

/// Reads one item as a [`Tracked`] instance. Made by [`GetItem::tracked`].
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct GetTracked<'a, M: Model>(GetItem<'a, M>);

impl<'a, M: Model> GetTracked<'a, M> {
    /// Sends the request.
    pub async fn send(self) -> Result<Option<Tracked<M>>> {
        self.0.send_item().await?.map(Tracked::from_item).transpose()
    }
}

into_future!(GetTracked, Option<Tracked<M>>);

/// Writes back an item a `get` migrated (`#[schema(write_back)]`), conditioned on it
/// being unchanged since it was read: the model's encoding of the migrated item (its
/// sets, numbers and computed keys as the model stores them; no hook runs). A failed
/// write-back loses nothing (the stored item is still readable, and is migrated on
/// every read), so it is reported as a `tracing` event, not an error of the read.
#[doc(hidden)]
pub async fn write_back<M: Model>(db: &crate::Db, stored: &Item, migrated: &Item) {
    let table = db.table_name::<M>();
    let encoded = crate::model::decode_current::<M>(migrated.clone()).and_then(|m| crate::model::model_to_item(&m));
    let input = encoded.and_then(|new| {
        crate::migrate::rewrite_input(
            table.clone(),
            M::SCHEMA,
            stored,
            &new,
            &|name| crate::migrate::removable::<M>(migrated, name),
            false,
        )
    });
    let input = match input {
        Ok(Some(input)) => input,
        Ok(None) => return,
        Err(err) => {
            tracing::warn!(table = %table, error = %err, "dynorm: the migrated item was not written back");
            return;
        }
    };
    let mut ticket = db.ticket(crate::budget::Spend::Write).await;
    match input
        .set_return_consumed_capacity(db.capacity_mode())
        .send_with(db.write_client(false))
        .await
    {
        Ok(out) => {
            ticket.settle(out.consumed_capacity());
            db.record_capacity(out.consumed_capacity());
            tracing::debug!(table = %table, "dynorm: wrote back a migrated item");
        }
        Err(err) => {
            let err = ticket.fail(Error::from_sdk(err, &table));
            if matches!(err, Error::ConditionFailed { .. }) || err.code() == Some("ConditionalCheckFailedException") {
                tracing::debug!(table = %table, "dynorm: the item changed since it was read; not written back");
            } else {
                tracing::warn!(table = %table, error = %err, "dynorm: the migrated item was not written back");
            }
        }
    }
}
