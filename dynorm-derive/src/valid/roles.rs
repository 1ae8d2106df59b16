//! Field roles: at most one version, ttl, created_at and updated_at field each, of a
//! fitting type, stored, not a key, and no field with two roles.

use crate::ast::{Field, Model};
use crate::attr;
use crate::ctxt::Ctxt;
use crate::types;

#[derive(Default)]
pub struct Roles<'m, 'a> {
    pub version: Option<&'m Field<'a>>,
    pub ttl: Option<&'m Field<'a>>,
    pub created_at: Option<&'m Field<'a>>,
    pub updated_at: Option<&'m Field<'a>>,
}

pub fn check_roles<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    hash: Option<&'m Field<'a>>,
    range: Option<&'m Field<'a>>,
) -> Roles<'m, 'a> {
    let mut roles = Roles::default();
    for field in &model.fields {
        let is_key = hash.is_some_and(|h| std::ptr::eq(h, field)) || range.is_some_and(|r| std::ptr::eq(r, field));
        check_version(cx, field, is_key, &mut roles.version);
        check_ttl(cx, field, is_key, &mut roles.ttl);
        let created = (attr::CREATED_AT, &field.attrs.created_at);
        check_timestamp(cx, model, field, is_key, created, &mut roles.created_at);
        let updated = (attr::UPDATED_AT, &field.attrs.updated_at);
        check_timestamp(cx, model, field, is_key, updated, &mut roles.updated_at);
        check_one_timestamp_role(cx, field);
    }
    roles
}

fn check_version<'m, 'a>(cx: &mut Ctxt, field: &'m Field<'a>, is_key: bool, slot: &mut Option<&'m Field<'a>>) {
    let Some(path) = &field.attrs.version else {
        return;
    };
    if slot.is_some() {
        cx.error_spanned_by(path, "a model can have only one #[dynorm(version)] field");
    } else if !types::is_integer(field.ty) {
        cx.error_spanned_by(field.ty, "a #[dynorm(version)] field must be an integer, such as u64");
    } else if is_key {
        cx.error_spanned_by(path, "a key attribute cannot be the version field");
    } else {
        *slot = Some(field);
    }
    if field.attrs.skip_serializing {
        cx.error_spanned_by(path, "the version field must be serialized; remove #[serde(skip)]");
    }
}

fn check_ttl<'m, 'a>(cx: &mut Ctxt, field: &'m Field<'a>, is_key: bool, slot: &mut Option<&'m Field<'a>>) {
    let Some(path) = &field.attrs.ttl else {
        return;
    };
    if field.attrs.version.is_some() {
        cx.error_spanned_by(path, "a field cannot be both the version and the ttl field");
    } else if slot.is_some() {
        cx.error_spanned_by(path, "a model can have only one #[dynorm(ttl)] field");
    } else if !(types::is_integer(field.ty) || types::option_inner(field.ty).is_some_and(types::is_integer)) {
        cx.error_spanned_by(
            field.ty,
            "a #[dynorm(ttl)] field holds epoch seconds: use an integer such as u64, or Option of one",
        );
    } else if is_key {
        cx.error_spanned_by(path, "a key attribute cannot be the ttl field");
    } else if field.attrs.skip_serializing {
        cx.error_spanned_by(path, "the ttl field must be serialized; remove #[serde(skip)]");
    } else {
        *slot = Some(field);
    }
}

/// `role`: `created_at` or `updated_at`, and where the field takes it.
fn check_timestamp<'m, 'a>(
    cx: &mut Ctxt,
    model: &Model,
    field: &'m Field<'a>,
    is_key: bool,
    (role, path): (&str, &Option<syn::Path>),
    slot: &mut Option<&'m Field<'a>>,
) {
    let Some(path) = path else {
        return;
    };
    if field.attrs.version.is_some() || field.attrs.ttl.is_some() {
        cx.error_spanned_by(
            path,
            format!("the version or ttl field cannot also be the {role} field"),
        );
    } else if slot.is_some() {
        cx.error_spanned_by(path, format!("a model can have only one #[dynorm({role})] field"));
    } else if is_key {
        cx.error_spanned_by(path, format!("a key attribute cannot be the {role} field"));
    } else if field.attrs.skip_serializing {
        cx.error_spanned_by(
            path,
            format!("the {role} field must be serialized; remove #[serde(skip)]"),
        );
    } else if field.attrs.flatten {
        cx.error_spanned_by(path, format!("the {role} field cannot be flattened"));
    } else if role == attr::CREATED_AT && model.fields.iter().any(|f| f.attrs.flatten) {
        // Whole-item writes of such a model are updates that must remove the
        // attributes an instance leaves out, and flattened ones cannot be listed.
        cx.error_spanned_by(
            path,
            "a model with #[serde(flatten)] fields cannot have a created_at field",
        );
    } else {
        *slot = Some(field);
    }
}

fn check_one_timestamp_role(cx: &mut Ctxt, field: &Field) {
    if field.attrs.created_at.is_some() && field.attrs.updated_at.is_some() {
        cx.error_spanned_by(
            field.ident,
            "a field cannot be both the created_at and the updated_at field",
        );
    }
}
