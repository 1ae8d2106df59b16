//! The schema: what the derive tells the runtime about a model's table and items, as
//! static data. The bottom layer: it depends on nothing else in the crate.

use std::fmt;

use aws_sdk_dynamodb::types::{AttributeValue, ScalarAttributeType};

/// The DynamoDB type of a key attribute: string, number or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `S`: strings.
    String,
    /// `N`: integers.
    Number,
    /// `B`: byte vectors.
    Binary,
}

impl KeyType {
    /// The SDK's name for this type.
    pub fn scalar_attribute_type(self) -> ScalarAttributeType {
        match self {
            KeyType::String => ScalarAttributeType::S,
            KeyType::Number => ScalarAttributeType::N,
            KeyType::Binary => ScalarAttributeType::B,
        }
    }
}

/// One key attribute of a table or index: its attribute name and DynamoDB type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyAttr {
    /// The attribute name as stored (serde's name for the field).
    pub name: &'static str,
    /// The attribute's DynamoDB type, inferred from the Rust field type.
    pub key_type: KeyType,
}

/// Which attributes an index copies from the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// Every attribute.
    All,
    /// Only the table's and the index's key attributes.
    KeysOnly,
    /// The keys plus the listed attributes.
    Include(&'static [&'static str]),
}

/// Provisioned read and write capacity units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throughput {
    /// Read capacity units.
    pub read: i64,
    /// Write capacity units.
    pub write: i64,
}

/// What a DynamoDB stream records for each change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamView {
    /// Only the key attributes of the changed item.
    KeysOnly,
    /// The item as it is after the change.
    NewImage,
    /// The item as it was before the change.
    OldImage,
    /// Both images.
    NewAndOldImages,
}

/// A secondary index of a table, as declared by `#[global_index]` or `#[local_index]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexSchema {
    /// The index name.
    pub name: &'static str,
    /// The index's hash key. For a local index this is the table's hash key.
    pub hash_key: KeyAttr,
    /// The index's range key, when it has one (always, for a local index).
    pub range_key: Option<KeyAttr>,
    /// Which attributes the index holds.
    pub projection: Projection,
    /// Provisioned throughput of a global index; `None` follows the table's billing.
    pub throughput: Option<Throughput>,
    /// The further partition key attributes of a multi-attribute key, after
    /// `hash_key` (a global index has up to four in all, of native types).
    pub more_hash_keys: &'static [KeyAttr],
    /// The further sort key attributes of a multi-attribute key, after `range_key`.
    pub more_range_keys: &'static [KeyAttr],
}

impl IndexSchema {
    /// Every partition key attribute, in order.
    pub fn hash_keys(&self) -> impl Iterator<Item = KeyAttr> + '_ {
        std::iter::once(self.hash_key).chain(self.more_hash_keys.iter().copied())
    }

    /// Every sort key attribute, in order.
    pub fn range_keys(&self) -> impl Iterator<Item = KeyAttr> + '_ {
        self.range_key.into_iter().chain(self.more_range_keys.iter().copied())
    }

    /// Whether the index's key has more than one partition or sort attribute.
    pub fn is_multi_attribute(&self) -> bool {
        !self.more_hash_keys.is_empty() || !self.more_range_keys.is_empty()
    }
}

/// Everything dynorm knows about a model's table and items: static data the derive
/// builds with a struct literal, which the engine reads (no code of the model's own).
///
/// Read it through `DynaModel::schema`. New model options add fields; code that reads
/// the schema is not affected, code that builds one by hand is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSchema {
    /// The table name, without the handle's prefix.
    pub name: &'static str,
    /// The table's hash (partition) key.
    pub hash_key: KeyAttr,
    /// The table's range (sort) key, if any.
    pub range_key: Option<KeyAttr>,
    /// How the stored key attributes are made from the item's fields.
    pub stored_key: StoredKey,
    /// Provisioned throughput; `None` means on-demand billing.
    pub throughput: Option<Throughput>,
    /// The stream view, when the table has a stream.
    pub stream: Option<StreamView>,
    /// Global secondary indexes.
    pub global_indexes: &'static [IndexSchema],
    /// Local secondary indexes.
    pub local_indexes: &'static [IndexSchema],
    /// The attributes the model's fields are stored in.
    pub attributes: StoredAttributes,
    /// The attribute of the `#[dynorm(version)]` field, if any.
    pub version_attribute: Option<&'static str>,
    /// The largest version the version field's type holds (`u64::MAX` without one): a
    /// write that would store a larger version is refused.
    pub version_max: u64,
    /// The attribute of the `#[dynorm(ttl)]` field, if any; time to live is enabled on it.
    pub ttl_attribute: Option<&'static str>,
    /// The `#[dynorm(created_at)]` field: set on an item's first write only.
    pub created_at: Option<TimestampField>,
    /// The `#[dynorm(updated_at)]` field: set on every write.
    pub updated_at: Option<TimestampField>,
    /// For an entity of a single-table design (`#[entity]`), its type name, key fields
    /// and key templates; `None` for a model that owns its table.
    pub entity: Option<&'static EntitySchema>,
    /// Deletion protection, table class, encryption, tags and point-in-time recovery.
    pub options: TableOptions,
    /// The model's schema version (`#[schema(version = ..)]`): the attribute every
    /// item carries it in, and which versions older items are migrated from.
    pub schema_version: Option<SchemaVersion>,
}

/// A model's schema version, declared with `#[schema(version = N, migrations = [..])]`.
///
/// Every item the model writes carries `current` in `attribute`. An item read with a
/// lower version passes through the model's migrations, one step per version, before it
/// is decoded; an item without the attribute is of version `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaVersion {
    /// The attribute that holds the version (`_v` unless declared).
    pub attribute: &'static str,
    /// The version this model writes.
    pub current: u32,
    /// The version of an item stored without the attribute (1 unless declared).
    pub default: u32,
    /// A `get` that migrated an item writes it back, conditioned on the item being
    /// unchanged since it was read.
    pub write_back: bool,
}

/// The settings of a table beyond its keys and indexes, created with it and compared by
/// `plan_table`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TableOptions {
    /// `DeleteTable` is refused while it is on. `None`: not managed by the model (the
    /// plan leaves the table's setting alone).
    pub deletion_protection: Option<bool>,
    /// The table class; `None`: not managed (a new table gets DynamoDB's default,
    /// STANDARD).
    pub table_class: Option<TableClass>,
    /// Server-side encryption; `None`: not managed (a new table gets DynamoDB's own key).
    pub encryption: Option<Encryption>,
    /// The table's tags, key and value.
    pub tags: &'static [(&'static str, &'static str)],
    /// Continuous backups with point-in-time recovery. `None`: not managed by the model.
    pub point_in_time_recovery: Option<bool>,
}

/// A table class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableClass {
    /// `STANDARD`.
    Standard,
    /// `STANDARD_INFREQUENT_ACCESS`: cheaper storage, dearer reads and writes.
    StandardInfrequentAccess,
}

impl TableClass {
    /// The SDK's name.
    pub fn as_str(self) -> &'static str {
        match self {
            TableClass::Standard => "STANDARD",
            TableClass::StandardInfrequentAccess => "STANDARD_INFREQUENT_ACCESS",
        }
    }
}

/// Server-side encryption of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// A key DynamoDB owns (the default).
    Owned,
    /// The AWS managed key `aws/dynamodb` in the account's KMS.
    AwsManaged,
    /// A customer managed KMS key: its ARN, ID or alias.
    CustomerKey(&'static str),
}

/// An entity of a single-table design: one of several item types sharing a table
/// declared with `#[derive(DynaTable)]`, its keys made from templates of its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntitySchema {
    /// The entity's type name, written in the type attribute of every item.
    pub type_name: &'static str,
    /// The attribute that holds the type name (the table declaration's).
    pub type_attribute: &'static str,
    /// The attribute names of the fields of the entity's key, in the key's order:
    /// the partition template's fields, then the sort template's.
    pub key_fields: &'static [&'static str],
    /// The key attributes the entity computes: the table's partition and sort keys,
    /// then those of each index it uses.
    pub keys: &'static [ComputedKey],
}

/// A key attribute computed from an entity's fields through a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComputedKey {
    /// The stored attribute (`pk`, `gsi1sk`).
    pub attribute: &'static str,
    /// The index whose key it is; `None` for the table's own key.
    pub index: Option<&'static str>,
    /// Whether it is the index's (or table's) partition key; otherwise its sort key.
    pub partition: bool,
    /// How its value is made.
    pub template: KeyTemplate,
}

/// A key template of an entity: literal text and fields, such as
/// `"INVOICE#{year}#{month}#{number}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyTemplate {
    /// The text and fields, in order.
    pub parts: &'static [TemplatePart],
    /// The zero-padding width of each field, in the order of the fields (0: none). An
    /// integer padded to a fixed width sorts numerically as text.
    pub widths: &'static [u8],
    /// The case the whole key is written in.
    pub case: KeyCase,
    /// A template of one field for a key attribute of the field's own type (a number or
    /// binary key): the field's value is stored as it is, not as text.
    pub as_value: bool,
}

/// The case a key template is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyCase {
    /// As the text and values are (the default).
    #[default]
    Keep,
    /// Lower case.
    Lower,
    /// Upper case.
    Upper,
}

impl KeyTemplate {
    /// The template's field names, in order.
    pub fn fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.parts.iter().filter_map(|p| match p {
            TemplatePart::Field(f) => Some(*f),
            TemplatePart::Text(_) => None,
        })
    }

    /// The literal text before the first field: what every key of the template starts with.
    pub fn literal_prefix(&self) -> &'static str {
        match self.parts.first() {
            Some(TemplatePart::Text(t)) => t,
            _ => "",
        }
    }
}

/// The attributes a model's fields are stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredAttributes {
    /// The attribute of every stored field (fields with `#[serde(skip)]` and flattened
    /// fields have none).
    pub names: &'static [&'static str],
    /// Whether a `#[serde(flatten)]` field adds attributes that cannot be listed.
    pub flattened: bool,
    /// How the fields whose serde form is not their DynamoDB form are stored (sets,
    /// bytes, numbers written as strings), for the encoder and decoder.
    pub shape: Shape,
}

/// How a value is stored where serde's own form of it is not the DynamoDB type it
/// should have. The derive reads it off each field's type; everything else is stored the
/// way serde writes it.
///
/// | shape | serde writes | stored as |
/// |---|---|---|
/// | `Set` | a sequence of strings, numbers or byte vectors | `SS`, `NS` or `BS`; an empty set is left out of the item |
/// | `Binary` | a sequence of `u8` (`Vec<u8>`, `[u8; N]`) or bytes | `B` |
/// | `Number` | a string holding a number (`rust_decimal::Decimal`) | `N` |
/// | `Fields` | a struct or map | `M`, with the listed fields shaped |
/// | `Each` | a sequence or map | `L` or `M`, every element shaped |
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Shape {
    /// Stored the way serde writes it.
    Plain,
    /// A set. `fill`: the field holds a set, not an `Option` of one, so an item without
    /// the attribute (where an empty set was left out) reads back as an empty set.
    Set {
        /// Read a missing attribute as an empty set.
        fill: bool,
    },
    /// Binary data.
    Binary,
    /// A number that serde writes as a string.
    Number,
    /// A struct whose listed fields are shaped (the others are plain). An entry with an
    /// empty name is a `#[serde(flatten)]` field: its own fields sit beside these.
    Fields(&'static [FieldShape]),
    /// A list or map whose every element (or value) has this shape.
    Each(&'static Shape),
    /// A shape known only from a trait impl (a nested `Document`), looked up when used.
    Lazy(LazyShape),
}

/// The shape of a field of a [`Shape::Fields`] struct.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldShape {
    /// The field's attribute name (empty for a flattened field).
    pub name: &'static str,
    /// How it is stored.
    pub shape: Shape,
}

/// A shape computed by a function: the shape of a field whose type may be a nested
/// `Document` (whose own fields are then shaped).
#[derive(Clone, Copy)]
pub struct LazyShape(pub fn() -> Shape);

impl fmt::Debug for LazyShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.0)().fmt(f)
    }
}

/// Two lazy shapes are equal when they compute equal shapes.
impl PartialEq for LazyShape {
    fn eq(&self, other: &Self) -> bool {
        (self.0)() == (other.0)()
    }
}

impl Eq for LazyShape {}

impl Shape {
    /// The shape itself, with a lazy one looked up.
    #[inline]
    pub fn resolve(self) -> Shape {
        match self {
            Shape::Lazy(lazy) => (lazy.0)(),
            other => other,
        }
    }

    /// Whether values of this shape are stored exactly as serde writes them.
    #[inline]
    pub fn is_plain(self) -> bool {
        match self {
            Shape::Plain => true,
            Shape::Fields(fields) => fields.is_empty(),
            _ => false,
        }
    }

    /// The shape of the field or map entry `name` of a value of this shape.
    #[inline]
    pub fn field(self, name: &str) -> Shape {
        match self {
            Shape::Fields(fields) => find_field(fields, name),
            Shape::Each(each) => each.resolve(),
            Shape::Lazy(lazy) => (lazy.0)().field(name),
            _ => Shape::Plain,
        }
    }

    /// The shape of the elements of a list of this shape.
    #[inline]
    pub fn element(self) -> Shape {
        match self {
            Shape::Each(each) => each.resolve(),
            Shape::Lazy(lazy) => (lazy.0)().element(),
            _ => Shape::Plain,
        }
    }
}

fn find_field(fields: &'static [FieldShape], name: &str) -> Shape {
    for field in fields {
        if field.name == name {
            return field.shape.resolve();
        }
    }
    // Fields of flattened structs sit beside the struct's own.
    for field in fields {
        if field.name.is_empty() {
            let found = field.shape.resolve().field(name);
            if found != Shape::Plain {
                return found;
            }
        }
    }
    Shape::Plain
}

/// How the value of each stored key attribute is made from an item's fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredKey {
    /// The hash key attribute's value.
    pub hash: KeySource,
    /// The range key attribute's value, when the table has a range key.
    pub range: Option<KeySource>,
}

/// Where a stored key attribute's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeySource {
    /// The field stored under the key attribute's own name.
    Field,
    /// A template of literal text and field values, such as `ORG#{org_id}`.
    Template(&'static [TemplatePart]),
}

/// One part of a key template such as `"{forum_name}\n{subject}"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemplatePart {
    /// Literal text.
    Text(&'static str),
    /// A field's value, by the field's name.
    Field(&'static str),
}

/// A timestamp field maintained by dynorm: its attribute, and the current time as it
/// stores it.
#[derive(Clone, Copy)]
pub struct TimestampField {
    /// The attribute name.
    pub attribute: &'static str,
    /// Encodes the current time the way the field's type stores it.
    pub now: fn() -> Result<AttributeValue, crate::value::ValueError>,
}

impl fmt::Debug for TimestampField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimestampField")
            .field("attribute", &self.attribute)
            .finish_non_exhaustive()
    }
}

/// Two timestamp fields are the same when they store the same attribute.
impl PartialEq for TimestampField {
    fn eq(&self, other: &Self) -> bool {
        self.attribute == other.attribute
    }
}

impl Eq for TimestampField {}

impl Throughput {
    /// Provisioned capacity of `read` and `write` units.
    pub const fn new(read: i64, write: i64) -> Self {
        Throughput { read, write }
    }
}

impl TableSchema {
    /// The primary key's attribute names: the hash key's, then the range key's.
    pub fn key_names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.hash_key.name).chain(self.range_key.map(|k| k.name))
    }

    /// Whether `name` is one of the primary key's attributes.
    pub fn is_key(&self, name: &str) -> bool {
        self.key_names().any(|k| k == name)
    }

    /// The table's secondary indexes, global then local.
    pub fn indexes(&self) -> impl Iterator<Item = &'static IndexSchema> {
        self.global_indexes.iter().chain(self.local_indexes)
    }

    /// Every distinct key attribute of the table and its indexes, in declaration order.
    pub fn key_attributes(&self) -> Vec<KeyAttr> {
        let mut out: Vec<KeyAttr> = Vec::new();
        let indexes = self.indexes();
        let all = std::iter::once(self.hash_key)
            .chain(self.range_key)
            .chain(indexes.flat_map(|i| i.hash_keys().chain(i.range_keys())));
        for attr in all {
            if !out.iter().any(|a| a.name == attr.name) {
                out.push(attr);
            }
        }
        out
    }
}
