//! Decoding DynamoDB attribute values into Rust values: dynorm's serde deserializer.
//!
//! It reads the SDK's `AttributeValue` directly (no copy into another value type first),
//! in serde_dynamo's conventions, and is more lenient where DynamoDB's own types call for
//! it:
//!
//! - binary (`B`) reads as a sequence of bytes, so `Vec<u8>` and `[u8; N]` fields need no
//!   serde helper, and a binary set (`BS`) as a sequence of such;
//! - a number (`N`) reads as a string where the type asks for one ([`Number`](super::Number),
//!   `rust_decimal::Decimal`), and an integer written by another client as `100.0` or
//!   `1E+2` reads into an integer type;
//! - a set field whose attribute is missing (dynorm leaves empty sets out) reads as an
//!   empty set, as the derive's shape says;
//! - a failure names where it happened (`blobs[0]`, `address.city`), what the type
//!   expected and the DynamoDB type stored there.

use std::collections::hash_map;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::{self, DeserializeSeed, Expected, IntoDeserializer, Visitor};

use crate::encode::NUMBER_MARKER;
use crate::schema::{FieldShape, Shape};
use crate::value::{type_name, Decimal, Item, ValueError};

type Result<T, E = ValueError> = std::result::Result<T, E>;

/// Decodes an item into `T`, with `shape` telling how its fields are stored. Errors
/// carry the path within the item.
pub(crate) fn from_item<T: de::DeserializeOwned>(item: Item, shape: Shape) -> Result<T> {
    T::deserialize(Decoder {
        value: AttributeValue::M(item),
        shape,
    })
    .map_err(|e| e.finish(""))
}

/// The deserializer of one value, stored as `shape` says.
struct Decoder {
    value: AttributeValue,
    shape: Shape,
}

/// The error for a stored value of another type than the visitor expects.
#[cold]
fn mismatch(expected: &dyn Expected, stored: &AttributeValue) -> ValueError {
    ValueError::mismatch(expected.to_string(), type_name(stored))
}

macro_rules! integer {
    ($($method:ident => $visit:ident($ty:ty);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                match self.value {
                    AttributeValue::N(n) => {
                        let v = match n.parse::<$ty>() {
                            Ok(v) => v,
                            Err(_) => integral::<$ty>(&n, &visitor)?,
                        };
                        visitor.$visit(v)
                    }
                    other => Err(mismatch(&visitor, &other)),
                }
            }
        )*
    };
}

macro_rules! float {
    ($($method:ident => $visit:ident($ty:ty);)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                match self.value {
                    AttributeValue::N(n) => match n.parse::<$ty>() {
                        Ok(v) => visitor.$visit(v),
                        Err(_) => Err(ValueError::new(format_args!("`{}` is not a number", NumberText(&n)))),
                    },
                    other => Err(mismatch(&visitor, &other)),
                }
            }
        )*
    };
}

/// A number another client wrote in another form (`100.0`, `1E+2`) read as an integer
/// type, when it is a whole number within that type's range.
#[cold]
fn integral<T: std::str::FromStr>(n: &str, expected: &dyn Expected) -> Result<T> {
    let out_of_range = || {
        let message = format!("expected {expected}, stored N: the number {}", NumberText(n));
        ValueError::unfit(message, expected.to_string(), "N")
    };
    let decimal = Decimal::parse(n).ok_or_else(out_of_range)?;
    let digits = decimal.integer_digits().ok_or_else(out_of_range)?;
    digits.parse::<T>().map_err(|_| out_of_range())
}

/// A number in an error message: short numbers in full, long ones by their length.
struct NumberText<'a>(&'a str);

impl std::fmt::Display for NumberText<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.len() <= 48 {
            f.write_str(self.0)
        } else {
            write!(f, "of {} characters", self.0.len())
        }
    }
}

impl<'de> de::Deserializer<'de> for Decoder {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::S(s) => visitor.visit_string(s),
            AttributeValue::N(n) => {
                if self.shape == Shape::Number {
                    return visitor.visit_string(n);
                }
                if let Ok(i) = n.parse::<i64>() {
                    visitor.visit_i64(i)
                } else if let Ok(u) = n.parse::<u64>() {
                    visitor.visit_u64(u)
                } else if let Ok(f) = n.parse::<f64>() {
                    visitor.visit_f64(f)
                } else {
                    Err(ValueError::new(format_args!("`{}` is not a number", NumberText(&n))))
                }
            }
            AttributeValue::Bool(b) => visitor.visit_bool(b),
            AttributeValue::B(b) => visitor.visit_byte_buf(b.into_inner()),
            AttributeValue::Null(_) => visitor.visit_unit(),
            AttributeValue::M(map) => visitor.visit_map(Entries::new(map, self.shape)),
            value @ (AttributeValue::L(_) | AttributeValue::Ss(_) | AttributeValue::Ns(_) | AttributeValue::Bs(_)) => {
                Decoder { value, ..self }.deserialize_seq(visitor)
            }
            other => Err(mismatch(&visitor, &other)),
        }
    }

    integer! {
        deserialize_i8 => visit_i8(i8);
        deserialize_i16 => visit_i16(i16);
        deserialize_i32 => visit_i32(i32);
        deserialize_i64 => visit_i64(i64);
        deserialize_i128 => visit_i128(i128);
        deserialize_u8 => visit_u8(u8);
        deserialize_u16 => visit_u16(u16);
        deserialize_u32 => visit_u32(u32);
        deserialize_u64 => visit_u64(u64);
        deserialize_u128 => visit_u128(u128);
    }

    float! {
        deserialize_f32 => visit_f32(f32);
        deserialize_f64 => visit_f64(f64);
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::Bool(b) => visitor.visit_bool(b),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::S(s) => {
                let mut chars = s.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => visitor.visit_char(c),
                    _ => Err(ValueError::new("expected a single character")),
                }
            }
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::S(s) => visitor.visit_string(s),
            // A number reads as its digits where the type holds exact decimals.
            AttributeValue::N(n) if self.shape == Shape::Number => visitor.visit_string(n),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::B(b) => visitor.visit_byte_buf(b.into_inner()),
            // Bytes written as a list of numbers, as serde writes `Vec<u8>`.
            AttributeValue::L(list) => visitor.visit_seq(Elements::new(list, Shape::Plain)),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::Null(_) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::Null(_) => visitor.visit_unit(),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, visitor: V) -> Result<V::Value> {
        let shape = if name == NUMBER_MARKER {
            Shape::Number
        } else {
            self.shape
        };
        visitor.visit_newtype_struct(Decoder { shape, ..self })
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::L(list) => visitor.visit_seq(Elements::new(list, self.shape.resolve().element())),
            AttributeValue::Ss(set) => visitor.visit_seq(SetElements::new(set.into_iter().map(AttributeValue::S))),
            AttributeValue::Ns(set) => visitor.visit_seq(SetElements::new(set.into_iter().map(AttributeValue::N))),
            AttributeValue::Bs(set) => visitor.visit_seq(SetElements::new(set.into_iter().map(AttributeValue::B))),
            AttributeValue::B(bytes) => {
                let bytes = bytes.into_inner().into_iter();
                visitor.visit_seq(de::value::SeqDeserializer::<_, ValueError>::new(bytes))
            }
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.value {
            AttributeValue::M(map) => visitor.visit_map(Entries::new(map, self.shape)),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            AttributeValue::M(map) => visitor.visit_map(Entries::new(map, self.shape)),
            // serde_dynamo reads a struct from a list of its fields too.
            AttributeValue::L(list) => visitor.visit_seq(Elements::new(list, Shape::Plain)),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.value {
            AttributeValue::S(s) => visitor.visit_enum(s.into_deserializer()),
            AttributeValue::M(map) if map.len() == 1 => {
                let (variant, value) = map.into_iter().next().expect("one entry");
                visitor.visit_enum(Enum { variant, value })
            }
            AttributeValue::M(_) => Err(ValueError::new(
                "expected an enum variant: a map of exactly one entry, or a string",
            )),
            other => Err(mismatch(&visitor, &other)),
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        // Nothing to look at: drop the value.
        visitor.visit_unit()
    }
}

/// The elements of a list.
struct Elements {
    iter: std::vec::IntoIter<AttributeValue>,
    index: usize,
    shape: Shape,
}

impl Elements {
    fn new(list: Vec<AttributeValue>, shape: Shape) -> Self {
        Elements {
            iter: list.into_iter(),
            index: 0,
            shape,
        }
    }
}

impl<'de> de::SeqAccess<'de> for Elements {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(value) = self.iter.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        let decoder = Decoder {
            value,
            shape: self.shape,
        };
        seed.deserialize(decoder).map(Some).map_err(|e| e.in_element(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The elements of a string, number or binary set.
struct SetElements<I> {
    iter: I,
    index: usize,
}

impl<I> SetElements<I> {
    fn new(iter: I) -> Self {
        SetElements { iter, index: 0 }
    }
}

impl<'de, I: ExactSizeIterator<Item = AttributeValue>> de::SeqAccess<'de> for SetElements<I> {
    type Error = ValueError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        let Some(value) = self.iter.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        let decoder = Decoder {
            value,
            shape: Shape::Plain,
        };
        seed.deserialize(decoder).map(Some).map_err(|e| e.in_element(index))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// The entries of a map, then the set fields its shape fills in when missing.
struct Entries {
    iter: hash_map::IntoIter<String, AttributeValue>,
    shape: Shape,
    /// The entry whose key was handed out and whose value comes next.
    current: Option<(String, AttributeValue)>,
    /// The set fields to fill in (`Set { fill: true }`), with whether each was seen.
    fills: Vec<(&'static str, bool)>,
    /// The next fill to hand out once the entries are done.
    next_fill: usize,
}

impl Entries {
    fn new(map: Item, shape: Shape) -> Self {
        let shape = shape.resolve();
        let mut fills = Vec::new();
        if let Shape::Fields(fields) = shape {
            collect_fills(fields, &mut fills);
        }
        Entries {
            iter: map.into_iter(),
            shape,
            current: None,
            fills,
            next_fill: 0,
        }
    }
}

/// The set fields of a struct (and of its flattened structs) that read as empty when
/// their attribute is missing.
fn collect_fills(fields: &'static [FieldShape], out: &mut Vec<(&'static str, bool)>) {
    for field in fields {
        match field.shape.resolve() {
            Shape::Set { fill: true } if !field.name.is_empty() => out.push((field.name, false)),
            Shape::Fields(inner) if field.name.is_empty() => collect_fills(inner, out),
            _ => {}
        }
    }
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = ValueError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        if let Some((key, value)) = self.iter.next() {
            if !self.fills.is_empty() {
                if let Some(fill) = self.fills.iter_mut().find(|(name, _)| *name == key) {
                    fill.1 = true;
                }
            }
            let decoded = seed
                .deserialize(de::value::StrDeserializer::<ValueError>::new(&key))
                .map_err(|e| e.in_field(&key))?;
            self.current = Some((key, value));
            return Ok(Some(decoded));
        }
        while let Some(&(name, seen)) = self.fills.get(self.next_fill) {
            self.next_fill += 1;
            if !seen {
                self.current = Some((name.to_owned(), AttributeValue::L(Vec::new())));
                return seed
                    .deserialize(de::value::StrDeserializer::<ValueError>::new(name))
                    .map(Some);
            }
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        let (key, value) = self
            .current
            .take()
            .ok_or_else(|| ValueError::new("a map value was read before its key"))?;
        let shape = if self.shape.is_plain() {
            Shape::Plain
        } else {
            self.shape.field(&key)
        };
        seed.deserialize(Decoder { value, shape }).map_err(|e| e.in_field(&key))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

/// An enum variant stored as a map of one entry, `{variant: value}`.
struct Enum {
    variant: String,
    value: AttributeValue,
}

impl<'de> de::EnumAccess<'de> for Enum {
    type Error = ValueError;
    type Variant = VariantValue;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, VariantValue)> {
        let variant = seed.deserialize(de::value::StrDeserializer::<ValueError>::new(&self.variant))?;
        Ok((
            variant,
            VariantValue {
                name: self.variant,
                value: self.value,
            },
        ))
    }
}

/// The value of an enum variant.
struct VariantValue {
    name: String,
    value: AttributeValue,
}

impl VariantValue {
    fn decoder(self) -> (String, Decoder) {
        let decoder = Decoder {
            value: self.value,
            shape: Shape::Plain,
        };
        (self.name, decoder)
    }
}

impl<'de> de::VariantAccess<'de> for VariantValue {
    type Error = ValueError;

    fn unit_variant(self) -> Result<()> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        let (name, decoder) = self.decoder();
        seed.deserialize(decoder).map_err(|e| e.in_field(&name))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        let (name, decoder) = self.decoder();
        de::Deserializer::deserialize_seq(decoder, visitor).map_err(|e| e.in_field(&name))
    }

    fn struct_variant<V: Visitor<'de>>(self, _: &'static [&'static str], visitor: V) -> Result<V::Value> {
        let (name, decoder) = self.decoder();
        de::Deserializer::deserialize_map(decoder, visitor).map_err(|e| e.in_field(&name))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};

    use super::*;

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    enum Variant {
        Unit,
        Newtype(u32),
        Tuple(String, i8),
        Struct { a: bool, b: Option<f64> },
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Wrapper(String);

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Unit;

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Inner {
        x: i64,
        y: Vec<Option<u8>>,
    }

    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Everything {
        s: String,
        c: char,
        b: bool,
        u: u64,
        i: i32,
        f: f64,
        none: Option<String>,
        some: Option<Inner>,
        list: Vec<Inner>,
        tuple: (u8, String, bool),
        map: BTreeMap<String, Vec<i16>>,
        variants: Vec<Variant>,
        wrapper: Wrapper,
        unit: Unit,
        #[serde(flatten)]
        extra: HashMap<String, u32>,
        #[serde(with = "serde_dynamo::string_set")]
        tags: Vec<String>,
    }

    fn everything() -> Everything {
        Everything {
            s: "text".into(),
            c: 'é',
            b: true,
            u: u64::MAX,
            i: i32::MIN,
            f: -1.5e-7,
            none: None,
            some: Some(Inner {
                x: -1,
                y: vec![Some(1), None],
            }),
            list: vec![Inner { x: 2, y: vec![] }],
            tuple: (7, "seven".into(), false),
            map: BTreeMap::from([("k".into(), vec![-1, 2])]),
            variants: vec![
                Variant::Unit,
                Variant::Newtype(3),
                Variant::Tuple("t".into(), -8),
                Variant::Struct { a: false, b: Some(2.5) },
            ],
            wrapper: Wrapper("w".into()),
            unit: Unit,
            extra: HashMap::from([("flat".into(), 9)]),
            tags: vec!["a".into(), "b".into()],
        }
    }

    #[test]
    fn reads_what_serde_dynamo_writes_as_serde_dynamo_does() {
        let value = everything();
        let item: Item = serde_dynamo::to_item(&value).unwrap();
        let theirs: Everything = serde_dynamo::from_item(item.clone()).unwrap();
        let ours: Everything = from_item(item, Shape::Plain).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours, value);
    }

    #[test]
    fn reads_binary_as_bytes_and_numbers_in_other_forms_as_integers() {
        let item = Item::from([
            (
                "data".to_owned(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![1, 2])),
            ),
            (
                "digest".to_owned(),
                AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![3, 4])),
            ),
            (
                "blobs".to_owned(),
                AttributeValue::Bs(vec![aws_sdk_dynamodb::primitives::Blob::new(vec![5])]),
            ),
            ("hundred".to_owned(), AttributeValue::N("1E+2".into())),
            ("point".to_owned(), AttributeValue::N("100.0".into())),
            (
                "wide".to_owned(),
                AttributeValue::N("99999999999999999999999999999999999999".into()),
            ),
        ]);
        #[derive(Deserialize, Debug, PartialEq)]
        struct Bytes {
            data: Vec<u8>,
            digest: [u8; 2],
            blobs: Vec<Vec<u8>>,
            hundred: u8,
            point: i64,
            wide: u128,
        }
        let bytes: Bytes = from_item(item, Shape::Plain).unwrap();
        assert_eq!(
            bytes,
            Bytes {
                data: vec![1, 2],
                digest: [3, 4],
                blobs: vec![vec![5]],
                hundred: 100,
                point: 100,
                wide: 10u128.pow(38) - 1,
            }
        );
        let fraction = Item::from([("n".to_owned(), AttributeValue::N("1.5".into()))]);
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Whole {
            n: u32,
        }
        let err = from_item::<Whole>(fraction, Shape::Plain).unwrap_err();
        assert_eq!(err.path, "n");
        assert_eq!(err.stored, Some("N"));
    }

    #[test]
    fn errors_name_the_path_what_was_expected_and_what_was_stored() {
        let item = Item::from([(
            "list".to_owned(),
            AttributeValue::L(vec![AttributeValue::M(Item::from([
                ("x".to_owned(), AttributeValue::S("not a number".into())),
                ("y".to_owned(), AttributeValue::L(vec![])),
            ]))]),
        )]);
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            list: Vec<Inner>,
        }
        let err = from_item::<Outer>(item, Shape::Plain).unwrap_err();
        assert_eq!(err.path, "list[0].x");
        assert_eq!(err.stored, Some("S"));
        assert_eq!(err.expected.as_deref(), Some("i64"));
        assert_eq!(err.to_string(), "at `list[0].x`: expected i64, stored S");
        assert!(
            !err.to_string().contains("not a number"),
            "no stored value in the message"
        );
    }

    #[test]
    fn a_missing_set_reads_as_empty_when_the_shape_says_so() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Sets {
            tags: std::collections::BTreeSet<String>,
            maybe: Option<std::collections::BTreeSet<String>>,
        }
        const FIELDS: &[FieldShape] = &[
            FieldShape {
                name: "tags",
                shape: Shape::Set { fill: true },
            },
            FieldShape {
                name: "maybe",
                shape: Shape::Set { fill: false },
            },
        ];
        let sets: Sets = from_item(Item::new(), Shape::Fields(FIELDS)).unwrap();
        assert_eq!(
            sets,
            Sets {
                tags: Default::default(),
                maybe: None
            }
        );
        assert!(from_item::<Sets>(Item::new(), Shape::Plain).is_err());
    }
}
