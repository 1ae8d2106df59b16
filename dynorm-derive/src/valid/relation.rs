//! Relationship fields: never stored, of the wrapper type their kind names, with key
//! templates naming fields of this model, the options their kind has, and back
//! references that can be generated.

use syn::{Ident, LitStr, Type};

use crate::ast::{Field, Model};
use crate::attr::{RelationAttr, RelationKind};
use crate::ctxt::Ctxt;
use crate::naming;
use crate::resolved::{Access, Back, RelatedIndex, ResolvedRelation};
use crate::template::{self, Template};
use crate::types;

/// The relationship fields, in declaration order. Each field reports at most one error:
/// the first of its rules that fails.
pub fn check_relations<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    hash: Option<&'m Field<'a>>,
    range: Option<&'m Field<'a>>,
) -> Vec<ResolvedRelation<'m, 'a>> {
    let mut out = Vec::new();
    for field in &model.fields {
        let Some(rel) = &field.attrs.relation else { continue };
        if let Some(resolved) = check_relation(cx, model, field, rel, (hash, range)) {
            out.push(resolved);
        }
    }
    out
}

fn check_relation<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    field: &'m Field<'a>,
    rel: &RelationAttr,
    keys: (Option<&'m Field<'a>>, Option<&'m Field<'a>>),
) -> Option<ResolvedRelation<'m, 'a>> {
    if !check_not_stored(cx, field, rel) {
        return None;
    }
    let target = check_wrapper_type(cx, field, rel.kind)?;
    let Some(hash) = &rel.hash else {
        // Reported while parsing the attribute.
        check_back_index_has_back(cx, rel);
        return None;
    };
    let hash = check_template(cx, model, hash)?;
    let access = check_access(cx, model, rel)?;
    let back = check_back(cx, model, rel, &hash, keys)?;
    Some(ResolvedRelation {
        field,
        target,
        hash,
        access,
        back,
    })
}

fn check_not_stored(cx: &mut Ctxt, field: &Field, rel: &RelationAttr) -> bool {
    if !field.attrs.skip_serializing {
        cx.error_spanned_by(
            &rel.path,
            "relationship fields are not stored: add `#[serde(skip)]` to this field",
        );
    }
    field.attrs.skip_serializing
}

/// `T` of `OneToMany<T>`, for a one-to-many (and the kind's wrapper for the others).
fn check_wrapper_type<'a>(cx: &mut Ctxt, field: &Field<'a>, kind: RelationKind) -> Option<&'a Type> {
    let wrapper = match kind {
        RelationKind::OneToMany => "OneToMany",
        RelationKind::ManyToOne => "ManyToOne",
        RelationKind::OneToOne => "OneToOne",
    };
    let target = types::wrapped_type(field.ty, wrapper);
    if target.is_none() {
        cx.error_spanned_by(
            field.ty,
            format!("this relationship's field must have the type `dynorm::rel::{wrapper}<T>`"),
        );
    }
    target
}

/// A template that parses and names only fields of this model.
fn check_template(cx: &mut Ctxt, model: &Model, lit: &LitStr) -> Option<Template> {
    let template = match template::parse(lit) {
        Ok(template) => template,
        Err(message) => {
            cx.error_spanned_by(lit, message);
            return None;
        }
    };
    if template.widths.iter().any(Option::is_some) {
        cx.error_spanned_by(lit, "a relationship's key template takes no widths: write `{field}`");
        return None;
    }
    if let Some(name) = template
        .fields()
        .find(|name| !model.fields.iter().any(|f| f.ident == name))
    {
        cx.error_spanned_by(
            lit,
            format!("no field named `{name}` in this model for the key template"),
        );
        return None;
    }
    Some(template)
}

/// A one-to-many queries by hash key only; a get by key takes no index.
fn check_access(cx: &mut Ctxt, model: &Model, rel: &RelationAttr) -> Option<Access> {
    match rel.kind {
        RelationKind::OneToMany => {
            if let Some(range) = &rel.range {
                cx.error_spanned_by(range, "a one-to-many relationship queries by hash key only");
                return None;
            }
            let index = rel.index.as_ref().map(|lit| RelatedIndex {
                name: lit.clone(),
                method: naming::index_method_ident(&lit.value(), lit.span()),
            });
            Some(Access::Query { index })
        }
        RelationKind::ManyToOne | RelationKind::OneToOne => {
            if let Some(index) = &rel.index {
                cx.error_spanned_by(
                    index,
                    "a many-to-one or one-to-one relationship reads by key; `index` is for one-to-many",
                );
                return None;
            }
            let range = match &rel.range {
                Some(lit) => Some(check_template(cx, model, lit)?),
                None => None,
            };
            let one_to_one = rel.kind == RelationKind::OneToOne;
            Some(Access::Get {
                range,
                or_create: rel.auto_create.is_some(),
                cascade: one_to_one && rel.cascade.is_some(),
            })
        }
    }
}

fn check_back_index_has_back(cx: &mut Ctxt, rel: &RelationAttr) -> bool {
    match (&rel.back, &rel.back_index) {
        (None, Some(index)) => {
            cx.error_spanned_by(index, "`back_index` goes with `back = \"name\"`");
            false
        }
        _ => true,
    }
}

/// The back reference, if any: `Some(None)` without `back`, `None` after an error.
fn check_back<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    rel: &RelationAttr,
    hash: &Template,
    (table_hash, table_range): (Option<&'m Field<'a>>, Option<&'m Field<'a>>),
) -> Option<Option<Back<'m, 'a>>> {
    if !check_back_index_has_back(cx, rel) {
        return None;
    }
    let Some(back) = &rel.back else {
        return Some(None);
    };
    let back_reference = match rel.kind {
        RelationKind::OneToMany => {
            let key = check_back_template_is_key(cx, model, hash, table_hash?, table_range)?;
            let name = check_back_name(cx, back)?;
            Back::Parent { name, key }
        }
        RelationKind::ManyToOne | RelationKind::OneToOne => {
            check_back_template_single_field(cx, rel, back, hash)?;
            let name = check_back_name(cx, back)?;
            let index = match &rel.back_index {
                Some(lit) => Some(check_back_index(cx, model, lit)?),
                None => None,
            };
            Back::Children { name, index }
        }
    };
    Some(Some(back_reference))
}

/// A one-to-many's back parses the child's attribute with the template into this model's
/// key, so the template names each key field once. Gives each key field's position
/// among the template's fields.
fn check_back_template_is_key<'m, 'a>(
    cx: &mut Ctxt,
    model: &Model,
    hash: &Template,
    table_hash: &'m Field<'a>,
    table_range: Option<&'m Field<'a>>,
) -> Option<Vec<(usize, &'m Field<'a>)>> {
    let named: Vec<&str> = hash.fields().collect();
    let key_fields: Vec<&Field> = std::iter::once(table_hash).chain(table_range).collect();
    let exact = named.len() == key_fields.len()
        && key_fields
            .iter()
            .all(|f| named.iter().filter(|n| f.ident == **n).count() == 1);
    if !exact {
        cx.error_spanned_by(
            &hash.lit,
            format!(
                "a back reference parses this template back into `{}`'s key, so it must name each key field once",
                model.input.ident
            ),
        );
        return None;
    }
    let key = key_fields
        .into_iter()
        .map(|f| (named.iter().position(|n| f.ident == *n).unwrap_or(0), f))
        .collect();
    Some(key)
}

/// A many-to-one's back queries this model by the related item's key, which is one
/// attribute: the template is a single field, with no range template.
fn check_back_template_single_field(cx: &mut Ctxt, rel: &RelationAttr, back: &LitStr, hash: &Template) -> Option<()> {
    if hash.single_field().is_none() || rel.range.is_some() {
        cx.error_spanned_by(
            back,
            "a back reference of a many-to-one relationship needs a single-field hash template, such as \"{user_name}\"",
        );
        return None;
    }
    Some(())
}

/// `back` names the method generated on the related model.
fn check_back_name(cx: &mut Ctxt, back: &LitStr) -> Option<Ident> {
    match syn::parse_str::<Ident>(&back.value()) {
        Ok(mut name) => {
            name.set_span(back.span());
            Some(name)
        }
        Err(_) => {
            cx.error_spanned_by(
                back,
                "`back` names the method generated on the related model: use a Rust identifier, such as \"threads\"",
            );
            None
        }
    }
}

/// `back_index` names an index of this model (as its method does); gives that method,
/// spanned at the name.
fn check_back_index(cx: &mut Ctxt, model: &Model, lit: &LitStr) -> Option<Ident> {
    let method = naming::index_method(&lit.value());
    let declared = model.indexes.iter().filter_map(|index| index.name.as_ref());
    if !declared
        .map(|name| naming::index_method(&name.value()))
        .any(|m| m == method)
    {
        cx.error_spanned_by(
            lit,
            format!("no index named `{}` in `{}`", lit.value(), model.input.ident),
        );
        return None;
    }
    Some(naming::index_method_ident(&lit.value(), lit.span()))
}
