//! Update expressions: SET, REMOVE, ADD and DELETE actions on typed paths.

use std::fmt;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use super::path::{List, Numeric, Path, Segment, Set, SetElement, ValueOf};

/// The actions of one update, on items of the model `R`.
///
/// Each method adds one action. Actions on nested paths are fine; two actions on the
/// same path, or on a path and one inside it, are rejected when the request is built,
/// as DynamoDB would reject them.
///
/// ```
/// # #[derive(dynorm::DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String, views: u64, tags: Vec<String>, note: Option<String> }
/// use dynorm::expr::Update;
/// use dynorm::DynaModel;
///
/// let f = Book::fields();
/// let update = Update::new()
///     .set(f.title(), "Dune Messiah")
///     .increment(f.views(), 1)
///     .append(f.tags(), ["sequel"])
///     .remove(f.note());
/// ```
#[must_use = "an update does nothing until it is given to a request"]
pub struct Update<R> {
    pub(crate) actions: Vec<Action>,
    pub(crate) errors: Vec<crate::value::ValueError>,
    _model: PhantomData<fn() -> R>,
}

impl<R> Clone for Update<R> {
    fn clone(&self) -> Self {
        Update {
            actions: self.actions.clone(),
            errors: super::condition::clone_errors(&self.errors),
            _model: PhantomData,
        }
    }
}

impl<R> Default for Update<R> {
    fn default() -> Self {
        Update::new()
    }
}

impl<R> fmt::Debug for Update<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Update").field("actions", &self.actions).finish()
    }
}

/// One update action.
#[derive(Clone, Debug)]
pub(crate) enum Action {
    /// `SET path = value`
    Set(Vec<Segment>, AttributeValue),
    /// `SET path = if_not_exists(path, value)`
    SetIfNotExists(Vec<Segment>, AttributeValue),
    /// `SET path = if_not_exists(path, 0) + n`, or `- n`
    Increment(Vec<Segment>, AttributeValue, bool),
    /// `SET path = list_append(if_not_exists(path, []), list)`, or the list first
    Append(Vec<Segment>, AttributeValue, bool),
    /// `REMOVE path`
    Remove(Vec<Segment>),
    /// `ADD path value`
    Add(Vec<Segment>, AttributeValue),
    /// `DELETE path set`
    Delete(Vec<Segment>, AttributeValue),
}

impl Action {
    /// Whether applying the action twice leaves what applying it once does: a SET of a
    /// value, a REMOVE, an ADD or DELETE of set elements, on a path without list indexes.
    /// Increments, number ADD and `list_append` count twice.
    pub(crate) fn is_idempotent(&self) -> bool {
        // A list index moves: `REMOVE l[0]` twice removes two elements, and a SET past the
        // end appends each time.
        if self.segments().iter().any(|s| matches!(s, Segment::Index(_))) {
            return false;
        }
        match self {
            Action::Set(..) | Action::SetIfNotExists(..) | Action::Remove(_) | Action::Delete(..) => true,
            Action::Add(_, value) => !matches!(value, AttributeValue::N(_)),
            Action::Increment(..) | Action::Append(..) => false,
        }
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        match self {
            Action::Set(p, _)
            | Action::SetIfNotExists(p, _)
            | Action::Increment(p, _, _)
            | Action::Append(p, _, _)
            | Action::Remove(p)
            | Action::Add(p, _)
            | Action::Delete(p, _) => p,
        }
    }
}

impl<R> Update<R> {
    /// An update with no actions.
    pub fn new() -> Self {
        Update {
            actions: Vec::new(),
            errors: Vec::new(),
            _model: PhantomData,
        }
    }

    /// Whether no action has been added.
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Adds the actions of `other` to this update.
    pub fn merge(mut self, other: Update<R>) -> Self {
        self.actions.extend(other.actions);
        self.errors.extend(other.errors);
        self
    }

    fn push(
        mut self,
        value: Result<AttributeValue, crate::value::ValueError>,
        action: impl FnOnce(AttributeValue) -> Action,
    ) -> Self {
        match value {
            Ok(value) => self.actions.push(action(value)),
            Err(err) => self.errors.push(err),
        }
        self
    }

    pub(crate) fn push_action(&mut self, action: Action) {
        self.actions.push(action);
    }

    /// `SET path = value`.
    pub fn set<T>(self, path: Path<R, T>, value: impl ValueOf<T>) -> Self {
        let encoded = path.encode_value(value);
        self.push(encoded, |v| Action::Set(path.segments, v))
    }

    /// `SET path = if_not_exists(path, value)`: sets the value only where the attribute
    /// is absent.
    pub fn set_if_not_exists<T>(self, path: Path<R, T>, value: impl ValueOf<T>) -> Self {
        let encoded = path.encode_value(value);
        self.push(encoded, |v| Action::SetIfNotExists(path.segments, v))
    }

    /// `REMOVE path`.
    pub fn remove<T>(mut self, path: Path<R, T>) -> Self {
        self.actions.push(Action::Remove(path.segments));
        self
    }

    /// Adds `by` to a number (`SET path = if_not_exists(path, 0) + by`); an absent
    /// attribute counts as 0.
    pub fn increment<T: Numeric>(self, path: Path<R, T>, by: impl ValueOf<T>) -> Self {
        let encoded = path.encode_value(by);
        self.push(encoded, |v| Action::Increment(path.segments, v, false))
    }

    /// Subtracts `by` from a number; an absent attribute counts as 0.
    pub fn decrement<T: Numeric>(self, path: Path<R, T>, by: impl ValueOf<T>) -> Self {
        let encoded = path.encode_value(by);
        self.push(encoded, |v| Action::Increment(path.segments, v, true))
    }

    /// `ADD path n` on a number: adds `n`, starting from 0 when the attribute is absent.
    pub fn add<T: Numeric>(self, path: Path<R, T>, n: impl ValueOf<T>) -> Self {
        let encoded = path.encode_value(n);
        self.push(encoded, |v| Action::Add(path.segments, v))
    }

    /// `ADD path {elements}` on a set: adds the elements, creating the set when absent.
    /// An empty iterator adds nothing.
    pub fn add_to_set<T: Set, E: ValueOf<T::Element>>(
        mut self,
        path: Path<R, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        if let Some(set) = to_set::<T::Element, E>(elements) {
            self.actions.push(Action::Add(path.segments, set));
        }
        self
    }

    /// `DELETE path {elements}` on a set: removes the elements. An empty iterator removes
    /// nothing.
    pub fn delete_from_set<T: Set, E: ValueOf<T::Element>>(
        mut self,
        path: Path<R, T>,
        elements: impl IntoIterator<Item = E>,
    ) -> Self {
        if let Some(set) = to_set::<T::Element, E>(elements) {
            self.actions.push(Action::Delete(path.segments, set));
        }
        self
    }

    /// Appends to a list (`list_append`); an absent list counts as empty.
    pub fn append<T: List, E: ValueOf<T::Element>>(self, path: Path<R, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.list_append(path, items, false)
    }

    /// Prepends to a list (`list_append` with the new items first); an absent list
    /// counts as empty.
    pub fn prepend<T: List, E: ValueOf<T::Element>>(self, path: Path<R, T>, items: impl IntoIterator<Item = E>) -> Self
    where
        T::Element: Serialize,
    {
        self.list_append(path, items, true)
    }

    fn list_append<T: List, E: ValueOf<T::Element>>(
        self,
        path: Path<R, T>,
        items: impl IntoIterator<Item = E>,
        prepend: bool,
    ) -> Self
    where
        T::Element: Serialize,
    {
        let list: Vec<T::Element> = items.into_iter().map(ValueOf::into_value).collect();
        let encoded = crate::encode::to_attribute_value(&list, path.segments.len().max(1), crate::schema::Shape::Plain);
        self.push(encoded, |v| Action::Append(path.segments, v, prepend))
    }
}

fn to_set<T: SetElement, E: ValueOf<T>>(elements: impl IntoIterator<Item = E>) -> Option<AttributeValue> {
    let elements: Vec<T> = elements.into_iter().map(ValueOf::into_value).collect();
    if elements.is_empty() {
        None
    } else {
        Some(T::to_set(elements))
    }
}
