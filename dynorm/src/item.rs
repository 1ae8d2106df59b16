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

/// Serializes any `Serialize` value into an item, without checks, except one: a list or
/// map nested deeper than DynamoDB's 32 levels stops the serialization at once, with
/// [`Error::InvalidItem`] and [`ValueProblem::TooDeep`] (the path names the list or map
/// at level 32), so that no value recurses deeper than that.
pub fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
    crate::encode::to_item(value)
}

/// Deserializes an item into any `Deserialize` type, such as a model or a projection.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T> {
    Ok(serde_dynamo::from_item(item)?)
}

/// Checks a whole item: key attributes, values and size. Returns its size.
pub(crate) fn check_item<M: DynaModel>(item: &Item) -> Result<usize> {
    let schema = M::schema();
    check_key_attr(item.get(schema.hash_key.name), &schema.hash_key, MAX_HASH_KEY_SIZE)?;
    if let Some(range) = &schema.range_key {
        check_key_attr(item.get(range.name), range, MAX_RANGE_KEY_SIZE)?;
    }
    // Index keys may be absent (a sparse index), but when present DynamoDB holds them to
    // the key rules: the declared type, not empty, within the key size limits.
    for index in schema.global_indexes.iter().chain(schema.local_indexes) {
        let hash = std::iter::once((index.hash_key, MAX_HASH_KEY_SIZE));
        let range = index.range_key.map(|r| (r, MAX_RANGE_KEY_SIZE));
        for (attr, limit) in hash.chain(range) {
            if let Some(value) = item.get(attr.name) {
                check_key_attr(Some(value), &attr, limit)?;
            }
        }
    }
    for (name, value) in item {
        let problem = if name.is_empty() {
            Some(ValueInvalid::at_root(ValueProblem::EmptyAttributeName))
        } else {
            check_value(value, 1).err()
        };
        if let Some(invalid) = problem {
            return Err(Error::InvalidItem {
                path: invalid.render(name),
                problem: invalid.problem,
            });
        }
    }
    let size = item_size(item);
    if size > MAX_ITEM_SIZE {
        return Err(Error::ItemTooLarge {
            size,
            limit: MAX_ITEM_SIZE,
        });
    }
    Ok(size)
}

/// Checks one value bound for an expression (an update or a condition), reporting a
/// problem at `path`, the attribute path as users write it, `depth` levels down.
pub(crate) fn check_expression_value(path: &str, depth: usize, value: &AttributeValue) -> Result<()> {
    check_value(value, depth.max(1)).map_err(|invalid| Error::InvalidItem {
        path: invalid.render(path),
        problem: invalid.problem,
    })
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
enum Segment<'a> {
    Index(usize),
    Key(&'a str),
}

/// A value problem and where it is. The path is collected while the check unwinds, so a
/// valid item costs no allocation.
struct ValueInvalid<'a> {
    problem: ValueProblem,
    /// Innermost segment first.
    reversed_path: Vec<Segment<'a>>,
}

impl<'a> ValueInvalid<'a> {
    fn at_root(problem: ValueProblem) -> Self {
        ValueInvalid {
            problem,
            reversed_path: Vec::new(),
        }
    }

    fn within(mut self, segment: Segment<'a>) -> Self {
        self.reversed_path.push(segment);
        self
    }

    /// The path as users write it: `attrs.colours[2]`.
    fn render(&self, root: &str) -> String {
        let mut out = root.to_owned();
        for segment in self.reversed_path.iter().rev() {
            match segment {
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Key(k) => {
                    out.push('.');
                    out.push_str(k);
                }
            }
        }
        out
    }
}

fn check_value(value: &AttributeValue, depth: usize) -> std::result::Result<(), ValueInvalid<'_>> {
    let fail = |problem| Err(ValueInvalid::at_root(problem));
    let unique = |all_distinct: bool| {
        if all_distinct {
            Ok(())
        } else {
            fail(ValueProblem::DuplicateSetElement)
        }
    };
    match value {
        AttributeValue::N(n) => number_problem(n).map_or(Ok(()), fail),
        AttributeValue::Ss(v) | AttributeValue::Ns(v) if v.is_empty() => fail(ValueProblem::EmptySet),
        AttributeValue::Bs(v) if v.is_empty() => fail(ValueProblem::EmptySet),
        AttributeValue::Ss(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            unique(v.iter().all(|e| seen.insert(e.as_str())))
        }
        AttributeValue::Bs(v) => {
            let mut seen = HashSet::with_capacity(v.len());
            unique(v.iter().all(|e| seen.insert(e.as_ref())))
        }
        AttributeValue::Ns(v) => {
            if let Some(problem) = v.iter().find_map(|n| number_problem(n)) {
                return fail(problem);
            }
            // "1" and "1.0" are the same number to DynamoDB.
            let mut seen = HashSet::with_capacity(v.len());
            unique(
                v.iter()
                    .filter_map(|n| Decimal::parse(n))
                    .all(|d| seen.insert(d.canonical())),
            )
        }
        AttributeValue::L(_) | AttributeValue::M(_) if depth >= MAX_DEPTH => fail(ValueProblem::TooDeep),
        AttributeValue::L(list) => list
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| check_value(v, depth + 1).map_err(|e| e.within(Segment::Index(i)))),
        AttributeValue::M(map) => map.iter().try_for_each(|(k, v)| {
            if k.is_empty() {
                return fail(ValueProblem::EmptyAttributeName);
            }
            check_value(v, depth + 1).map_err(|e| e.within(Segment::Key(k)))
        }),
        _ => Ok(()),
    }
}

/// A DynamoDB number read as `0.d₁d₂… × 10^exponent`, borrowing the digits of the
/// string it was parsed from.
struct Decimal<'a> {
    negative: bool,
    int_part: &'a str,
    frac_part: &'a str,
    /// Where the significant digits (no leading or trailing zeros) sit in the integer
    /// and fraction digits taken together; empty for zero.
    significant: std::ops::Range<usize>,
    /// 0 for zero.
    exponent: i64,
}

impl<'a> Decimal<'a> {
    /// Parses a number string; `None` for anything that is not a finite decimal (serde_dynamo
    /// writes `NaN`, `inf` and `-inf` for non-finite floats).
    fn parse(n: &'a str) -> Option<Decimal<'a>> {
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
        let len = int_part.len() + frac_part.len();
        if len == 0 || !all_digits(int_part) || !all_digits(frac_part) {
            return None;
        }
        let digits = || int_part.bytes().chain(frac_part.bytes());
        let Some(first) = digits().position(|b| b != b'0') else {
            let zero = Decimal {
                negative: false,
                int_part,
                frac_part,
                significant: 0..0,
                exponent: 0,
            };
            return Some(zero);
        };
        let trailing = digits().rev().position(|b| b != b'0').unwrap_or(0);
        let exponent = (int_part.len() as i64 - first as i64).checked_add(exponent)?;
        Some(Decimal {
            negative,
            int_part,
            frac_part,
            significant: first..len - trailing,
            exponent,
        })
    }

    fn significant_digits(&self) -> usize {
        self.significant.len()
    }

    fn is_zero(&self) -> bool {
        self.significant.is_empty()
    }

    /// A value equal for equal numbers ("1", "1.0", "10e-1"), to find duplicates in a set.
    fn canonical(&self) -> (bool, i64, Vec<u8>) {
        let digits = self.int_part.bytes().chain(self.frac_part.bytes());
        let significant = digits
            .skip(self.significant.start)
            .take(self.significant.len())
            .collect();
        (self.negative && !self.is_zero(), self.exponent, significant)
    }
}

/// What DynamoDB would reject about a number: not finite, more than 38 significant
/// digits, or a magnitude outside 1E-130 ..= 9.99..9E+125.
fn number_problem(n: &str) -> Option<ValueProblem> {
    let Some(d) = Decimal::parse(n) else {
        return Some(ValueProblem::NonFiniteNumber);
    };
    if d.significant_digits() > 38 {
        return Some(ValueProblem::TooManyDigits);
    }
    if !d.is_zero() && !(-129..=126).contains(&d.exponent) {
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
    if d.is_zero() {
        return 1;
    }
    // Digit i sits at the power of ten `exponent - 1 - i`; pairs start at even powers.
    let first = d.exponent - 1;
    let last = d.exponent - d.significant_digits() as i64;
    let pairs = (first.div_euclid(2) - last.div_euclid(2) + 1) as usize;
    (pairs + 1 + usize::from(d.negative)).min(21)
}

/// A form of a number string equal for equal numbers ("1", "1.0", "10e-1"), for keys
/// compared the way DynamoDB compares them; the string itself when it is no number.
pub(crate) fn normalize_number(n: &str) -> String {
    match Decimal::parse(n) {
        Some(d) => {
            let (negative, exponent, digits) = d.canonical();
            format!(
                "{}{}e{exponent}",
                if negative { "-" } else { "" },
                String::from_utf8_lossy(&digits)
            )
        }
        None => n.to_owned(),
    }
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
        assert_eq!(
            Decimal::parse("1.0").map(|d| d.canonical()),
            Decimal::parse("1").map(|d| d.canonical())
        );
        assert_eq!(
            Decimal::parse("-0.0").map(|d| d.canonical()),
            Decimal::parse("0").map(|d| d.canonical())
        );
        assert_eq!(
            Decimal::parse("10e-1").map(|d| d.canonical()),
            Decimal::parse("1").map(|d| d.canonical())
        );
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
