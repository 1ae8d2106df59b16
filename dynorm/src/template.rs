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

/// Splits `value` along a template's literal parts, giving each field's text, in order;
/// `None` when the value does not have the template's shape. Each field takes the text
/// up to the first occurrence of the literal text that follows it (none when another
/// field follows at once), and a field that ends the template takes the rest: the exact
/// inverse of `rel::format_template` for every value it accepts.
pub fn parse_template(parts: &[TemplatePart], value: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = value;
    for (i, part) in parts.iter().enumerate() {
        match part {
            TemplatePart::Text(text) => rest = rest.strip_prefix(text)?,
            TemplatePart::Field(_) => match text_after(parts, i) {
                Some(next) => {
                    let at = rest.find(&*next)?;
                    out.push(rest[..at].to_owned());
                    rest = &rest[at..];
                }
                None => {
                    out.push(rest.to_owned());
                    rest = "";
                }
            },
        }
    }
    rest.is_empty().then_some(out)
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
            TemplatePart::Text(text) => out.push_str(&cased(template.case, text)),
            TemplatePart::Field(_) if field_index == fields => break,
            TemplatePart::Field(field) => {
                let v = match value(field_index, field) {
                    None | Some(AttributeValue::Null(_)) => return Ok(None),
                    Some(v) => v,
                };
                let start = out.len();
                let width = template.widths.get(field_index).copied().unwrap_or(0);
                push_value(&mut out, field, v, width)?;
                if template.case != KeyCase::Keep {
                    let value = cased(template.case, &out[start..]).into_owned();
                    out.truncate(start);
                    out.push_str(&value);
                }
                // Checked as written, in the key's case: a value must not hold the text
                // that follows it.
                if let Some(next) = text_after(template.parts, i) {
                    if !reads_back(&out[start..], &cased(template.case, &next)) {
                        return Err(KeyProblem::TemplateSeparator { field });
                    }
                }
                field_index += 1;
            }
        }
    }
    Ok(Some(out))
}

/// Text in the case a template is written in.
fn cased(case: KeyCase, text: &str) -> Cow<'_, str> {
    match case {
        KeyCase::Keep => Cow::Borrowed(text),
        KeyCase::Lower => Cow::Owned(text.to_lowercase()),
        KeyCase::Upper => Cow::Owned(text.to_uppercase()),
    }
}

/// A key attribute's value: a template of one field for a key attribute of the field's
/// own type stores the value as it is (a number stays a number); any other is rendered
/// to a string.
pub(crate) fn render_value<'v>(
    template: &KeyTemplate,
    mut value: impl FnMut(usize, &'static str) -> Option<&'v AttributeValue>,
) -> Result<Option<AttributeValue>, KeyProblem> {
    if let ([TemplatePart::Field(field)], true) = (template.parts, template.as_value) {
        return Ok(match value(0, field) {
            None | Some(AttributeValue::Null(_)) => None,
            Some(v) => Some(v.clone()),
        });
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
    let computed = computed_keys(entity, |name| item.get(name))?;
    for (attribute, value) in computed {
        item.insert(attribute.to_owned(), value);
    }
    item.insert(
        entity.type_attribute.to_owned(),
        AttributeValue::S(entity.type_name.to_owned()),
    );
    Ok(())
}

/// The key attributes an entity computes from its fields, each field's stored value
/// given by `field`. An index whose key misses a field holds no entry for the item:
/// neither of its key attributes is among them.
pub(crate) fn computed_keys<'v>(
    entity: &EntitySchema,
    field: impl Fn(&str) -> Option<&'v AttributeValue>,
) -> Result<Vec<(&'static str, AttributeValue)>> {
    let mut computed: Vec<(&'static str, Option<&'static str>, AttributeValue)> = Vec::with_capacity(entity.keys.len());
    let mut sparse: Vec<&'static str> = Vec::new();
    for key in entity.keys {
        let rendered = render_value(&key.template, |_, name| field(name)).map_err(|p| invalid(key.attribute, p))?;
        match (rendered, key.index) {
            (Some(value), index) => computed.push((key.attribute, index, value)),
            (None, None) => return Err(invalid(key.attribute, KeyProblem::Missing)),
            (None, Some(index)) => sparse.push(index),
        }
    }
    Ok(computed
        .into_iter()
        .filter(|(_, index, _)| !index.is_some_and(|i| sparse.contains(&i)))
        .map(|(attribute, _, value)| (attribute, value))
        .collect())
}

/// Whether an item is of the model `schema` describes: for an entity, its type
/// attribute names it; any item is of a model that owns its table.
pub(crate) fn is_of(schema: &TableSchema, item: &Item) -> bool {
    match schema.entity {
        Some(entity) => matches!(item.get(entity.type_attribute), Some(AttributeValue::S(t)) if t == entity.type_name),
        None => true,
    }
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

/// Reads a key made with `template` back into its fields' values, in order: the
/// inverse of rendering for every key it accepts. A padded number reads back without
/// its padding. `None` when the key does not have the template's shape. The case of a
/// template written in lower or upper case is not undone.
pub(crate) fn parse_key(template: &KeyTemplate, key: &str) -> Option<Vec<String>> {
    let mut values = parse_template(template.parts, key)?;
    for (value, width) in values.iter_mut().zip(template.widths) {
        if *width > 0 {
            if value.len() != usize::from(*width) || !value.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let digits = value.trim_start_matches('0');
            *value = if digits.is_empty() {
                "0".to_owned()
            } else {
                digits.to_owned()
            };
        }
    }
    Some(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A template of literal pieces and fields, each field padded or not.
    fn template() -> impl Strategy<Value = (Vec<TemplatePart>, Vec<u8>)> {
        let text = prop::sample::select(vec!["#", "##", "ORG#", "#X#", "-", "/", "a"]);
        let part = prop_oneof![
            text.prop_map(|t| (TemplatePart::Text(t), None)),
            prop::sample::select(vec![0u8, 0, 3, 6]).prop_map(|w| (TemplatePart::Field("f"), Some(w))),
        ];
        prop::collection::vec(part, 1..7).prop_filter_map("fields need text between them", |parts| {
            let mut out: Vec<TemplatePart> = Vec::new();
            let mut widths = Vec::new();
            for (part, width) in parts {
                let field = matches!(part, TemplatePart::Field(_));
                if field && matches!(out.last(), Some(TemplatePart::Field(_))) {
                    return None;
                }
                out.push(part);
                widths.extend(width);
            }
            (!widths.is_empty()).then_some((out, widths))
        })
    }

    /// A value for a field: a number for a padded field, else a string made of pieces of
    /// the separators (so that collisions are likely), or any string.
    fn values(widths: Vec<u8>) -> impl Strategy<Value = Vec<AttributeValue>> {
        let piece = prop::sample::select(vec!["", "#", "##", "X", "a", "ORG#", "-", "0", "7"]);
        let string = prop_oneof![
            3 => prop::collection::vec(piece, 0..4).prop_map(|p| AttributeValue::S(p.concat())),
            1 => any::<String>().prop_map(AttributeValue::S),
        ];
        let strategies: Vec<BoxedStrategy<AttributeValue>> = widths
            .into_iter()
            .map(|w| {
                if w == 0 {
                    string.clone().boxed()
                } else {
                    (0u32..2_000_000).prop_map(|n| AttributeValue::N(n.to_string())).boxed()
                }
            })
            .collect();
        strategies
    }

    fn leak<T>(v: Vec<T>) -> &'static [T] {
        Box::leak(v.into_boxed_slice())
    }

    fn text(value: &AttributeValue) -> String {
        match value {
            AttributeValue::S(s) | AttributeValue::N(s) => s.clone(),
            _ => unreachable!(),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Formatting then parsing a key is the identity for every key that is accepted,
        /// so two different values never share a key; a refused value is refused with
        /// the separator or width problem of its field.
        #[test]
        fn keys_parse_back_into_their_values(((parts, widths), v, w) in template().prop_flat_map(|(parts, widths)| {
            (Just((parts, widths.clone())), values(widths.clone()), values(widths))
        })) {
            let template = KeyTemplate { parts: leak(parts), widths: leak(widths), case: KeyCase::Keep, as_value: false };
            let render_all = |values: &[AttributeValue]| render(&template, usize::MAX, |i, _| values.get(i));
            let (kv, kw) = (render_all(&v), render_all(&w));
            for (values, key) in [(&v, &kv), (&w, &kw)] {
                match key {
                    Ok(Some(key)) => {
                        let parsed = parse_key(&template, key);
                        let expected: Vec<String> = values.iter().map(text).collect();
                        prop_assert_eq!(parsed, Some(expected), "{:?}", template);
                    }
                    Ok(None) => prop_assert!(false, "every value was given"),
                    Err(problem) => {
                        let expected = matches!(problem, KeyProblem::TemplateSeparator { .. } | KeyProblem::TooWide { .. });
                        prop_assert!(expected, "unexpected problem {:?}", problem);
                    }
                }
            }
            if let (Ok(Some(a)), Ok(Some(b))) = (&kv, &kw) {
                let same_values = v.iter().map(text).eq(w.iter().map(text));
                prop_assert_eq!(a == b, same_values);
            }
        }
    }
}
