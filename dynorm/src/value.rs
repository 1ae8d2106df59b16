//! DynamoDB items and values as the SDK represents them, their sizes as DynamoDB counts
//! them, and DynamoDB's numbers. The bottom layer, with the schema: it depends on nothing
//! else in the crate.

use std::collections::HashMap;
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;

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

/// Why an attribute value is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueProblem {
    /// A string, number or binary set with no elements: DynamoDB does not store empty sets.
    EmptySet,
    /// A number that is NaN, infinite or otherwise not a decimal: DynamoDB numbers are
    /// finite decimals.
    NonFiniteNumber,
    /// A number outside DynamoDB's range: magnitudes from 1E-130 to 9.99..9E+125.
    NumberOutOfRange,
    /// A number with more than DynamoDB's 38 significant digits.
    TooManyDigits,
    /// A string, number or binary set with the same element twice.
    DuplicateSetElement,
    /// An attribute or map key that is the empty string (for example a `HashMap` with an
    /// empty key): DynamoDB rejects empty attribute names.
    EmptyAttributeName,
    /// Nested deeper than DynamoDB's 32 levels.
    TooDeep,
}

impl fmt::Display for ValueProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueProblem::EmptySet => f.write_str("DynamoDB does not store empty sets"),
            ValueProblem::NonFiniteNumber => f.write_str("NaN and infinite numbers cannot be stored"),
            ValueProblem::NumberOutOfRange => f.write_str("outside DynamoDB's number range (1E-130 to 9.9E+125)"),
            ValueProblem::TooManyDigits => f.write_str("more than 38 significant digits"),
            ValueProblem::DuplicateSetElement => f.write_str("a set cannot hold the same element twice"),
            ValueProblem::EmptyAttributeName => f.write_str("attribute names and map keys cannot be empty"),
            ValueProblem::TooDeep => f.write_str("nested deeper than DynamoDB's 32 levels"),
        }
    }
}

/// Why a value could not be converted between its Rust type and DynamoDB, and where:
/// the error of dynorm's encoder and decoder, carried by [`Error::Decode`] and
/// [`Error::Encode`](super::Error::Encode).
///
/// [`Error::Decode`]: super::Error::Decode
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ValueError {
    /// The attribute path as users write it, such as `blobs[0]` or `address.city`;
    /// empty for the item as a whole. Past its first step it may hold map keys taken
    /// from the data.
    pub path: String,
    /// What the Rust type expected, when the stored value had another type (`a
    /// sequence`, `u8`).
    pub expected: Option<String>,
    /// The DynamoDB type of the stored value (`S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`,
    /// `SS`, `NS`, `BS`), when a stored value was at fault.
    pub stored: Option<&'static str>,
    /// A value DynamoDB would reject, when that is the problem.
    pub problem: Option<ValueProblem>,
    /// What went wrong, without the path.
    pub message: String,
    /// The path, innermost step first, while an error unwinds.
    reversed: Vec<PathStep>,
}

/// One step of a [`ValueError`]'s path, innermost first while the error unwinds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PathStep {
    Name(String),
    Index(usize),
}

impl ValueError {
    /// An error with a message and nothing else known.
    pub fn new(message: impl fmt::Display) -> Self {
        ValueError {
            path: String::new(),
            expected: None,
            stored: None,
            problem: None,
            message: message.to_string(),
            reversed: Vec::new(),
        }
    }

    /// A stored value of the wrong DynamoDB type for what the Rust type expected.
    #[cold]
    pub(crate) fn mismatch(expected: String, stored: &'static str) -> Self {
        ValueError {
            message: format!("expected {expected}, stored {stored}"),
            expected: Some(expected),
            stored: Some(stored),
            ..ValueError::new("")
        }
    }

    /// A stored value of the right DynamoDB type that the Rust type cannot hold (a
    /// number out of its range), with its own message.
    #[cold]
    pub(crate) fn unfit(message: String, expected: String, stored: &'static str) -> Self {
        ValueError {
            expected: Some(expected),
            stored: Some(stored),
            ..ValueError::new(message)
        }
    }

    /// A value DynamoDB would reject.
    #[cold]
    pub(crate) fn invalid(problem: ValueProblem) -> Self {
        ValueError {
            problem: Some(problem),
            ..ValueError::new(problem)
        }
    }

    /// The same error one map key or field further out.
    #[cold]
    pub(crate) fn in_field(mut self, name: &str) -> Self {
        self.reversed.push(PathStep::Name(name.to_owned()));
        self
    }

    /// The same error one list element further out.
    #[cold]
    pub(crate) fn in_element(mut self, index: usize) -> Self {
        self.reversed.push(PathStep::Index(index));
        self
    }

    /// Writes the steps collected while unwinding into `path`, after `prefix` (the path
    /// of the value that was converted; empty for an item).
    pub(crate) fn finish(mut self, prefix: &str) -> Self {
        let mut path = prefix.to_owned();
        for step in self.reversed.drain(..).rev() {
            match step {
                PathStep::Name(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(&name);
                }
                PathStep::Index(i) => {
                    path.push('[');
                    path.push_str(&i.to_string());
                    path.push(']');
                }
            }
        }
        self.path = path;
        self
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for ValueError {}

impl serde::ser::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError::new(msg)
    }
}

impl serde::de::Error for ValueError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ValueError::new(msg)
    }
}

/// The DynamoDB type name of a value: `S`, `N`, `B`, `BOOL`, `NULL`, `M`, `L`, `SS`,
/// `NS` or `BS`.
pub(crate) fn type_name(value: &AttributeValue) -> &'static str {
    match value {
        AttributeValue::S(_) => "S",
        AttributeValue::N(_) => "N",
        AttributeValue::B(_) => "B",
        AttributeValue::Bool(_) => "BOOL",
        AttributeValue::Null(_) => "NULL",
        AttributeValue::M(_) => "M",
        AttributeValue::L(_) => "L",
        AttributeValue::Ss(_) => "SS",
        AttributeValue::Ns(_) => "NS",
        AttributeValue::Bs(_) => "BS",
        _ => "an unknown type",
    }
}

/// Why a number is no DynamoDB number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberProblem {
    /// NaN, infinite, or no decimal at all.
    NonFinite,
    /// A magnitude outside 1E-130 ..= 9.99..9E+125.
    OutOfRange,
    /// More than 38 significant digits.
    TooManyDigits,
}

/// A DynamoDB number read as `0.d₁d₂… × 10^exponent`, borrowing the digits of the
/// string it was parsed from.
pub(crate) struct Decimal<'a> {
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
    pub(crate) fn parse(n: &'a str) -> Option<Decimal<'a>> {
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

    /// Zero.
    pub(crate) const ZERO: Decimal<'static> = Decimal {
        negative: false,
        int_part: "0",
        frac_part: "",
        significant: 0..0,
        exponent: 0,
    };

    /// Whether the number is whole.
    pub(crate) fn is_whole(&self) -> bool {
        self.is_zero() || self.exponent >= self.significant.len() as i64
    }

    fn significant_bytes(&self) -> impl Iterator<Item = u8> + '_ {
        let digits = self.int_part.bytes().chain(self.frac_part.bytes());
        digits.skip(self.significant.start).take(self.significant.len())
    }

    /// Compares two numbers by value.
    pub(crate) fn cmp_value(&self, other: &Decimal<'_>) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let sign = |d: &Decimal<'_>| match (d.is_zero(), d.negative) {
            (true, _) => 0,
            (false, true) => -1,
            (false, false) => 1,
        };
        let (a, b) = (sign(self), sign(other));
        if a != b || a == 0 {
            return a.cmp(&b);
        }
        let magnitude = self
            .exponent
            .cmp(&other.exponent)
            .then_with(|| self.significant_bytes().cmp(other.significant_bytes()));
        if a < 0 { magnitude.reverse() } else { magnitude }.then(Ordering::Equal)
    }

    /// The number as `mantissa × 10^-scale`, its mantissa the significant digits (signed),
    /// when they fit an `i128`.
    pub(crate) fn mantissa_and_scale(&self) -> Option<(i128, i64)> {
        if self.is_zero() {
            return Some((0, 0));
        }
        let mut mantissa: i128 = 0;
        for d in self.significant_bytes() {
            mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
        }
        let scale = (self.significant.len() as i64).checked_sub(self.exponent)?;
        Some((if self.negative { -mantissa } else { mantissa }, scale))
    }

    /// The number as integer digits (`-100` for `-1E+2` or `-100.0`), when it is a whole
    /// number of at most 40 digits.
    pub(crate) fn integer_digits(&self) -> Option<String> {
        if self.is_zero() {
            return Some("0".to_owned());
        }
        let significant = self.significant.len() as i64;
        if self.exponent < significant || self.exponent > 40 {
            return None;
        }
        let mut out = String::with_capacity(self.exponent as usize + 1);
        if self.negative {
            out.push('-');
        }
        let digits = self.int_part.bytes().chain(self.frac_part.bytes());
        out.extend(
            digits
                .skip(self.significant.start)
                .take(self.significant.len())
                .map(char::from),
        );
        out.extend(std::iter::repeat_n('0', (self.exponent - significant) as usize));
        Some(out)
    }

    /// A value equal for equal numbers ("1", "1.0", "10e-1"), to find duplicates in a set.
    pub(crate) fn canonical(&self) -> (bool, i64, Vec<u8>) {
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
pub(crate) fn number_problem(n: &str) -> Option<NumberProblem> {
    number_checked(n).err()
}

/// A number's size as DynamoDB counts it, or what is wrong with it: one parse for both.
pub(crate) fn number_checked(n: &str) -> Result<usize, NumberProblem> {
    let Some(d) = Decimal::parse(n) else {
        return Err(NumberProblem::NonFinite);
    };
    if d.significant_digits() > 38 {
        return Err(NumberProblem::TooManyDigits);
    }
    if !d.is_zero() && !(-129..=126).contains(&d.exponent) {
        return Err(NumberProblem::OutOfRange);
    }
    Ok(decimal_size(&d))
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
    match Decimal::parse(n) {
        Some(d) => decimal_size(&d),
        // Not a valid number: the checks reject it before sending; any estimate will do.
        None => n.len(),
    }
}

fn decimal_size(d: &Decimal) -> usize {
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
            assert_eq!(number_problem(bad), Some(NumberProblem::NonFinite), "{bad}");
        }
        assert_eq!(number_problem("1E126"), Some(NumberProblem::OutOfRange));
        assert_eq!(number_problem("1E-131"), Some(NumberProblem::OutOfRange));
        assert_eq!(number_problem(&"1".repeat(39)), Some(NumberProblem::TooManyDigits));
        assert_eq!(number_problem(&format!("{}000", "1".repeat(38))), None);
        assert_eq!(number_problem(&1e200f64.to_string()), Some(NumberProblem::OutOfRange));
        assert_eq!(
            number_problem(&f64::MIN_POSITIVE.to_string()),
            Some(NumberProblem::OutOfRange)
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
