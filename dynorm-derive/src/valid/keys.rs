//! What the field a key names must be: a field serde stores as one attribute, of a key
//! type, in the form its `KeyAttribute` gives it.

use syn::LitStr;

use crate::ast::{Field, Model};
use crate::ctxt::Ctxt;
use crate::types;

/// The field a key names. `index_key` allows `Option<T>` (a sparse index: items without
/// the attribute stay out of the index).
pub fn check_key_field<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    lit: &LitStr,
    index_key: bool,
) -> Option<&'m Field<'a>> {
    let name = lit.value();
    let Some(field) = model.find_field(&name) else {
        cx.error_spanned_by(lit, no_field_message(model, &name));
        return None;
    };
    (check_key_stored(cx, field, lit) && check_key_type(cx, field, &name, index_key)).then_some(field)
}

/// serde writes the field as one attribute with a valid name.
fn check_key_stored(cx: &mut Ctxt, field: &Field, lit: &LitStr) -> bool {
    let name = lit.value();
    let problem = if field.attrs.skip_serializing {
        format!("key field `{name}` is skipped by serde, so it would never be stored")
    } else if field.attrs.flatten {
        format!("key field `{name}` is #[serde(flatten)]; a key must be one attribute")
    } else if field.attr_name.is_empty() || field.attr_name.len() > 255 {
        "a key attribute's name must be 1 to 255 bytes long".to_owned()
    } else {
        return true;
    };
    cx.error_spanned_by(lit, problem);
    false
}

/// The field's type is a key type, stored in its `KeyAttribute` form; an optional index
/// key is left out when absent.
fn check_key_type(cx: &mut Ctxt, field: &Field, name: &str, index_key: bool) -> bool {
    let ty = match types::option_inner(field.ty) {
        Some(inner) if index_key => {
            if !field.attrs.skip_serializing_if {
                cx.error_spanned_by(
                    field.ty,
                    format!(
                        "an optional index key must be left out when absent, not stored as NULL: add #[serde(default, skip_serializing_if = \"Option::is_none\")] to `{name}`"
                    ),
                );
                return false;
            }
            inner
        }
        _ => field.ty,
    };
    if let Some(problem) = types::unsupported_key_type(ty, index_key) {
        cx.error_spanned_by(field.ty, problem);
        return false;
    }
    if let Some(problem) = types::key_serialization_problem(ty, field.attrs.custom_serialize.as_deref(), true) {
        cx.error_spanned_by(field.ty, format!("key `{name}`: {problem}"));
        return false;
    }
    if let Some((storage, path)) = &field.attrs.storage {
        let fits = matches!(storage, crate::attr::Storage::Binary) && crate::shape::is_bytes(ty);
        if !fits {
            cx.error_spanned_by(
                path,
                format!("key `{name}` is stored in the form its KeyAttribute gives it (a string, number or binary), so it takes no storage attribute"),
            );
            return false;
        }
    }
    true
}

/// For errors naming a field that does not exist.
pub fn no_field_message(model: &Model, name: &str) -> String {
    format!("no field named `{name}` in `{}`", model.input.ident)
}
