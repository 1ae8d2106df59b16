//! `#[entity(..)]` and `#[entity_index(..)]`: an entity of a single-table design. Its
//! templates parse, name stored fields of this struct (not `Option`s for the table's own
//! key), have literal text between any two fields; the table, its key attributes and
//! its indexes are checked when the generated constants are evaluated, since only the
//! table declaration knows them.

use syn::{LitStr, Type};

use crate::ast::{Field, Model};
use crate::attr::EntityAttr;
use crate::ctxt::Ctxt;
use crate::naming;
use crate::resolved::{EntityCase, EntityIndex, ResolvedEntity, ResolvedTemplate, Width};
use crate::template::{self, Part};
use crate::types;

pub fn check_entity<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    entity: &'m EntityAttr<'a>,
) -> Option<ResolvedEntity<'m, 'a>> {
    if let Some(table) = &model.table {
        cx.error_spanned_by(
            table.attr,
            "an entity lives in the table its #[entity(table = ..)] names; remove #[table]",
        );
    }
    for index in &model.indexes {
        cx.error_spanned_by(
            index.attr,
            "an entity's indexes are declared on its table; use #[entity_index(name = \"..\", pk = \"..\", sk = \"..\")]",
        );
    }
    for field in &model.fields {
        if let Some(rel) = &field.attrs.relation {
            cx.error_spanned_by(
                &rel.path,
                "relationship fields are not available on entities; read related entities with a #[derive(Collection)]",
            );
        }
    }
    let Some(table) = entity.table.clone() else {
        if !entity.malformed {
            cx.error_spanned_by(
                entity.attr,
                "#[entity] needs `table = TableType`, a #[derive(DynaTable)] struct",
            );
        }
        return None;
    };
    let case = check_case(cx, entity.case.as_ref(), EntityCase::Keep);
    let type_name = match &entity.name {
        Some(lit) if lit.value().is_empty() => {
            cx.error_spanned_by(lit, "an entity's type name cannot be empty");
            String::new()
        }
        Some(lit) => lit.value(),
        None => model.input.ident.to_string(),
    };
    let Some(pk) = &entity.pk else {
        if !entity.malformed {
            cx.error_spanned_by(
                entity.attr,
                "#[entity] needs `pk = \"...\"`, the template of the partition key",
            );
        }
        return None;
    };
    let mut templates = Vec::new();
    let partition = check_template(cx, model, pk, None, true, true, case);
    let sort = entity
        .sk
        .as_ref()
        .and_then(|sk| check_template(cx, model, sk, None, false, true, case));
    let mut key_fields: Vec<&'m Field<'a>> = Vec::new();
    for t in partition.iter().chain(&sort) {
        for field in &t.fields {
            if !key_fields.iter().any(|f| std::ptr::eq(*f, *field)) {
                key_fields.push(field);
            }
        }
    }
    templates.extend(partition);
    templates.extend(sort);
    let mut indexes = Vec::new();
    for attr in &model.entity_indexes {
        let Some(name) = &attr.name else {
            if !attr.malformed {
                cx.error_spanned_by(
                    attr.attr,
                    "#[entity_index] needs `name = \"...\"`, an index of the table",
                );
            }
            continue;
        };
        if indexes.iter().any(|i: &EntityIndex| i.name.value() == name.value()) {
            cx.error_spanned_by(name, "this index already has the entity's templates");
            continue;
        }
        if let Some(pk_fields) = &attr.pk_fields {
            if attr.pk.is_some() || attr.sk.is_some() {
                cx.error_spanned_by(
                    attr.attr,
                    "an index of the entity's own fields (`pk = [..]`) takes its sort attributes as `sk = [..]` too",
                );
                continue;
            }
            let resolve = |cx: &mut Ctxt, lits: &[LitStr]| -> Option<Vec<&'m Field<'a>>> {
                let mut out = Vec::new();
                for lit in lits {
                    match model.find_field(&lit.value()) {
                        Some(f) if !f.attrs.skip_serializing && !f.attrs.flatten => out.push(f),
                        _ => {
                            cx.error_spanned_by(lit, format!("no stored field named `{}` in this entity", lit.value()));
                            return None;
                        }
                    }
                }
                Some(out)
            };
            let pk = resolve(cx, pk_fields);
            let sk = resolve(cx, attr.sk_fields.as_deref().unwrap_or_default());
            let method = naming::index_method(&name.value());
            if let (Some(pk), Some(sk)) = (pk, sk) {
                indexes.push(EntityIndex {
                    name: name.clone(),
                    marker: naming::index_marker(&model.input.ident, &method),
                    method,
                    partition: None,
                    sort: None,
                    native: Some((pk, sk)),
                });
            }
            continue;
        }
        if attr.sk_fields.is_some() {
            cx.error_spanned_by(
                attr.attr,
                "`sk = [..]` goes with `pk = [..]`: an index of the entity's own fields",
            );
            continue;
        }
        if attr.pk.is_none() && attr.sk.is_none() {
            cx.error_spanned_by(
                attr.attr,
                "#[entity_index] needs `pk = \"...\"`, `sk = \"...\"` or both",
            );
            continue;
        }
        let index_case = check_case(cx, attr.case.as_ref(), case);
        let pk = attr
            .pk
            .as_ref()
            .and_then(|lit| check_template(cx, model, lit, Some(name), true, false, index_case));
        let sk = attr
            .sk
            .as_ref()
            .and_then(|lit| check_template(cx, model, lit, Some(name), false, false, index_case));
        let method = naming::index_method(&name.value());
        if naming::RESERVED_METHODS.contains(&method.as_str()) {
            cx.error_spanned_by(
                name,
                format!("the index's method `{method}` would shadow a verb of the entity; rename the index"),
            );
        }
        indexes.push(EntityIndex {
            name: name.clone(),
            marker: naming::index_marker(&model.input.ident, &method),
            method,
            partition: pk.as_ref().map(|_| templates.len()),
            sort: sk.as_ref().map(|_| templates.len() + usize::from(pk.is_some())),
            native: None,
        });
        templates.extend(pk);
        templates.extend(sk);
    }
    Some(ResolvedEntity {
        table,
        type_name,
        key_fields,
        has_sort: entity.sk.is_some(),
        templates,
        indexes,
        hooks: entity.hooks.as_ref(),
    })
}

/// `case = "lower" | "upper" | "none"`, or `default`.
fn check_case(cx: &mut Ctxt, lit: Option<&LitStr>, default: EntityCase) -> EntityCase {
    match lit {
        None => default,
        Some(lit) => match lit.value().as_str() {
            "lower" | "lowercase" => EntityCase::Lower,
            "upper" | "uppercase" => EntityCase::Upper,
            "none" | "keep" => EntityCase::Keep,
            _ => {
                cx.error_spanned_by(lit, "unknown case: expected \"lower\", \"upper\" or \"none\"");
                default
            }
        },
    }
}

/// One template: it parses, its fields are stored fields of the struct that dynorm
/// does not set itself (a version or timestamp would change after the key was
/// computed), and two fields always have text between them.
#[allow(clippy::too_many_arguments)]
fn check_template<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    lit: &LitStr,
    index: Option<&LitStr>,
    partition: bool,
    table_key: bool,
    case: EntityCase,
) -> Option<ResolvedTemplate<'m, 'a>> {
    let template = match template::parse_entity(lit) {
        Ok(t) => t,
        Err(message) => {
            cx.error_spanned_by(lit, message);
            return None;
        }
    };
    let mut previous_field = false;
    let mut ok = true;
    let mut fields = Vec::new();
    for part in &template.parts {
        match part {
            Part::Text(_) => previous_field = false,
            Part::Field(name) => {
                if previous_field {
                    cx.error_spanned_by(
                        lit,
                        format!("no literal text between `{name}` and the field before it: the key could not be read back; add a separator such as `#`"),
                    );
                    ok = false;
                }
                previous_field = true;
                match model.find_field(name) {
                    None => {
                        cx.error_spanned_by(
                            lit,
                            format!("no field named `{name}` in this entity for the key template"),
                        );
                        ok = false;
                    }
                    Some(field) if field.attrs.skip_serializing || field.attrs.flatten => {
                        cx.error_spanned_by(
                            lit,
                            format!("the field `{name}` is not stored (`#[serde(skip)]` or `flatten`), so it cannot be part of a key"),
                        );
                        ok = false;
                    }
                    Some(field)
                        if field.attrs.version.is_some()
                            || field.attrs.created_at.is_some()
                            || field.attrs.updated_at.is_some() =>
                    {
                        cx.error_spanned_by(
                            lit,
                            format!("the field `{name}` is a version or timestamp, which dynorm sets as it writes; it cannot be part of a key"),
                        );
                        ok = false;
                    }
                    Some(field) if table_key && types::option_inner(field.ty).is_some() => {
                        cx.error_spanned_by(
                            lit,
                            format!("the field `{name}` is an `Option`, but the table's own key must always be present; use it in an index's template (a sparse index)"),
                        );
                        ok = false;
                    }
                    Some(field) => fields.push(field),
                }
            }
        }
    }
    if !ok {
        return None;
    }
    // Integers of a sort key are padded to their type's width unless declared: padded
    // numbers sort as text in numeric order.
    for (field, declared) in fields.iter().zip(&template.widths) {
        let is_string = types::last_segment(key_type(field.ty)).is_some_and(|s| s.ident == "String");
        if declared.is_some() && is_string {
            cx.error_spanned_by(lit, format!("`{}` is a string: a width pads numbers only", field.ident));
        }
    }
    let widths = fields
        .iter()
        .zip(&template.widths)
        .map(|(field, declared)| match declared {
            Some(w) => Width::Declared(*w),
            None if !partition && types::is_integer(key_type(field.ty)) => Width::Auto(key_type(field.ty)),
            None => Width::None,
        })
        .collect();
    Some(ResolvedTemplate {
        lit: lit.clone(),
        index: index.cloned(),
        partition,
        template,
        case,
        fields,
        widths,
    })
}

fn key_type(ty: &Type) -> &Type {
    types::key_type(ty)
}
