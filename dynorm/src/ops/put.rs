use aws_sdk_dynamodb::operation::put_item::builders::PutItemInputBuilder;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemInput};
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use aws_smithy_runtime_api::client::result::SdkError;
use tracing::Instrument;

use super::{build_error, into_future};
use crate::item::encode_model;
use crate::{Db, DynaModel, Error, Result};

/// Writes a whole item. Made by [`DynaModel::put`], [`DynaModel::put_unique`] and
/// [`DynaModel::save`].
///
/// The model is validated with its `validator` rules and checked against DynamoDB's
/// limits (item size, key sizes, empty sets, non-finite numbers) before anything is sent.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct PutItem<'a, M: DynaModel> {
    db: &'a Db,
    model: &'a M,
    unique: bool,
}

impl<'a, M: DynaModel> PutItem<'a, M> {
    pub(crate) fn new(db: &'a Db, model: &'a M) -> Self {
        PutItem {
            db,
            model,
            unique: false,
        }
    }

    /// Only write if no item has this key; otherwise fail with
    /// [`Error::AlreadyExists`].
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// The SDK input this request sends, after validation and checks. Makes no network
    /// call.
    pub fn to_input(&self) -> Result<PutItemInput> {
        self.input_builder(self.db.table_name::<M>())?
            .build()
            .map_err(build_error)
    }

    fn input_builder(&self, table: String) -> Result<PutItemInputBuilder> {
        self.model.validate()?;
        let item = encode_model(self.model)?;
        let mut input = PutItemInput::builder().table_name(table).set_item(Some(item));
        if self.unique {
            input = input
                .condition_expression("attribute_not_exists(#h)")
                .expression_attribute_names("#h", M::schema().hash_key.name)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        }
        Ok(input)
    }

    /// Sends the request.
    pub async fn send(self) -> Result<()> {
        let table = self.db.table_name::<M>();
        let span = tracing::debug_span!("dynorm.put_item", table = %table, unique = self.unique);
        async move {
            let input = self.input_builder(table.clone())?;
            self.db.prepare::<M>(&table).await?;
            match input.send_with(self.db.client()).await {
                Ok(_) => Ok(()),
                Err(SdkError::ServiceError(e))
                    if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
                {
                    let item = match e.into_err() {
                        PutItemError::ConditionalCheckFailedException(inner) => inner.item.map(Box::new),
                        _ => None,
                    };
                    if self.unique {
                        return Err(Error::AlreadyExists { table, item });
                    }
                    Err(Error::ConditionFailed { table, item })
                }
                Err(e) => Err(Error::from_sdk(e, &table)),
            }
        }
        .instrument(span)
        .await
    }
}

into_future!(PutItem, ());

/// Saves a whole instance: validates it, checks it and writes it. Made by
/// [`DynaModel::save`].
///
/// Today a save is a full put of the item. It has its own type so that saving can grow
/// (version checks, partial saves) without changing what `put` means.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct SaveItem<'a, M: DynaModel>(PutItem<'a, M>);

impl<'a, M: DynaModel> SaveItem<'a, M> {
    pub(crate) fn new(db: &'a Db, model: &'a M) -> Self {
        SaveItem(PutItem::new(db, model))
    }

    /// The SDK input this request sends, after validation and checks. Makes no network
    /// call.
    pub fn to_input(&self) -> Result<PutItemInput> {
        self.0.to_input()
    }

    /// Sends the request.
    pub async fn send(self) -> Result<()> {
        self.0.send().await
    }
}

into_future!(SaveItem, ());
