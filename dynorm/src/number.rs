//! [`Number`]: any DynamoDB number, held exactly.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encode::{float_string, NUMBER_MARKER};
use crate::value::{number_problem, Decimal, NumberProblem, ValueProblem};

/// Any DynamoDB number, held exactly as its decimal digits: up to 38 significant
/// digits, magnitudes from 1E-130 to 9.99…9E+125. For values no Rust number type holds
/// without loss: 38-digit identifiers, amounts of money, numbers other clients wrote as
/// `Decimal`.
///
/// It is stored as `N` (and read back from one) with no serde attribute. Two numbers
/// are equal, ordered and hashed by value, as DynamoDB compares them: `1`, `1.0` and
/// `10E-1` are equal. `Display` shows the digits as given (or as DynamoDB returned
/// them). It can be a key, a condition value, an increment (`add`), and a set element.
///
/// ```
/// use dynorm::Number;
///
/// let big: Number = "12345678901234567890123456789012345678".parse().unwrap();
/// assert_eq!(big.to_string(), "12345678901234567890123456789012345678");
/// assert_eq!(Number::from(100u64), "1E+2".parse::<Number>().unwrap());
/// assert!("1E+126".parse::<Number>().is_err()); // outside DynamoDB's range
/// assert_eq!(Number::try_from(0.1f64).unwrap().to_string(), "0.1");
/// ```
#[derive(Clone)]
pub struct Number(String);

impl Number {
    /// The digits, as given or as DynamoDB returned them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number as an `i64`, when it is a whole number in its range.
    pub fn to_i64(&self) -> Option<i64> {
        self.integer()
    }

    /// The number as a `u64`, when it is a whole number in its range.
    pub fn to_u64(&self) -> Option<u64> {
        self.integer()
    }

    /// The number as an `i128`, when it is a whole number in its range.
    pub fn to_i128(&self) -> Option<i128> {
        self.integer()
    }

    /// The number as a `u128`, when it is a whole number in its range.
    pub fn to_u128(&self) -> Option<u128> {
        self.integer()
    }

    /// The nearest `f64` (exact only for numbers an `f64` holds).
    pub fn to_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// Whether the number is whole.
    pub fn is_integer(&self) -> bool {
        self.decimal().is_whole()
    }

    fn integer<T: FromStr>(&self) -> Option<T> {
        self.0
            .parse()
            .ok()
            .or_else(|| self.decimal().integer_digits()?.parse().ok())
    }

    fn decimal(&self) -> Decimal<'_> {
        // The digits were checked when the number was made.
        Decimal::parse(&self.0).unwrap_or(ZERO)
    }
}

/// Zero.
impl Default for Number {
    fn default() -> Self {
        Number("0".to_owned())
    }
}

/// Zero, for a number that does not parse (none does: each is checked when made).
const ZERO: Decimal<'static> = Decimal::ZERO;

/// Why text is not a DynamoDB number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NumberError(pub ValueProblem);

impl fmt::Display for NumberError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a DynamoDB number: {}", self.0)
    }
}

impl std::error::Error for NumberError {}

fn check(text: &str) -> Result<(), NumberError> {
    match number_problem(text) {
        None => Ok(()),
        Some(NumberProblem::NonFinite) => Err(NumberError(ValueProblem::NonFiniteNumber)),
        Some(NumberProblem::OutOfRange) => Err(NumberError(ValueProblem::NumberOutOfRange)),
        Some(NumberProblem::TooManyDigits) => Err(NumberError(ValueProblem::TooManyDigits)),
    }
}

impl FromStr for Number {
    type Err = NumberError;

    /// Parses a decimal such as `-12.5`, `1E+2` or `0.001`: at most 38 significant
    /// digits, within DynamoDB's range.
    fn from_str(text: &str) -> Result<Self, NumberError> {
        check(text)?;
        Ok(Number(text.to_owned()))
    }
}

impl TryFrom<String> for Number {
    type Error = NumberError;

    fn try_from(text: String) -> Result<Self, NumberError> {
        check(&text)?;
        Ok(Number(text))
    }
}

macro_rules! from_integers {
    ($($t:ty),*) => {$(
        impl From<$t> for Number {
            fn from(n: $t) -> Self {
                Number(n.to_string())
            }
        }
    )*};
}
from_integers!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

impl TryFrom<u128> for Number {
    type Error = NumberError;

    /// Fails for numbers of 39 digits, over DynamoDB's 38.
    fn try_from(n: u128) -> Result<Self, NumberError> {
        n.to_string().try_into()
    }
}

impl TryFrom<i128> for Number {
    type Error = NumberError;

    /// Fails for numbers of 39 digits, over DynamoDB's 38.
    fn try_from(n: i128) -> Result<Self, NumberError> {
        n.to_string().try_into()
    }
}

impl TryFrom<f64> for Number {
    type Error = NumberError;

    /// The float's shortest exact digits; fails for NaN, infinities and magnitudes
    /// outside DynamoDB's range.
    fn try_from(n: f64) -> Result<Self, NumberError> {
        float_string(n, n.is_finite()).try_into()
    }
}

impl TryFrom<f32> for Number {
    type Error = NumberError;

    /// The float's shortest exact digits; fails for NaN, infinities and magnitudes
    /// outside DynamoDB's range.
    fn try_from(n: f32) -> Result<Self, NumberError> {
        float_string(n, n.is_finite()).try_into()
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.decimal().canonical().hash(state);
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// By value, as DynamoDB orders numbers.
impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        self.decimal().cmp_value(&other.decimal())
    }
}

impl Serialize for Number {
    /// As `N` in DynamoDB; as a string in other formats.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_newtype_struct(NUMBER_MARKER, self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_newtype_struct(NUMBER_MARKER, NumberVisitor)
    }
}

struct NumberVisitor;

impl<'de> Visitor<'de> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a DynamoDB number")
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(self, deserializer: D) -> Result<Number, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Number, E> {
        v.parse().map_err(E::custom)
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Number, E> {
        Number::try_from(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
        Ok(Number::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Number, E> {
        Number::try_from(v).map_err(E::custom)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Number, E> {
        Number::try_from(v).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
        Number::try_from(v).map_err(E::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        s.parse().unwrap()
    }

    #[test]
    fn equal_and_ordered_by_value() {
        assert_eq!(n("1"), n("1.0"));
        assert_eq!(n("1"), n("10E-1"));
        assert_eq!(n("-0"), n("0"));
        assert!(n("-1") < n("0"));
        assert!(n("-2") < n("-1"));
        assert!(n("0.5") < n("1"));
        assert!(n("1E+2") > n("99.99"));
        assert!(n("1E-130") > n("0"));
        assert!(n("-1E-130") < n("0"));
        assert!(n("99999999999999999999999999999999999999") > n("99999999999999999999999999999999999998"));
        let mut all = [n("3"), n("-1.5"), n("1E+2"), n("0"), n("0.25")];
        all.sort();
        let sorted: Vec<String> = all.iter().map(Number::to_string).collect();
        assert_eq!(sorted, ["-1.5", "0", "0.25", "3", "1E+2"]);
    }

    #[test]
    fn conversions() {
        assert_eq!(n("1E+2").to_u64(), Some(100));
        assert_eq!(n("100.0").to_i64(), Some(100));
        assert_eq!(n("1.5").to_i64(), None);
        assert!(n("1.0").is_integer());
        assert!(!n("1.5").is_integer());
        assert_eq!(
            n("99999999999999999999999999999999999999").to_u128(),
            Some(99_999_999_999_999_999_999_999_999_999_999_999_999)
        );
        assert!(Number::try_from(u128::MAX).is_err());
        assert_eq!(Number::try_from(1e40f64).unwrap().to_string(), "1E40");
        assert_eq!(Number::try_from(1e-130f64).unwrap().to_string(), "1E-130");
        assert!(Number::try_from(1e-131f64).is_err());
        assert!(Number::try_from(f64::NAN).is_err());
        assert!("abc".parse::<Number>().is_err());
        assert!("1".repeat(39).parse::<Number>().is_err());
    }
}
