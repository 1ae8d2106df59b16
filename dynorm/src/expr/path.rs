//! Typed attribute paths, and the marker traits that decide which operators a path has.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::fmt;
use std::marker::PhantomData;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use crate::schema::Shape;
use crate::value::ValueError;

/// One step of an attribute path.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Segment {
    /// An attribute or map key.
    Name(Cow<'static, str>),
    /// A list element.
    Index(usize),
}

/// Turns a value into the attribute value stored for it, stored as the shape says.
pub(crate) type Encoder<T> = fn(&T, Shape) -> Result<AttributeValue, ValueError>;

fn encode_default<T: Serialize>(value: &T, shape: Shape) -> Result<AttributeValue, ValueError> {
    crate::encode::to_attribute_value(value, 1, shape)
}

/// A typed path to an attribute of the model `R`, holding a value of type `T`.
///
/// Paths come from the derive: `Book::fields().title()` is a `Path<Book, String>`. A
/// nested document's fields are reached with [`Path::fields`], list elements with
/// [`Path::at`] and map entries with [`Path::key`]. The operators a path offers depend
/// on `T`: [`begins_with`](Path::begins_with) only exists for strings, [`add`]-style
/// updates only for numbers and sets, and values must have the field's type, so misuse
/// does not compile.
///
/// Paths never appear in expression text: every name is sent as a `#n` placeholder.
///
/// [`add`]: super::super::ops::UpdateItem::add
pub struct Path<R, T> {
    pub(crate) segments: Vec<Segment>,
    pub(crate) encode: Encoder<T>,
    /// How the value at this path is stored (a set, binary data, a number).
    shape: Shape,
    _types: PhantomData<fn() -> (R, T)>,
}

impl<R, T> Clone for Path<R, T> {
    fn clone(&self) -> Self {
        Path {
            segments: self.segments.clone(),
            encode: self.encode,
            shape: self.shape,
            _types: PhantomData,
        }
    }
}

impl<R, T> fmt::Debug for Path<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Path({self})")
    }
}

/// Shows the path as users write it, such as `address.lines[2]`. For messages only:
/// expressions never contain it.
impl<R, T> fmt::Display for Path<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&display_segments(&self.segments))
    }
}

pub(crate) fn display_segments(segments: &[Segment]) -> String {
    let mut out = String::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Name(name) => {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(name);
            }
            Segment::Index(index) => out.push_str(&format!("[{index}]")),
        }
    }
    out
}

/// The path of a model's primary key field (hash or range key), from the derive's
/// `fields()`: it has every condition and filter method of [`Path`] (it dereferences to
/// one), and can name attributes to read, but no update takes it, because DynamoDB
/// cannot change an item's key. Move an item by putting it under the new key and
/// deleting the old one.
///
/// ```compile_fail
/// # #[derive(dynorm::DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String }
/// # use dynorm::DynaModel;
/// # fn run(db: &dynorm::Db) {
/// let f = Book::fields();
/// let _ = Book::update_by_key(db, "1").set(f.isbn(), "2"); // a key path is not updatable
/// # }
/// ```
pub struct KeyPath<R, T>(Path<R, T>);

impl<R, T> KeyPath<R, T> {
    /// Used by the derive.
    #[doc(hidden)]
    pub fn __new(path: Path<R, T>) -> Self {
        KeyPath(path)
    }
}

impl<R, T> std::ops::Deref for KeyPath<R, T> {
    type Target = Path<R, T>;
    fn deref(&self) -> &Path<R, T> {
        &self.0
    }
}

impl<R, T> Clone for KeyPath<R, T> {
    fn clone(&self) -> Self {
        KeyPath(self.0.clone())
    }
}

impl<R, T> fmt::Debug for KeyPath<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPath({})", self.0)
    }
}

impl<R, T> fmt::Display for KeyPath<R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl<R, T: Serialize> Path<R, T> {
    /// A path from attribute names, for attributes the model does not describe (such as
    /// ones written by other programs). The escape hatch from typed paths: nothing checks
    /// that the attribute exists or holds a `T`. Each name is one attribute or map key,
    /// taken literally (a `.` in a name is part of the name).
    ///
    /// ```
    /// # #[derive(dynorm::DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
    /// # #[table(name = "books", hash_key = "isbn")]
    /// # struct Book { isbn: String }
    /// use dynorm::expr::Path;
    ///
    /// let legacy: Path<Book, String> = Path::unchecked(["meta", "imported.from"]);
    /// let condition = legacy.eq("csv");
    /// ```
    pub fn unchecked<I, S>(names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Path::from_segments(names.into_iter().map(|n| Segment::Name(Cow::Owned(n.into()))).collect())
    }

    pub(crate) fn from_segments(segments: Vec<Segment>) -> Self {
        Path::with_encoder(segments, encode_default::<T>, Shape::Plain)
    }
}

impl<R, T> Path<R, T> {
    pub(crate) fn with_encoder(segments: Vec<Segment>, encode: Encoder<T>, shape: Shape) -> Self {
        Path {
            segments,
            encode,
            shape,
            _types: PhantomData,
        }
    }

    /// Used by the derive: the path of a field under this path.
    #[doc(hidden)]
    pub fn __child<U: Serialize>(&self, name: &'static str) -> Path<R, U> {
        Path::from_segments(self.child_segments(Segment::Name(Cow::Borrowed(name))))
    }

    /// Used by the derive: the path of a field under this path, stored as `shape` says
    /// (a set, binary data, a number).
    #[doc(hidden)]
    pub fn __child_shaped<U: Serialize>(&self, name: &'static str, shape: Shape) -> Path<R, U> {
        let segments = self.child_segments(Segment::Name(Cow::Borrowed(name)));
        Path::with_encoder(segments, encode_default::<U>, shape)
    }

    /// Used by the derive: the path of a field under this path, whose value is stored
    /// with a `#[serde(with)]` function.
    #[doc(hidden)]
    pub fn __child_with<U>(&self, name: &'static str, encode: Encoder<U>) -> Path<R, U> {
        Path::with_encoder(
            self.child_segments(Segment::Name(Cow::Borrowed(name))),
            encode,
            Shape::Plain,
        )
    }

    fn child_segments(&self, segment: Segment) -> Vec<Segment> {
        let mut segments = Vec::with_capacity(self.segments.len() + 1);
        segments.extend_from_slice(&self.segments);
        segments.push(segment);
        segments
    }

    /// Encodes a value the way this field is stored.
    pub(crate) fn encode_value(&self, value: impl ValueOf<T>) -> Result<AttributeValue, ValueError> {
        (self.encode)(&value.into_value(), self.shape)
    }
}

impl<R, T> Path<R, T> {
    /// The root under which a document's fields sit; never encoded or rendered itself.
    pub(crate) fn root() -> Self {
        Path::with_encoder(Vec::new(), noop_encoder::<T>, Shape::Plain)
    }
}

impl<R, T> Path<R, T> {
    /// The fields of the nested document at this path (its type, or the type inside its
    /// `Option`, derives [`Document`](derive@crate::Document)).
    pub fn fields(&self) -> <T::Document as Document>::Fields<R>
    where
        T: Nested,
    {
        T::Document::__fields(Path::with_encoder(
            self.segments.clone(),
            noop_encoder::<T::Document>,
            Shape::Plain,
        ))
    }

    /// The list element at `index` (`tags[3]`).
    pub fn at(&self, index: usize) -> Path<R, T::Element>
    where
        T: List,
        T::Element: Serialize,
    {
        let segments = self.child_segments(Segment::Index(index));
        Path::with_encoder(segments, encode_default::<T::Element>, self.shape.element())
    }

    /// The map entry under `key` (`counts.rust`). The key is sent as a placeholder, so
    /// any string is safe.
    pub fn key(&self, key: impl Into<String>) -> Path<R, T::Value>
    where
        T: Map,
        T::Value: Serialize,
    {
        let key = key.into();
        let shape = self.shape.field(&key);
        Path::with_encoder(
            self.child_segments(Segment::Name(Cow::Owned(key))),
            encode_default::<T::Value>,
            shape,
        )
    }
}

// A document path handed to `__fields` is only navigated, never encoded.
fn noop_encoder<T>(_: &T, _: Shape) -> Result<AttributeValue, ValueError> {
    Ok(AttributeValue::Null(true))
}

/// A nested document: a struct stored as a map inside a model, whose fields have typed
/// paths. Implement it with `#[derive(Document)]`; every `DynaModel` implements it too.
pub trait Document {
    /// The generated struct with one method per field.
    type Fields<R>;

    /// How the document's fields are stored (its sets, binary data and numbers). Set by
    /// the derive.
    #[doc(hidden)]
    const __SHAPE: Shape = Shape::Plain;

    /// The fields under `base`. Used by the derive and by [`Path::fields`].
    #[doc(hidden)]
    fn __fields<R>(base: Path<R, Self>) -> Self::Fields<R>
    where
        Self: Sized;
}

/// A field that holds a nested [`Document`]: the document itself, or an `Option` of it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nested document",
    label = "`fields()` needs a field whose type derives `dynorm::Document`",
    note = "derive `dynorm::Document` on the nested struct"
)]
pub trait Nested {
    /// The document type.
    type Document: Document;
}

impl<T: Document> Nested for T {
    type Document = T;
}

impl<T: Document> Nested for Option<T> {
    type Document = T;
}

/// A value accepted where a field of type `T` is expected: a `T`, a `&T`, a `&str` for a
/// `String`, or the inner value for an `Option`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a value of the field's type `{T}`",
    label = "expected a value of type `{T}`"
)]
pub trait ValueOf<T> {
    /// The value as the field's type.
    fn into_value(self) -> T;
}

impl<T> ValueOf<T> for T {
    fn into_value(self) -> T {
        self
    }
}

impl<T: Clone> ValueOf<T> for &T {
    fn into_value(self) -> T {
        self.clone()
    }
}

impl ValueOf<String> for &str {
    fn into_value(self) -> String {
        self.to_owned()
    }
}

impl<T> ValueOf<Option<T>> for T {
    fn into_value(self) -> Option<T> {
        Some(self)
    }
}

impl<T: Clone> ValueOf<Option<T>> for &T {
    fn into_value(self) -> Option<T> {
        Some(self.clone())
    }
}

impl ValueOf<Option<String>> for &str {
    fn into_value(self) -> Option<String> {
        Some(self.to_owned())
    }
}

/// Types DynamoDB orders: strings, numbers and binary. Their paths have `lt`, `le`,
/// `gt`, `ge` and `between`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not ordered by DynamoDB",
    label = "comparisons and `between` need a string, number or binary field",
    note = "for a type stored as a string or number, use `Path::unchecked` with that type"
)]
pub trait Ordered {}

/// Types stored as strings or binary. Their paths have `begins_with`.
#[diagnostic::on_unimplemented(
    message = "`begins_with` needs a string or binary field, not `{Self}`",
    label = "not a string or binary field"
)]
pub trait Text {}

/// Types `contains` applies to: strings (a substring), sets and lists (an element).
#[diagnostic::on_unimplemented(
    message = "`contains` needs a string, set or list field, not `{Self}`",
    label = "not a string, set or list field"
)]
pub trait Container {
    /// What `contains` looks for.
    type Element;
}

/// Numbers. Their paths take `add`, `increment` and `decrement`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number field",
    label = "this update needs a number field"
)]
pub trait Numeric: Serialize {}

/// Lists. Their paths have `at(index)` and take `append` and `prepend`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a list field",
    label = "this operation needs a list field (`Vec` or `VecDeque`)"
)]
pub trait List {
    /// The element type.
    type Element;
}

/// Maps with string keys. Their paths have `key(name)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a map field with string keys",
    label = "`key` needs a `HashMap<String, _>` or `BTreeMap<String, _>` field"
)]
pub trait Map {
    /// The value type.
    type Value;
}

/// Sets. Their paths take `add_to_set` and `delete_from_set`, which send a DynamoDB set
/// (SS, NS or BS). A `HashSet` or `BTreeSet` field of strings, numbers or byte vectors
/// is stored as one; a set field marked `#[dynorm(list)]` is stored as a list, and its
/// path is a list's path, without these operations.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a set field",
    label = "ADD and DELETE of elements need a `BTreeSet` or `HashSet` field"
)]
pub trait Set {
    /// The element type.
    type Element: SetElement;
}

/// A type that can be an element of a DynamoDB set: strings, numbers and byte vectors.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of a DynamoDB set",
    label = "set elements must be strings, numbers or byte vectors"
)]
pub trait SetElement: Sized {
    /// The elements as a DynamoDB set value.
    fn to_set(elements: Vec<Self>) -> AttributeValue;
}

impl SetElement for String {
    fn to_set(elements: Vec<Self>) -> AttributeValue {
        AttributeValue::Ss(elements)
    }
}

impl SetElement for Vec<u8> {
    fn to_set(elements: Vec<Self>) -> AttributeValue {
        AttributeValue::Bs(
            elements
                .into_iter()
                .map(aws_sdk_dynamodb::primitives::Blob::new)
                .collect(),
        )
    }
}

impl SetElement for crate::Number {
    fn to_set(elements: Vec<Self>) -> AttributeValue {
        AttributeValue::Ns(elements.iter().map(|n| n.as_str().to_owned()).collect())
    }
}

impl Ordered for crate::Number {}
impl Numeric for crate::Number {}

#[cfg(feature = "rust_decimal")]
#[cfg_attr(docsrs, doc(cfg(feature = "rust_decimal")))]
impl Ordered for rust_decimal::Decimal {}
#[cfg(feature = "rust_decimal")]
#[cfg_attr(docsrs, doc(cfg(feature = "rust_decimal")))]
impl Numeric for rust_decimal::Decimal {}

macro_rules! numbers {
    ($($t:ty),*) => {$(
        impl Ordered for $t {}
        impl Numeric for $t {}
        impl SetElement for $t {
            fn to_set(elements: Vec<Self>) -> AttributeValue {
                AttributeValue::Ns(elements.iter().map(|n| n.to_string()).collect())
            }
        }
    )*};
}
numbers!(u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64);

impl Ordered for String {}
impl Ordered for Vec<u8> {}
impl Ordered for Cow<'static, str> {}
impl<T: Ordered> Ordered for Option<T> {}

impl Text for String {}
impl Text for Vec<u8> {}
impl Text for Cow<'static, str> {}
impl<T: Text> Text for Option<T> {}

impl<T: Numeric> Numeric for Option<T> {}

impl Container for String {
    type Element = String;
}
impl<E> Container for Vec<E> {
    type Element = E;
}
impl<E> Container for VecDeque<E> {
    type Element = E;
}
impl<E> Container for BTreeSet<E> {
    type Element = E;
}
impl<E, S> Container for HashSet<E, S> {
    type Element = E;
}
impl<T: Container> Container for Option<T> {
    type Element = T::Element;
}

impl<E> List for Vec<E> {
    type Element = E;
}
impl<E> List for VecDeque<E> {
    type Element = E;
}
impl<T: List> List for Option<T> {
    type Element = T::Element;
}

impl<V> Map for HashMap<String, V> {
    type Value = V;
}
impl<V> Map for BTreeMap<String, V> {
    type Value = V;
}
impl<T: Map> Map for Option<T> {
    type Value = T::Value;
}

impl<E: SetElement> Set for BTreeSet<E> {
    type Element = E;
}
impl<E: SetElement, S> Set for HashSet<E, S> {
    type Element = E;
}
impl<T: Set> Set for Option<T> {
    type Element = T::Element;
}
