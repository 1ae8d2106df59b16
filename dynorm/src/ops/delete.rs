use std::marker::PhantomData;

use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use tracing::Instrument;

use super::{build_error, into_future};
use crate::item::key_item;
use crate::{Db, DynaModel, Error, Result};

/// Deletes one item by primary key. Made by [`DynaModel::delete`] and
/// [`DynaModel::delete_by_key`]. Deleting an item that does not exist succeeds.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct DeleteItem<'a, M: DynaModel> {
    db: &'a Db,
    key: M::Key,
    _model: PhantomData<fn() -> M>,
}

impl<'a, M: DynaModel> DeleteItem<'a, M> {
    pub(crate) fn new(db: &'a Db, key: M::Key) -> Self {
        DeleteItem {
            db,
            key,
            _model: PhantomData,
        }
    }

    /// The SDK input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<DeleteItemInput> {
        self.input_builder(self.db.table_name::<M>())?
            .build()
            .map_err(build_error)
    }

    fn input_builder(&self, table: String) -> Result<DeleteItemInputBuilder> {
        Ok(DeleteItemInput::builder()
            .table_name(table)
            .set_key(Some(key_item::<M>(&self.key)?)))
    }

    /// Sends the request.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        let span = tracing::debug_span!("dynorm.delete_item", table = %table);
        async move {
            let input = self.input_builder(table.clone())?;
            self.db.prepare::<M>(&table).await?;
            input
                .send_with(self.db.client())
                .await
                .map_err(|e| Error::from_sdk(e, &table))?;
            Ok(())
        }
        .instrument(span)
        .await
    }
}

into_future!(DeleteItem, ());
