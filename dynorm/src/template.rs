//! Key templates: literal text and field values (`"ORG#{org_id}"`), rendered so that
//! every key reads back into exactly the values it was made of. Used by relationships
//! and by the entities of a single-table design.

use std::borrow::Cow;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::error::{Error, KeyProblem, Result};
use crate::schema::{EntitySchema, KeyCase, KeyTemplate, TableSchema, TemplatePart};
use crate::value::Item;

/// The literal text that follows the field at `parts[field]`, up to the next field
/// (empty when another field follows at once); `None` when nothing follows it, the field
/// ending the template.
pub(crate) fn text_after(parts: &[TemplatePart], field: usize) -> Option<Cow<'static, str>> {
    let mut text: Cow<'static, str> = Cow::Borrowed("");
    for part in &parts[field + 1..] {
        match part {
            TemplatePart::Text(t) if text.is_empty() => text = Cow::Borrowed(*t),
            TemplatePart::Text(t) => text.to_mut().push_str(t),
            TemplatePart::Field(_) => return Some(text),
        }
    }
    (!text.is_empty()).then_some(text)
}

/// Whether a field's `value` followed by the template's `next` text reads back as
/// `value`: the first occurrence of `next` in `value + next` is the one after `value`.
pub(crate) fn reads_back(value: &str, next: &str) -> bool {
    let mut probe = String::with_capacity(value.len() + next.len());
    probe.push_str(value);
    probe.push_str(next);
    probe.find(next) == Some(value.len())
}

/// Writes one field value into a key being rendered. A string is written as is, a number
/// as its digits, zero-padded to `width` when given (a padded number must be a
/// non-negative integer that fits).
fn push_value(out: &mut String, field: &'static str, value: &AttributeValue, width: u8) -> Result<(), KeyProblem> {
    match value {
        AttributeValue::S(s) => out.push_str(s),
        AttributeValue::N(n) if width == 0 => out.push_str(n),
        AttributeValue::N(n) => {
            if !n.bytes().all(|b| b.is_ascii_digit()) {
                return Err(KeyProblem::NotPaddable { field });
            }
            let digits = n.trim_start_matches('0');
            let digits = if digits.is_empty() { "0" } else { digits };
            if digits.len() > usize::from(width) {
                return Err(KeyProblem::TooWide { field, width });
            }
            out.extend(std::iter::repeat_n('0', usize::from(width) - digits.len()));
            out.push_str(digits);
        }
        _ => return Err(KeyProblem::NotAKeyPart { field }),
    }
    Ok(())
}

/// The text of a template rendered for `fields` values (the first `fields` of the
/// template; all of them for a whole key), read by `value`. A prefix of some fields ends
/// with the literal text that follows its last field, so that it only matches keys whose
/// field has exactly that value. `Ok(None)`: a field's value is missing (or `NULL`).
pub(crate) fn render<'v>(
    template: &KeyTemplate,
    fields: usize,
    mut value: impl FnMut(usize, &'static str) -> Option<&'v AttributeValue>,
) -> Result<Option<String>, KeyProblem> {
    let mut out = String::with_capacity(32);
    let mut field_index = 0;
    for (i, part) in template.parts.iter().enumerate() {
        match part {
            TemplatePart::Text(text) => out.push_str(text),
            TemplatePart::Field(_) if field_index == fields => break,
            TemplatePart::Field(field) => {
                let v = match value(field_index, field) {
                    None | Some(AttributeValue::Null(_)) => return Ok(None),
                    Some(v) => v,
                };
                let start = out.len();
                let width = template.widths.get(field_index).copied().unwrap_or(0);
                push_value(&mut out, field, v, width)?;
                if let Some(next) = text_after(template.parts, i) {
                    if !reads_back(&out[start..], &next) {
                        return Err(KeyProblem::TemplateSeparator { field });
                    }
                }
                field_index += 1;
            }
        }
    }
    Ok(Some(match template.case {
        KeyCase::Keep => out,
        KeyCase::Lower => out.to_lowercase(),
        KeyCase::Upper => out.to_uppercase(),
    }))
}

/// A key attribute's value: a template of exactly one field stores the field's own
/// value (a number stays a number); any other is rendered to a string.
pub(crate) fn render_value<'v>(
    template: &KeyTemplate,
    mut value: impl FnMut(usize, &'static str) -> Option<&'v AttributeValue>,
) -> Result<Option<AttributeValue>, KeyProblem> {
    if let ([TemplatePart::Field(field)], KeyCase::Keep) = (template.parts, template.case) {
        if template.widths.first().copied().unwrap_or(0) == 0 {
            return Ok(match value(0, field) {
                None | Some(AttributeValue::Null(_)) => None,
                Some(v) => Some(v.clone()),
            });
        }
    }
    Ok(render(template, usize::MAX, value)?.map(AttributeValue::S))
}

fn invalid(attribute: &str, problem: KeyProblem) -> Error {
    Error::InvalidKey {
        attribute: attribute.to_owned(),
        problem,
    }
}

/// The key item of an entity for its key's field values, in the order of
/// [`EntitySchema::key_fields`].
pub(crate) fn key_item(schema: &TableSchema, entity: &EntitySchema, values: &[AttributeValue]) -> Result<Item> {
    let mut item = Item::with_capacity(2);
    for key in entity.keys.iter().filter(|k| k.index.is_none()) {
        let by_name = |_: usize, name: &'static str| {
            let at = entity.key_fields.iter().position(|f| *f == name)?;
            values.get(at)
        };
        let value = render_value(&key.template, by_name)
            .map_err(|p| invalid(key.attribute, p))?
            .ok_or_else(|| invalid(key.attribute, KeyProblem::Missing))?;
        item.insert(key.attribute.to_owned(), value);
    }
    let _ = schema;
    Ok(item)
}

/// Adds what an entity's item stores beyond its fields: the type attribute, the table's
/// key attributes and those of each index the entity uses whose fields are all present
/// (an index whose template misses a field is not written: the index is sparse).
pub(crate) fn complete_item(entity: &EntitySchema, item: &mut Item) -> Result<()> {
    let mut computed: Vec<(&'static str, Option<&'static str>, AttributeValue)> = Vec::with_capacity(entity.keys.len());
    let mut sparse: Vec<&'static str> = Vec::new();
    for key in entity.keys {
        let rendered = render_value(&key.template, |_, name| item.get(name)).map_err(|p| invalid(key.attribute, p))?;
        match (rendered, key.index) {
            (Some(value), index) => computed.push((key.attribute, index, value)),
            (None, None) => return Err(invalid(key.attribute, KeyProblem::Missing)),
            // An index whose key misses a field holds no entry for the item: neither of
            // its key attributes is written.
            (None, Some(index)) => sparse.push(index),
        }
    }
    let computed = computed
        .into_iter()
        .filter(|(_, index, _)| !index.is_some_and(|i| sparse.contains(&i)))
        .map(|(attribute, _, value)| (attribute, value));
    for (attribute, value) in computed {
        item.insert(attribute.to_owned(), value);
    }
    item.insert(
        entity.type_attribute.to_owned(),
        AttributeValue::S(entity.type_name.to_owned()),
    );
    Ok(())
}

/// Checks that an item read for an entity is of that entity.
pub(crate) fn check_type(schema: &TableSchema, entity: &EntitySchema, item: &Item) -> Result<()> {
    match item.get(entity.type_attribute) {
        Some(AttributeValue::S(found)) if found == entity.type_name => Ok(()),
        other => Err(Error::WrongEntity {
            table: schema.name,
            expected: entity.type_name,
            found: match other {
                Some(AttributeValue::S(found)) => Some(found.clone()),
                _ => None,
            },
        }),
    }
}
