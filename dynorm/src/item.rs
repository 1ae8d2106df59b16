//! Conversion between models and DynamoDB items, and the client-side checks DynamoDB
//! would otherwise make on the server: item size, key sizes, empty sets, non-finite
//! numbers and nesting depth.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, KeyProblem, Result, ValueProblem};
use crate::key::PrimaryKey;
use crate::schema::{KeyAttr, KeyType, Shape, TableSchema};
use crate::value::{
    Decimal, Item, NumberProblem, ValueError, MAX_DEPTH, MAX_HASH_KEY_SIZE, MAX_ITEM_SIZE, MAX_RANGE_KEY_SIZE,
};

/// Serializes any `Serialize` value into an item, without checks, except one: a list or
/// map nested deeper than DynamoDB's 32 levels stops the serialization at once, with
/// [`Error::InvalidItem`] and [`ValueProblem::TooDeep`] (the path names the list or map
/// at level 32), so that no value recurses deeper than that.
///
/// Values are stored the way serde writes them: a `HashSet` as a list. A model knows
/// which of its fields are sets, binary data or numbers: encode a model with
/// [`DynaModel::to_item`](super::DynaModel::to_item), which stores those as `SS`/`NS`/`BS`,
/// `B` and `N`.
pub fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
    encode_item(value, Shape::Plain)
}

/// Deserializes an item into any `Deserialize` type, such as a model or a projection.
/// Binary attributes read into `Vec<u8>` and `[u8; N]`, sets into `HashSet`/`BTreeSet`
/// and `Vec`. A model's set fields whose attribute is missing (an empty set is not
/// stored) read as empty through [`DynaModel::from_item`](super::DynaModel::from_item).
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    decode_item(item, Shape::Plain)
}

/// Encodes a value into an item, its fields stored as `shape` says.
pub(crate) fn encode_item<T: Serialize + ?Sized>(value: &T, shape: Shape) -> Result<Item> {
    crate::encode::to_item(value, shape).map_err(|e| encode_error(std::any::type_name::<T>(), e))
}

/// Decodes an item into `T`, its fields stored as `shape` says.
pub(crate) fn decode_item<T: DeserializeOwned>(item: Item, shape: Shape) -> Result<T> {
    crate::decode::from_item(item, shape).map_err(|error| Error::Decode {
        target: std::any::type_name::<T>(),
        error: Box::new(error),
    })
}

/// The error for a value of type `target` that could not be encoded: `InvalidItem` for
/// a value DynamoDB would reject (too deep, too many digits), `Encode` otherwise.
pub(crate) fn encode_error(target: &'static str, error: ValueError) -> Error {
    match error.problem {
        Some(problem) => Error::InvalidItem {
            path: error.path,
            problem,
        },
        None => Error::Encode {
            target,
            error: Box::new(error),
        },
    }
}

/// The error to report for a failed expression value bound for the attribute at `path`
/// (as users write it; empty when unknown), the path within the value appended.
pub(crate) fn expression_error(path: &str, error: ValueError) -> Error {
    encode_error("an expression value", error.finish(path))
}

/// Checks a whole item: key attributes, values and size. Returns its size.
pub(crate) fn check_item(schema: &TableSchema, item: &Item) -> Result<usize> {
    check_key_attr(item.get(schema.hash_key.name), &schema.hash_key, MAX_HASH_KEY_SIZE)?;
    if let Some(range) = &schema.range_key {
        check_key_attr(item.get(range.name), range, MAX_RANGE_KEY_SIZE)?;
    }
    // Index keys may be absent (a sparse index), but when present DynamoDB holds them to
    // the key rules: the declared type, not empty, within the key size limits.
    for index in schema.indexes() {
        let hash = index.hash_keys().map(|h| (h, MAX_HASH_KEY_SIZE));
        let range = index.range_keys().map(|r| (r, MAX_RANGE_KEY_SIZE));
        for (attr, limit) in hash.chain(range) {
            if let Some(value) = item.get(attr.name) {
                check_key_attr(Some(value), &attr, limit)?;
            }
        }
    }
    // One walk: every value checked and sized together.
    let mut size = 0;
    for (name, value) in item {
        size += attribute_size(name, value)?;
    }
    check_size(size)
}

/// Checks one attribute an update sets in an item otherwise known to be valid: its
/// value, and its key rules when it is an index's key. Returns its size (name and
/// value).
pub(crate) fn check_attribute(schema: &TableSchema, name: &str, value: &AttributeValue) -> Result<usize> {
    for index in schema.indexes() {
        let hash = index.hash_keys().map(|h| (h, MAX_HASH_KEY_SIZE));
        let range = index.range_keys().map(|r| (r, MAX_RANGE_KEY_SIZE));
        for (attr, limit) in hash.chain(range) {
            if attr.name == name {
                check_key_attr(Some(value), &attr, limit)?;
            }
        }
    }
    attribute_size(name, value)
}

/// An item's size refused over DynamoDB's limit.
pub(crate) fn check_size(size: usize) -> Result<usize> {
    if size > MAX_ITEM_SIZE {
        return Err(Error::ItemTooLarge {
            size,
            limit: MAX_ITEM_SIZE,
        });
    }
    Ok(size)
}

/// Checks an attribute's name and value; its size as DynamoDB counts it.
fn attribute_size(name: &str, value: &AttributeValue) -> Result<usize> {
    let checked = if name.is_empty() {
        Err(ValueInvalid::at_root(ValueProblem::EmptyAttributeName))
    } else {
        check_value(value, 1)
    };
    match checked {
        Ok(value_size) => Ok(name.len() + value_size),
        Err(invalid) => Err(Error::InvalidItem {
            path: invalid.render(name),
            problem: invalid.problem,
        }),
    }
}

/// Checks one value bound for an expression (an update or a condition), reporting a
/// problem at `path`, the attribute path as users write it, `depth` levels down.
pub(crate) fn check_expression_value(path: &str, depth: usize, value: &AttributeValue) -> Result<()> {
    check_value(value, depth.max(1))
        .map(|_| ())
        .map_err(|invalid| Error::InvalidItem {
            path: invalid.render(path),
            problem: invalid.problem,
        })
}

/// Builds the key item for a primary key of the table `schema` describes, checking each
/// key value.
pub(crate) fn key_item<K: PrimaryKey>(schema: &TableSchema, key: &K) -> Result<Item> {
    if let Some(entity) = schema.entity {
        let item = crate::template::key_item(schema, entity, &key.field_values())?;
        check_key_attr(item.get(schema.hash_key.name), &schema.hash_key, MAX_HASH_KEY_SIZE)?;
        if let Some(range) = &schema.range_key {
            check_key_attr(item.get(range.name), range, MAX_RANGE_KEY_SIZE)?;
        }
        return Ok(item);
    }
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

pub(crate) fn check_key_attr(value: Option<&AttributeValue>, attr: &KeyAttr, limit: usize) -> Result<()> {
    let invalid = |problem| Error::InvalidKey {
        attribute: attr.name.to_owned(),
        problem,
    };
    let len = match (value, attr.key_type) {
        (None, _) => return Err(invalid(KeyProblem::Missing)),
        (Some(AttributeValue::S(s)), KeyType::String) => s.len(),
        (Some(AttributeValue::B(b)), KeyType::Binary) => b.as_ref().len(),
        (Some(AttributeValue::N(n)), KeyType::Number) if Decimal::parse(n).is_some() => n.len(),
        (Some(_), expected) => return Err(invalid(KeyProblem::WrongType { expected })),
    };
    if len == 0 {
        return Err(invalid(KeyProblem::Empty));
    }
    if len > limit {
        return Err(invalid(KeyProblem::TooLong { len, limit }));
    }
    Ok(())
}

/// One step of an attribute path: a list index or a map key.
enum Step<'a> {
    Index(usize),
    Key(&'a str),
}

/// A value problem and where it is. The path is collected while the check unwinds, so a
/// valid item costs no allocation.
struct ValueInvalid<'a> {
    problem: ValueProblem,
    /// Innermost segment first.
    reversed_path: Vec<Step<'a>>,
}

impl<'a> ValueInvalid<'a> {
    fn at_root(problem: ValueProblem) -> Self {
        ValueInvalid {
            problem,
            reversed_path: Vec::new(),
        }
    }

    fn within(mut self, segment: Step<'a>) -> Self {
        self.reversed_path.push(segment);
        self
    }

    /// The path as users write it: `attrs.colours[2]`.
    fn render(&self, root: &str) -> String {
        let mut out = root.to_owned();
        for segment in self.reversed_path.iter().rev() {
            match segment {
                Step::Index(i) => out.push_str(&format!("[{i}]")),
                Step::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
            }
        }
        out
    }
}

/// Checks a value as DynamoDB would, and gives its size as DynamoDB counts it (see
/// [`value_size`](crate::value_size)): one walk for both.
fn check_value(value: &AttributeValue, depth: usize) -> std::result::Result<usize, ValueInvalid<'_>> {
    let fail = |problem| Err(ValueInvalid::at_root(problem));
    let unique = |all_distinct: bool, size: usize| {
        if all_distinct {
            Ok(size)
        } else {
            fail(ValueProblem::DuplicateSetElement)
        }
    };
    match value {
        AttributeValue::S(s) => Ok(s.len()),
        AttributeValue::N(n) => crate::value::number_checked(n).or_else(|p| fail(value_problem(p))),
        AttributeValue::B(b) => Ok(b.as_ref().len()),
        AttributeValue::Bool(_) | AttributeValue::Null(_) => Ok(1),
        AttributeValue::Ss(v) | AttributeValue::Ns(v) if v.is_empty() => fail(ValueProblem::EmptySet),
        AttributeValue::Bs(v) if v.is_empty() => fail(ValueProblem::EmptySet),
        AttributeValue::Ss(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            let size = v.iter().map(String::len).sum();
            unique(v.iter().all(|e| seen.insert(e.as_str())), size)
        }
        AttributeValue::Bs(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            let size = v.iter().map(|b| b.as_ref().len()).sum();
            unique(v.iter().all(|e| seen.insert(e.as_ref())), size)
        }
        AttributeValue::Ns(v) => {
            // "1" and "1.0" are the same number to DynamoDB.
            let mut seen = HashSet::with_capacity(v.len());
            let mut size = 0;
            let mut distinct = true;
            for n in v {
                size += crate::value::number_checked(n).or_else(|p| fail(value_problem(p)))?;
                if let Some(d) = Decimal::parse(n) {
                    distinct &= seen.insert(d.canonical());
                }
            }
            unique(distinct, size)
        }
        AttributeValue::L(_) | AttributeValue::M(_) if depth >= MAX_DEPTH => fail(ValueProblem::TooDeep),
        AttributeValue::L(list) => {
            let mut size = 3;
            for (i, v) in list.iter().enumerate() {
                size += 1 + check_value(v, depth + 1).map_err(|e| e.within(Step::Index(i)))?;
            }
            Ok(size)
        }
        AttributeValue::M(map) => {
            let mut size = 3;
            for (k, v) in map {
                if k.is_empty() {
                    return fail(ValueProblem::EmptyAttributeName);
                }
                size += 1 + k.len() + check_value(v, depth + 1).map_err(|e| e.within(Step::Key(k)))?;
            }
            Ok(size)
        }
        _ => Ok(0),
    }
}

fn value_problem(problem: NumberProblem) -> ValueProblem {
    match problem {
        NumberProblem::NonFinite => ValueProblem::NonFiniteNumber,
        NumberProblem::OutOfRange => ValueProblem::NumberOutOfRange,
        NumberProblem::TooManyDigits => ValueProblem::TooManyDigits,
    }
}

#[cfg(test)]
#[path = "encode_tests.rs"]
mod encode_tests;

#[cfg(test)]
mod size_tests {
    use super::*;
    use std::collections::HashMap;

    /// The one-walk check sizes every kind of value as `item_size` does.
    #[test]
    fn the_check_sizes_items_as_item_size_does() {
        let n = |s: &str| AttributeValue::N(s.into());
        let item: Item = HashMap::from([
            ("id".to_owned(), AttributeValue::S("ü-1".into())),
            ("n".to_owned(), n("-123.4500")),
            ("zero".to_owned(), n("0")),
            ("b".to_owned(), AttributeValue::B(vec![1u8, 2, 3].into())),
            ("t".to_owned(), AttributeValue::Bool(true)),
            ("null".to_owned(), AttributeValue::Null(true)),
            ("ss".to_owned(), AttributeValue::Ss(vec!["a".into(), "bc".into()])),
            ("ns".to_owned(), AttributeValue::Ns(vec!["1".into(), "1e10".into()])),
            ("bs".to_owned(), AttributeValue::Bs(vec![vec![9u8].into()])),
            (
                "l".to_owned(),
                AttributeValue::L(vec![
                    n("7"),
                    AttributeValue::M(HashMap::from([("k".to_owned(), n("8"))])),
                ]),
            ),
        ]);
        let schema = crate::__private::FALLBACK_SCHEMA;
        let schema = TableSchema {
            hash_key: crate::schema::KeyAttr {
                name: "id",
                key_type: crate::schema::KeyType::String,
            },
            ..schema
        };
        assert_eq!(check_item(&schema, &item).unwrap(), crate::value::item_size(&item));
    }
}
