//! Typed expressions: attribute paths, conditions and filters, and updates.
//!
//! The derive gives every model (and every `#[derive(Document)]` struct) a typed path per
//! field through `Model::fields()`. Paths make conditions (`f.year().ge(2020)`), combined
//! with `&`, `|` and `!`, and update actions (`.set(f.title(), "Dune")`). Operators are
//! checked against the field's type when the code compiles: `begins_with` needs a string,
//! `add` a number or set, `append` a list, and every value must have the field's type.
//!
//! Expression text never contains user data: names become `#n` placeholders and values
//! `:v` placeholders, and only the placeholders an expression uses are sent.

pub(crate) mod apply;
mod condition;
pub(crate) mod path;
pub(crate) mod render;
mod update;

pub use condition::{AttributeType, Condition, Size};
pub use path::{
    Container, Document, KeyPath, List, Map, Nested, Numeric, Ordered, Path, Set, SetElement, Text, ValueOf,
};
pub use render::Expression;
pub use update::Update;

pub(crate) use path::Segment;
pub(crate) use update::Action;
