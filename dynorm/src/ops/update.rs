use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use serde::Serialize;
use tracing::Instrument;

use super::guard::{next_version, Guard};
use super::{after_write, build_error, into_future, refresh, write_failure};
use crate::expr::render::Placeholders;
use crate::expr::{Action, Condition, List, Numeric, Path, Segment, Set, Update, ValueOf};
use crate::hooks;
use crate::item::key_item;
use crate::observe::op_span;
use crate::{Db, Model, Result};

/// What an update resolves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReturnValues {
    /// The item after the update (the default).
    #[default]
    AllNew,
    /// The item before the update; `None` when the update created it.
    AllOld,
    /// Nothing: the update resolves to `None`.
    None,
}

/// Updates one item with SET, REMOVE, ADD and DELETE actions on typed paths. Made by
/// `DynaModel::update` (on an instance, which is refreshed from the result),
/// `DynaModel::update_by_key` and the manager's `update` and `partial_update`.
///
/// ```no_run
/// # use dynorm::{Db, DynaModel};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String, views: u64, tags: Vec<String> }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// let f = Book::fields();
/// let updated = Book::update_by_key(&db, "isbn-1")
///     .increment(f.views(), 1)
///     .append(f.tags(), ["classic"])
///     .condition(f.isbn().exists())
///     .await?;
/// # Ok(()) }
/// ```
///
/// Versioned models: an instance's update is conditioned on its version and stores the
/// next one; an update by key increments the version (`ADD`) and checks it only when
/// given [`expect_version`](UpdateItem::expect_version). `#[dynorm(updated_at)]` is set,
/// and `#[dynorm(created_at)]` set only where absent.
#[must_use = "a request does nothing until it is awaited or sent"]
pub struct UpdateItem<'a, M: Model> {
    db: &'a Db,
    key: M::Key,
    target: Option<&'a mut M>,
    update: Update<M>,
    guard: Guard<M>,
    check_version: bool,
    return_values: ReturnValues,
    /// A tracked instance's partial save: runs the save hooks, not the update hooks.
    as_save: bool,
}

impl<'a, M: Model> UpdateItem<'a, M> {
    pub(crate) fn for_instance(db: &'a Db, model: &'a mut M) -> Self {
        let mut guard = Guard::new();
        guard.expected_version = model.version();
        UpdateItem {
            db,
            key: model.key(),
            target: Some(model),
            update: Update::new(),
            guard,
            check_version: true,
            return_values: ReturnValues::AllNew,
            as_save: false,
        }
    }

    pub(crate) fn for_key(db: &'a Db, key: M::Key) -> Self {
        UpdateItem {
            db,
            key,
            target: None,
            update: Update::new(),
            guard: Guard::new(),
            check_version: true,
            return_values: ReturnValues::AllNew,
            as_save: false,
        }
    }

    /// Runs the save hooks instead of the update hooks ([`Tracked::save`](crate::Tracked::save)).
    pub(crate) fn for_tracked_save(mut self) -> Self {
        self.as_save = true;
        self
    }

    /// What the update hooks see: the key and the instance updated. (A tracked save,
    /// which runs the save hooks, never goes into a transaction.)
    pub(crate) fn hook_target(&self) -> (&M::Key, Option<&M>) {
        (&self.key, self.target.as_deref())
    }

    fn with(mut self, f: impl FnOnce(Update<M>) -> Update<M>) -> Self {
        self.update = f(std::mem::take(&mut self.update));
        self
    }

    /// Adds the actions of a prepared [`Update`].
    pub fn apply(self, update: Update<M>) -> Self {
        self.with(|u| u.merge(update))
    }

    /// `SET path = value`.
    pub fn set<T>(self, path: Path<M, T>, value: impl ValueOf<T>) -> Self {
        self.with(|u| u.set(path, value))
    }

    /// `SET path = if_not_exists(path, value)`.
    pub fn set_if_not_exists<T>(self, path: Path<M, T>, value: impl ValueOf<T>) -> Self {
        self.with(|u| u.set_if_not_exists(path, value))
    }

    /// `REMOVE path`.
    pub fn remove<T>(self, path: Path<M, T>) -> Self {
        self.with(|u| u.remove(path))
    }

    /// Adds `by` to a number; an absent attribute counts as 0.
    pub fn increment<T: Numeric>(self, path: Path<M, T>, by: impl ValueOf<T>) -> Self {
        self.with(|u| u.increment(path, by))
    }

    /// Subtracts `by` from a number; an absent attribute counts as 0.
    pub fn decrement<T: Numeric>(self, path: Path<M, T>, by: impl ValueOf<T>) -> Self {
        self.with(|u| u.decrement(path, by))
    }

    /// `ADD path n` on a number.
    pub fn add<T: Numeric>(self, path: Path<M, T>, n: impl ValueOf<T>) -> Self {
        self.with(|u| u.add(path, n))
    }

    /// `ADD path {elements}` on a set.
    pub fn add_to_set<T: Set, E: ValueOf<T::Element>>(
        self,
        path: Path<M, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        self.with(|u| u.add_to_set(path, elements))
    }

    /// `DELETE path {elements}` on a set.
    pub fn delete_from_set<T: Set, E: ValueOf<T::Element>>(
        self,
        path: Path<M, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        self.with(|u| u.delete_from_set(path, elements))
    }

    /// Appends to a list; an absent list counts as empty.
    pub fn append<T: List, E: ValueOf<T::Element>>(self, path: Path<M, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.with(|u| u.append(path, items))
    }

    /// Prepends to a list; an absent list counts as empty.
    pub fn prepend<T: List, E: ValueOf<T::Element>>(self, path: Path<M, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.with(|u| u.prepend(path, items))
    }

    /// Only update if `condition` holds; otherwise fail with
    /// [`Error::ConditionFailed`](crate::Error::ConditionFailed), which carries the
    /// current item. Conditions given more than once are ANDed.
    pub fn condition(mut self, condition: Condition<M>) -> Self {
        self.guard.and(condition);
        self
    }

    /// Only update if the item's `#[dynorm(version)]` field is `version` (0: the item
    /// must not exist), and store `version + 1`.
    pub fn expect_version(mut self, version: u64) -> Self {
        self.guard.expected_version = Some(version);
        self.check_version = true;
        self
    }

    /// Updates whatever the item's version; the version is still incremented.
    pub fn skip_version_check(mut self) -> Self {
        self.check_version = false;
        self
    }

    /// What the update resolves to: the new item (default), the old one, or nothing.
    /// Ignored on an instance's update, which always asks for the new item to refresh
    /// the instance (its version, its timestamps) from it.
    pub fn return_values(mut self, return_values: ReturnValues) -> Self {
        self.return_values = return_values;
        self
    }

    /// The SDK input this request sends. Makes no network call.
    pub fn to_input(&self) -> Result<UpdateItemInput> {
        let mut guard = self.guard.clone();
        self.input_builder(self.db.table_name::<M>(), self.update.clone(), &mut guard)?
            .0
            .build()
            .map_err(build_error)
    }

    /// The request, and whether sending it twice is harmless: no condition, and only
    /// actions that set values rather than add to them.
    fn input_builder(
        &self,
        table: String,
        update: Update<M>,
        guard: &mut Guard<M>,
    ) -> Result<(UpdateItemInputBuilder, bool)> {
        let schema = M::SCHEMA;
        let key = key_item(M::SCHEMA, &self.key)?;
        let mut update = update;
        refuse_key_updates::<M>(&update.actions)?;
        if let Some(attr) = schema.version_attribute {
            let path = vec![Segment::Name(attr.into())];
            match (self.check_version, guard.expected_version) {
                (true, Some(expected)) => update.push_action(Action::Set(path, next_version::<M>(expected, &table)?)),
                _ => {
                    guard.expected_version = None;
                    guard.version_capped = true;
                    update.push_action(Action::Add(path, AttributeValue::N("1".into())));
                }
            }
        } else {
            guard.expected_version = None;
        }
        if let Some((attr, now)) = M::SCHEMA.updated_at.map(|f| (f.attribute, (f.now)())) {
            update.push_action(Action::Set(vec![Segment::Name(attr.into())], now?));
        }
        if let Some((attr, now)) = M::SCHEMA.created_at.map(|f| (f.attribute, (f.now)())) {
            update.push_action(Action::SetIfNotExists(vec![Segment::Name(attr.into())], now?));
        }
        let repeatable = update.actions.iter().all(Action::is_idempotent);
        let mut placeholders = Placeholders::default();
        let expression = placeholders.update(update)?;
        let condition = guard.render(&mut placeholders)?;
        let idempotent = repeatable && condition.is_none();
        let on_failure = condition.as_ref().map(|_| ReturnValuesOnConditionCheckFailure::AllOld);
        let (names, values) = placeholders.into_maps();
        let return_values = match if self.target.is_some() {
            ReturnValues::AllNew
        } else {
            self.return_values
        } {
            ReturnValues::AllNew => ReturnValue::AllNew,
            ReturnValues::AllOld => ReturnValue::AllOld,
            ReturnValues::None => ReturnValue::None,
        };
        let input = UpdateItemInput::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(expression)
            .set_condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .set_return_values_on_condition_check_failure(on_failure)
            .return_values(return_values)
            .set_return_consumed_capacity(self.db.capacity_mode());
        Ok((input, idempotent))
    }

    /// Sends the request. Resolves to the item [`return_values`](Self::return_values)
    /// asks for.
    ///
    /// Once DynamoDB has applied the update, a failure to decode the item it returned
    /// (into the instance, or as the result) is [`Error::Applied`](crate::Error::Applied).
    pub async fn send(mut self) -> Result<Option<M>> {
        let table = self.db.table_name::<M>();
        let span = op_span!("dynorm.update_item", "UpdateItem", table);
        async move {
            match (&self.target, self.as_save) {
                (Some(target), true) => hooks::before_save(&**target)?,
                (target, _) => hooks::before_update(&self.key, target.as_deref())?,
            }
            let mut guard = std::mem::replace(&mut self.guard, Guard::new());
            let update = std::mem::take(&mut self.update);
            let (input, idempotent) = self.input_builder(table.clone(), update, &mut guard)?;
            tracing::trace!(input = ?input, "update_item");
            self.db.prepare::<M>(&table).await?;
            let output = Box::pin(input.send_with(self.db.write_client(idempotent)))
                .await
                .map_err(|e| write_failure(e, &table, idempotent).into_error(&table, &guard))?;
            self.db.record_capacity(output.consumed_capacity());
            let item = output.attributes;
            if self.as_save {
                // A tracked save only refreshes its instance: one decode, nothing returned.
                if let Some(target) = self.target {
                    if let Some(new) = item {
                        after_write(&table, refresh(target, new))?;
                    }
                    hooks::after_save(&*target);
                }
                return Ok(None);
            }
            let target = match (self.target, &item) {
                (Some(target), Some(new)) => {
                    // Decoded twice rather than requiring `M: Clone`.
                    after_write(&table, refresh(target, new.clone()))?;
                    Some(&*target)
                }
                (target, _) => target.map(|t| &*t),
            };
            let returned = after_write(&table, item.map(hooks::load::<M>).transpose())?;
            hooks::after_update(&self.key, target.or(returned.as_ref()));
            Ok(returned)
        }
        .instrument(span)
        .await
    }
}

/// Refuses an update of the primary key attributes, which DynamoDB cannot change (an item
/// is moved by a put under the new key and a delete of the old one).
fn refuse_key_updates<M: Model>(actions: &[Action]) -> Result<()> {
    let schema = M::SCHEMA;
    for action in actions {
        if let [Segment::Name(name)] = action.segments() {
            let is_key = name == schema.hash_key.name || schema.range_key.is_some_and(|r| name == r.name);
            if is_key {
                return Err(crate::Error::InvalidExpression(format!(
                    "an update cannot change the key attribute `{name}`; put the item under the new key and delete the old one"
                )));
            }
        }
    }
    Ok(())
}

into_future!(UpdateItem, Option<M>);
