//! Single-table design: a table declared once with `#[derive(DynaTable)]`, entities on it
//! (`#[entity(..)]` on a `DynaModel`) whose keys are made from templates of their fields,
//! queries typed from those templates, and collections of several entities read by one
//! query.
//!
//! The engine sees an entity as a model whose [`TableSchema`] has an
//! [`EntitySchema`]: writes compute the key attributes and the type attribute from the
//! item's fields, reads check the type attribute, and keys are rendered from the key's
//! field values. Everything a model has (conditions, updates, partial saves, versions,
//! hooks, batches, transactions, cursors) works the same on an entity.

use std::borrow::Cow;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::db::Db;
use crate::drift::EnsureTable;
use crate::error::{Error, KeyProblem, Result};
use crate::read::{Index, Query, QueryOp, RangeOp, ReadStream};
use crate::schema::{ComputedKey, EntitySchema, KeyCase, KeyTemplate, TableSchema, TemplatePart};
use crate::table::{CreateTable, DeleteTable, TableExistence};
use crate::template::{render, render_value};
use crate::value::Item;
use crate::{Model, TableDef};

/// A physical table shared by several entities, declared once with
/// `#[derive(DynaTable)]` on a struct whose fields are its key attributes:
///
/// ```
/// use dynorm::DynaTable;
///
/// #[derive(DynaTable)]
/// #[table(name = "saas", hash_key = "pk", range_key = "sk")]
/// #[global_index(name = "gsi1", hash_key = "gsi1pk", range_key = "gsi1sk")]
/// struct Saas {
///     pk: String,
///     sk: String,
///     gsi1pk: String,
///     gsi1sk: String,
/// }
///
/// assert_eq!(<Saas as dynorm::TableDef>::TABLE.global_indexes[0].name, "gsi1");
/// assert_eq!(<Saas as DynaTable>::TYPE_ATTRIBUTE, "_type");
/// ```
///
/// Entities name it with `#[entity(table = Saas, ..)]`; see
/// [`DynaModel`](derive@crate::DynaModel). Its methods manage the table, with every
/// index its entities use.
pub trait DynaTable: TableDef {
    /// The attribute holding each item's entity type name (`type_attribute = ".."`,
    /// `_type` by default).
    const TYPE_ATTRIBUTE: &'static str;

    /// Creates the table with all its indexes.
    fn create_table(db: &Db) -> CreateTable<'_, Self>
    where
        Self: Sized,
    {
        CreateTable::new(db)
    }

    /// Creates the table unless it exists.
    fn ensure_table(db: &Db) -> EnsureTable<'_, Self>
    where
        Self: Sized,
    {
        EnsureTable::new(db)
    }

    /// Deletes the table.
    fn delete_table(db: &Db) -> DeleteTable<'_, Self>
    where
        Self: Sized,
    {
        DeleteTable::new(db)
    }

    /// Whether the table exists.
    fn table_exists(db: &Db) -> TableExistence<'_, Self>
    where
        Self: Sized,
    {
        TableExistence::new(db)
    }

    /// Waits until the table is ACTIVE.
    fn wait_until_active(db: &Db) -> crate::table::WaitUntilActive<'_, Self>
    where
        Self: Sized,
    {
        crate::table::WaitUntilActive::new(db)
    }

    /// Compares the live table with this declaration: see
    /// [`DynaModel::plan_table`](crate::DynaModel::plan_table).
    fn plan_table(db: &Db) -> crate::drift::PlanTable<'_, Self>
    where
        Self: Sized,
    {
        crate::drift::PlanTable::new(db)
    }

    /// Brings the live table to this declaration: see
    /// [`DynaModel::apply_table`](crate::DynaModel::apply_table).
    fn apply_table(db: &Db) -> crate::drift::ApplyTable<'_, Self>
    where
        Self: Sized,
    {
        crate::drift::ApplyTable::new(db)
    }

    /// The table as a CloudFormation `AWS::DynamoDB::Table` resource: see
    /// [`DynaModel::cloudformation`](crate::DynaModel::cloudformation).
    fn cloudformation(db: &Db) -> crate::Result<serde_json::Value>
    where
        Self: Sized,
    {
        crate::drift::cloudformation(Self::TABLE, &db.table_name::<Self>())
    }
}

/// An entity type: a model declared with `#[entity(..)]`. Implemented by the derive.
pub trait Entity: Model {
    /// The table declaration the entity lives in.
    type Table: DynaTable;
    /// The entity's type name, as stored in the type attribute.
    const TYPE_NAME: &'static str;
}

/// Reads a stored key made with `template` (an entity's
/// [`EntitySchema::keys`](crate::EntitySchema::keys)) back into its fields' values, in
/// order; padded numbers without their padding. `None` when the key does not have the
/// template's shape. For every key dynorm writes, this is the exact inverse.
///
/// ```
/// use dynorm::{KeyCase, KeyTemplate, TemplatePart::{Field, Text}};
///
/// let invoice = KeyTemplate {
///     parts: &[Text("INVOICE#"), Field("year"), Text("#"), Field("number")],
///     widths: &[0, 6],
///     case: KeyCase::Keep,
///     as_value: false,
/// };
/// let values = dynorm::entity::parse_key(&invoice, "INVOICE#2026#000042");
/// assert_eq!(values, Some(vec!["2026".to_owned(), "42".to_owned()]));
/// ```
pub fn parse_key(template: &KeyTemplate, key: &str) -> Option<Vec<String>> {
    crate::template::parse_key(template, key)
}

/// The type of an entity's key attributes as seen by [`Index`]: not a key attribute,
/// so a query that would pass a raw value (`DynaModel::query`, `Index::query`) does
/// not compile on an entity; its own `query` methods take the template's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Templated {}

/// No value of `Templated` exists, so no raw key value can be passed where it is asked.
#[diagnostic::do_not_recommend]
impl crate::KeyAttribute for Templated {
    const KEY_TYPE: crate::KeyType = crate::KeyType::String;
    fn to_attribute_value(&self) -> AttributeValue {
        match *self {}
    }
}

/// The index of `table` named `name` and whether it is global, in a const context.
const fn index_named(table: &'static TableSchema, name: &str) -> Option<(&'static crate::IndexSchema, bool)> {
    let mut i = 0;
    while i < table.global_indexes.len() {
        if str_eq(table.global_indexes[i].name, name) {
            return Some((&table.global_indexes[i], true));
        }
        i += 1;
    }
    let mut i = 0;
    while i < table.local_indexes.len() {
        if str_eq(table.local_indexes[i].name, name) {
            return Some((&table.local_indexes[i], false));
        }
        i += 1;
    }
    None
}

/// The partition or sort key attribute of `table`, or of its index `index`.
const fn key_attr_of(table: &'static TableSchema, index: Option<&str>, partition: bool) -> Option<crate::KeyAttr> {
    match index {
        None if partition => Some(table.hash_key),
        None => table.range_key,
        Some(name) => match index_named(table, name) {
            Some((index, _)) if partition => Some(index.hash_key),
            Some((index, _)) => index.range_key,
            None => None,
        },
    }
}

/// The name of the key attribute of `table` (or its index `index`), partition or sort;
/// empty when there is none (the derive's checks report it).
#[doc(hidden)]
pub const fn index_key_name(table: &'static TableSchema, index: Option<&str>, partition: bool) -> &'static str {
    match key_attr_of(table, index, partition) {
        Some(attr) => attr.name,
        None => "",
    }
}

/// Whether the table declares a global or local index named `name`, in a const context.
#[doc(hidden)]
pub const fn has_index(table: &'static TableSchema, name: &str) -> bool {
    index_named(table, name).is_some()
}

/// Whether `table` has a global index named `name`, in a const context.
#[doc(hidden)]
pub const fn is_global_index(table: &'static TableSchema, name: &str) -> bool {
    matches!(index_named(table, name), Some((_, true)))
}

/// Whether the global index `name` of `table` has a multi-attribute key.
#[doc(hidden)]
pub const fn is_multi_attribute_index(table: &'static TableSchema, name: &str) -> bool {
    match index_named(table, name) {
        Some((index, true)) => !index.more_hash_keys.is_empty() || !index.more_range_keys.is_empty(),
        _ => false,
    }
}

/// Whether the index `index` (the table's key for `None`) of `table` has a sort key.
#[doc(hidden)]
pub const fn has_sort_key(table: &'static TableSchema, index: Option<&str>) -> bool {
    key_attr_of(table, index, false).is_some()
}

/// Whether the key attribute of `table` (or of its index `index`) is a string, in a const
/// context: templates make strings.
#[doc(hidden)]
pub const fn key_is_string(table: &'static TableSchema, index: Option<&str>, partition: bool) -> bool {
    match key_attr_of(table, index, partition) {
        Some(attr) => matches!(attr.key_type, crate::KeyType::String),
        None => true,
    }
}

/// Whether the global index `name` of `table` has exactly these partition and sort
/// attributes, in order, in a const context.
#[doc(hidden)]
pub const fn index_has_keys(table: &'static TableSchema, name: &str, hash: &[&str], range: &[&str]) -> bool {
    let Some((index, true)) = index_named(table, name) else {
        return false;
    };
    let ranges = index.more_range_keys.len() + index.range_key.is_some() as usize;
    if hash.len() != 1 + index.more_hash_keys.len() || range.len() != ranges || !str_eq(index.hash_key.name, hash[0]) {
        return false;
    }
    let mut j = 0;
    while j < index.more_hash_keys.len() {
        if !str_eq(index.more_hash_keys[j].name, hash[j + 1]) {
            return false;
        }
        j += 1;
    }
    if let Some(first) = index.range_key {
        if !str_eq(first.name, range[0]) {
            return false;
        }
    }
    let mut j = 0;
    while j < index.more_range_keys.len() {
        if !str_eq(index.more_range_keys[j].name, range[j + 1]) {
            return false;
        }
        j += 1;
    }
    true
}

/// Checks, when compiling, that a template field's type can be part of a key: a string
/// or a number (not binary).
#[doc(hidden)]
pub const fn assert_key_part<T: crate::KeyAttribute>() {
    if matches!(T::KEY_TYPE, crate::KeyType::Binary) {
        panic!("a binary value cannot be part of a key template; use a string or an integer field")
    }
}

/// An index of the table by name.
#[doc(hidden)]
pub fn find_index(schema: &'static TableSchema, name: &str) -> Option<&'static crate::IndexSchema> {
    schema.indexes().find(|i| i.name == name)
}

/// A key attribute's value of an entity key, rendered without checks (for
/// `PrimaryKey::hash_value`; requests render keys with checks).
#[doc(hidden)]
pub fn entity_key_value(schema: &'static TableSchema, values: &[AttributeValue], partition: bool) -> AttributeValue {
    let Some(entity) = schema.entity else {
        return AttributeValue::S(String::new());
    };
    let Some(key) = computed(entity, None, partition) else {
        return AttributeValue::S(String::new());
    };
    let value = |_: usize, name: &'static str| {
        let at = entity.key_fields.iter().position(|f| *f == name)?;
        values.get(at)
    };
    render_value(&key.template, value)
        .ok()
        .flatten()
        .unwrap_or_else(|| AttributeValue::S(String::new()))
}

/// The entity schema of a model's table schema, for the derive's const checks.
#[doc(hidden)]
pub const fn entity_of(schema: &'static TableSchema) -> &'static EntitySchema {
    match schema.entity {
        Some(entity) => entity,
        None => panic!("not an entity"),
    }
}

/// Whether two strings are equal, in a const context.
#[doc(hidden)]
pub const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether a key type is stored as a number, in a const context.
#[doc(hidden)]
pub const fn is_number<T: crate::KeyAttribute>() -> bool {
    matches!(T::KEY_TYPE, crate::KeyType::Number)
}

/// Whether no two of an entity's computed keys write the same attribute with
/// different templates (an index whose key is the table's, or two indexes sharing an
/// attribute), in a const context.
#[doc(hidden)]
pub const fn distinct_key_attributes(schema: &'static TableSchema) -> bool {
    let keys = entity_of(schema).keys;
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() {
            if str_eq(keys[i].attribute, keys[j].attribute) && !same_template(&keys[i].template, &keys[j].template) {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

/// Whether two templates have the same parts, in a const context.
#[doc(hidden)]
pub const fn same_template(a: &KeyTemplate, b: &KeyTemplate) -> bool {
    if a.parts.len() != b.parts.len() || a.widths.len() != b.widths.len() {
        return false;
    }
    let mut i = 0;
    while i < a.parts.len() {
        let same = match (a.parts[i], b.parts[i]) {
            (TemplatePart::Text(x), TemplatePart::Text(y)) => str_eq(x, y),
            (TemplatePart::Field(x), TemplatePart::Field(y)) => str_eq(x, y),
            _ => false,
        };
        if !same {
            return false;
        }
        i += 1;
    }
    let mut i = 0;
    while i < a.widths.len() {
        if a.widths[i] != b.widths[i] {
            return false;
        }
        i += 1;
    }
    matches!(
        (a.case, b.case),
        (KeyCase::Keep, KeyCase::Keep) | (KeyCase::Lower, KeyCase::Lower) | (KeyCase::Upper, KeyCase::Upper)
    ) && a.as_value == b.as_value
}

/// The template of the entity's table partition key.
#[doc(hidden)]
pub const fn partition_template(schema: &'static TableSchema) -> &'static KeyTemplate {
    &entity_of(schema).keys[0].template
}

/// The largest number of decimal digits of a value of a key type, for automatic padding
/// of integers in sort key templates: `None` for types that are not integers.
#[doc(hidden)]
pub trait AutoWidth {
    /// The width.
    const WIDTH: u8;
}

macro_rules! widths {
    ($($t:ty => $w:expr),*) => {$(
        impl AutoWidth for $t {
            const WIDTH: u8 = $w;
        }
    )*};
}
widths!(u8 => 3, u16 => 5, u32 => 10, u64 => 20, u128 => 39, usize => 20,
        i8 => 3, i16 => 5, i32 => 10, i64 => 19, i128 => 39, isize => 19);

/// The computed key of `entity` for `index` (`None`: the table), partition or sort.
fn computed(entity: &EntitySchema, index: Option<&str>, partition: bool) -> Option<&'static ComputedKey> {
    entity
        .keys
        .iter()
        .find(|k| k.index == index && k.partition == partition)
}

/// Starts an entity's query of the table or index `I`: the partition template rendered
/// from `values` (its fields' values, in order), and the sort key restricted to the
/// literal text its template starts with, so that only this entity's items are read.
/// Used by the derive's `query` methods.
#[doc(hidden)]
pub fn query<'a, I: Index>(db: &'a Db, values: &[AttributeValue]) -> Query<'a, I> {
    let entity = entity_of(<I::Model as Model>::SCHEMA);
    let index = I::schema().map(|i| i.name);
    // A global index whose key attributes are the entity's own fields.
    if let Some(schema) = I::schema() {
        let global = <I::Model as Model>::SCHEMA
            .global_indexes
            .iter()
            .any(|g| g.name == schema.name);
        if global && computed(entity, index, true).is_none() {
            return native_query(db, values);
        }
    }
    // A local index shares the table's partition key.
    let Some(partition) = computed(entity, index, true).or_else(|| computed(entity, None, true)) else {
        return ReadStream::refused_query(db, KeyProblem::Missing);
    };
    let hash = match render_value(&partition.template, |i, _| values.get(i)) {
        Ok(Some(value)) => value,
        Ok(None) => return ReadStream::refused_query(db, KeyProblem::Missing),
        Err(problem) => return ReadStream::refused_query(db, problem),
    };
    let mut stream = ReadStream::new_query(db, hash).filter(type_condition::<I::Model>());
    if let Some(sort) = computed(entity, index, false) {
        let prefix = render(&sort.template, 0, |_, _| None)
            .ok()
            .flatten()
            .unwrap_or_default();
        if !prefix.is_empty() {
            stream = stream.set_range(RangeOp::BeginsWith(AttributeValue::S(prefix)));
        }
    }
    stream
}

/// The values of the fields of a partition template of the entity `M`, for its table
/// or index `I`: the value itself for a template of one field, or a tuple of them in
/// the template's order. The derive implements it, so a query takes exactly the
/// partition's fields.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not the partition of `{M}` for this table or index",
    label = "give the values of the partition template's fields, in order",
    note = "with pk = \"ORG#{{org_id}}\", the partition is the `org_id` value"
)]
pub trait PartitionOf<M, I> {
    /// The values of the template's fields, in order.
    fn values(self) -> Vec<AttributeValue>;
}

/// Starts a query of an index whose key attributes are fields (a multi-attribute key):
/// equality on every partition attribute, `values` in their order. Used by the derive.
#[doc(hidden)]
pub fn native_query<'a, I: Index>(db: &'a Db, values: &[AttributeValue]) -> Query<'a, I> {
    let Some(index) = I::schema() else {
        return ReadStream::refused_query(db, KeyProblem::Missing);
    };
    let Some(hash) = values.first() else {
        return ReadStream::refused_query(db, KeyProblem::Missing);
    };
    let more: Vec<_> = index
        .more_hash_keys
        .iter()
        .copied()
        .zip(values[1..].iter().cloned())
        .collect();
    if more.len() != index.more_hash_keys.len() {
        return ReadStream::refused_query(db, KeyProblem::Missing);
    }
    let stream = ReadStream::new_query(db, hash.clone()).with_key_equalities(more);
    match <I::Model as Model>::SCHEMA.entity {
        Some(_) => stream.filter(type_condition::<I::Model>()),
        None => stream,
    }
}

/// The filter that keeps an entity's own items: its type attribute holds its name.
fn type_condition<M: Model>() -> crate::Condition<M> {
    let entity = entity_of(M::SCHEMA);
    crate::expr::Path::<M, ()>::root()
        .__child::<String>(entity.type_attribute)
        .eq(entity.type_name)
}

/// Scans the table for the items of the entity `M` only (a filter on its type
/// attribute). Used by the derive's `scan`.
#[doc(hidden)]
pub fn scan<M: Model>(db: &Db) -> crate::Scan<'_, crate::Table<M>> {
    ReadStream::new_scan(db).filter(type_condition::<M>())
}

/// A left prefix of the fields of an entity's sort key template, for the table or
/// index `I` of the entity `M`: a tuple of the first fields' values. The derive
/// implements it for each prefix, so only a left prefix of the template's fields
/// compiles:
///
/// ```no_run
/// # use dynorm::{Db, DynaModel, DynaTable};
/// # #[derive(DynaTable)]
/// # #[table(name = "app", hash_key = "pk", range_key = "sk")]
/// # struct App { pk: String, sk: String }
/// # #[derive(DynaModel, serde::Serialize, serde::Deserialize, validator::Validate)]
/// # #[entity(table = App, pk = "ORG#{org_id}", sk = "INVOICE#{year}#{month}#{number}")]
/// # struct Invoice { org_id: String, year: u16, month: u8, number: u32 }
/// # async fn run(db: Db) -> dynorm::Result<()> {
/// // sk = "INVOICE#{year}#{month}#{number}"
/// Invoice::query(&db, "acme").sort_prefix((2024,)); // begins_with INVOICE#02024#
/// Invoice::query(&db, "acme").sort_prefix((2024, 3)); // begins_with INVOICE#02024#003#
/// Invoice::query(&db, "acme").sort_between((2024, 1), (2024, 6)); // January to June
/// # Ok(()) }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a left prefix of the sort key template's fields of `{M}`",
    label = "give a tuple of the first fields of the sort key template, in order",
    note = "with sk = \"{{a}}#{{b}}#{{c}}\", a prefix is `(a,)`, `(a, b)` or `(a, b, c)`"
)]
pub trait SortPrefix<M, I> {
    /// The values of the prefix's fields, in order.
    fn values(self) -> Vec<AttributeValue>;
}

/// The sort key template of the entity for the index `I`.
fn sort_template<I: Index>() -> Option<&'static ComputedKey> {
    let entity = <I::Model as Model>::SCHEMA.entity?;
    computed(entity, I::schema().map(|i| i.name), false)
}

/// The sort attributes of `I` when its sort key is native (not an entity's template):
/// a multi-attribute key.
fn native_sort<I: Index>() -> Option<Vec<crate::KeyAttr>> {
    if sort_template::<I>().is_some() {
        return None;
    }
    let index = I::schema()?;
    let keys: Vec<crate::KeyAttr> = index.range_keys().collect();
    (!keys.is_empty()).then_some(keys)
}

/// Equalities on key attributes.
type Equalities = Vec<(crate::KeyAttr, AttributeValue)>;

/// A native sort condition: equalities on all but the last value of `values`, then `op`
/// made from the last.
fn native_condition(
    attrs: &[crate::KeyAttr],
    values: &[AttributeValue],
) -> Result<(Equalities, crate::KeyAttr, AttributeValue), KeyProblem> {
    let (last, leading) = values.split_last().ok_or(KeyProblem::Missing)?;
    let attr = *attrs.get(leading.len()).ok_or(KeyProblem::Missing)?;
    let equalities = attrs.iter().copied().zip(leading.iter().cloned()).collect();
    Ok((equalities, attr, last.clone()))
}

/// A prefix rendered: its value, and whether it named every field of the template (a
/// template of one field keeps the field's own type).
fn render_prefix<I: Index>(values: &[AttributeValue]) -> Result<(AttributeValue, bool), KeyProblem> {
    let Some(sort) = sort_template::<I>() else {
        return Err(KeyProblem::Missing);
    };
    let all = sort.template.fields().count();
    if values.len() >= all {
        let value = render_value(&sort.template, |i, _| values.get(i))?.ok_or(KeyProblem::Missing)?;
        return Ok((value, true));
    }
    let text = render(&sort.template, values.len(), |i, _| values.get(i))?.ok_or(KeyProblem::Missing)?;
    Ok((AttributeValue::S(text), false))
}

/// A prefix's upper bound: the key itself when complete, otherwise the prefix followed
/// by the largest character, so that every key it starts is included.
fn upper(value: AttributeValue, complete: bool) -> AttributeValue {
    match value {
        AttributeValue::S(text) if !complete => AttributeValue::S(format!("{text}{LAST}")),
        other => other,
    }
}

/// The largest character, appended to a prefix for an upper bound that includes every
/// key starting with the prefix.
const LAST: char = char::MAX;

impl<'a, I: Index, T> ReadStream<'a, I, QueryOp, T> {
    /// Restricts an entity's query to the sort keys that start with a left prefix of
    /// the sort template's fields: `(2024,)` or `(2024, 3)` of
    /// `"INVOICE#{year}#{month}#{number}"` (all the fields: that one key).
    pub fn sort_prefix(self, prefix: impl SortPrefix<I::Model, I>) -> Self {
        if let Some(attrs) = native_sort::<I>() {
            return match native_condition(&attrs, &prefix.values()) {
                Ok((eq, attr, last)) => self.set_native_sort(eq, attr, RangeOp::Compare("=", last)),
                Err(problem) => self.refuse_range(problem),
            };
        }
        match render_prefix::<I>(&prefix.values()) {
            Ok((value, true)) => self.set_range(RangeOp::Compare("=", value)),
            Ok((value, false)) => self.set_range(RangeOp::BeginsWith(value)),
            Err(problem) => self.refuse_range(problem),
        }
    }

    /// Restricts an entity's query to the sort keys from `low` to `high`, both
    /// included, each a left prefix of the sort template's fields: a prefix includes
    /// every key it starts (`(2024, 1)` to `(2024, 6)`: January to June 2024).
    pub fn sort_between(self, low: impl SortPrefix<I::Model, I>, high: impl SortPrefix<I::Model, I>) -> Self {
        if let Some(attrs) = native_sort::<I>() {
            let (low, high) = (low.values(), high.values());
            let bounds = native_condition(&attrs, &low).and_then(|l| Ok((l, native_condition(&attrs, &high)?)));
            return match bounds {
                Ok(((eq, attr, low), (high_eq, _, high))) if eq == high_eq => {
                    self.set_native_sort(eq, attr, RangeOp::Between(low, high))
                }
                Ok(_) => self.refuse_range(KeyProblem::BoundsDiffer),
                Err(problem) => self.refuse_range(problem),
            };
        }
        let bounds = render_prefix::<I>(&low.values()).and_then(|low| Ok((low, render_prefix::<I>(&high.values())?)));
        match bounds {
            Ok(((low, _), (high, complete))) => self.set_range(RangeOp::Between(low, upper(high, complete))),
            Err(problem) => self.refuse_range(problem),
        }
    }

    /// Restricts an entity's query to the sort keys from `low` on (included): `low` and
    /// every key after it, within the entity's own sort keys.
    pub fn sort_from(self, low: impl SortPrefix<I::Model, I>) -> Self {
        if let Some(attrs) = native_sort::<I>() {
            return match native_condition(&attrs, &low.values()) {
                Ok((eq, attr, last)) => self.set_native_sort(eq, attr, RangeOp::Compare(">=", last)),
                Err(problem) => self.refuse_range(problem),
            };
        }
        let prefix = entity_prefix::<I>();
        match render_prefix::<I>(&low.values()) {
            Ok((low @ AttributeValue::S(_), _)) => {
                let high = format!("{prefix}{LAST}");
                self.set_range(RangeOp::Between(low, AttributeValue::S(high)))
            }
            Ok((low, _)) => self.set_range(RangeOp::Compare(">=", low)),
            Err(problem) => self.refuse_range(problem),
        }
    }

    /// Restricts an entity's query to the sort keys up to `high` (included, with every
    /// key it starts), within the entity's own sort keys.
    pub fn sort_until(self, high: impl SortPrefix<I::Model, I>) -> Self {
        if let Some(attrs) = native_sort::<I>() {
            return match native_condition(&attrs, &high.values()) {
                Ok((eq, attr, last)) => self.set_native_sort(eq, attr, RangeOp::Compare("<=", last)),
                Err(problem) => self.refuse_range(problem),
            };
        }
        let prefix = entity_prefix::<I>();
        match render_prefix::<I>(&high.values()) {
            Ok((high @ AttributeValue::S(_), complete)) => self.set_range(RangeOp::Between(
                AttributeValue::S(prefix.into_owned()),
                upper(high, complete),
            )),
            Ok((high, _)) => self.set_range(RangeOp::Compare("<=", high)),
            Err(problem) => self.refuse_range(problem),
        }
    }
}

/// The literal text every sort key of the entity starts with, for `I`.
fn entity_prefix<I: Index>() -> Cow<'static, str> {
    match sort_template::<I>() {
        Some(sort) => match sort.template.case {
            KeyCase::Keep => Cow::Borrowed(sort.template.literal_prefix()),
            KeyCase::Lower => Cow::Owned(sort.template.literal_prefix().to_lowercase()),
            KeyCase::Upper => Cow::Owned(sort.template.literal_prefix().to_uppercase()),
        },
        None => Cow::Borrowed(""),
    }
}

/// An enum of entities sharing a partition, read by one query: implemented by
/// `#[derive(Collection)]`. Each item decodes into the variant its type attribute
/// names.
pub trait Collection: Sized + Send + 'static {
    /// The entity whose table (and partition template) the collection reads: the first
    /// variant's.
    type Root: Entity;

    /// Decodes an item into the variant of its type. An item of a type the enum does not
    /// list is [`Error::WrongEntity`] (or the enum's `#[collection(other)]` variant).
    fn decode(item: Item) -> Result<Self>;
}

/// Starts a collection's query: the root entity's partition, every item of any type.
/// Used by the derive's `query` method on collections.
#[doc(hidden)]
pub fn collection_query<'a, C: Collection>(
    db: &'a Db,
    values: &[AttributeValue],
) -> Query<'a, crate::Table<C::Root>, C> {
    let entity = entity_of(<C::Root as Model>::SCHEMA);
    let partition = &entity.keys[0];
    let stream = match render_value(&partition.template, |i, _| values.get(i)) {
        Ok(Some(value)) => ReadStream::new_query(db, value),
        Ok(None) => ReadStream::refused_query(db, KeyProblem::Missing),
        Err(problem) => ReadStream::refused_query(db, problem),
    };
    stream.decode_with(C::decode)
}

/// The entity type name of a stored item, read from the collection's type attribute.
#[doc(hidden)]
pub fn type_name_of<C: Collection>(item: &Item) -> Option<&str> {
    let attribute = entity_of(<C::Root as Model>::SCHEMA).type_attribute;
    match item.get(attribute) {
        Some(AttributeValue::S(name)) => Some(name),
        _ => None,
    }
}

/// The error for an item whose type a collection does not list.
#[doc(hidden)]
pub fn unknown_type<C: Collection>(item: &Item) -> Error {
    Error::WrongEntity {
        table: <C::Root as Model>::SCHEMA.name,
        expected: std::any::type_name::<C>(),
        found: type_name_of::<C>(item).map(str::to_owned),
    }
}

/// Decodes an item into the entity `M` with its load hooks, for a collection's variant.
#[doc(hidden)]
pub fn decode_entity<M: Model>(item: Item) -> Result<M> {
    crate::hooks::load::<M>(item)
}
