//! Encoding Rust values into DynamoDB attribute values: dynorm's serde serializer.
//!
//! It writes the SDK's `AttributeValue` directly, in serde_dynamo's conventions (so items
//! written by either read back with either), and adds what serde alone cannot know:
//!
//! - **Shapes** (`schema::Shape`): the derive tells it which fields are sets, binary
//!   data or numbers written as strings, so a `HashSet<String>` becomes `SS`, a
//!   `Vec<u8>` becomes `B` and a `rust_decimal::Decimal` becomes `N`. An empty set is
//!   left out of its map: DynamoDB cannot store one.
//! - **Exact numbers**: 128-bit integers are written when they fit DynamoDB's 38 digits
//!   (and refused when they do not), floats in a form every DynamoDB client reads back
//!   (exponent notation where the digits would be too many), and [`Number`](super::Number) as
//!   the decimal it holds.
//! - **Bounded depth**: a list or map that would sit deeper than DynamoDB's 32 levels
//!   fails at once, before anything below it is serialized, so a value nested thousands
//!   of levels deep never recurses more than 32 levels into the serializer.
//! - **Paths**: a failure names where it happened (`address.lines[2]`), collected while
//!   the error unwinds, so a value that encodes costs nothing for it.
//!
//! The levels are those of the item check in `item.rs`: an item's attributes are level
//! 1 (the item itself is level 0), and a list or map (`L` or `M`) at level 32 or deeper
//! is too deep. Sequences, tuples, tuple structs, maps, structs, and enum variants with
//! data open a level (a newtype variant is a map of one entry, a tuple or struct variant
//! a map holding a list or map: two levels); `Option`, newtype structs, unit variants
//! and sets open none.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{self, Impossible, Serialize, Serializer};

use crate::schema::Shape;
use crate::value::{type_name, Item, ValueError, ValueProblem, MAX_DEPTH};

type Result<T, E = ValueError> = std::result::Result<T, E>;

/// serde_dynamo's `string_set`, `number_set` and `binary_set` wrap a value in a newtype
/// struct of one of these names; dynorm stores it as a set too.
pub(crate) const SET_MARKERS: [&str; 3] = [
    "\u{037E}STRINGSET\u{037E}",
    "\u{037E}NUMBERSET\u{037E}",
    "\u{037E}BYTESSET\u{037E}",
];

/// [`Number`](super::Number) serializes as a newtype struct of this name holding its digits:
/// dynorm stores it as `N`, other formats as a string.
pub(crate) const NUMBER_MARKER: &str = "\u{037E}DYNORM_NUMBER\u{037E}";

/// Encodes a value that must become an item (a map at level 0), with `shape` telling
/// how its fields are stored. Errors carry the path within the item.
pub(crate) fn to_item<T: Serialize + ?Sized>(value: &T, shape: Shape) -> Result<Item> {
    match value.serialize(Encoder { depth: 0, shape }) {
        Ok(AttributeValue::M(map)) => Ok(map),
        Ok(other) => Err(ValueError::new(format_args!(
            "an item must be a struct or map, not {}",
            type_name(&other)
        ))),
        Err(err) => Err(err.finish("")),
    }
}

/// Encodes one value that sits at level `depth` (1 for an attribute, more for a value at
/// a nested path). The error's path is left for [`ValueError::finish`] to write, after
/// the path of the attribute the value is bound for.
pub(crate) fn to_attribute_value<T: Serialize + ?Sized>(
    value: &T,
    depth: usize,
    shape: Shape,
) -> Result<AttributeValue> {
    value.serialize(Encoder { depth, shape })
}

/// Whether a value is a set with no elements, which a map leaves out.
#[inline]
pub(crate) fn is_empty_set(value: &AttributeValue) -> bool {
    match value {
        AttributeValue::Ss(v) | AttributeValue::Ns(v) => v.is_empty(),
        AttributeValue::Bs(v) => v.is_empty(),
        _ => false,
    }
}

/// The level of the elements of a list or map opened at `depth`.
#[inline]
fn open(depth: usize) -> Result<usize> {
    if depth >= MAX_DEPTH {
        Err(ValueError::invalid(ValueProblem::TooDeep))
    } else {
        Ok(depth + 1)
    }
}

/// A float as a DynamoDB number every client reads back exactly: the shortest digits
/// that round-trip, in plain notation when short, in exponent notation otherwise (Rust
/// writes `1e40` as 41 digits, over DynamoDB's 38). NaN and infinities come out as
/// `NaN`, `inf` and `-inf`, which the item check refuses.
pub(crate) fn float_string<F: std::fmt::Display + std::fmt::UpperExp>(v: F, finite: bool) -> String {
    let plain = v.to_string();
    if !finite || plain.len() <= 21 {
        return plain;
    }
    format!("{v:E}")
}

/// An integer too wide for a `u64`, refused when DynamoDB cannot hold its digits.
fn wide_integer(digits: String) -> Result<AttributeValue> {
    let len = digits.trim_start_matches('-').len();
    if len > 38 {
        return Err(ValueError::invalid(ValueProblem::TooManyDigits));
    }
    Ok(AttributeValue::N(digits))
}

/// The serializer: encodes a value at level `depth`, stored as `shape` says.
#[derive(Clone, Copy)]
struct Encoder {
    depth: usize,
    shape: Shape,
}

impl Encoder {
    fn with_shape(self, shape: Shape) -> Encoder {
        Encoder { shape, ..self }
    }
}

impl Serializer for Encoder {
    type Ok = AttributeValue;
    type Error = ValueError;
    type SerializeSeq = Sequence;
    type SerializeTuple = Sequence;
    type SerializeTupleStruct = Elements;
    type SerializeTupleVariant = Variant<Elements>;
    type SerializeMap = Entries;
    type SerializeStruct = Fields;
    type SerializeStructVariant = Variant<Fields>;

    fn serialize_bool(self, v: bool) -> Result<AttributeValue> {
        Ok(AttributeValue::Bool(v))
    }

    fn serialize_i8(self, v: i8) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_i16(self, v: i16) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_i32(self, v: i32) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_i64(self, v: i64) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_i128(self, v: i128) -> Result<AttributeValue> {
        wide_integer(v.to_string())
    }

    fn serialize_u8(self, v: u8) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_u16(self, v: u16) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_u32(self, v: u32) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_u64(self, v: u64) -> Result<AttributeValue> {
        Ok(AttributeValue::N(v.to_string()))
    }

    fn serialize_u128(self, v: u128) -> Result<AttributeValue> {
        wide_integer(v.to_string())
    }

    fn serialize_f32(self, v: f32) -> Result<AttributeValue> {
        Ok(AttributeValue::N(float_string(v, v.is_finite())))
    }

    fn serialize_f64(self, v: f64) -> Result<AttributeValue> {
        Ok(AttributeValue::N(float_string(v, v.is_finite())))
    }

    fn serialize_char(self, v: char) -> Result<AttributeValue> {
        Ok(AttributeValue::S(v.to_string()))
    }

    fn serialize_str(self, v: &str) -> Result<AttributeValue> {
        match self.shape {
            // Checked as every number is, by the item check: a string that is no number
            // is refused there with the attribute's path.
            Shape::Number => Ok(AttributeValue::N(v.to_owned())),
            _ => Ok(AttributeValue::S(v.to_owned())),
        }
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<AttributeValue> {
        Ok(AttributeValue::B(Blob::new(v)))
    }

    fn serialize_none(self) -> Result<AttributeValue> {
        Ok(AttributeValue::Null(true))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<AttributeValue> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<AttributeValue> {
        Ok(AttributeValue::Null(true))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<AttributeValue> {
        Ok(AttributeValue::Null(true))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<AttributeValue> {
        Ok(AttributeValue::S(variant.to_owned()))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result<AttributeValue> {
        if name == NUMBER_MARKER {
            return value.serialize(self.with_shape(Shape::Number));
        }
        if SET_MARKERS.contains(&name) {
            return value.serialize(self.with_shape(Shape::Set { fill: false }));
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<AttributeValue> {
        // `{variant: value}`.
        let depth = open(self.depth)?;
        let value = value
            .serialize(Encoder {
                depth,
                shape: Shape::Plain,
            })
            .map_err(|e| e.in_field(variant))?;
        Ok(AttributeValue::M(HashMap::from([(variant.to_owned(), value)])))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Sequence> {
        match self.shape.resolve() {
            Shape::Set { .. } => Ok(Sequence::Set(SetElements::default())),
            Shape::Binary => Ok(Sequence::Bytes(Vec::with_capacity(len.unwrap_or(0)))),
            shape => Ok(Sequence::List(Elements::new(open(self.depth)?, shape.element(), len))),
        }
    }

    fn serialize_tuple(self, len: usize) -> Result<Sequence> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Elements> {
        Ok(Elements::new(open(self.depth)?, Shape::Plain, Some(len)))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Elements>> {
        // `{variant: [elements]}`: a map, and a list in it.
        let list = open(self.depth)?;
        let depth = open(list).map_err(|e| e.in_field(variant))?;
        Ok(Variant {
            variant,
            inner: Elements::new(depth, Shape::Plain, Some(len)),
        })
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Entries> {
        Ok(Entries {
            map: HashMap::with_capacity(len.unwrap_or(0)),
            depth: open(self.depth)?,
            shape: self.shape.resolve(),
            key: None,
        })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Fields> {
        Ok(Fields {
            map: HashMap::with_capacity(len),
            depth: open(self.depth)?,
            shape: self.shape.resolve(),
        })
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Variant<Fields>> {
        // `{variant: {fields}}`: a map, and a map in it.
        let fields = open(self.depth)?;
        let depth = open(fields).map_err(|e| e.in_field(variant))?;
        Ok(Variant {
            variant,
            inner: Fields {
                map: HashMap::with_capacity(len),
                depth,
                shape: Shape::Plain,
            },
        })
    }
}

/// A sequence or tuple: a list, or a set or binary value when its shape says so.
enum Sequence {
    List(Elements),
    Set(SetElements),
    Bytes(Vec<u8>),
}

impl ser::SerializeSeq for Sequence {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        match self {
            Sequence::List(elements) => elements.push(value),
            Sequence::Set(set) => set.push(value),
            Sequence::Bytes(bytes) => {
                let index = bytes.len();
                let byte = value.serialize(ByteEncoder).map_err(|e| e.in_element(index))?;
                bytes.push(byte);
                Ok(())
            }
        }
    }

    fn end(self) -> Result<AttributeValue> {
        match self {
            Sequence::List(elements) => Ok(AttributeValue::L(elements.list)),
            Sequence::Set(set) => Ok(set.end()),
            Sequence::Bytes(bytes) => Ok(AttributeValue::B(Blob::new(bytes))),
        }
    }
}

impl ser::SerializeTuple for Sequence {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        ser::SerializeSeq::serialize_element(self, value)
    }

    fn end(self) -> Result<AttributeValue> {
        ser::SerializeSeq::end(self)
    }
}

/// The elements of a list, one level down.
struct Elements {
    list: Vec<AttributeValue>,
    depth: usize,
    shape: Shape,
}

impl Elements {
    fn new(depth: usize, shape: Shape, len: Option<usize>) -> Self {
        Elements {
            list: Vec::with_capacity(len.unwrap_or(0)),
            depth,
            shape,
        }
    }

    #[inline]
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let encoder = Encoder {
            depth: self.depth,
            shape: self.shape,
        };
        let index = self.list.len();
        let value = value.serialize(encoder).map_err(|e| e.in_element(index))?;
        self.list.push(value);
        Ok(())
    }
}

impl ser::SerializeTupleStruct for Elements {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.push(value)
    }

    fn end(self) -> Result<AttributeValue> {
        Ok(AttributeValue::L(self.list))
    }
}

/// The elements of a set: all strings, all numbers or all binary.
#[derive(Default)]
struct SetElements {
    strings: Vec<String>,
    numbers: Vec<String>,
    binaries: Vec<Blob>,
    count: usize,
}

impl SetElements {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let index = self.count;
        // A byte vector in a set is one binary element.
        let encoder = Encoder {
            depth: 0,
            shape: Shape::Binary,
        };
        let element = value.serialize(encoder).map_err(|e| e.in_element(index))?;
        match element {
            AttributeValue::S(s) => self.strings.push(s),
            AttributeValue::N(n) => self.numbers.push(n),
            AttributeValue::B(b) => self.binaries.push(b),
            other => {
                let message = format!("a set holds strings, numbers or binary, not {}", type_name(&other));
                return Err(ValueError::new(message).in_element(index));
            }
        }
        self.count += 1;
        let kinds = [&self.strings.len(), &self.numbers.len(), &self.binaries.len()];
        if kinds.iter().filter(|n| ***n > 0).count() > 1 {
            let message = "the elements of a set must all be strings, all numbers or all binary";
            return Err(ValueError::new(message).in_element(index));
        }
        Ok(())
    }

    /// The set; with no elements, an empty string set, which a map leaves out.
    fn end(self) -> AttributeValue {
        if !self.numbers.is_empty() {
            AttributeValue::Ns(self.numbers)
        } else if !self.binaries.is_empty() {
            AttributeValue::Bs(self.binaries)
        } else {
            AttributeValue::Ss(self.strings)
        }
    }
}

/// A struct or struct variant's fields, one level down.
struct Fields {
    map: Item,
    depth: usize,
    shape: Shape,
}

impl Fields {
    #[inline]
    fn insert<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<()> {
        let shape = if self.shape.is_plain() {
            Shape::Plain
        } else {
            self.shape.field(key)
        };
        let encoder = Encoder {
            depth: self.depth,
            shape,
        };
        let value = value.serialize(encoder).map_err(|e| e.in_field(key))?;
        if !is_empty_set(&value) {
            self.map.insert(key.to_owned(), value);
        }
        Ok(())
    }
}

impl ser::SerializeStruct for Fields {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        self.insert(key, value)
    }

    fn end(self) -> Result<AttributeValue> {
        Ok(AttributeValue::M(self.map))
    }
}

/// A map's entries, one level down. Keys must serialize as strings (or numbers, bools,
/// chars and unit variants, written as their text).
struct Entries {
    map: Item,
    depth: usize,
    shape: Shape,
    key: Option<String>,
}

impl ser::SerializeMap for Entries {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result<()> {
        self.key = Some(key.serialize(KeyEncoder)?);
        Ok(())
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result<()> {
        let key = self
            .key
            .take()
            .ok_or_else(|| ValueError::new("a map value was serialized before its key"))?;
        self.entry(key, value)
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(&mut self, key: &K, value: &V) -> Result<()> {
        let key = key.serialize(KeyEncoder)?;
        self.entry(key, value)
    }

    fn end(self) -> Result<AttributeValue> {
        Ok(AttributeValue::M(self.map))
    }
}

impl Entries {
    #[inline]
    fn entry<V: Serialize + ?Sized>(&mut self, key: String, value: &V) -> Result<()> {
        let shape = if self.shape.is_plain() {
            Shape::Plain
        } else {
            self.shape.field(&key)
        };
        let encoder = Encoder {
            depth: self.depth,
            shape,
        };
        let value = value.serialize(encoder).map_err(|e| e.in_field(&key))?;
        if !is_empty_set(&value) {
            self.map.insert(key, value);
        }
        Ok(())
    }
}

/// A tuple or struct variant: `{variant: inner}`.
struct Variant<C> {
    variant: &'static str,
    inner: C,
}

impl ser::SerializeTupleVariant for Variant<Elements> {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        let variant = self.variant;
        self.inner.push(value).map_err(|e| e.in_field(variant))
    }

    fn end(self) -> Result<AttributeValue> {
        let list = AttributeValue::L(self.inner.list);
        Ok(AttributeValue::M(HashMap::from([(self.variant.to_owned(), list)])))
    }
}

impl ser::SerializeStructVariant for Variant<Fields> {
    type Ok = AttributeValue;
    type Error = ValueError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<()> {
        let variant = self.variant;
        self.inner.insert(key, value).map_err(|e| e.in_field(variant))
    }

    fn end(self) -> Result<AttributeValue> {
        let map = AttributeValue::M(self.inner.map);
        Ok(AttributeValue::M(HashMap::from([(self.variant.to_owned(), map)])))
    }
}

/// The message for a map key that is no string, number, bool or char.
const KEY_NOT_STRING: &str = "a map key must be a string";

macro_rules! not_a_key {
    ($($method:ident($($ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<$ok> {
                Err(ValueError::new(KEY_NOT_STRING))
            }
        )*
    };
}

macro_rules! key_text {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method(self, v: $ty) -> Result<String> {
                Ok(v.to_string())
            }
        )*
    };
}

/// A map key: its text.
struct KeyEncoder;

impl Serializer for KeyEncoder {
    type Ok = String;
    type Error = ValueError;
    type SerializeSeq = Impossible<String, ValueError>;
    type SerializeTuple = Impossible<String, ValueError>;
    type SerializeTupleStruct = Impossible<String, ValueError>;
    type SerializeTupleVariant = Impossible<String, ValueError>;
    type SerializeMap = Impossible<String, ValueError>;
    type SerializeStruct = Impossible<String, ValueError>;
    type SerializeStructVariant = Impossible<String, ValueError>;

    key_text! {
        serialize_bool(bool);
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u8(u8);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
        serialize_char(char);
        serialize_str(&str);
    }

    not_a_key! {
        serialize_f32(f32) -> String;
        serialize_f64(f64) -> String;
        serialize_bytes(&[u8]) -> String;
        serialize_none() -> String;
        serialize_unit() -> String;
        serialize_unit_struct(&'static str) -> String;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String> {
        Err(ValueError::new(KEY_NOT_STRING))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<String> {
        Ok(variant.to_owned())
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<String> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String> {
        Err(ValueError::new(KEY_NOT_STRING))
    }
}

/// One byte of binary data written as a sequence of `u8`.
struct ByteEncoder;

/// The message for an element of binary data that is no byte.
const NOT_A_BYTE: &str = "binary data holds bytes: integers from 0 to 255";

macro_rules! byte_from {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method(self, v: $ty) -> Result<u8> {
                u8::try_from(v).map_err(|_| ValueError::new(NOT_A_BYTE))
            }
        )*
    };
}

impl Serializer for ByteEncoder {
    type Ok = u8;
    type Error = ValueError;
    type SerializeSeq = Impossible<u8, ValueError>;
    type SerializeTuple = Impossible<u8, ValueError>;
    type SerializeTupleStruct = Impossible<u8, ValueError>;
    type SerializeTupleVariant = Impossible<u8, ValueError>;
    type SerializeMap = Impossible<u8, ValueError>;
    type SerializeStruct = Impossible<u8, ValueError>;
    type SerializeStructVariant = Impossible<u8, ValueError>;

    fn serialize_u8(self, v: u8) -> Result<u8> {
        Ok(v)
    }

    byte_from! {
        serialize_i8(i8);
        serialize_i16(i16);
        serialize_i32(i32);
        serialize_i64(i64);
        serialize_i128(i128);
        serialize_u16(u16);
        serialize_u32(u32);
        serialize_u64(u64);
        serialize_u128(u128);
    }

    fn serialize_bool(self, _: bool) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_f32(self, _: f32) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_f64(self, _: f64) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_char(self, _: char) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_str(self, _: &str) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_bytes(self, _: &[u8]) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_none(self) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<u8> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<u8> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<u8> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeTupleStruct> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(ValueError::new(NOT_A_BYTE))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(ValueError::new(NOT_A_BYTE))
    }
}
