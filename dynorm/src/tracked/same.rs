//! Whether a field still holds what it was stored as, found without encoding it.
//!
//! A partial save compares each field of the instance with the attribute value of the
//! snapshot, walking both together through the field's own `Serialize` impl: a string
//! is compared with the stored `S`, an integer is written into a stack buffer and
//! compared with the stored `N`, a struct field by field. Nothing is allocated for a
//! field that did not change; only a changed field is then encoded.
//!
//! The answer is `true` only when the encoder (`encode.rs`) would write exactly the
//! stored value. Where the comparison is unsure (sets, binary data, a value serde
//! writes through a custom error, a map whose entries it cannot count), it answers
//! `false`, and the save encodes the field and compares the encoded values instead:
//! never a lost change, at worst the cost of the encoding it avoids elsewhere.

use std::fmt::{self, Write as _};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{self, Impossible, Serialize, Serializer};

use crate::encode::{NUMBER_MARKER, SET_MARKERS};
use crate::schema::Shape;
use crate::Item;

/// How many `Option`s and newtype structs may wrap one another before the comparison
/// gives up (the encoder then handles the value as it always does).
const MAX_WRAPS: usize = 64;

/// Whether `value`, stored as `shape` says, encodes to exactly `stored`.
pub(crate) fn encodes_to<T: Serialize + ?Sized>(value: &T, stored: &AttributeValue, shape: Shape) -> bool {
    value
        .serialize(Same {
            stored,
            shape,
            wraps: 0,
        })
        .is_ok()
}

/// The comparison found a difference, or could not be sure there was none.
#[derive(Debug)]
pub(crate) struct Differs;

impl fmt::Display for Differs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value differs from the stored one")
    }
}

impl std::error::Error for Differs {}

impl ser::Error for Differs {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Differs
    }
}

type Result<T = ()> = std::result::Result<T, Differs>;

fn check(same: bool) -> Result {
    if same {
        Ok(())
    } else {
        Err(Differs)
    }
}

/// Text written into a fixed buffer: an integer's or a float's digits, with no
/// allocation. Longer text fails to write, and the comparison gives up.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl StackText {
    fn of(value: impl fmt::Display) -> Option<StackText> {
        let mut text = StackText { buf: [0; 64], len: 0 };
        write!(text, "{value}").ok()?;
        Some(text)
    }

    fn of_exp(value: impl fmt::UpperExp) -> Option<StackText> {
        let mut text = StackText { buf: [0; 64], len: 0 };
        write!(text, "{value:E}").ok()?;
        Some(text)
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Compares a value with the stored one, as the encoder would write it at `shape`.
#[derive(Clone, Copy)]
struct Same<'a> {
    stored: &'a AttributeValue,
    shape: Shape,
    wraps: usize,
}

impl<'a> Same<'a> {
    /// A compound value is compared only where the encoder writes it as serde does, or
    /// shapes its fields or elements; a set or binary value is left to the encoder.
    fn compound(self) -> Result<Shape> {
        match self.shape.resolve() {
            Shape::Set { .. } | Shape::Binary | Shape::Number => Err(Differs),
            shape => Ok(shape),
        }
    }

    fn scalar(self) -> Result {
        match self.shape.resolve() {
            Shape::Set { .. } | Shape::Binary => Err(Differs),
            _ => Ok(()),
        }
    }

    fn number(self, digits: impl fmt::Display) -> Result {
        self.scalar()?;
        let text = StackText::of(digits).ok_or(Differs)?;
        let digits = text.as_str();
        // The encoder refuses integers of more than 38 digits.
        check(digits.trim_start_matches('-').len() <= 38 && matches!(self.stored, AttributeValue::N(n) if n == digits))
    }

    fn float<F: fmt::Display + fmt::UpperExp>(self, v: F, finite: bool) -> Result {
        self.scalar()?;
        // As `encode::float_string` writes it.
        let plain = StackText::of(&v).ok_or(Differs)?;
        let text = if !finite || plain.len <= 21 {
            plain
        } else {
            StackText::of_exp(v).ok_or(Differs)?
        };
        check(matches!(self.stored, AttributeValue::N(n) if n == text.as_str()))
    }

    fn wrapped(self, shape: Shape) -> Result<Same<'a>> {
        if self.wraps >= MAX_WRAPS {
            return Err(Differs);
        }
        Ok(Same {
            shape,
            wraps: self.wraps + 1,
            ..self
        })
    }

    /// The one entry of a `{variant: value}` map.
    fn variant(self, variant: &str) -> Result<&'a AttributeValue> {
        self.scalar()?;
        match self.stored {
            AttributeValue::M(map) if map.len() == 1 => map.get(variant).ok_or(Differs),
            _ => Err(Differs),
        }
    }

    fn list(self, shape: Shape, len: Option<usize>) -> Result<SameList<'a>> {
        match self.stored {
            AttributeValue::L(list) if len.is_none_or(|len| len == list.len()) => Ok(SameList { list, next: 0, shape }),
            _ => Err(Differs),
        }
    }

    fn map(self, shape: Shape) -> Result<SameMap<'a>> {
        match self.stored {
            AttributeValue::M(map) => Ok(SameMap {
                map,
                shape,
                seen: Seen::default(),
                pending: None,
            }),
            _ => Err(Differs),
        }
    }
}

impl<'a> Serializer for Same<'a> {
    type Ok = ();
    type Error = Differs;
    type SerializeSeq = SameList<'a>;
    type SerializeTuple = SameList<'a>;
    type SerializeTupleStruct = SameList<'a>;
    type SerializeTupleVariant = SameList<'a>;
    type SerializeMap = SameMap<'a>;
    type SerializeStruct = SameMap<'a>;
    type SerializeStructVariant = SameMap<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.scalar()?;
        check(matches!(self.stored, AttributeValue::Bool(b) if *b == v))
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.number(v)
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.number(v)
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.number(v)
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.number(v)
    }

    fn serialize_i128(self, v: i128) -> Result {
        self.number(v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.number(v)
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.number(v)
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.number(v)
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.number(v)
    }

    fn serialize_u128(self, v: u128) -> Result {
        self.number(v)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.float(v, v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.float(v, v.is_finite())
    }

    fn serialize_char(self, v: char) -> Result {
        self.scalar()?;
        let mut buf = [0; 4];
        let v: &str = v.encode_utf8(&mut buf);
        check(matches!(self.stored, AttributeValue::S(s) if s == v))
    }

    fn serialize_str(self, v: &str) -> Result {
        match (self.shape.resolve(), self.stored) {
            (Shape::Set { .. } | Shape::Binary, _) => Err(Differs),
            (Shape::Number, AttributeValue::N(n)) => check(n == v),
            (Shape::Number, _) => Err(Differs),
            (_, AttributeValue::S(s)) => check(s == v),
            _ => Err(Differs),
        }
    }

    fn serialize_bytes(self, v: &[u8]) -> Result {
        check(matches!(self.stored, AttributeValue::B(b) if b.as_ref() == v))
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self.wrapped(self.shape)?)
    }

    fn serialize_unit(self) -> Result {
        self.scalar()?;
        check(matches!(self.stored, AttributeValue::Null(true)))
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.scalar()?;
        check(matches!(self.stored, AttributeValue::S(s) if s == variant))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, name: &'static str, value: &T) -> Result {
        if name == NUMBER_MARKER {
            return value.serialize(self.wrapped(Shape::Number)?);
        }
        if SET_MARKERS.contains(&name) {
            return Err(Differs);
        }
        value.serialize(self.wrapped(self.shape)?)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        let stored = self.variant(variant)?;
        value.serialize(Same {
            stored,
            shape: Shape::Plain,
            wraps: 0,
        })
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<SameList<'a>> {
        let shape = self.compound()?;
        self.list(shape.element(), len)
    }

    fn serialize_tuple(self, len: usize) -> Result<SameList<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SameList<'a>> {
        self.compound()?;
        self.list(Shape::Plain, Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SameList<'a>> {
        let stored = self.variant(variant)?;
        Same { stored, ..self }.list(Shape::Plain, Some(len))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<SameMap<'a>> {
        let shape = self.compound()?;
        self.map(shape)
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<SameMap<'a>> {
        let shape = self.compound()?;
        self.map(shape)
    }

    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, _: usize) -> Result<SameMap<'a>> {
        let stored = self.variant(variant)?;
        Same { stored, ..self }.map(Shape::Plain)
    }
}

/// A list compared element by element.
pub(crate) struct SameList<'a> {
    list: &'a [AttributeValue],
    next: usize,
    shape: Shape,
}

impl SameList<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        let stored = self.list.get(self.next).ok_or(Differs)?;
        self.next += 1;
        value.serialize(Same {
            stored,
            shape: self.shape,
            wraps: 0,
        })
    }

    fn finish(self) -> Result {
        check(self.next == self.list.len())
    }
}

/// The serde traits of a sequence, a tuple, a tuple struct and a tuple variant: each
/// element is the next one of the list.
macro_rules! list_impls {
    ($($trait:ident::$method:ident),*) => {
        $(
            impl ser::$trait for SameList<'_> {
                type Ok = ();
                type Error = Differs;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                    self.element(value)
                }

                fn end(self) -> Result {
                    self.finish()
                }
            }
        )*
    };
}

list_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The stored entries a map or struct matched, so that every one is matched exactly
/// once: a value that wrote one key twice and left another out is no match.
#[derive(Default)]
struct Seen {
    inline: [usize; 16],
    len: usize,
    more: std::collections::HashSet<usize>,
}

impl Seen {
    /// Records a stored entry (by address); `false` when it was already matched.
    fn insert(&mut self, entry: &AttributeValue) -> bool {
        let at = std::ptr::from_ref(entry) as usize;
        if self.inline[..self.len].contains(&at) {
            return false;
        }
        if self.len < self.inline.len() {
            self.inline[self.len] = at;
            self.len += 1;
            true
        } else {
            self.more.insert(at)
        }
    }

    fn count(&self) -> usize {
        self.len + self.more.len()
    }
}

/// A map or struct compared entry by entry.
pub(crate) struct SameMap<'a> {
    map: &'a Item,
    shape: Shape,
    seen: Seen,
    /// The stored value of the entry whose key was given, waiting for its value.
    pending: Option<(&'a AttributeValue, Shape)>,
}

impl<'a> SameMap<'a> {
    /// A map's stored entry, found by its key, with the shape its value is encoded at:
    /// the same for every entry (a map whose entries are shaped by name, the fields of
    /// a flattened struct, is left to the encoder).
    fn matched(&mut self, stored: &'a AttributeValue) -> Result<(&'a AttributeValue, Shape)> {
        check(self.seen.insert(stored))?;
        let shape = match self.shape {
            shape if shape.is_plain() => Shape::Plain,
            Shape::Each(each) => each.resolve(),
            _ => return Err(Differs),
        };
        Ok((stored, shape))
    }

    /// A struct's stored field `key`, with the shape its value is encoded at.
    fn lookup(&mut self, key: &str) -> Result<(&'a AttributeValue, Shape)> {
        let stored = self.map.get(key).ok_or(Differs)?;
        check(self.seen.insert(stored))?;
        let shape = if self.shape.is_plain() {
            Shape::Plain
        } else {
            self.shape.field(key)
        };
        Ok((stored, shape))
    }

    fn entry<V: Serialize + ?Sized>(&mut self, key: &str, value: &V) -> Result {
        let (stored, shape) = self.lookup(key)?;
        value.serialize(Same {
            stored,
            shape,
            wraps: 0,
        })
    }

    fn finish(self) -> Result {
        check(self.seen.count() == self.map.len())
    }
}

impl ser::SerializeMap for SameMap<'_> {
    type Ok = ();
    type Error = Differs;

    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> Result {
        let stored = key.serialize(KeyFind { map: self.map })?;
        self.pending = Some(self.matched(stored)?);
        Ok(())
    }

    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> Result {
        let (stored, shape) = self.pending.take().ok_or(Differs)?;
        value.serialize(Same {
            stored,
            shape,
            wraps: 0,
        })
    }

    fn end(self) -> Result {
        self.finish()
    }
}

/// The serde traits of a struct and a struct variant: each field is an entry.
macro_rules! struct_impls {
    ($($trait:ident),*) => {
        $(
            impl ser::$trait for SameMap<'_> {
                type Ok = ();
                type Error = Differs;

                fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
                    self.entry(key, value)
                }

                fn end(self) -> Result {
                    self.finish()
                }
            }
        )*
    };
}

struct_impls!(SerializeStruct, SerializeStructVariant);

/// Finds the stored entry of a map key: the key's text as the encoder's key encoder
/// writes it (a string as it is, a number or bool as its text, a unit variant as its
/// name), looked up in the stored map.
struct KeyFind<'a> {
    map: &'a Item,
}

impl<'a> KeyFind<'a> {
    fn text(self, v: impl fmt::Display) -> Result<&'a AttributeValue> {
        let text = StackText::of(v).ok_or(Differs)?;
        self.map.get(text.as_str()).ok_or(Differs)
    }
}

macro_rules! key_text {
    ($($method:ident($ty:ty);)*) => {
        $(
            fn $method(self, v: $ty) -> Result<&'a AttributeValue> {
                self.text(v)
            }
        )*
    };
}

macro_rules! not_a_key {
    ($($method:ident($($ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<$ok> {
                Err(Differs)
            }
        )*
    };
}

impl<'a> Serializer for KeyFind<'a> {
    type Ok = &'a AttributeValue;
    type Error = Differs;
    type SerializeSeq = Impossible<&'a AttributeValue, Differs>;
    type SerializeTuple = Impossible<&'a AttributeValue, Differs>;
    type SerializeTupleStruct = Impossible<&'a AttributeValue, Differs>;
    type SerializeTupleVariant = Impossible<&'a AttributeValue, Differs>;
    type SerializeMap = Impossible<&'a AttributeValue, Differs>;
    type SerializeStruct = Impossible<&'a AttributeValue, Differs>;
    type SerializeStructVariant = Impossible<&'a AttributeValue, Differs>;

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
    }

    not_a_key! {
        serialize_f32(f32) -> &'a AttributeValue;
        serialize_f64(f64) -> &'a AttributeValue;
        serialize_bytes(&[u8]) -> &'a AttributeValue;
        serialize_none() -> &'a AttributeValue;
        serialize_unit() -> &'a AttributeValue;
        serialize_unit_struct(&'static str) -> &'a AttributeValue;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_str(self, v: &str) -> Result<&'a AttributeValue> {
        self.map.get(v).ok_or(Differs)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<&'a AttributeValue> {
        Err(Differs)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<&'a AttributeValue> {
        self.map.get(variant).ok_or(Differs)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<&'a AttributeValue> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<&'a AttributeValue> {
        Err(Differs)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use serde::Serialize;

    use super::encodes_to;
    use crate::encode::to_attribute_value;
    use crate::schema::Shape;

    #[derive(Serialize, Clone)]
    enum Kind {
        Unit,
        New(u8),
        Pair(i32, String),
        Named { a: bool, b: Option<f64> },
    }

    #[derive(Serialize, Clone)]
    struct Inner {
        city: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        zip: Option<String>,
    }

    #[derive(Serialize, Clone)]
    struct Value {
        s: String,
        n: u32,
        f: f64,
        b: bool,
        c: char,
        wide: i128,
        o: Option<String>,
        l: Vec<String>,
        m: BTreeMap<String, u64>,
        k: Kind,
        inner: Inner,
        t: (u8, String),
        u: (),
        keyed: HashMap<u16, bool>,
    }

    fn values() -> Vec<Value> {
        let base = Value {
            s: "alpha".into(),
            n: 7,
            f: 0.1,
            b: true,
            c: 'é',
            wide: -99_999_999_999_999_999_999_999_999_999_999_999_999,
            o: None,
            l: vec!["a".into(), "b".into()],
            m: [("x".to_owned(), 1), ("y".to_owned(), 2)].into_iter().collect(),
            k: Kind::Unit,
            inner: Inner {
                city: "Lyon".into(),
                zip: None,
            },
            t: (1, "one".into()),
            u: (),
            keyed: [(1, true)].into_iter().collect(),
        };
        let mut all = vec![base.clone()];
        let mut push = |f: &dyn Fn(&mut Value)| {
            let mut v = base.clone();
            f(&mut v);
            all.push(v);
        };
        push(&|v| v.s = "alphb".into());
        push(&|v| v.s = String::new());
        push(&|v| v.n = 8);
        push(&|v| v.f = 1e40);
        push(&|v| v.f = f64::NAN);
        push(&|v| v.f = -0.0);
        push(&|v| v.b = false);
        push(&|v| v.c = 'e');
        push(&|v| v.wide = 0);
        push(&|v| v.o = Some(String::new()));
        push(&|v| v.o = Some("alpha".into()));
        push(&|v| v.l = vec!["a".into()]);
        push(&|v| v.l = vec!["b".into(), "a".into()]);
        push(&|v| v.l.push("b".into()));
        push(&|v| v.l.clear());
        push(&|v| {
            v.m.insert("z".into(), 3);
        });
        push(&|v| {
            v.m.remove("x");
        });
        push(&|v| {
            v.m.insert("x".into(), 9);
        });
        push(&|v| v.k = Kind::New(0));
        push(&|v| v.k = Kind::New(1));
        push(&|v| v.k = Kind::Pair(1, "p".into()));
        push(&|v| v.k = Kind::Pair(1, "q".into()));
        push(&|v| v.k = Kind::Named { a: true, b: None });
        push(&|v| v.k = Kind::Named { a: true, b: Some(2.5) });
        push(&|v| v.inner.zip = Some("69001".into()));
        push(&|v| v.inner.city = "Paris".into());
        push(&|v| v.t.0 = 2);
        push(&|v| {
            v.keyed.insert(2, false);
        });
        push(&|v| {
            v.keyed.insert(1, false);
        });
        all
    }

    fn encoded<T: Serialize>(value: &T, shape: Shape) -> aws_sdk_dynamodb::types::AttributeValue {
        to_attribute_value(value, 1, shape).expect("encodes")
    }

    #[test]
    fn a_value_matches_its_own_encoding_and_no_other() {
        let values = values();
        for (i, a) in values.iter().enumerate() {
            assert!(encodes_to(a, &encoded(a, Shape::Plain), Shape::Plain), "value {i}");
            for (j, b) in values.iter().enumerate() {
                let (ea, eb) = (encoded(a, Shape::Plain), encoded(b, Shape::Plain));
                assert_eq!(encodes_to(a, &eb, Shape::Plain), ea == eb, "value {i} against {j}");
            }
        }
    }

    #[test]
    fn sets_and_binary_are_left_to_the_encoder() {
        let tags: std::collections::BTreeSet<String> = ["a".to_owned()].into_iter().collect();
        let set = Shape::Set { fill: true };
        assert!(!encodes_to(&tags, &encoded(&tags, set), set));
        let bytes = vec![1u8, 2];
        assert!(!encodes_to(&bytes, &encoded(&bytes, Shape::Binary), Shape::Binary));
        // A number written as a string is compared as the number it is stored as.
        assert!(encodes_to("12.50", &encoded(&"12.50", Shape::Number), Shape::Number));
        assert!(!encodes_to("12.5", &encoded(&"12.50", Shape::Number), Shape::Number));
        assert!(!encodes_to("12.50", &encoded(&"12.50", Shape::Plain), Shape::Number));
    }

    #[test]
    fn a_map_key_written_twice_is_no_match() {
        struct Twice;
        impl Serialize for Twice {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut map = s.serialize_map(None)?;
                map.serialize_entry("a", &1)?;
                map.serialize_entry("a", &1)?;
                map.end()
            }
        }
        let stored = encoded(&BTreeMap::from([("a", 1), ("b", 2)]), Shape::Plain);
        assert!(!encodes_to(&Twice, &stored, Shape::Plain));
    }
}
