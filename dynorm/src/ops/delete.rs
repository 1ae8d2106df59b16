use aws_sdk_dynamodb::operation::delete_item::builders::DeleteItemInputBuilder;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use tracing::Instrument;

use super::guard::Guard;
use super::{after_write, build_error, into_future, write_failure};
use crate::expr::render::Placeholders;
use crate::expr::Condition;
use crate::hooks;
use crate::item::key_item;
use crate::observe::op_span;
use crate::{Db, Model, Result};

/// Deletes one item by primary key. Made by `DynaModel::delete` and
/// `DynaModel::delete_by_key`. Deleting an item that does not exist succeeds, unless
/// a condition requires it.
///
/// Deleting an instance of a versioned model is conditioned on the instance's version: a
/// stale instance fails with [`Error::VersionConflict`](crate::Error::VersionConflict).
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct DeleteItem<'a, M: Model> {
    db: &'a Db,
    key: M::Key,
    guard: Guard<M>,
    /// The instance deleted, whose cascading relationships follow.
    instance: Option<&'a M>,
}

impl<'a, M: Model> DeleteItem<'a, M> {
    pub(crate) fn new(db: &'a Db, key: M::Key, version: Option<u64>) -> Self {
        let mut guard = Guard::new();
        if M::SCHEMA.version_attribute.is_some() {
            guard.expected_version = version;
        }
        DeleteItem {
            db,
            key,
            guard,
            instance: None,
        }
    }

    pub(crate) fn cascading(mut self, instance: &'a M) -> Self {
        self.instance = Some(instance);
        self
    }

    /// What the hooks see: the key and the instance deleted.
    pub(crate) fn hook_target(&self) -> (&M::Key, Option<&M>) {
        (&self.key, self.instance)
    }

    /// Only delete if `condition` holds for the item; otherwise fail with
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed), which carries the
    /// current item. Conditions given more than once are ANDed.
    pub fn condition(mut self, condition: Condition<M>) -> Self {
        self.guard.and(condition);
        self
    }

    /// Only delete if the item's `#[dynorm(version)]` field is `version`.
    pub fn expect_version(mut self, version: u64) -> Self {
        if M::SCHEMA.version_attribute.is_some() {
            self.guard.expected_version = Some(version);
        }
        self
    }

    /// Deletes whatever the item's version.
    pub fn skip_version_check(mut self) -> Self {
        self.guard.expected_version = None;
        self
    }

    /// The SDK input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<DeleteItemInput> {
        let mut guard = self.guard.clone();
        self.input_builder(self.db.table_name::<M>(), &mut guard)?
            .build()
            .map_err(build_error)
    }

    fn input_builder(&self, table: String, guard: &mut Guard<M>) -> Result<DeleteItemInputBuilder> {
        let key = key_item(M::SCHEMA, &self.key)?;
        let mut placeholders = Placeholders::default();
        let condition = guard.render(&mut placeholders)?;
        let on_failure = condition.as_ref().map(|_| ReturnValuesOnConditionCheckFailure::AllOld);
        let (names, values) = placeholders.into_maps();
        Ok(DeleteItemInput::builder()
            .table_name(table)
            .set_key(Some(key))
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure(on_failure)
            .set_return_consumed_capacity(self.db.capacity_mode()))
    }

    /// Sends the request.
    pub async fn send(mut self) -> Result<()> {
        let table = self.db.table_name::<M>();
        let span = op_span!("dynorm.delete_item", "DeleteItem", table);
        async move {
            hooks::before_delete(&self.key, self.instance)?;
            let mut guard = std::mem::replace(&mut self.guard, Guard::new());
            let input = self.input_builder(table.clone(), &mut guard)?;
            tracing::trace!(input = ?input, "delete_item");
            self.db.prepare::<M>(&table).await?;
            // An unconditional delete repeated deletes nothing more.
            let idempotent = input.get_condition_expression().is_none();
            let mut ticket = self.db.ticket(crate::budget::Spend::Write).await;
            let output = Box::pin(input.send_with(self.db.write_client(idempotent)))
                .await
                .map_err(|e| ticket.fail(write_failure(e, &table, idempotent).into_error(&table, &guard)))?;
            ticket.settle(output.consumed_capacity());
            self.db.record_capacity(output.consumed_capacity());
            if let (true, Some(instance)) = (M::CASCADES, self.instance) {
                after_write(&table, instance.cascade_delete(self.db).await)?;
            }
            hooks::after_delete(&self.key, self.instance);
            Ok(())
        }
        .instrument(span)
        .await
    }
}

into_future!(DeleteItem, ());
