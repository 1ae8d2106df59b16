//! Keys: the Rust types that can be key attributes, a model's primary key, and the
//! conversions callers use to pass keys.

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::schema::KeyType;

/// The range key type of a table or index without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoRange {}

/// A Rust type that can be a key attribute: strings (`S`), integers (`N`) and byte
/// vectors (`B`).
///
/// Implement it for a newtype with `#[derive(KeyAttribute)]`, which delegates to the
/// single field:
///
/// ```
/// use dynorm::KeyAttribute;
///
/// #[derive(KeyAttribute, Clone, Debug)]
/// struct UserId(String);
///
/// assert_eq!(<UserId as KeyAttribute>::KEY_TYPE, dynorm::KeyType::String);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a DynamoDB key attribute",
    label = "key attributes must be strings, integers or byte vectors",
    note = "a newtype around one of those can `#[derive(dynorm::KeyAttribute)]`"
)]
pub trait KeyAttribute: Clone + Send + Sync + 'static {
    /// The DynamoDB type this value is stored as.
    const KEY_TYPE: KeyType;
    /// The value as a DynamoDB attribute.
    fn to_attribute_value(&self) -> AttributeValue;
}

impl KeyAttribute for String {
    const KEY_TYPE: KeyType = KeyType::String;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::S(self.clone())
    }
}

impl KeyAttribute for Vec<u8> {
    const KEY_TYPE: KeyType = KeyType::Binary;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::B(Blob::new(self.clone()))
    }
}

impl KeyAttribute for std::borrow::Cow<'static, str> {
    const KEY_TYPE: KeyType = KeyType::String;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::S(self.to_string())
    }
}

macro_rules! integer_keys {
    ($($t:ty),*) => {$(
        impl KeyAttribute for $t {
            const KEY_TYPE: KeyType = KeyType::Number;
            fn to_attribute_value(&self) -> AttributeValue {
                AttributeValue::N(self.to_string())
            }
        }
    )*};
}
integer_keys!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl KeyAttribute for crate::Number {
    const KEY_TYPE: KeyType = KeyType::Number;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::N(self.as_str().to_owned())
    }
}

impl<const N: usize> KeyAttribute for [u8; N] {
    const KEY_TYPE: KeyType = KeyType::Binary;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::B(Blob::new(self.to_vec()))
    }
}

/// A model's primary key: `H` for a hash-only table, `(H, R)` for a hash and range table.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a DynamoDB primary key",
    label = "key attributes must be strings, integers or byte vectors",
    note = "a newtype around one of those can `#[derive(dynorm::KeyAttribute)]`"
)]
pub trait PrimaryKey: Clone + Send + Sync + 'static {
    /// The hash key's type.
    type Hash: KeyAttribute;
    /// The range key's type; [`NoRange`](NoRange) for a hash-only key.
    type Range: Send + Sync + 'static;
    /// The hash key value.
    fn hash_value(&self) -> AttributeValue;
    /// The range key value, for a hash and range key.
    fn range_value(&self) -> Option<AttributeValue>;

    /// The values of the key's fields, in order: the hash and range values, or for an
    /// entity's key the values its key templates are rendered from.
    fn field_values(&self) -> Vec<AttributeValue> {
        std::iter::once(self.hash_value()).chain(self.range_value()).collect()
    }
}

impl<H: KeyAttribute> PrimaryKey for H {
    type Hash = H;
    type Range = NoRange;
    fn hash_value(&self) -> AttributeValue {
        self.to_attribute_value()
    }
    fn range_value(&self) -> Option<AttributeValue> {
        None
    }
}

impl<H: KeyAttribute, R: KeyAttribute> PrimaryKey for (H, R) {
    type Hash = H;
    type Range = R;
    fn hash_value(&self) -> AttributeValue {
        self.0.to_attribute_value()
    }
    fn range_value(&self) -> Option<AttributeValue> {
        Some(self.1.to_attribute_value())
    }
}

/// One part of a key as callers may pass it: the key type itself, or a borrowed form of
/// it (`&str` or `&String` for `String`, `&[u8]` for `Vec<u8>`).
///
/// There is deliberately no conversion between integer types, so an integer literal
/// takes the key's own type: `Reply::get(&db, ("thread", 3))` works for a `u64` range key.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of the key type `{K}`",
    label = "expected a `{K}` key value",
    note = "a `String` key takes `&str`, `&String` or `String`; an integer key takes its own integer type"
)]
pub trait KeyPart<K> {
    /// Performs the conversion.
    fn into_key_part(self) -> K;
}

impl<K: KeyAttribute> KeyPart<K> for K {
    fn into_key_part(self) -> K {
        self
    }
}

impl KeyPart<String> for &str {
    fn into_key_part(self) -> String {
        self.to_owned()
    }
}

impl KeyPart<String> for &String {
    fn into_key_part(self) -> String {
        self.clone()
    }
}

impl KeyPart<Vec<u8>> for &[u8] {
    fn into_key_part(self) -> Vec<u8> {
        self.to_vec()
    }
}

impl KeyPart<Vec<u8>> for &Vec<u8> {
    fn into_key_part(self) -> Vec<u8> {
        self.clone()
    }
}

impl<const N: usize> KeyPart<Vec<u8>> for &[u8; N] {
    fn into_key_part(self) -> Vec<u8> {
        self.to_vec()
    }
}

/// Conversion into a model's key, so `Book::get(&db, "isbn")` accepts a `&str` for a
/// `String` key and `("forum", 3)` a `(String, u32)` key. See [`KeyPart`].
pub trait IntoKey<K> {
    /// Performs the conversion.
    fn into_key(self) -> K;
}

impl<T: KeyPart<K>, K: KeyAttribute> IntoKey<K> for T {
    fn into_key(self) -> K {
        self.into_key_part()
    }
}

impl<A: KeyPart<H>, B: KeyPart<R>, H: KeyAttribute, R: KeyAttribute> IntoKey<(H, R)> for (A, B) {
    fn into_key(self) -> (H, R) {
        (self.0.into_key_part(), self.1.into_key_part())
    }
}

#[cfg(feature = "rust_decimal")]
#[cfg_attr(docsrs, doc(cfg(feature = "rust_decimal")))]
impl KeyAttribute for rust_decimal::Decimal {
    const KEY_TYPE: KeyType = KeyType::Number;
    fn to_attribute_value(&self) -> AttributeValue {
        AttributeValue::N(self.to_string())
    }
}
