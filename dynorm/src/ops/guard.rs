//! What every conditional write shares: the conditions it is sent with (the caller's,
//! uniqueness, the version check) and the typed error a failed condition becomes.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::expr::render::Placeholders;
use crate::expr::Condition;
use crate::{Error, Item, Model, Result};

/// The conditions of one write.
pub(crate) struct Guard<M> {
    /// The caller's condition.
    pub condition: Option<Condition<M>>,
    /// Require that no item has the key (`put_unique`, `create`).
    pub unique: bool,
    /// The version the item must have; 0 means the item must have no version yet (it
    /// does not exist, or was written without one). `None` when the model has no
    /// version field or the check is skipped.
    pub expected_version: Option<u64>,
    /// The write adds 1 to the stored version (an update by key): the item's version must
    /// be below the field type's maximum, so that the result still fits.
    pub version_capped: bool,
    /// The write was also conditioned on the item being of the entity's type (an
    /// update of an entity): a failed condition on another entity's item is
    /// `WrongEntity`.
    pub entity_type: bool,
    /// The write was also conditioned on the item being at the model's schema version
    /// (an update of a model with `#[schema]`): a failed condition on an older item is
    /// `OutdatedItem`.
    pub schema_version: bool,
}

impl<M> Clone for Guard<M> {
    fn clone(&self) -> Self {
        Guard {
            condition: self.condition.clone(),
            unique: self.unique,
            expected_version: self.expected_version,
            version_capped: self.version_capped,
            entity_type: self.entity_type,
            schema_version: self.schema_version,
        }
    }
}

impl<M: Model> Guard<M> {
    pub(crate) fn new() -> Self {
        Guard {
            condition: None,
            unique: false,
            expected_version: None,
            version_capped: false,
            entity_type: false,
            schema_version: false,
        }
    }

    /// Adds a caller's condition, ANDed with any earlier one.
    pub(crate) fn and(&mut self, condition: Condition<M>) {
        self.condition = Some(match self.condition.take() {
            Some(existing) => existing & condition,
            None => condition,
        });
    }

    /// The condition expression, or `None` when the write is unconditional.
    pub(crate) fn render(&mut self, placeholders: &mut Placeholders) -> Result<Option<String>> {
        let schema = M::SCHEMA;
        let mut parts = Vec::new();
        if self.unique {
            // A unique write needs no item at all, whatever its version.
            let hash = placeholders.name(schema.hash_key.name);
            parts.push(format!("attribute_not_exists({hash})"));
        } else if let (Some(attr), Some(expected)) = (schema.version_attribute, self.expected_version) {
            let name = placeholders.name(attr);
            if expected == 0 {
                // Version 0 is a first versioned write: no item, or one written without a
                // version (by another program, or before the field existed).
                parts.push(format!("attribute_not_exists({name})"));
            } else {
                let value = placeholders.value(AttributeValue::N(expected.to_string()));
                parts.push(format!("{name} = {value}"));
            }
        }
        if let (Some(attr), true) = (schema.version_attribute, self.version_capped) {
            let name = placeholders.name(attr);
            let max = placeholders.value(AttributeValue::N(M::SCHEMA.version_max.to_string()));
            parts.push(format!("attribute_not_exists({name}) OR {name} < {max}"));
        }
        if let Some(condition) = self.condition.take() {
            parts.push(placeholders.condition(condition)?);
        }
        Ok(match parts.len() {
            0 => None,
            1 => parts.pop(),
            _ => Some(parts.iter().map(|p| format!("({p})")).collect::<Vec<_>>().join(" AND ")),
        })
    }

    /// The error for a failed condition, given the item DynamoDB returned (`ALL_OLD`).
    pub(crate) fn failure(&self, table: String, item: Option<Item>) -> Error {
        if let (true, Some(entity), Some(found)) = (self.entity_type, M::SCHEMA.entity, item.as_ref()) {
            if !crate::template::is_of(M::SCHEMA, found) {
                return Error::WrongEntity {
                    table: M::SCHEMA.name,
                    expected: entity.type_name,
                    found: match found.get(entity.type_attribute) {
                        Some(AttributeValue::S(t)) => Some(t.clone()),
                        _ => None,
                    },
                };
            }
        }
        if let (true, Some(version), Some(found)) = (self.schema_version, M::SCHEMA.schema_version, item.as_ref()) {
            match crate::migrate::version_of(M::SCHEMA, &version, found) {
                Ok(stored) if stored < version.current => {
                    return Error::OutdatedItem {
                        table,
                        stored,
                        current: version.current,
                    }
                }
                Err(err) => return err,
                Ok(_) => {}
            }
        }
        if self.unique && item.is_some() {
            return Error::AlreadyExists {
                table,
                item: item.map(Box::new),
            };
        }
        let found = M::SCHEMA.version_attribute.and_then(|attr| {
            item.as_ref().and_then(|i| match i.get(attr) {
                Some(AttributeValue::N(n)) => n.parse::<u64>().ok(),
                _ => None,
            })
        });
        if let (true, Some(current)) = (self.version_capped, found) {
            if current >= M::SCHEMA.version_max {
                return Error::VersionOverflow { table, current };
            }
        }
        if let (Some(_), Some(expected)) = (M::SCHEMA.version_attribute, self.expected_version) {
            // With the item missing, a check of version 0 held; of any other version failed.
            let conflict = match expected {
                0 => found.is_some(),
                _ => found != Some(expected),
            };
            if conflict {
                return Error::VersionConflict {
                    table,
                    expected,
                    item: item.map(Box::new),
                };
            }
        }
        Error::ConditionFailed {
            table,
            item: item.map(Box::new),
        }
    }
}

/// The next version after `current`, as DynamoDB stores it; refused when it would not fit
/// the model's version field, so an item is never stored with a version it cannot read.
pub(crate) fn next_version<M: Model>(current: u64, table: &str) -> Result<AttributeValue> {
    if current >= M::SCHEMA.version_max {
        return Err(Error::VersionOverflow {
            table: table.to_owned(),
            current,
        });
    }
    Ok(AttributeValue::N((current + 1).to_string()))
}
