//! The `#[table]` attribute: present, a valid table name, keys naming key fields, and
//! complete throughput.

use syn::LitInt;

use super::keys;
use crate::ast::{Field, Model};
use crate::attr::TableAttr;
use crate::ctxt::Ctxt;

pub fn check_not_generic(cx: &mut Ctxt, model: &Model) {
    let input = model.input;
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "DynaModel cannot be derived for generic structs");
    }
}

/// The `#[table]` attribute; without it there is nothing more to check.
pub fn check_table_attr<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>) -> Option<&'m TableAttr<'a>> {
    if model.table.is_none() {
        cx.error_spanned_by(
            &model.input.ident,
            "missing #[table(name = \"...\", hash_key = \"...\")] attribute on a DynaModel",
        );
    }
    model.table.as_ref()
}

pub fn check_table_name(cx: &mut Ctxt, table: &TableAttr) -> String {
    let Some(lit) = &table.name else {
        if !table.malformed {
            cx.error_spanned_by(table.attr, "#[table] needs `name = \"...\"`");
        }
        return String::new();
    };
    let name = lit.value();
    if name.is_empty() || name.len() > 255 || !valid_name_chars(&name) {
        cx.error_spanned_by(
            lit,
            "invalid table name: use up to 255 of the characters a-z, A-Z, 0-9, `_`, `-` and `.`",
        );
    }
    name
}

/// The characters DynamoDB allows in table and index names.
pub fn valid_name_chars(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

pub fn check_hash_key<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>, table: &TableAttr) -> Option<&'m Field<'a>> {
    let Some(lit) = &table.hash_key else {
        if !table.malformed {
            cx.error_spanned_by(table.attr, "#[table] needs `hash_key = \"field\"`");
        }
        return None;
    };
    keys::check_key_field(cx, model, lit, false)
}

pub fn check_range_key<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    table: &TableAttr,
    hash: Option<&'m Field<'a>>,
) -> Option<&'m Field<'a>> {
    let lit = table.range_key.as_ref()?;
    let range = keys::check_key_field(cx, model, lit, false);
    if let (Some(h), Some(r)) = (hash, range) {
        if std::ptr::eq(h, r) {
            cx.error_spanned_by(lit, "the range key must be a different field from the hash key");
        }
    }
    range
}

/// `read = N, write = N`: both or neither, each positive.
pub fn check_throughput(cx: &mut Ctxt, read: &Option<LitInt>, write: &Option<LitInt>) -> Option<(i64, i64)> {
    let parse = |cx: &mut Ctxt, lit: &LitInt| match lit.base10_parse::<i64>() {
        Ok(n) if n > 0 => Some(n),
        _ => {
            cx.error_spanned_by(lit, "capacity units must be a positive integer");
            None
        }
    };
    match (read, write) {
        (None, None) => None,
        (Some(r), Some(w)) => {
            let (read, write) = (parse(cx, r), parse(cx, w));
            Some((read?, write?))
        }
        (Some(r), None) => {
            cx.error_spanned_by(r, "provisioned throughput needs `write = N` as well");
            None
        }
        (None, Some(w)) => {
            cx.error_spanned_by(w, "provisioned throughput needs `read = N` as well");
            None
        }
    }
}

/// The table's options as the schema's `TableOptions` expression: a known table class,
/// a known encryption (a customer key needs `kms_key`, and only it takes one).
pub fn check_options(cx: &mut Ctxt, table: &TableAttr) -> proc_macro2::TokenStream {
    use quote::quote;
    let flag = |v: Option<bool>| match v {
        Some(b) => quote!(::dynorm::__private::core::option::Option::Some(#b)),
        None => quote!(::dynorm::__private::core::option::Option::None),
    };
    let deletion_protection = flag(table.deletion_protection);
    let pitr = flag(table.point_in_time_recovery);
    let class = match &table.table_class {
        None => quote!(::dynorm::__private::core::option::Option::None),
        Some(lit) => match lit.value().to_ascii_lowercase().as_str() {
            "standard" => quote!(::dynorm::__private::core::option::Option::Some(
                ::dynorm::TableClass::Standard
            )),
            "standard_infrequent_access" => {
                quote!(::dynorm::__private::core::option::Option::Some(
                    ::dynorm::TableClass::StandardInfrequentAccess
                ))
            }
            _ => {
                cx.error_spanned_by(
                    lit,
                    "unknown table class; expected \"standard\" or \"standard_infrequent_access\"",
                );
                quote!(::dynorm::__private::core::option::Option::None)
            }
        },
    };
    let encryption = match (&table.encryption, &table.kms_key) {
        (None, None) => quote!(::dynorm::__private::core::option::Option::None),
        (None, Some(key)) | (Some(_), Some(key)) if table.encryption.as_ref().is_none_or(|l| l.value() == "kms") => {
            quote!(::dynorm::__private::core::option::Option::Some(::dynorm::Encryption::CustomerKey(#key)))
        }
        (Some(lit), key) => match lit.value().as_str() {
            "owned" | "aws_managed" if key.is_some() => {
                cx.error_spanned_by(
                    lit,
                    "`kms_key` names a customer managed key: use `encryption = \"kms\"`",
                );
                quote!(::dynorm::__private::core::option::Option::None)
            }
            "owned" => quote!(::dynorm::__private::core::option::Option::Some(
                ::dynorm::Encryption::Owned
            )),
            "aws_managed" => quote!(::dynorm::__private::core::option::Option::Some(
                ::dynorm::Encryption::AwsManaged
            )),
            "kms" => {
                cx.error_spanned_by(
                    lit,
                    "`encryption = \"kms\"` needs `kms_key = \"...\"` (an ARN, ID or alias)",
                );
                quote!(::dynorm::__private::core::option::Option::None)
            }
            _ => {
                cx.error_spanned_by(
                    lit,
                    "unknown encryption; expected \"owned\", \"aws_managed\" or \"kms\"",
                );
                quote!(::dynorm::__private::core::option::Option::None)
            }
        },
        (None, Some(_)) => quote!(::dynorm::__private::core::option::Option::None),
    };
    let mut seen = Vec::new();
    for (key, lit) in &table.tags {
        if seen.contains(key) {
            cx.error_spanned_by(lit, format!("duplicate tag `{key}`"));
        }
        seen.push(key.clone());
    }
    let tags = table.tags.iter().map(|(k, v)| quote!((#k, #v)));
    quote! {
        ::dynorm::__private::TableOptions {
            deletion_protection: #deletion_protection,
            table_class: #class,
            encryption: #encryption,
            tags: &[#(#tags),*],
            point_in_time_recovery: #pitr,
        }
    }
}
