//! The attributes a partial save changes, found field by field.
//!
//! The model's own `Serialize` impl walks its fields; each is compared with the
//! snapshot's attribute without being encoded ([`encodes_to`]), and only a field that
//! differs is encoded. A model whose fields are not serialized one by one (a
//! `#[serde(flatten)]` field makes serde write a map, and a hand-written impl may do
//! anything) is encoded whole and compared attribute by attribute instead.

use std::borrow::Cow;
use std::fmt;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::ser::{self, Impossible, Serialize, SerializeStruct, Serializer};

use super::same::encodes_to;
use crate::encode::{is_empty_set, to_attribute_value};
use crate::item::encode_error;
use crate::schema::{Shape, TableSchema};
use crate::value::ValueError;
use crate::{Item, Model, Result};

/// A top-level attribute whose stored value a save changes.
pub(super) struct Change {
    /// The attribute's name.
    pub(super) name: Cow<'static, str>,
    /// Its new value; `None` when the attribute is removed.
    pub(super) value: Option<AttributeValue>,
}

/// Whether dynorm maintains the attribute itself (the lock version, the timestamps,
/// the schema version), so a diff leaves it out.
pub(super) fn is_managed(schema: &TableSchema, name: &str) -> bool {
    managed_names(schema).any(|managed| managed == name)
}

/// The attributes dynorm maintains: the lock version, the timestamps, the schema
/// version.
pub(super) fn managed_names(schema: &TableSchema) -> impl Iterator<Item = &'static str> {
    [
        schema.version_attribute,
        schema.created_at.map(|f| f.attribute),
        schema.updated_at.map(|f| f.attribute),
        schema.schema_version.map(|v| v.attribute),
    ]
    .into_iter()
    .flatten()
}

/// The attributes of `model`'s item that differ from `snapshot`, sorted by name.
pub(super) fn changed_attributes<M: Model>(model: &M, snapshot: &Item) -> Result<Vec<Change>> {
    let schema = M::SCHEMA;
    if !schema.attributes.flattened {
        if let Some(changes) = by_field(model, schema, snapshot)? {
            return Ok(changes);
        }
    }
    whole::<M>(model, snapshot)
}

/// The changes found field by field; `None` when the model does not serialize as a
/// struct of fields.
fn by_field<M: Model>(model: &M, schema: &'static TableSchema, snapshot: &Item) -> Result<Option<Vec<Change>>> {
    let fields = match model.serialize(Fields { schema, snapshot }) {
        Ok(fields) => fields,
        Err(Stop::NotFields) => return Ok(None),
        Err(Stop::Value(error)) => return Err(encode_error(std::any::type_name::<M>(), error.finish(""))),
    };
    let FieldDiff {
        mut changes,
        emitted,
        present,
        ..
    } = fields;
    // The attributes dynorm adds to a model's fields: the schema version, an entity's
    // type and computed keys.
    let extras = || {
        schema.schema_version.map(|v| v.attribute).into_iter().chain(
            schema
                .entity
                .into_iter()
                .flat_map(|e| std::iter::once(e.type_attribute).chain(e.keys.iter().map(|k| k.attribute))),
        )
    };
    let extra = |name: &str| extras().any(|e| e == name);
    let extras_present = extras()
        .filter(|name| snapshot.contains_key(*name) && !emitted.contains(name))
        .count();
    // Attributes the snapshot holds that no field wrote this time (an `Option` now
    // skipped when `None`): removed.
    if present + extras_present < snapshot.len() {
        for name in snapshot.keys() {
            if !extra(name) && !is_managed(schema, name) && !emitted.contains(&name.as_str()) {
                changes.push(Change {
                    name: Cow::Owned(name.clone()),
                    value: None,
                });
            }
        }
    }
    // An entity's keys are computed again on every save, as a whole-item write would
    // store them: one made of a changed field moves, and one the stored item lacks (an
    // index added to the entity since it was written) is written.
    if let Some(entity) = schema.entity {
        computed_changes(entity, snapshot, &mut changes)?;
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Some(changes))
}

/// The computed key attributes of an entity that a save changes: each key rendered from
/// the fields as they will be stored, compared with the snapshot's.
fn computed_changes(entity: &crate::schema::EntitySchema, snapshot: &Item, changes: &mut Vec<Change>) -> Result<()> {
    let field = |name: &str| match changes.iter().find(|c| c.name == name) {
        Some(change) => change.value.as_ref(),
        None => snapshot.get(name),
    };
    let computed = crate::template::computed_keys(entity, field)?;
    let mut found = Vec::new();
    for key in entity.keys {
        // An attribute two indexes share is one change, its value the last computed (as
        // `complete_item` stores it).
        if found.iter().any(|c: &Change| c.name == key.attribute) {
            continue;
        }
        let now = computed.iter().rfind(|(a, _)| *a == key.attribute).map(|(_, v)| v);
        if now != snapshot.get(key.attribute) {
            found.push(Change {
                name: Cow::Borrowed(key.attribute),
                value: now.cloned(),
            });
        }
    }
    changes.extend(found);
    Ok(())
}

/// The changes found by encoding the whole model and comparing its attributes.
fn whole<M: Model>(model: &M, snapshot: &Item) -> Result<Vec<Change>> {
    let schema = M::SCHEMA;
    let current = crate::model::model_to_item(model)?;
    let mut changes: Vec<Change> = snapshot
        .keys()
        .filter(|name| !current.contains_key(*name) && !is_managed(schema, name))
        .map(|name| Change {
            name: Cow::Owned(name.clone()),
            value: None,
        })
        .collect();
    for (name, value) in current {
        if !is_managed(schema, &name) && snapshot.get(&name) != Some(&value) {
            changes.push(Change {
                name: Cow::Owned(name),
                value: Some(value),
            });
        }
    }
    changes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(changes)
}

/// Why the field-by-field walk stopped.
#[derive(Debug)]
enum Stop {
    /// The model does not serialize as a struct of fields.
    NotFields,
    /// A changed field failed to encode.
    Value(ValueError),
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::NotFields => f.write_str("the model does not serialize as a struct"),
            Stop::Value(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Stop::Value(ValueError::new(msg))
    }
}

/// The serializer a model is walked with: only a struct is walked field by field.
struct Fields<'a> {
    schema: &'static TableSchema,
    snapshot: &'a Item,
}

/// What the walk found: the changed attributes, the names written, and how many of
/// them the snapshot holds.
struct FieldDiff<'a> {
    schema: &'static TableSchema,
    shape: Shape,
    snapshot: &'a Item,
    changes: Vec<Change>,
    emitted: Vec<&'static str>,
    present: usize,
}

impl SerializeStruct for FieldDiff<'_> {
    type Ok = Self;
    type Error = Stop;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Stop> {
        self.emitted.push(key);
        let old = self.snapshot.get(key);
        if old.is_some() {
            self.present += 1;
        }
        if is_managed(self.schema, key) {
            return Ok(());
        }
        // As the encoder shapes a struct's fields.
        let shape = if self.shape.is_plain() {
            Shape::Plain
        } else {
            self.shape.field(key)
        };
        if let Some(old) = old {
            if encodes_to(value, old, shape) {
                return Ok(());
            }
        }
        let new = to_attribute_value(value, 1, shape).map_err(|e| Stop::Value(e.in_field(key)))?;
        // An empty set is left out of the item, as the encoder leaves it out of a map.
        let new = (!is_empty_set(&new)).then_some(new);
        if old != new.as_ref() {
            self.changes.push(Change {
                name: Cow::Borrowed(key),
                value: new,
            });
        }
        Ok(())
    }

    fn end(self) -> Result<Self, Stop> {
        Ok(self)
    }
}

macro_rules! not_fields {
    ($($method:ident($($ty:ty),*) -> $ok:ty;)*) => {
        $(
            fn $method(self, $(_: $ty),*) -> Result<$ok, Stop> {
                Err(Stop::NotFields)
            }
        )*
    };
}

impl<'a> Serializer for Fields<'a> {
    type Ok = FieldDiff<'a>;
    type Error = Stop;
    type SerializeSeq = Impossible<FieldDiff<'a>, Stop>;
    type SerializeTuple = Impossible<FieldDiff<'a>, Stop>;
    type SerializeTupleStruct = Impossible<FieldDiff<'a>, Stop>;
    type SerializeTupleVariant = Impossible<FieldDiff<'a>, Stop>;
    type SerializeMap = Impossible<FieldDiff<'a>, Stop>;
    type SerializeStruct = FieldDiff<'a>;
    type SerializeStructVariant = Impossible<FieldDiff<'a>, Stop>;

    not_fields! {
        serialize_bool(bool) -> FieldDiff<'a>;
        serialize_i8(i8) -> FieldDiff<'a>;
        serialize_i16(i16) -> FieldDiff<'a>;
        serialize_i32(i32) -> FieldDiff<'a>;
        serialize_i64(i64) -> FieldDiff<'a>;
        serialize_i128(i128) -> FieldDiff<'a>;
        serialize_u8(u8) -> FieldDiff<'a>;
        serialize_u16(u16) -> FieldDiff<'a>;
        serialize_u32(u32) -> FieldDiff<'a>;
        serialize_u64(u64) -> FieldDiff<'a>;
        serialize_u128(u128) -> FieldDiff<'a>;
        serialize_f32(f32) -> FieldDiff<'a>;
        serialize_f64(f64) -> FieldDiff<'a>;
        serialize_char(char) -> FieldDiff<'a>;
        serialize_str(&str) -> FieldDiff<'a>;
        serialize_bytes(&[u8]) -> FieldDiff<'a>;
        serialize_none() -> FieldDiff<'a>;
        serialize_unit() -> FieldDiff<'a>;
        serialize_unit_struct(&'static str) -> FieldDiff<'a>;
        serialize_unit_variant(&'static str, u32, &'static str) -> FieldDiff<'a>;
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<FieldDiff<'a>, Stop> {
        Err(Stop::NotFields)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, _: &T) -> Result<FieldDiff<'a>, Stop> {
        Err(Stop::NotFields)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<FieldDiff<'a>, Stop> {
        Err(Stop::NotFields)
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<FieldDiff<'a>, Stop> {
        Ok(FieldDiff {
            schema: self.schema,
            shape: self.schema.attributes.shape.resolve(),
            snapshot: self.snapshot,
            changes: Vec::new(),
            emitted: Vec::with_capacity(len),
            present: 0,
        })
    }
}
