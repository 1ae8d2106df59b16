//! Conditions and filters: comparisons and functions on typed paths, combined with `&`,
//! `|` and `!`.

use std::fmt;
use std::marker::PhantomData;
use std::ops::{BitAnd, BitOr, Not};

use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;

use super::path::{Container, Ordered, Path, Segment, Text, ValueOf};

/// A condition on items of the model `R`: a write's condition, or a read's filter.
///
/// Build one from a path's methods and combine conditions with `&` (and), `|` (or) and
/// `!` (not), like DynamORM's Q objects:
///
/// ```
/// # use dynorm::{DynaModel, Document};
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[table(name = "books", hash_key = "isbn")]
/// # struct Book { isbn: String, title: String, year: u16, tags: Vec<String> }
/// let f = Book::fields();
/// let recent_rust = f.year().ge(2020) & (f.tags().contains("rust") | f.title().begins_with("Rust"));
/// let untagged = !f.tags().exists();
/// ```
#[must_use = "a condition does nothing until it is given to a request"]
pub struct Condition<R> {
    /// The condition in postfix order: operands before the `AND`, `OR` or `NOT` that joins
    /// them. A flat list, so cloning, dropping and rendering never recurse, however deep
    /// the user's nesting of `&`, `|` and `!` goes.
    pub(crate) terms: Vec<Term>,
    /// Values that could not be encoded; reported when the request is built.
    pub(crate) errors: Vec<crate::value::ValueError>,
    _model: PhantomData<fn() -> R>,
}

impl<R> Clone for Condition<R> {
    fn clone(&self) -> Self {
        Condition {
            terms: self.terms.clone(),
            errors: clone_errors(&self.errors),
            _model: PhantomData,
        }
    }
}

/// The errors of a condition's values, for its clone.
pub(crate) fn clone_errors(errors: &[crate::value::ValueError]) -> Vec<crate::value::ValueError> {
    errors.to_vec()
}

impl<R> fmt::Debug for Condition<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition").field("terms", &self.terms).finish()
    }
}

/// One term of a condition in postfix order, independent of the model: a comparison or
/// function, or a connective that joins the conditions just before it.
#[derive(Clone, Debug)]
pub(crate) enum Term {
    Compare(Operand, Comparison, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    BeginsWith(Vec<Segment>, Operand),
    Contains(Vec<Segment>, Operand),
    Exists(Vec<Segment>),
    NotExists(Vec<Segment>),
    Type(Vec<Segment>, AttributeType),
    /// The last `n` conditions all hold (`n` is at least 2).
    And(usize),
    /// At least one of the last `n` conditions holds (`n` is at least 2).
    Or(usize),
    /// The last condition does not hold.
    Not,
}

/// How [`Condition`]s are joined.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Path(Vec<Segment>),
    Size(Vec<Segment>),
    Value(AttributeValue),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "<>",
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// A DynamoDB attribute type, for [`Path::has_type`] (`attribute_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AttributeType {
    /// `S`: a string.
    String,
    /// `SS`: a string set.
    StringSet,
    /// `N`: a number.
    Number,
    /// `NS`: a number set.
    NumberSet,
    /// `B`: binary.
    Binary,
    /// `BS`: a binary set.
    BinarySet,
    /// `BOOL`: a boolean.
    Bool,
    /// `NULL`: null.
    Null,
    /// `L`: a list.
    List,
    /// `M`: a map.
    Map,
}

impl AttributeType {
    /// DynamoDB's name for the type, as `attribute_type` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AttributeType::String => "S",
            AttributeType::StringSet => "SS",
            AttributeType::Number => "N",
            AttributeType::NumberSet => "NS",
            AttributeType::Binary => "B",
            AttributeType::BinarySet => "BS",
            AttributeType::Bool => "BOOL",
            AttributeType::Null => "NULL",
            AttributeType::List => "L",
            AttributeType::Map => "M",
        }
    }
}

impl<R> Condition<R> {
    fn new(term: Term, errors: Vec<crate::value::ValueError>) -> Self {
        Condition {
            terms: vec![term],
            errors,
            _model: PhantomData,
        }
    }

    /// How many conditions this one's root joins with `join`: its operands when the root
    /// is that connective (which is then taken off, to be merged into a wider one), else 1.
    fn take_operands(&mut self, join: Join) -> usize {
        match (self.terms.last(), join) {
            (Some(Term::And(n)), Join::And) | (Some(Term::Or(n)), Join::Or) => {
                let n = *n;
                self.terms.pop();
                n
            }
            _ => 1,
        }
    }

    /// `self AND other` (or `OR`): `a & b & c` becomes one connective of three operands,
    /// so long chains stay flat.
    fn combine(mut self, mut other: Condition<R>, join: Join) -> Self {
        let left = self.take_operands(join);
        let right = other.take_operands(join);
        self.terms.append(&mut other.terms);
        self.terms.push(match join {
            Join::And => Term::And(left + right),
            Join::Or => Term::Or(left + right),
        });
        self.errors.append(&mut other.errors);
        self
    }

    /// The same condition, no longer tied to a model: for the engine, which stores it
    /// alongside other non-generic request data.
    pub(crate) fn erase(self) -> Condition<()> {
        Condition {
            terms: self.terms,
            errors: self.errors,
            _model: PhantomData,
        }
    }

    /// All of the conditions (`AND`); `None` when there are none.
    pub fn all(conditions: impl IntoIterator<Item = Condition<R>>) -> Option<Condition<R>> {
        conditions.into_iter().reduce(|a, b| a & b)
    }

    /// Any of the conditions (`OR`); `None` when there are none.
    pub fn any(conditions: impl IntoIterator<Item = Condition<R>>) -> Option<Condition<R>> {
        conditions.into_iter().reduce(|a, b| a | b)
    }
}

impl<R> BitAnd for Condition<R> {
    type Output = Condition<R>;
    fn bitand(self, rhs: Self) -> Self {
        self.combine(rhs, Join::And)
    }
}

impl<R> BitOr for Condition<R> {
    type Output = Condition<R>;
    fn bitor(self, rhs: Self) -> Self {
        self.combine(rhs, Join::Or)
    }
}

impl<R> Not for Condition<R> {
    type Output = Condition<R>;
    fn not(mut self) -> Self {
        // `NOT NOT c` is `c`.
        if matches!(self.terms.last(), Some(Term::Not)) {
            self.terms.pop();
        } else {
            self.terms.push(Term::Not);
        }
        self
    }
}

/// Encodes values, collecting errors instead of failing, so building a condition never
/// fails; the first error is reported when the request is built.
struct Values(Vec<crate::value::ValueError>);

impl Values {
    fn operand(&mut self, value: Result<AttributeValue, crate::value::ValueError>) -> Operand {
        match value {
            Ok(value) => Operand::Value(value),
            Err(err) => {
                self.0.push(err);
                Operand::Value(AttributeValue::Null(true))
            }
        }
    }
}

impl<R, T> Path<R, T> {
    fn compare(&self, op: Comparison, value: impl ValueOf<T>) -> Condition<R> {
        let mut values = Values(Vec::new());
        let rhs = values.operand(self.encode_value(value));
        Condition::new(Term::Compare(Operand::Path(self.segments.clone()), op, rhs), values.0)
    }

    /// `path = value`.
    pub fn eq(&self, value: impl ValueOf<T>) -> Condition<R> {
        self.compare(Comparison::Eq, value)
    }

    /// `path <> value`. True when the attribute is absent, as in DynamoDB.
    pub fn ne(&self, value: impl ValueOf<T>) -> Condition<R> {
        self.compare(Comparison::Ne, value)
    }

    /// `path IN (v1, v2, ...)`. DynamoDB takes 1 to 100 values; other counts are
    /// reported when the request is built.
    pub fn is_in<V: ValueOf<T>>(&self, values: impl IntoIterator<Item = V>) -> Condition<R> {
        let mut encoded = Values(Vec::new());
        let list = values
            .into_iter()
            .map(|v| encoded.operand(self.encode_value(v)))
            .collect();
        Condition::new(Term::In(Operand::Path(self.segments.clone()), list), encoded.0)
    }

    /// `attribute_exists(path)`.
    pub fn exists(&self) -> Condition<R> {
        Condition::new(Term::Exists(self.segments.clone()), Vec::new())
    }

    /// `attribute_not_exists(path)`.
    pub fn not_exists(&self) -> Condition<R> {
        Condition::new(Term::NotExists(self.segments.clone()), Vec::new())
    }

    /// `attribute_type(path, type)`: the attribute is stored as `ty`.
    pub fn has_type(&self, ty: AttributeType) -> Condition<R> {
        Condition::new(Term::Type(self.segments.clone(), ty), Vec::new())
    }

    /// `size(path)`, to compare with a number: the length of a string or binary, the
    /// number of elements of a set or list, of entries of a map.
    pub fn size(&self) -> Size<R> {
        Size {
            segments: self.segments.clone(),
            _model: PhantomData,
        }
    }
}

// The type requirements sit on each method, not on the impl, so a misuse reports the
// requirement's own message ("`bool` is not ordered by DynamoDB").
impl<R, T> Path<R, T> {
    /// `path < value`.
    pub fn lt(&self, value: impl ValueOf<T>) -> Condition<R>
    where
        T: Ordered,
    {
        self.compare(Comparison::Lt, value)
    }

    /// `path <= value`.
    pub fn le(&self, value: impl ValueOf<T>) -> Condition<R>
    where
        T: Ordered,
    {
        self.compare(Comparison::Le, value)
    }

    /// `path > value`.
    pub fn gt(&self, value: impl ValueOf<T>) -> Condition<R>
    where
        T: Ordered,
    {
        self.compare(Comparison::Gt, value)
    }

    /// `path >= value`.
    pub fn ge(&self, value: impl ValueOf<T>) -> Condition<R>
    where
        T: Ordered,
    {
        self.compare(Comparison::Ge, value)
    }

    /// `path BETWEEN low AND high`, both ends included.
    pub fn between(&self, low: impl ValueOf<T>, high: impl ValueOf<T>) -> Condition<R>
    where
        T: Ordered,
    {
        let mut values = Values(Vec::new());
        let low = values.operand(self.encode_value(low));
        let high = values.operand(self.encode_value(high));
        Condition::new(Term::Between(Operand::Path(self.segments.clone()), low, high), values.0)
    }

    /// `begins_with(path, prefix)`.
    pub fn begins_with(&self, prefix: impl ValueOf<T>) -> Condition<R>
    where
        T: Text,
    {
        let mut values = Values(Vec::new());
        let prefix = values.operand(self.encode_value(prefix));
        Condition::new(Term::BeginsWith(self.segments.clone(), prefix), values.0)
    }

    /// `contains(path, element)`: a substring of a string, an element of a set or list.
    pub fn contains(&self, element: impl ValueOf<T::Element>) -> Condition<R>
    where
        T: Container,
        T::Element: Serialize,
    {
        let mut values = Values(Vec::new());
        let element = values.operand(crate::encode::to_attribute_value(
            &element.into_value(),
            1,
            crate::schema::Shape::Binary,
        ));
        Condition::new(Term::Contains(self.segments.clone(), element), values.0)
    }
}

/// `size(path)`, compared with a number. Made by [`Path::size`].
#[must_use = "compare the size with a number to make a condition"]
pub struct Size<R> {
    segments: Vec<Segment>,
    _model: PhantomData<fn() -> R>,
}

impl<R> Size<R> {
    fn compare(&self, op: Comparison, n: u64) -> Condition<R> {
        let rhs = Operand::Value(AttributeValue::N(n.to_string()));
        Condition::new(Term::Compare(Operand::Size(self.segments.clone()), op, rhs), Vec::new())
    }

    /// `size(path) = n`.
    pub fn eq(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Eq, n)
    }

    /// `size(path) <> n`.
    pub fn ne(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Ne, n)
    }

    /// `size(path) < n`.
    pub fn lt(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Lt, n)
    }

    /// `size(path) <= n`.
    pub fn le(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Le, n)
    }

    /// `size(path) > n`.
    pub fn gt(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Gt, n)
    }

    /// `size(path) >= n`.
    pub fn ge(&self, n: u64) -> Condition<R> {
        self.compare(Comparison::Ge, n)
    }

    /// `size(path) BETWEEN low AND high`.
    pub fn between(&self, low: u64, high: u64) -> Condition<R> {
        Condition::new(
            Term::Between(
                Operand::Size(self.segments.clone()),
                Operand::Value(AttributeValue::N(low.to_string())),
                Operand::Value(AttributeValue::N(high.to_string())),
            ),
            Vec::new(),
        )
    }
}
