//! Conversion between models and DynamoDB items, and the client-side checks DynamoDB
//! would otherwise make on the server: item size, key sizes, empty sets, non-finite
//! numbers and nesting depth.

use std::collections::{HashMap, HashSet};

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
        if name.is_empty() {
            return Err(Error::InvalidItem {
                path: String::new(),
                problem: ValueProblem::EmptyAttributeName,
            });
        }
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
        AttributeValue::N(n) => match number_problem(n) {
            Some(problem) => invalid(path, problem),
            None => Ok(()),
        },
        AttributeValue::Ss(v) | AttributeValue::Ns(v) if v.is_empty() => invalid(path, ValueProblem::EmptySet),
        AttributeValue::Bs(v) if v.is_empty() => invalid(path, ValueProblem::EmptySet),
        AttributeValue::Ss(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            match v.iter().all(|e| seen.insert(e.as_str())) {
                true => Ok(()),
                false => invalid(path, ValueProblem::DuplicateSetElement),
            }
        }
        AttributeValue::Bs(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            match v.iter().all(|e| seen.insert(e.as_ref())) {
                true => Ok(()),
                false => invalid(path, ValueProblem::DuplicateSetElement),
            }
        }
        AttributeValue::Ns(v) => {
            if let Some(problem) = v.iter().find_map(|n| number_problem(n)) {
                return invalid(path, problem);
            }
            // "1" and "1.0" are the same number to DynamoDB.
            let mut seen = HashSet::with_capacity(v.len());
            match v.iter().filter_map(|n| Decimal::parse(n)).all(|d| seen.insert(d)) {
                true => Ok(()),
                false => invalid(path, ValueProblem::DuplicateSetElement),
            }
        }
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
                if k.is_empty() {
                    return invalid(path, ValueProblem::EmptyAttributeName);
                }
                path.parts.push(k.clone());
                check_value(v, path, depth + 1)?;
                path.parts.pop();
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A DynamoDB number normalised as `0.digits × 10^exponent`, with no leading or
/// trailing zeros in `digits` (empty for zero).
#[derive(Debug, PartialEq, Eq, Hash)]
struct Decimal {
    negative: bool,
    digits: String,
    exponent: i64,
}

impl Decimal {
    /// Parses a number string; `None` for anything that is not a finite decimal (serde_dynamo
    /// writes `NaN`, `inf` and `-inf` for non-finite floats).
    fn parse(n: &str) -> Option<Decimal> {
        let (negative, body) = match n.as_bytes().first()? {
            b'-' => (true, &n[1..]),
            b'+' => (false, &n[1..]),
            _ => (false, n),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(at) => (&body[..at], body[at + 1..].parse::<i64>().ok()?),
            None => (body, 0),
        };
        let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.len() + frac_part.len() == 0 || !all_digits(int_part) || !all_digits(frac_part) {
            return None;
        }
        let joined = format!("{int_part}{frac_part}");
        let leading = joined.len() - joined.trim_start_matches('0').len();
        let digits = joined.trim_start_matches('0').trim_end_matches('0').to_owned();
        if digits.is_empty() {
            return Some(Decimal {
                negative: false,
                digits,
                exponent: 0,
            });
        }
        let exponent = (int_part.len() as i64 - leading as i64).checked_add(exponent)?;
        Some(Decimal {
            negative,
            digits,
            exponent,
        })
    }
}

/// What DynamoDB would reject about a number: not finite, more than 38 significant
/// digits, or a magnitude outside 1E-130 ..= 9.99..9E+125.
fn number_problem(n: &str) -> Option<ValueProblem> {
    let Some(d) = Decimal::parse(n) else {
        return Some(ValueProblem::NonFiniteNumber);
    };
    if d.digits.len() > 38 {
        return Some(ValueProblem::TooManyDigits);
    }
    if !d.digits.is_empty() && !(-129..=126).contains(&d.exponent) {
        return Some(ValueProblem::NumberOutOfRange);
    }
    None
}

/// The size of an item as DynamoDB counts it against the 400 KB limit: the UTF-8 length
/// of each attribute name plus the size of its value.
pub fn item_size(item: &Item) -> usize {
    item.iter().map(|(name, value)| name.len() + value_size(value)).sum()
}

/// The size of one attribute value as DynamoDB counts it.
///
/// Strings count their UTF-8 bytes, binaries their bytes. A number is stored as base-100
/// digit pairs aligned on the decimal point: one byte per pair plus one, plus one more
/// when negative, at most 21; zero is one byte. Booleans and nulls are one byte. Lists and maps cost three bytes plus one byte per element, plus their
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
    let Some(d) = Decimal::parse(n) else {
        // Not a valid number: the checks reject it before sending; any estimate will do.
        return n.len();
    };
    if d.digits.is_empty() {
        return 1;
    }
    // Digit i sits at the power of ten `exponent - 1 - i`; pairs start at even powers.
    let first = d.exponent - 1;
    let last = d.exponent - d.digits.len() as i64;
    let pairs = (first.div_euclid(2) - last.div_euclid(2) + 1) as usize;
    (pairs + 1 + usize::from(d.negative)).min(21)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_checks() {
        for ok in [
            "0", "1", "-1.5", "1e10", "3.25E-4", ".5", "5.", "+7", "-0", "1E-130", "9.9E125",
        ] {
            assert_eq!(number_problem(ok), None, "{ok}");
        }
        for bad in ["NaN", "inf", "-inf", "", "-", "e5", "1x", "1.2.3", "1e", "."] {
            assert_eq!(number_problem(bad), Some(ValueProblem::NonFiniteNumber), "{bad}");
        }
        assert_eq!(number_problem("1E126"), Some(ValueProblem::NumberOutOfRange));
        assert_eq!(number_problem("1E-131"), Some(ValueProblem::NumberOutOfRange));
        assert_eq!(number_problem(&"1".repeat(39)), Some(ValueProblem::TooManyDigits));
        assert_eq!(number_problem(&format!("{}000", "1".repeat(38))), None);
        assert_eq!(
            number_problem(&1e200f64.to_string()),
            Some(ValueProblem::NumberOutOfRange)
        );
        assert_eq!(
            number_problem(&f64::MIN_POSITIVE.to_string()),
            Some(ValueProblem::NumberOutOfRange)
        );
        assert_eq!(Decimal::parse("1.0"), Decimal::parse("1"));
        assert_eq!(Decimal::parse("-0.0"), Decimal::parse("0"));
        assert_eq!(Decimal::parse("10e-1"), Decimal::parse("1"));
    }

    #[test]
    fn number_sizes_follow_base_100_pairs() {
        let cases = [
            ("0", 1),
            ("-0", 1),
            ("1", 2),
            ("-1", 3),
            ("1.5", 3),
            ("1.1", 3),
            ("-1.1", 4),
            ("11000", 3),
            ("100", 2),
            ("1000", 2),
            ("0.1", 2),
            ("12345", 4),
            ("123.45", 4),
            ("-123456789", 7),
        ];
        for (n, size) in cases {
            assert_eq!(number_size(n), size, "{n}");
        }
        assert_eq!(number_size(&"9".repeat(38)), 20);
        assert_eq!(number_size(&format!("{}0", "9".repeat(38))), 21);
    }

    #[test]
    fn sizes_follow_dynamodb_rules() {
        assert_eq!(value_size(&AttributeValue::S("héllo".into())), 6);
        assert_eq!(value_size(&AttributeValue::Bool(true)), 1);
        assert_eq!(value_size(&AttributeValue::L(vec![])), 3);
        assert_eq!(value_size(&AttributeValue::L(vec![AttributeValue::S("ab".into())])), 6);
        let map = HashMap::from([("k".to_owned(), AttributeValue::S("ab".into()))]);
        assert_eq!(value_size(&AttributeValue::M(map)), 7);
        let item = Item::from([("id".to_owned(), AttributeValue::S("abc".into()))]);
        assert_eq!(item_size(&item), 5);
    }
}
