//! Encoding user values into attribute values without going deeper than DynamoDB allows.
//!
//! serde_dynamo builds a value's whole tree before dynorm can look at it, recursing once
//! per level (and once more to convert it to the SDK's type, and once more to drop it):
//! a value nested a few thousand levels deep overflows the stack in a debug build. The
//! [`Encoder`] here is a serializer adapter around `serde_dynamo::Serializer` that
//! forwards every call and counts nesting the way DynamoDB does. A list or map that
//! would sit deeper than [`MAX_DEPTH`] fails at once, before anything below it is
//! serialized, so encoding never recurses more than 32 levels into a value.
//!
//! The levels are those of `check_value` in `item.rs`: an item's attributes are level 1
//! (the item itself is level 0), and a list or map (`L` or `M`) at level 32 or deeper is
//! too deep. Only what serde_dynamo writes as `L` or `M` counts: sequences, tuples, tuple
//! structs, maps, structs, and enum variants with data (a newtype variant is a map of one
//! entry, a tuple or struct variant a map holding a list or map: two levels). `Option`,
//! newtype structs and unit variants add none; a string, number or binary set is no
//! list, so one may sit at level 32.
//!
//! The adapter adds no allocation: each level is a copy of a small struct holding the
//! level and a reference to a [`Trace`]. Only a failure records where it happened, into
//! that trace, while the error unwinds.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::fmt::Display;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{self, Error as _, Impossible, Serialize, Serializer};

use crate::error::ValueProblem;
use crate::value::{Item, MAX_DEPTH};
use crate::{Error, Result};

/// Encodes a value that must become an item (a map at level 0), stopping at the first
/// list or map deeper than DynamoDB allows: `Error::InvalidItem` with
/// `ValueProblem::TooDeep` and the path to it, such as `tree.child.child`.
pub(crate) fn to_item<T: Serialize + ?Sized>(value: &T) -> Result<Item> {
    match encode(value, 0) {
        Ok(serde_dynamo::AttributeValue::M(map)) => Ok(map.into_iter().map(|(k, v)| (k, v.into())).collect()),
        // The same failure as serde_dynamo's `to_item`.
        Ok(_) => Err(Error::Serialization(serde_dynamo::Error::custom(
            "Not a map-like object",
        ))),
        Err(Failure::Serde(err)) => Err(Error::Serialization(err)),
        Err(Failure::TooDeep(path)) => Err(Error::InvalidItem {
            path,
            problem: ValueProblem::TooDeep,
        }),
    }
}

/// Encodes one value that sits at level `depth` (1 for an attribute, more for a value
/// at a nested path), the way serde_dynamo's `to_attribute_value` does, except that a
/// list or map deeper than DynamoDB allows fails at once. The error's message then reads
/// `nested deeper than DynamoDB's 32 levels at `child.child`` (the path within the
/// value; none when the value itself is too deep); [`expression_error`] turns it back
/// into `Error::InvalidItem`.
pub(crate) fn to_attribute_value<T: Serialize + ?Sized>(
    value: &T,
    depth: usize,
) -> std::result::Result<AttributeValue, serde_dynamo::Error> {
    match encode(value, depth) {
        Ok(value) => Ok(value.into()),
        Err(Failure::Serde(err)) => Err(err),
        Err(Failure::TooDeep(path)) if path.is_empty() => Err(serde_dynamo::Error::custom(ValueProblem::TooDeep)),
        Err(Failure::TooDeep(path)) => Err(serde_dynamo::Error::custom(format_args!(
            "{}{AT}{path}`",
            ValueProblem::TooDeep
        ))),
    }
}

/// Between the problem and the path in a too-deep error's message.
const AT: &str = " at `";

/// The error to report for a failed expression value bound for the attribute at `path`
/// (as users write it; empty when unknown): `Error::InvalidItem` with
/// `ValueProblem::TooDeep` for a value [`to_attribute_value`] found too deep (the path
/// within the value appended), `Error::Serialization` for anything else.
pub(crate) fn expression_error(path: &str, err: serde_dynamo::Error) -> Error {
    let message = err.to_string();
    let Some(rest) = message.strip_prefix(&ValueProblem::TooDeep.to_string()) else {
        return Error::Serialization(err);
    };
    let within = match rest.strip_prefix(AT).and_then(|r| r.strip_suffix('`')) {
        Some(within) => within,
        None if rest.is_empty() => "",
        None => return Error::Serialization(err),
    };
    let path = match (path.is_empty(), within.starts_with('[')) {
        (true, _) => within.to_owned(),
        (false, _) if within.is_empty() => path.to_owned(),
        (false, true) => format!("{path}{within}"),
        (false, false) => format!("{path}.{within}"),
    };
    Error::InvalidItem {
        path,
        problem: ValueProblem::TooDeep,
    }
}

enum Failure {
    Serde(serde_dynamo::Error),
    /// Too deep, at this path (rendered as users write it).
    TooDeep(String),
}

fn encode<T: Serialize + ?Sized>(
    value: &T,
    depth: usize,
) -> std::result::Result<serde_dynamo::AttributeValue, Failure> {
    let trace = Trace::default();
    let err = match value.serialize(Encoder::new(&trace, depth)) {
        Ok(value) => return Ok(value),
        Err(err) => err,
    };
    if !trace.too_deep.get() {
        return Err(Failure::Serde(err));
    }
    let mut steps = trace.steps.into_inner();
    if steps.iter().any(|s| matches!(s, Step::UnknownKey)) {
        // A map key was serialized apart from its value, so the first pass could not
        // name it. Serialize again, keeping such keys this time; only a failure pays.
        let again = Trace {
            capture_keys: true,
            ..Trace::default()
        };
        if value.serialize(Encoder::new(&again, depth)).is_err() && again.too_deep.get() {
            steps = again.steps.into_inner();
        }
    }
    Err(Failure::TooDeep(render(&steps)))
}

/// The path as users write it: `tree.child[2].child`. `steps` is innermost first.
fn render(steps: &[Step]) -> String {
    let mut out = String::new();
    for step in steps.iter().rev() {
        match step {
            Step::Name(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Step::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
            Step::UnknownKey => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    out
}

/// One step of the path to a too-deep value.
enum Step {
    /// A struct field, an enum variant (the key of the map it is written as) or a map key.
    Name(Cow<'static, str>),
    /// A list element.
    Index(usize),
    /// A map key that could not be recovered.
    UnknownKey,
}

/// Shared by every level of one encoding; written to only when a value is too deep.
#[derive(Default)]
struct Trace {
    too_deep: Cell<bool>,
    /// The steps to the too-deep value, innermost first, recorded while the error unwinds.
    steps: RefCell<Vec<Step>>,
    /// Keep the text of each map key serialized apart from its value (a second pass).
    capture_keys: bool,
}

impl Trace {
    /// The error for a list or map that would be too deep.
    #[cold]
    fn too_deep<E: ser::Error>(&self) -> E {
        self.too_deep.set(true);
        // Steps left by a failure that a `Serialize` impl swallowed are not ours.
        self.steps.borrow_mut().clear();
        E::custom(ValueProblem::TooDeep)
    }

    /// Records one more step while a too-deep error unwinds.
    #[cold]
    fn step(&self, step: impl FnOnce() -> Step) {
        if self.too_deep.get() {
            self.steps.borrow_mut().push(step());
        }
    }

    /// The level of the elements of a list or map opened at `depth`.
    #[inline]
    fn open<E: ser::Error>(&self, depth: usize) -> std::result::Result<usize, E> {
        if depth >= MAX_DEPTH {
            Err(self.too_deep())
        } else {
            Ok(depth + 1)
        }
    }
}

/// The serializer adapter: serializes a value at level `depth` with `inner`.
struct Encoder<'t, S> {
    inner: S,
    depth: usize,
    trace: &'t Trace,
}

impl<'t> Encoder<'t, serde_dynamo::Serializer> {
    fn new(trace: &'t Trace, depth: usize) -> Self {
        Encoder {
            inner: serde_dynamo::Serializer,
            depth,
            trace,
        }
    }
}

/// A value to serialize at level `depth`, whatever serializer serde_dynamo hands it.
struct Nested<'a, 't, T: ?Sized> {
    value: &'a T,
    depth: usize,
    trace: &'t Trace,
}

impl<T: Serialize + ?Sized> Serialize for Nested<'_, '_, T> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.value.serialize(Encoder {
            inner: serializer,
            depth: self.depth,
            trace: self.trace,
        })
    }
}

/// serde_dynamo writes a newtype struct of one of these names as a string, number or
/// binary set (the names its `string_set`, `number_set` and `binary_set` use).
fn is_set_marker(name: &str) -> bool {
    matches!(
        name,
        "\u{037E}STRINGSET\u{037E}" | "\u{037E}NUMBERSET\u{037E}" | "\u{037E}BYTESSET\u{037E}"
    )
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(
            #[inline]
            fn $method(self, $($arg: $ty),*) -> std::result::Result<Self::Ok, Self::Error> {
                self.inner.$method($($arg),*)
            }
        )*
    };
}

/// The methods both serializers forward unchanged: scalars, and the unit forms that hold
/// no value.
macro_rules! forward_scalars {
    () => {
        forward! {
            serialize_bool(v: bool);
            serialize_i8(v: i8);
            serialize_i16(v: i16);
            serialize_i32(v: i32);
            serialize_i64(v: i64);
            serialize_i128(v: i128);
            serialize_u8(v: u8);
            serialize_u16(v: u16);
            serialize_u32(v: u32);
            serialize_u64(v: u64);
            serialize_u128(v: u128);
            serialize_f32(v: f32);
            serialize_f64(v: f64);
            serialize_char(v: char);
            serialize_str(v: &str);
            serialize_none();
            serialize_unit();
            serialize_unit_struct(name: &'static str);
            serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
        }
    };
}

impl<'t, S: Serializer> Serializer for Encoder<'t, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Elements<'t, S::SerializeSeq>;
    type SerializeTuple = Elements<'t, S::SerializeTuple>;
    type SerializeTupleStruct = Elements<'t, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Elements<'t, S::SerializeTupleVariant>;
    type SerializeMap = Entries<'t, S::SerializeMap>;
    type SerializeStruct = Fields<'t, S::SerializeStruct>;
    type SerializeStructVariant = Fields<'t, S::SerializeStructVariant>;

    forward_scalars!();
    forward! {
        serialize_bytes(v: &[u8]);
    }

    #[inline]
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> std::result::Result<Self::Ok, Self::Error> {
        self.inner.collect_str(value)
    }

    #[inline]
    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> std::result::Result<Self::Ok, Self::Error> {
        let value = Nested {
            value,
            depth: self.depth,
            trace: self.trace,
        };
        self.inner.serialize_some(&value)
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> std::result::Result<Self::Ok, Self::Error> {
        // The sequence inside a set marker becomes a set, not a list: it may sit at the
        // deepest level, where a list may not.
        let depth = if self.depth >= MAX_DEPTH && is_set_marker(name) {
            MAX_DEPTH - 1
        } else {
            self.depth
        };
        let value = Nested {
            value,
            depth,
            trace: self.trace,
        };
        self.inner.serialize_newtype_struct(name, &value)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> std::result::Result<Self::Ok, Self::Error> {
        // `{variant: value}`.
        let trace = self.trace;
        let value = Nested {
            value,
            depth: trace.open(self.depth)?,
            trace,
        };
        self.inner
            .serialize_newtype_variant(name, index, variant, &value)
            .inspect_err(|_| trace.step(|| Step::Name(Cow::Borrowed(variant))))
    }

    #[inline]
    fn serialize_seq(self, len: Option<usize>) -> std::result::Result<Self::SerializeSeq, Self::Error> {
        let depth = self.trace.open(self.depth)?;
        Ok(Elements::new(self.inner.serialize_seq(len)?, depth, self.trace, None))
    }

    #[inline]
    fn serialize_tuple(self, len: usize) -> std::result::Result<Self::SerializeTuple, Self::Error> {
        let depth = self.trace.open(self.depth)?;
        Ok(Elements::new(self.inner.serialize_tuple(len)?, depth, self.trace, None))
    }

    #[inline]
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, Self::Error> {
        let depth = self.trace.open(self.depth)?;
        Ok(Elements::new(
            self.inner.serialize_tuple_struct(name, len)?,
            depth,
            self.trace,
            None,
        ))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, Self::Error> {
        // `{variant: [elements]}`: a map, and a list in it.
        let trace = self.trace;
        let list = trace.open(self.depth)?;
        let depth = trace
            .open(list)
            .inspect_err(|_| trace.step(|| Step::Name(Cow::Borrowed(variant))))?;
        let inner = self.inner.serialize_tuple_variant(name, index, variant, len)?;
        Ok(Elements::new(inner, depth, trace, Some(variant)))
    }

    #[inline]
    fn serialize_map(self, len: Option<usize>) -> std::result::Result<Self::SerializeMap, Self::Error> {
        let depth = self.trace.open(self.depth)?;
        Ok(Entries {
            inner: self.inner.serialize_map(len)?,
            depth,
            trace: self.trace,
            key: None,
        })
    }

    #[inline]
    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeStruct, Self::Error> {
        let depth = self.trace.open(self.depth)?;
        Ok(Fields {
            inner: self.inner.serialize_struct(name, len)?,
            depth,
            trace: self.trace,
            variant: None,
        })
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, Self::Error> {
        // `{variant: {fields}}`: a map, and a map in it.
        let trace = self.trace;
        let fields = trace.open(self.depth)?;
        let depth = trace
            .open(fields)
            .inspect_err(|_| trace.step(|| Step::Name(Cow::Borrowed(variant))))?;
        Ok(Fields {
            inner: self.inner.serialize_struct_variant(name, index, variant, len)?,
            depth,
            trace,
            variant: Some(variant),
        })
    }
}

/// The elements of a sequence, tuple, tuple struct or tuple variant, one level down.
struct Elements<'t, C> {
    inner: C,
    depth: usize,
    trace: &'t Trace,
    next_index: usize,
    /// The tuple variant the elements are in.
    variant: Option<&'static str>,
}

impl<'t, C> Elements<'t, C> {
    #[inline]
    fn new(inner: C, depth: usize, trace: &'t Trace, variant: Option<&'static str>) -> Self {
        Elements {
            inner,
            depth,
            trace,
            next_index: 0,
            variant,
        }
    }

    #[inline]
    fn element<E, T: Serialize + ?Sized>(
        &mut self,
        value: &T,
        serialize: impl FnOnce(&mut C, &Nested<'_, 't, T>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let index = self.next_index;
        self.next_index += 1;
        let value = Nested {
            value,
            depth: self.depth,
            trace: self.trace,
        };
        serialize(&mut self.inner, &value).inspect_err(|_| {
            self.trace.step(|| Step::Index(index));
            if let Some(variant) = self.variant {
                self.trace.step(|| Step::Name(Cow::Borrowed(variant)));
            }
        })
    }
}

/// The element-wise compound serializers, each forwarding to serde_dynamo's with one
/// level more.
macro_rules! forward_elements {
    ($($compound:ident :: $method:ident),*) => {$(
        impl<C: ser::$compound> ser::$compound for Elements<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            #[inline]
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> std::result::Result<(), C::Error> {
                self.element(value, |inner, value| inner.$method(value))
            }

            #[inline]
            fn end(self) -> std::result::Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}
forward_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// The fields of a struct or struct variant, one level down.
struct Fields<'t, C> {
    inner: C,
    depth: usize,
    trace: &'t Trace,
    /// The struct variant the fields are in.
    variant: Option<&'static str>,
}

impl<'t, C> Fields<'t, C> {
    #[inline]
    fn field<E, T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
        serialize: impl FnOnce(&mut C, &Nested<'_, 't, T>) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let value = Nested {
            value,
            depth: self.depth,
            trace: self.trace,
        };
        serialize(&mut self.inner, &value).inspect_err(|_| {
            self.trace.step(|| Step::Name(Cow::Borrowed(key)));
            if let Some(variant) = self.variant {
                self.trace.step(|| Step::Name(Cow::Borrowed(variant)));
            }
        })
    }
}

/// The field-wise compound serializers, each forwarding to serde_dynamo's with one level
/// more.
macro_rules! forward_fields {
    ($($compound:ident),*) => {$(
        impl<C: ser::$compound> ser::$compound for Fields<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            #[inline]
            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> std::result::Result<(), C::Error> {
                self.field(key, value, |inner, value| inner.serialize_field(key, value))
            }

            #[inline]
            fn skip_field(&mut self, key: &'static str) -> std::result::Result<(), C::Error> {
                self.inner.skip_field(key)
            }

            #[inline]
            fn end(self) -> std::result::Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    )*};
}
forward_fields!(SerializeStruct, SerializeStructVariant);

/// The entries of a map, one level down.
struct Entries<'t, C> {
    inner: C,
    depth: usize,
    trace: &'t Trace,
    /// The key given to `serialize_key`, kept on the second pass only.
    key: Option<String>,
}

impl<C: ser::SerializeMap> ser::SerializeMap for Entries<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    #[inline]
    fn serialize_key<K: Serialize + ?Sized>(&mut self, key: &K) -> std::result::Result<(), C::Error> {
        if self.trace.capture_keys {
            self.key = key_text(key);
        }
        self.inner.serialize_key(&MapKey(key))
    }

    #[inline]
    fn serialize_value<V: Serialize + ?Sized>(&mut self, value: &V) -> std::result::Result<(), C::Error> {
        let value = Nested {
            value,
            depth: self.depth,
            trace: self.trace,
        };
        let key = self.key.take();
        self.inner.serialize_value(&value).inspect_err(|_| {
            self.trace
                .step(|| key.map_or(Step::UnknownKey, |k| Step::Name(Cow::Owned(k))))
        })
    }

    #[inline]
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> std::result::Result<(), C::Error> {
        let value = Nested {
            value,
            depth: self.depth,
            trace: self.trace,
        };
        self.inner.serialize_entry(&MapKey(key), &value).inspect_err(|_| {
            self.trace
                .step(|| key_text(key).map_or(Step::UnknownKey, |k| Step::Name(Cow::Owned(k))))
        })
    }

    #[inline]
    fn end(self) -> std::result::Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

/// A map key, serialized through [`KeyFilter`].
struct MapKey<'a, K: ?Sized>(&'a K);

impl<K: Serialize + ?Sized> Serialize for MapKey<'_, K> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(KeyFilter { inner: serializer })
    }
}

/// The text serde_dynamo makes of a map key (for error paths only: it allocates).
#[cold]
fn key_text<K: Serialize + ?Sized>(key: &K) -> Option<String> {
    use serde_dynamo::AttributeValue::{Bool, N, S};
    match key.serialize(KeyFilter {
        inner: serde_dynamo::Serializer,
    }) {
        Ok(S(text) | N(text)) => Some(text),
        Ok(Bool(b)) => Some(b.to_string()),
        _ => None,
    }
}

/// serde_dynamo's message for a map key that is no string, number, bool or char.
const KEY_NOT_STRING: &str = "Key must be a string";

/// Forwards a map key to serde_dynamo's key serializer, except lists, maps, binaries
/// and variants with data, which fail as other keys that are no strings do (that
/// serializer meets lists, maps and binaries with `unreachable!()`).
struct KeyFilter<S> {
    inner: S,
}

macro_rules! not_a_key {
    ($($method:ident($($ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> std::result::Result<$ok, S::Error> {
                Err(S::Error::custom(KEY_NOT_STRING))
            }
        )*
    };
}

impl<S: Serializer> Serializer for KeyFilter<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Impossible<S::Ok, S::Error>;
    type SerializeTuple = Impossible<S::Ok, S::Error>;
    type SerializeTupleStruct = Impossible<S::Ok, S::Error>;
    type SerializeTupleVariant = Impossible<S::Ok, S::Error>;
    type SerializeMap = Impossible<S::Ok, S::Error>;
    type SerializeStruct = Impossible<S::Ok, S::Error>;
    type SerializeStructVariant = Impossible<S::Ok, S::Error>;

    forward_scalars!();

    not_a_key! {
        serialize_bytes(&[u8]) -> S::Ok;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    #[inline]
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> std::result::Result<S::Ok, S::Error> {
        self.inner.collect_str(value)
    }

    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> std::result::Result<S::Ok, S::Error> {
        self.inner.serialize_some(&MapKey(value))
    }

    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> std::result::Result<S::Ok, S::Error> {
        self.inner.serialize_newtype_struct(name, &MapKey(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<S::Ok, S::Error> {
        Err(S::Error::custom(KEY_NOT_STRING))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::ser::{SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant};
    use serde::ser::{SerializeTuple, SerializeTupleStruct, SerializeTupleVariant};

    use super::*;
    use crate::item::check_expression_value;
    use serde::Serialize;

    /// One level of a nested test value, in each form serde_dynamo writes as `L` or `M`,
    /// and the wrappers that add no level.
    #[derive(Clone, Copy, Debug)]
    enum Shape {
        Seq,
        Tuple,
        TupleStruct,
        Map,
        /// A map whose key and value are serialized apart (as `#[serde(flatten)]` does).
        SplitMap,
        IntKeyMap,
        Struct,
        NewtypeVariant,
        TupleVariant,
        StructVariant,
        Some,
        Newtype,
    }

    const SHAPES: [Shape; 12] = [
        Shape::Seq,
        Shape::Tuple,
        Shape::TupleStruct,
        Shape::Map,
        Shape::SplitMap,
        Shape::IntKeyMap,
        Shape::Struct,
        Shape::NewtypeVariant,
        Shape::TupleVariant,
        Shape::StructVariant,
        Shape::Some,
        Shape::Newtype,
    ];

    /// What the innermost level holds.
    #[derive(Clone, Copy, Debug)]
    enum Leaf {
        Text,
        EmptyList,
        StringSet,
        Null,
    }

    /// A value `levels` levels deep, made level by level while it is serialized (so any
    /// depth costs no memory and no drop): level `i` has the shape `shapes[i % len]`.
    #[derive(Clone, Copy)]
    struct Nest {
        shapes: &'static [Shape],
        levels: usize,
        leaf: Leaf,
    }

    impl Serialize for Nest {
        fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
            if self.levels == 0 {
                return match self.leaf {
                    Leaf::Text => s.serialize_str("leaf"),
                    Leaf::EmptyList => s.serialize_seq(Some(0))?.end(),
                    Leaf::StringSet => serde_dynamo::string_set::serialize(&["a", "b"], s),
                    Leaf::Null => s.serialize_none(),
                };
            }
            let child = Nest {
                levels: self.levels - 1,
                ..*self
            };
            match self.shapes[self.levels % self.shapes.len()] {
                Shape::Seq => {
                    let mut seq = s.serialize_seq(Some(2))?;
                    seq.serialize_element(&0)?;
                    seq.serialize_element(&child)?;
                    seq.end()
                }
                Shape::Tuple => {
                    let mut tuple = s.serialize_tuple(3)?;
                    tuple.serialize_element("x")?;
                    tuple.serialize_element("y")?;
                    tuple.serialize_element(&child)?;
                    tuple.end()
                }
                Shape::TupleStruct => {
                    let mut tuple = s.serialize_tuple_struct("Pair", 2)?;
                    tuple.serialize_field(&child)?;
                    tuple.serialize_field(&true)?;
                    tuple.end()
                }
                Shape::Map => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry("k", &child)?;
                    map.end()
                }
                Shape::SplitMap => {
                    let mut map = s.serialize_map(None)?;
                    map.serialize_key("s")?;
                    map.serialize_value(&child)?;
                    map.end()
                }
                Shape::IntKeyMap => {
                    let mut map = s.serialize_map(Some(1))?;
                    map.serialize_entry(&7u8, &child)?;
                    map.end()
                }
                Shape::Struct => {
                    let mut st = s.serialize_struct("Node", 2)?;
                    st.serialize_field("n", &1)?;
                    st.serialize_field("child", &child)?;
                    st.end()
                }
                Shape::NewtypeVariant => s.serialize_newtype_variant("E", 0, "New", &child),
                Shape::TupleVariant => {
                    let mut tv = s.serialize_tuple_variant("E", 1, "Tup", 1)?;
                    tv.serialize_field(&child)?;
                    tv.end()
                }
                Shape::StructVariant => {
                    let mut sv = s.serialize_struct_variant("E", 2, "Rec", 1)?;
                    sv.serialize_field("inner", &child)?;
                    sv.end()
                }
                Shape::Some => s.serialize_some(&child),
                Shape::Newtype => s.serialize_newtype_struct("Wrapper", &child),
            }
        }
    }

    #[derive(Serialize)]
    struct Root<T> {
        id: &'static str,
        a: T,
    }

    /// What DynamoDB (and dynorm before this adapter) says of the item: serde_dynamo's
    /// whole tree, then each attribute checked as `check_item` checks it.
    fn reference<T: Serialize>(value: &T) -> Result<Item> {
        let item: Item = serde_dynamo::to_item(value)?;
        for (name, value) in &item {
            check_expression_value(name, 1, value)?;
        }
        Ok(item)
    }

    fn too_deep_path(result: Result<Item>) -> Option<String> {
        match result {
            Err(Error::InvalidItem {
                path,
                problem: ValueProblem::TooDeep,
            }) => Some(path),
            Err(other) => panic!("unexpected error: {other:?}"),
            Ok(_) => None,
        }
    }

    #[test]
    fn rejects_exactly_what_the_item_check_rejects() {
        let mixed: &'static [Shape] = &SHAPES;
        let mut shape_lists: Vec<&'static [Shape]> = SHAPES.iter().map(std::slice::from_ref).collect();
        shape_lists.push(mixed);
        shape_lists.push(&[Shape::Some, Shape::Seq, Shape::Newtype, Shape::StructVariant]);
        let mut rejected = 0;
        for shapes in shape_lists {
            for leaf in [Leaf::Text, Leaf::EmptyList, Leaf::StringSet, Leaf::Null] {
                for levels in 0..=70 {
                    let root = Root {
                        id: "x",
                        a: Nest { shapes, levels, leaf },
                    };
                    let case = format!("{shapes:?} {leaf:?} {levels}");
                    let ours = to_item(&root);
                    let expected = reference(&root);
                    if let (Ok(ours), Ok(expected)) = (&ours, &expected) {
                        assert_eq!(ours, expected, "{case}");
                    }
                    let path = too_deep_path(ours);
                    assert_eq!(path, too_deep_path(expected), "{case}");
                    rejected += usize::from(path.is_some());

                    // One value at level 1, as an update or condition value is encoded.
                    let value = to_attribute_value(&root.a, 1);
                    let expected = check_expression_value("a", 1, &serde_dynamo::to_attribute_value(root.a).unwrap());
                    match (value, expected) {
                        (Ok(_), Ok(())) => {}
                        (Err(err), Err(Error::InvalidItem { path, .. })) => match expression_error("a", err) {
                            Error::InvalidItem {
                                path: ours,
                                problem: ValueProblem::TooDeep,
                            } => assert_eq!(ours, path, "{case}"),
                            other => panic!("{case}: {other:?}"),
                        },
                        (value, expected) => panic!("{case}: {value:?} / {expected:?}"),
                    }
                }
            }
        }
        assert!(rejected > 500, "only {rejected} cases were too deep");
    }

    #[test]
    fn thirty_one_nested_lists_fit_in_an_attribute_and_thirty_two_do_not() {
        let lists = |levels| Root {
            id: "x",
            a: Nest {
                shapes: &[Shape::Seq],
                levels,
                leaf: Leaf::Text,
            },
        };
        // `a` is level 1, so its 31st nested list is at level 31.
        assert!(to_item(&lists(31)).is_ok());
        let path = too_deep_path(to_item(&lists(32))).expect("too deep");
        assert_eq!(path, format!("a{}", "[1]".repeat(31)));

        // A set is no list: one may sit at level 32.
        let set = Root {
            id: "x",
            a: Nest {
                shapes: &[Shape::Seq],
                levels: 31,
                leaf: Leaf::StringSet,
            },
        };
        assert!(to_item(&set).is_ok());
        let empty = Root {
            id: "x",
            a: Nest {
                shapes: &[Shape::Seq],
                levels: 31,
                leaf: Leaf::EmptyList,
            },
        };
        assert!(too_deep_path(to_item(&empty)).is_some());

        // Values at a nested path start deeper.
        let value = Nest {
            shapes: &[Shape::Seq],
            levels: 29,
            leaf: Leaf::Text,
        };
        assert!(to_attribute_value(&value, 3).is_ok());
        let err = to_attribute_value(&value, 4).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("nested deeper than DynamoDB's 32 levels at `{}`", "[1]".repeat(28))
        );
        let err = to_attribute_value(&value, 32).unwrap_err();
        assert_eq!(err.to_string(), "nested deeper than DynamoDB's 32 levels");
        assert!(matches!(
            expression_error("a.b", err),
            Error::InvalidItem { path, problem: ValueProblem::TooDeep } if path == "a.b"
        ));
    }

    #[test]
    fn paths_name_fields_variants_and_map_keys() {
        let path = |shapes: &'static [Shape]| {
            let root = Root {
                id: "x",
                a: Nest {
                    shapes,
                    levels: 100,
                    leaf: Leaf::Text,
                },
            };
            too_deep_path(to_item(&root)).expect("too deep")
        };
        assert_eq!(path(&[Shape::Struct]), format!("a{}", ".child".repeat(31)));
        assert_eq!(path(&[Shape::SplitMap]), format!("a{}", ".s".repeat(31)));
        assert_eq!(path(&[Shape::IntKeyMap]), format!("a{}", ".7".repeat(31)));
        assert_eq!(path(&[Shape::TupleVariant]), format!("a{}.Tup", ".Tup[0]".repeat(15)));
        assert_eq!(
            path(&[Shape::StructVariant]),
            format!("a{}.Rec", ".Rec.inner".repeat(15))
        );
        assert_eq!(
            path(&[Shape::NewtypeVariant, Shape::Tuple]),
            format!("a{}.New", ".New[2]".repeat(15))
        );

        // A flattened map's keys are serialized apart from their values, even at the top.
        #[derive(Serialize)]
        struct Flat {
            id: &'static str,
            #[serde(flatten)]
            extra: HashMap<&'static str, Nest>,
        }
        let flat = Flat {
            id: "x",
            extra: HashMap::from([(
                "deep",
                Nest {
                    shapes: &[Shape::Map],
                    levels: 40,
                    leaf: Leaf::Text,
                },
            )]),
        };
        assert_eq!(too_deep_path(to_item(&flat)), Some(format!("deep{}", ".k".repeat(31))));
    }

    /// A linked list that drops itself without recursing.
    #[derive(Serialize)]
    struct Chain {
        child: Option<Box<Chain>>,
    }

    impl Chain {
        fn new(len: usize) -> Chain {
            let mut chain = Chain { child: None };
            for _ in 1..len {
                chain = Chain {
                    child: Some(Box::new(chain)),
                };
            }
            chain
        }
    }

    impl Drop for Chain {
        fn drop(&mut self) {
            let mut next = self.child.take();
            while let Some(mut node) = next {
                next = node.child.take();
            }
        }
    }

    #[test]
    fn a_value_100_000_levels_deep_is_rejected_without_recursing_into_it() {
        let root = Root {
            id: "x",
            a: Chain::new(100_000),
        };
        let path = too_deep_path(to_item(&root)).expect("too deep");
        assert_eq!(path, format!("a{}", ".child".repeat(31)));
        assert!(to_attribute_value(&root.a, 1).is_err());

        for shapes in [&SHAPES[..], &[Shape::Seq], &[Shape::SplitMap]] {
            let deep = Nest {
                shapes,
                levels: 100_000,
                leaf: Leaf::Text,
            };
            let root = Root { id: "x", a: deep };
            assert!(too_deep_path(to_item(&root)).is_some(), "{shapes:?}");
            let err = to_attribute_value(&deep, 1).unwrap_err();
            assert!(matches!(
                expression_error("a", err),
                Error::InvalidItem {
                    problem: ValueProblem::TooDeep,
                    ..
                }
            ));
        }
    }

    #[test]
    fn other_failures_keep_their_errors() {
        // serde_dynamo meets a list as a map key with `unreachable!()`.
        let map = HashMap::from([(vec![1u8], 1)]);
        let err = to_attribute_value(&map, 1).unwrap_err();
        assert_eq!(err.to_string(), "Key must be a string");
        assert!(matches!(expression_error("m", err), Error::Serialization(_)));
        assert!(to_attribute_value(&HashMap::from([(Some(1), 1)]), 1).is_err());
        assert!(matches!(to_item(&1), Err(Error::Serialization(_))));
        assert!(matches!(
            to_item(&Root { id: "x", a: 1u128 }),
            Err(Error::Serialization(_))
        ));
        assert_eq!(
            to_attribute_value(&(1, "two", None::<u8>), 1).unwrap(),
            serde_dynamo::to_attribute_value::<_, AttributeValue>((1, "two", None::<u8>)).unwrap()
        );
    }
}
