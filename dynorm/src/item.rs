//! Conversion between models and DynamoDB items, and the client-side checks DynamoDB
//! would otherwise make on the server: item size, key sizes, empty sets, non-finite
//! numbers and nesting depth.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{KeyProblem, ValueProblem};
use crate::model::{DynaModel, KeyAttr, KeyType, PrimaryKey};
use crate::{Error, Result};

/// A DynamoDB item: attribute names to values, as the SDK represents it.
pub type Item = HashMap<String, AttributeValue>;

/// DynamoDB's maximum item size: 400 KB.
pub const MAX_ITEM_SIZE: usize = 400 * 1024;
/// DynamoDB's maximum hash (partition) key value size.
pub const MAX_HASH_KEY_SIZE: usize = 2048;
/// DynamoDB's maximum range (sort) key value size.
pub const MAX_RANGE_KEY_SIZE: usize = 1024;
/// DynamoDB's maximum nesting depth of lists and maps.
pub const MAX_DEPTH: usize = 32;

/// Serializes any `Serialize` value into an item, without checks.
pub fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
    Ok(serde_dynamo::to_item(value)?)
}

/// Deserializes an item into any `Deserialize` type, such as a model or a projection.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Serializes a model and runs every client-side check on the result.
pub(crate) fn encode_model<M: DynaModel>(model: &M) -> Result<Item> {
    let item = to_item(model)?;
    check_item::<M>(&item)?;
    Ok(item)
}

/// Checks a whole item: key attributes, values and size.
pub(crate) fn check_item<M: DynaModel>(item: &Item) -> Result<()> {
    let schema = M::schema();
    check_key_attr(item.get(schema.hash_key.name), &schema.hash_key, MAX_HASH_KEY_SIZE)?;
    if let Some(range) = &schema.range_key {
        check_key_attr(item.get(range.name), range, MAX_RANGE_KEY_SIZE)?;
    }
    // Index keys may be absent (a sparse index), but when present DynamoDB holds them to
    // the key rules: the declared type, not empty, within the key size limits.
    for index in schema.global_indexes.iter().chain(schema.local_indexes) {
        let keys = [
            (Some(index.hash_key), MAX_HASH_KEY_SIZE),
            (index.range_key, MAX_RANGE_KEY_SIZE),
        ];
        for (attr, limit) in keys {
            if let Some(attr) = attr {
                if let Some(value) = item.get(attr.name) {
                    check_key_attr(Some(value), &attr, limit)?;
                }
            }
        }
    }
    for (name, value) in item {
        check_value(value, &mut PathBuf::new(name), 1)?;
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::ItemTooLarge {
            size,
            limit: MAX_ITEM_SIZE,
        });
    }
    Ok(())
}

/// Builds the key item for a model's primary key, checking each key value.
pub(crate) fn key_item<M: DynaModel>(key: &M::Key) -> Result<Item> {
    let schema = M::schema();
    let mut item = Item::with_capacity(2);
    let hash = key.hash_value();
    check_key_attr(Some(&hash), &schema.hash_key, MAX_HASH_KEY_SIZE)?;
    item.insert(schema.hash_key.name.to_owned(), hash);
    if let (Some(attr), Some(range)) = (&schema.range_key, key.range_value()) {
        check_key_attr(Some(&range), attr, MAX_RANGE_KEY_SIZE)?;
        item.insert(attr.name.to_owned(), range);
    }
    Ok(item)
}

fn check_key_attr(value: Option<&AttributeValue>, attr: &KeyAttr, limit: usize) -> Result<()> {
    let invalid = |problem| Error::InvalidKey {
        attribute: attr.name.to_owned(),
        problem,
    };
    let len = match (value, attr.key_type) {
        (None, _) => return Err(invalid(KeyProblem::Missing)),
        (Some(AttributeValue::S(s)), KeyType::String) => s.len(),
        (Some(AttributeValue::B(b)), KeyType::Binary) => b.as_ref().len(),
        (Some(AttributeValue::N(n)), KeyType::Number) if is_finite_number(n) => n.len(),
        (Some(_), key_type) => {
            let expected = match key_type {
                KeyType::String => "S",
                KeyType::Number => "N",
                KeyType::Binary => "B",
            };
            return Err(invalid(KeyProblem::WrongType { expected }));
        }
    };
    if len == 0 {
        return Err(invalid(KeyProblem::Empty));
    }
    if len > limit {
        return Err(invalid(KeyProblem::TooLong { len, limit }));
    }
    Ok(())
}

/// A lazily built attribute path for error messages; only rendered on error.
struct PathBuf {
    parts: Vec<String>,
}

impl PathBuf {
    fn new(root: &str) -> Self {
        PathBuf {
            parts: vec![root.to_owned()],
        }
    }
    fn render(&self) -> String {
        let mut out = String::new();
        for part in &self.parts {
            if part.starts_with('[') || out.is_empty() {
                out.push_str(part);
            } else {
                out.push('.');
                out.push_str(part);
            }
        }
        out
    }
}

fn check_value(value: &AttributeValue, path: &mut PathBuf, depth: usize) -> Result<()> {
    let invalid = |path: &PathBuf, problem| {
        Err(Error::InvalidItem {
            path: path.render(),
            problem,
        })
    };
    match value {
        AttributeValue::N(n) if !is_finite_number(n) => invalid(path, ValueProblem::NonFiniteNumber),
        AttributeValue::Ss(v) if v.is_empty() => invalid(path, ValueProblem::EmptySet),
        AttributeValue::Bs(v) if v.is_empty() => invalid(path, ValueProblem::EmptySet),
        AttributeValue::Ns(v) if v.is_empty() => invalid(path, ValueProblem::EmptySet),
        AttributeValue::Ns(v) if v.iter().any(|n| !is_finite_number(n)) => invalid(path, ValueProblem::NonFiniteNumber),
        AttributeValue::L(list) => {
            if depth >= MAX_DEPTH {
                return invalid(path, ValueProblem::TooDeep);
            }
            for (i, v) in list.iter().enumerate() {
                path.parts.push(format!("[{i}]"));
                check_value(v, path, depth + 1)?;
                path.parts.pop();
            }
            Ok(())
        }
        AttributeValue::M(map) => {
            if depth >= MAX_DEPTH {
                return invalid(path, ValueProblem::TooDeep);
            }
            for (k, v) in map {
                path.parts.push(k.clone());
                check_value(v, path, depth + 1)?;
                path.parts.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Whether a DynamoDB number string is a finite decimal (serde_dynamo writes `NaN`,
/// `inf` and `-inf` for non-finite floats, which DynamoDB rejects).
fn is_finite_number(n: &str) -> bool {
    let body = n.strip_prefix(['-', '+']).unwrap_or(n);
    let mantissa = body.split(['e', 'E']).next().unwrap_or("");
    !mantissa.is_empty()
        && mantissa.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && mantissa.bytes().any(|b| b.is_ascii_digit())
}

/// The size of an item as DynamoDB counts it against the 400 KB limit: the UTF-8 length
/// of each attribute name plus the size of its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

/// The size of one attribute value as DynamoDB counts it.
///
/// Strings count their UTF-8 bytes, binaries their bytes, numbers one byte per two
/// significant digits plus one (plus one more when negative), booleans and nulls one
/// byte. Lists and maps cost three bytes plus one byte per element, plus their
/// elements (and, for maps, their keys). Sets count their elements.
pub fn value_size(value: &AttributeValue) -> usize {
    match value {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => number_size(n),
        AttributeValue::B(b) => b.as_ref().len(),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => 1,
        AttributeValue::Ss(v) => v.iter().map(String::len).sum(),
        AttributeValue::Ns(v) => v.iter().map(|n| number_size(n)).sum(),
        AttributeValue::Bs(v) => v.iter().map(|b| b.as_ref().len()).sum(),
        AttributeValue::L(list) => 3 + list.iter().map(|v| 1 + value_size(v)).sum::<usize>(),
        AttributeValue::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + value_size(v)).sum::<usize>(),
        _ => 0,
    }
}

fn number_size(n: &str) -> usize {
    let negative = n.starts_with('-');
    let body = n.trim_start_matches(['-', '+']);
    let mantissa = body.split(['e', 'E']).next().unwrap_or("");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0').len().max(1);
    significant.div_ceil(2) + 1 + usize::from(negative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_numbers() {
        for ok in ["0", "1", "-1.5", "1e10", "3.25E-4", ".5", "+7"] {
            assert!(is_finite_number(ok), "{ok}");
        }
        for bad in ["NaN", "inf", "-inf", "", "-", "e5", "1x"] {
            assert!(!is_finite_number(bad), "{bad}");
        }
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        assert_eq!(value_size(&AttributeValue::S("héllo".into())), 6);
        assert_eq!(value_size(&AttributeValue::Bool(true)), 1);
        assert_eq!(value_size(&AttributeValue::N("12345".into())), 4);
        assert_eq!(value_size(&AttributeValue::N("-1".into())), 3);
        assert_eq!(value_size(&AttributeValue::N("1000".into())), 2);
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&AttributeValue::L(vec![AttributeValue::S("ab".into())])), 6);
        let map = HashMap::from([("k".to_owned(), AttributeValue::S("ab".into()))]);
        assert_eq!(value_size(&AttributeValue::M(map)), 7);
        let item = Item::from([("id".to_owned(), AttributeValue::S("abc".into()))]);
        assert_eq!(item_size(&item), 5);
    }
}
