//! Schema versions: every item a model with `#[schema(version = N, ..)]` writes carries
//! `N` in the version attribute (`_v` unless named), and an item read at an older
//! version passes through the model's migrations, one step per version, before it is
//! decoded. That happens on every read path: `get`, queries and scans, batch and
//! transactional gets, relationships, collections, change streams, the backfill runner
//! and [`DynaModel::from_item`](crate::DynaModel::from_item).
//!
//! A step is a function over the raw item:
//!
//! ```
//! use dynorm::aws_sdk_dynamodb::types::AttributeValue;
//! use dynorm::{BoxError, Item};
//!
//! /// Version 2 stores the name in two attributes.
//! fn split_name(item: &mut Item) -> Result<(), BoxError> {
//!     if let Some(AttributeValue::S(name)) = item.remove("name") {
//!         let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
//!         item.insert("first_name".into(), AttributeValue::S(first.into()));
//!         item.insert("last_name".into(), AttributeValue::S(last.into()));
//!     }
//!     Ok(())
//! }
//! # let mut item = Item::new();
//! # item.insert("name".into(), AttributeValue::S("Ada Lovelace".into()));
//! # split_name(&mut item).unwrap();
//! # assert_eq!(item["last_name"], AttributeValue::S("Lovelace".into()));
//! ```
//!
//! or a conversion between two Rust types of the model's shape at two versions, with
//! [`convert`]. A step should leave alone what the item does not hold: a projected read
//! migrates only the attributes it read.

use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemInputBuilder;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::expr::render::Placeholders;
use crate::schema::{SchemaVersion, TableSchema};
use crate::{BoxError, Error, Item, Model, Result};

/// The most attributes of an item a rewrite conditions on one by one: with more, only
/// those it changes (DynamoDB allows 300 operators in an expression).
pub const MAX_CONDITIONED: usize = 100;

/// DynamoDB's limit on an expression's length.
const MAX_EXPRESSION: usize = 4096;

/// The version as stored.
pub(crate) fn version_value(version: u32) -> AttributeValue {
    AttributeValue::N(version.to_string())
}

/// The schema version `item` was written with, for a model with `#[schema]`; `None`
/// for a model without. An item without the attribute is of the declared default
/// version. A version above the model's, or one that is not a number, is
/// [`Error::SchemaVersion`].
pub fn stored_version<M: Model>(item: &Item) -> Result<Option<u32>> {
    match M::SCHEMA.schema_version {
        None => Ok(None),
        Some(version) => version_of(M::SCHEMA, &version, item).map(Some),
    }
}

pub(crate) fn version_of(table: &TableSchema, version: &SchemaVersion, item: &Item) -> Result<u32> {
    let unreadable = |found: String| Error::SchemaVersion {
        table: table.name,
        found,
        current: version.current,
    };
    match item.get(version.attribute) {
        None => Ok(version.default),
        Some(AttributeValue::N(n)) => match n.parse::<u32>() {
            Ok(v) if (1..=version.current).contains(&v) => Ok(v),
            _ => Err(unreadable(n.clone())),
        },
        Some(other) => Err(unreadable(format!("{} value", crate::value::type_name(other)))),
    }
}

/// Brings `item` to the model's schema version: runs each migration step from the
/// version it was stored at, then sets the version attribute. Resolves to the version
/// it was stored at when it was migrated, `None` when it was current already (or the
/// model has no `#[schema]`). A step that fails is [`Error::Migration`]; `item` is then
/// left part way.
pub fn migrate<M: Model>(item: &mut Item) -> Result<Option<u32>> {
    let Some(version) = M::SCHEMA.schema_version else {
        return Ok(None);
    };
    let from = version_of(M::SCHEMA, &version, item)?;
    if from == version.current {
        return Ok(None);
    }
    for step in from..version.current {
        M::migrate(step, item).map_err(|source| Error::Migration {
            table: M::SCHEMA.name,
            from: step,
            source,
        })?;
    }
    item.insert(version.attribute.to_owned(), version_value(version.current));
    Ok(Some(from))
}

/// A migration step written as a conversion between Rust types: decodes the item as
/// `Old` (the model's shape at the older version), converts it with `f`, and replaces
/// `Old`'s attributes with `New`'s. Attributes `Old` does not hold (keys computed from
/// templates, the type attribute, the version attribute) are kept.
///
/// ```
/// use dynorm::{BoxError, Item};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Serialize, Deserialize)]
/// struct UserV1 { id: String, name: String }
/// #[derive(Serialize, Deserialize)]
/// struct UserV2 { id: String, name: String, display_name: String }
///
/// fn add_display_name(item: &mut Item) -> Result<(), BoxError> {
///     dynorm::migrate::convert(item, |old: UserV1| UserV2 {
///         display_name: old.name.to_uppercase(),
///         id: old.id,
///         name: old.name,
///     })
/// }
/// # let mut item = dynorm::to_item(&UserV1 { id: "u1".into(), name: "ada".into() }).unwrap();
/// # add_display_name(&mut item).unwrap();
/// # assert!(item.contains_key("display_name"));
/// ```
pub fn convert<Old, New, F>(item: &mut Item, f: F) -> Result<(), BoxError>
where
    Old: Serialize + DeserializeOwned,
    New: Serialize,
    F: FnOnce(Old) -> New,
{
    let old: Old = crate::item::from_item(item.clone())?;
    // What `Old` reads is what it writes back: those attributes are replaced.
    for name in crate::item::to_item(&old)?.into_keys() {
        item.remove(&name);
    }
    item.extend(crate::item::to_item(&f(old))?);
    Ok(())
}

/// An `UpdateItem` that turns `stored` into `new`, sent only if the item is still as it
/// was read: every attribute of the item as read is conditioned on its stored value,
/// and every attribute the update adds on being absent, so a concurrent change to any
/// of them fails the write (what a migration or a backfill function computed from them
/// is never written over a newer value); an attribute added concurrently is kept. An
/// item of more than [`MAX_CONDITIONED`] attributes is conditioned on those the update
/// changes, and on the version attributes, only. An attribute `new` lacks is
/// removed only where `removable` says so (the model's own attributes, and those a
/// migration dropped): attributes the model does not know are kept. The write is also
/// conditioned on the `#[dynorm(version)]` attribute as stored, and `bump_lock` adds 1
/// to it. `None` when there is nothing to change.
pub(crate) fn rewrite_input(
    table: String,
    schema: &TableSchema,
    stored: &Item,
    new: &Item,
    removable: &dyn Fn(&str) -> bool,
    bump_lock: bool,
) -> Result<Option<UpdateItemInputBuilder>> {
    let is_key = |name: &str| name == schema.hash_key.name || schema.range_key.is_some_and(|r| r.name == name);
    let mut key = Item::new();
    for attr in std::iter::once(schema.hash_key).chain(schema.range_key) {
        let value = stored
            .get(attr.name)
            .ok_or_else(|| Error::InvalidRequest(format!("the item has no key attribute `{}`", attr.name)))?;
        key.insert(attr.name.to_owned(), value.clone());
    }
    let mut ph = Placeholders::default();
    let mut sets = Vec::new();
    let mut removes = Vec::new();
    let mut conditions = Vec::new();
    let lock = schema.version_attribute.filter(|_| bump_lock);
    let whole = stored.len() <= MAX_CONDITIONED;
    // Sorted, so that the same change renders the same request.
    let mut changed: Vec<(&String, &AttributeValue)> = new
        .iter()
        .filter(|(name, value)| !is_key(name) && lock != Some(name.as_str()) && stored.get(*name) != Some(*value))
        .collect();
    changed.sort_by(|a, b| a.0.cmp(b.0));
    for (name, value) in changed {
        let n = ph.name(name);
        let v = ph.value(value.clone());
        sets.push(format!("{n} = {v}"));
        conditions.push(match stored.get(name) {
            Some(old) => format!("{n} = {}", ph.value(old.clone())),
            None => format!("attribute_not_exists({n})"),
        });
    }
    let mut dropped: Vec<(&String, &AttributeValue)> = stored
        .iter()
        .filter(|(name, _)| !is_key(name) && !new.contains_key(*name) && Some(name.as_str()) != lock && removable(name))
        .collect();
    dropped.sort_by(|a, b| a.0.cmp(b.0));
    for (name, old) in dropped {
        let n = ph.name(name);
        removes.push(n.clone());
        conditions.push(format!("{n} = {}", ph.value(old.clone())));
    }
    if sets.is_empty() && removes.is_empty() {
        return Ok(None);
    }
    // The attributes the update leaves as they are, but were read: unchanged too.
    if whole {
        let mut kept: Vec<(&String, &AttributeValue)> = stored
            .iter()
            .filter(|(name, value)| {
                !is_key(name) && Some(name.as_str()) != schema.version_attribute && new.get(*name) == Some(*value)
            })
            .collect();
        kept.sort_by(|a, b| a.0.cmp(b.0));
        for (name, value) in kept {
            let n = ph.name(name);
            conditions.push(format!("{n} = {}", ph.value(value.clone())));
        }
    } else if let Some(version) = schema.schema_version {
        if !new.contains_key(version.attribute) || stored.get(version.attribute) == new.get(version.attribute) {
            let n = ph.name(version.attribute);
            conditions.push(match stored.get(version.attribute) {
                Some(v) => format!("{n} = {}", ph.value(v.clone())),
                None => format!("attribute_not_exists({n})"),
            });
        }
    }
    if let Some(attr) = schema.version_attribute {
        let n = ph.name(attr);
        match stored.get(attr) {
            Some(AttributeValue::N(current)) => {
                conditions.push(format!("{n} = {}", ph.value(AttributeValue::N(current.clone()))));
                if bump_lock {
                    let next = current.parse::<u64>().unwrap_or(0).saturating_add(1);
                    if next > schema.version_max {
                        return Err(Error::VersionOverflow {
                            table,
                            current: next - 1,
                        });
                    }
                    sets.push(format!("{n} = {}", ph.value(AttributeValue::N(next.to_string()))));
                }
            }
            _ => {
                conditions.push(format!("attribute_not_exists({n})"));
                if bump_lock {
                    sets.push(format!("{n} = {}", ph.value(AttributeValue::N("1".into()))));
                }
            }
        }
    }
    // The item must still exist: a concurrent delete is not undone.
    let hash = ph.name(schema.hash_key.name);
    conditions.push(format!("attribute_exists({hash})"));
    let mut expression = String::new();
    if !sets.is_empty() {
        expression.push_str("SET ");
        expression.push_str(&sets.join(", "));
    }
    if !removes.is_empty() {
        if !expression.is_empty() {
            expression.push(' ');
        }
        expression.push_str("REMOVE ");
        expression.push_str(&removes.join(", "));
    }
    let condition = conditions.join(" AND ");
    if expression.len() > MAX_EXPRESSION || condition.len() > MAX_EXPRESSION {
        return Err(Error::InvalidRequest(format!(
            "the rewrite changes or reads too many attributes for one update ({} and {} bytes of expression, at most {MAX_EXPRESSION})",
            expression.len(),
            condition.len()
        )));
    }
    let (names, values) = ph.into_maps();
    Ok(Some(
        UpdateItemInput::builder()
            .table_name(table)
            .set_key(Some(key))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names(names)
            .set_expression_attribute_values(values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld),
    ))
}

/// Whether a rewrite of an item of `M` may remove `name` when the new item lacks it:
/// an attribute of the model's (a field now absent, a sparse index key), or one the
/// migrations removed (`migrated` lacks it). Other attributes are not the model's to
/// remove.
pub(crate) fn removable<M: Model>(migrated: &Item, name: &str) -> bool {
    let schema = M::SCHEMA;
    !migrated.contains_key(name)
        || schema.attributes.names.contains(&name)
        || schema
            .entity
            .is_some_and(|e| e.type_attribute == name || e.keys.iter().any(|k| k.attribute == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, &str)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), AttributeValue::S((*v).to_owned())))
            .collect()
    }

    #[test]
    fn the_typed_conversion_keeps_what_the_old_type_does_not_hold() {
        #[derive(Serialize, serde::Deserialize)]
        struct Old {
            name: String,
        }
        #[derive(Serialize)]
        struct New {
            full_name: String,
        }
        let mut stored = item(&[("pk", "USER#1"), ("name", "ada")]);
        convert(&mut stored, |old: Old| New { full_name: old.name }).unwrap();
        assert_eq!(stored, item(&[("pk", "USER#1"), ("full_name", "ada")]));
    }
}
