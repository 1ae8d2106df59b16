//! Cross-field rules: keys name real fields of key types, index names are unique and
//! valid, throughput is complete, at most one version and one ttl field.

use syn::{GenericArgument, LitInt, LitStr, PathArguments, Type};

use crate::ast::{Field, Model};
use crate::attr::{IndexAttr, ProjectionAttr, StreamView};
use crate::ctxt::Ctxt;

pub struct Resolved<'m, 'a> {
    pub all_fields: &'m [Field<'a>],
    pub table_name: String,
    pub hash: &'m Field<'a>,
    pub range: Option<&'m Field<'a>>,
    pub throughput: Option<(i64, i64)>,
    pub stream: Option<StreamView>,
    /// `#[table(hooks)]`: the user implements `dynorm::Hooks`.
    pub hooks: Option<&'m syn::Path>,
    pub global_indexes: Vec<ResolvedIndex<'m, 'a>>,
    pub local_indexes: Vec<ResolvedIndex<'m, 'a>>,
    pub version: Option<&'m Field<'a>>,
    pub ttl: Option<&'m Field<'a>>,
    pub created_at: Option<&'m Field<'a>>,
    pub updated_at: Option<&'m Field<'a>>,
}

pub struct ResolvedIndex<'m, 'a> {
    pub name: String,
    /// Where the index is named, for errors about its name.
    pub name_span: proc_macro2::Span,
    pub hash: &'m Field<'a>,
    pub range: Option<&'m Field<'a>>,
    pub projection: ResolvedProjection,
    pub throughput: Option<(i64, i64)>,
}

pub enum ResolvedProjection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

const MAX_LOCAL_INDEXES: usize = 5;

pub fn check<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>) -> Option<Resolved<'m, 'a>> {
    let input = model.input;
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "DynaModel cannot be derived for generic structs");
    }
    let Some(table) = &model.table else {
        cx.error_spanned_by(
            &input.ident,
            "missing #[table(name = \"...\", hash_key = \"...\")] attribute on a DynaModel",
        );
        return None;
    };

    let table_name = match &table.name {
        Some(lit) => {
            check_table_name(cx, lit);
            lit.value()
        }
        None => {
            if !table.malformed {
                cx.error_spanned_by(table.attr, "#[table] needs `name = \"...\"`");
            }
            String::new()
        }
    };
    let hash = match &table.hash_key {
        Some(lit) => key_field(cx, model, lit, false),
        None => {
            if !table.malformed {
                cx.error_spanned_by(table.attr, "#[table] needs `hash_key = \"field\"`");
            }
            None
        }
    };
    let range = table
        .range_key
        .as_ref()
        .and_then(|lit| key_field(cx, model, lit, false));
    if let (Some(h), Some(r), Some(lit)) = (hash, range, &table.range_key) {
        if std::ptr::eq(h, r) {
            cx.error_spanned_by(lit, "the range key must be a different field from the hash key");
        }
    }
    let throughput = throughput(cx, &table.read, &table.write);

    let mut global_indexes = Vec::new();
    let mut local_indexes = Vec::new();
    let mut seen_names: Vec<String> = Vec::new();
    for index in &model.indexes {
        let Some(resolved) = check_index(cx, model, index, hash, range, throughput.is_some()) else {
            continue;
        };
        if seen_names.contains(&resolved.name) {
            if let Some(lit) = &index.name {
                cx.error_spanned_by(lit, format!("duplicate index name `{}`", resolved.name));
            }
            continue;
        }
        seen_names.push(resolved.name.clone());
        if index.local {
            if local_indexes.len() == MAX_LOCAL_INDEXES {
                cx.error_spanned_by(
                    index.attr,
                    "DynamoDB allows at most 5 local secondary indexes per table",
                );
            }
            local_indexes.push(resolved);
        } else {
            // 20 global indexes is a default quota that AWS can raise, so it is not checked.
            global_indexes.push(resolved);
        }
    }

    let mut version = None;
    let mut ttl = None;
    let mut created_at = None;
    let mut updated_at = None;
    for field in &model.fields {
        let is_key = hash.is_some_and(|h| std::ptr::eq(h, field)) || range.is_some_and(|r| std::ptr::eq(r, field));
        if let Some(path) = &field.attrs.version {
            if version.is_some() {
                cx.error_spanned_by(path, "a model can have only one #[dynorm(version)] field");
            } else if !is_integer(field.ty) {
                cx.error_spanned_by(field.ty, "a #[dynorm(version)] field must be an integer, such as u64");
            } else if is_key {
                cx.error_spanned_by(path, "a key attribute cannot be the version field");
            } else {
                version = Some(field);
            }
            if field.attrs.skip_serializing {
                cx.error_spanned_by(path, "the version field must be serialized; remove #[serde(skip)]");
            }
        }
        if let Some(path) = &field.attrs.ttl {
            if field.attrs.version.is_some() {
                cx.error_spanned_by(path, "a field cannot be both the version and the ttl field");
            } else if ttl.is_some() {
                cx.error_spanned_by(path, "a model can have only one #[dynorm(ttl)] field");
            } else if !(is_integer(field.ty) || option_inner(field.ty).is_some_and(is_integer)) {
                cx.error_spanned_by(
                    field.ty,
                    "a #[dynorm(ttl)] field holds epoch seconds: use an integer such as u64, or Option of one",
                );
            } else if is_key {
                cx.error_spanned_by(path, "a key attribute cannot be the ttl field");
            } else if field.attrs.skip_serializing {
                cx.error_spanned_by(path, "the ttl field must be serialized; remove #[serde(skip)]");
            } else {
                ttl = Some(field);
            }
        }
        for (role, path, slot) in [
            ("created_at", &field.attrs.created_at, &mut created_at),
            ("updated_at", &field.attrs.updated_at, &mut updated_at),
        ] {
            let Some(path) = path else { continue };
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
            } else if role == "created_at" && model.fields.iter().any(|f| f.attrs.flatten) {
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
        if field.attrs.created_at.is_some() && field.attrs.updated_at.is_some() {
            cx.error_spanned_by(
                field.ident,
                "a field cannot be both the created_at and the updated_at field",
            );
        }
    }

    Some(Resolved {
        all_fields: &model.fields,
        table_name,
        hash: hash?,
        range,
        throughput,
        stream: table.stream.as_ref().map(|(_, view)| *view),
        hooks: table.hooks.as_ref(),
        global_indexes,
        local_indexes,
        version,
        ttl,
        created_at,
        updated_at,
    })
}

fn check_index<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    index: &IndexAttr,
    table_hash: Option<&'m Field<'a>>,
    table_range: Option<&'m Field<'a>>,
    table_provisioned: bool,
) -> Option<ResolvedIndex<'m, 'a>> {
    let which = if index.local {
        "#[local_index]"
    } else {
        "#[global_index]"
    };
    let name = match &index.name {
        Some(lit) => {
            check_index_name(cx, lit);
            Some(lit.value())
        }
        None => {
            if !index.malformed {
                cx.error_spanned_by(index.attr, format!("{which} needs `name = \"...\"`"));
            }
            None
        }
    };
    let hash = if index.local {
        if table_range.is_none() && model.table.as_ref().is_some_and(|t| t.range_key.is_none()) {
            cx.error_spanned_by(index.attr, "a local index needs a table with a range key");
        }
        table_hash
    } else {
        match &index.hash_key {
            Some(lit) => key_field(cx, model, lit, true),
            None => {
                if !index.malformed {
                    cx.error_spanned_by(index.attr, "#[global_index] needs `hash_key = \"field\"`");
                }
                None
            }
        }
    };
    let range = match &index.range_key {
        Some(lit) => key_field(cx, model, lit, true),
        None if index.local => {
            if !index.malformed {
                cx.error_spanned_by(index.attr, "#[local_index] needs `range_key = \"field\"`");
            }
            None
        }
        None => None,
    };
    if let (Some(h), Some(r), Some(lit)) = (hash, range, &index.range_key) {
        if std::ptr::eq(h, r) {
            let which = if index.local {
                "the table's hash key"
            } else {
                "the index's hash key"
            };
            cx.error_spanned_by(
                lit,
                format!("the index's range key must be a different field from {which}"),
            );
        }
    }
    let throughput = throughput(cx, &index.read, &index.write);
    if let (Some(_), Some(read), false) = (throughput, &index.read, table_provisioned) {
        cx.error_spanned_by(
            read,
            "index throughput needs a provisioned table: set `read` and `write` on #[table] too",
        );
    }
    let projection = match &index.projection {
        None | Some(ProjectionAttr::All) => ResolvedProjection::All,
        Some(ProjectionAttr::KeysOnly) => ResolvedProjection::KeysOnly,
        Some(ProjectionAttr::Include(names)) => {
            let mut attrs = Vec::new();
            for (name, span) in names {
                match model.find_field(name) {
                    Some(field) if field.attrs.skip_serializing || field.attrs.flatten => {
                        cx.syn_error(syn::Error::new(
                            *span,
                            format!("`{name}` is skipped or flattened by serde, so it is not an attribute to project"),
                        ));
                    }
                    Some(field) => {
                        let key_fields = [table_hash, table_range, hash, range];
                        if key_fields.iter().flatten().any(|k| std::ptr::eq(*k, field)) {
                            cx.syn_error(syn::Error::new(
                                *span,
                                format!("`{name}` is a key attribute and is always projected"),
                            ));
                        } else if !attrs.contains(&field.attr_name) {
                            attrs.push(field.attr_name.clone());
                        }
                    }
                    None => cx.syn_error(syn::Error::new(*span, no_field_message(model, name))),
                }
            }
            if attrs.is_empty() && names.is_empty() {
                cx.error_spanned_by(index.attr, "`include(...)` needs at least one field");
            }
            ResolvedProjection::Include(attrs)
        }
    };
    let name_span = match &index.name {
        Some(lit) => lit.span(),
        None => syn::spanned::Spanned::span(index.attr),
    };
    Some(ResolvedIndex {
        name_span,
        name: name?,
        hash: hash?,
        range,
        projection,
        throughput,
    })
}

/// The field a key names. `index_key` allows `Option<T>` (a sparse index: items without
/// the attribute stay out of the index).
fn key_field<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>, lit: &LitStr, index_key: bool) -> Option<&'m Field<'a>> {
    let name = lit.value();
    let Some(field) = model.find_field(&name) else {
        cx.error_spanned_by(lit, no_field_message(model, &name));
        return None;
    };
    if field.attrs.skip_serializing {
        cx.error_spanned_by(
            lit,
            format!("key field `{name}` is skipped by serde, so it would never be stored"),
        );
        return None;
    }
    if field.attrs.flatten {
        cx.error_spanned_by(
            lit,
            format!("key field `{name}` is #[serde(flatten)]; a key must be one attribute"),
        );
        return None;
    }
    if field.attr_name.is_empty() || field.attr_name.len() > 255 {
        cx.error_spanned_by(lit, "a key attribute's name must be 1 to 255 bytes long");
        return None;
    }
    let ty = match option_inner(field.ty) {
        Some(inner) if index_key => {
            if !field.attrs.skip_serializing_if {
                cx.error_spanned_by(
                    field.ty,
                    format!(
                        "an optional index key must be left out when absent, not stored as NULL: add #[serde(default, skip_serializing_if = \"Option::is_none\")] to `{name}`"
                    ),
                );
                return None;
            }
            inner
        }
        _ => field.ty,
    };
    if let Some(problem) = unsupported_key_type(ty, index_key) {
        cx.error_spanned_by(field.ty, problem);
        return None;
    }
    if let Some(problem) = key_serialization_problem(ty, field.attrs.custom_serialize.as_deref()) {
        cx.error_spanned_by(field.ty, format!("key `{name}`: {problem}"));
        return None;
    }
    Some(field)
}

/// The type whose `KeyAttribute` impl gives a key field's DynamoDB type: the field type,
/// or `T` for an `Option<T>` index key.
pub fn key_type<'a>(field: &Field<'a>) -> &'a Type {
    option_inner(field.ty).unwrap_or(field.ty)
}

fn no_field_message(model: &Model, name: &str) -> String {
    format!("no field named `{name}` in `{}`", model.input.ident)
}

fn throughput(cx: &mut Ctxt, read: &Option<LitInt>, write: &Option<LitInt>) -> Option<(i64, i64)> {
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

fn valid_name_chars(name: &str) -> bool {
    name.bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn check_table_name(cx: &mut Ctxt, lit: &LitStr) {
    let name = lit.value();
    if name.is_empty() || name.len() > 255 || !valid_name_chars(&name) {
        cx.error_spanned_by(
            lit,
            "invalid table name: use up to 255 of the characters a-z, A-Z, 0-9, `_`, `-` and `.`",
        );
    }
}

fn check_index_name(cx: &mut Ctxt, lit: &LitStr) {
    let name = lit.value();
    if name.len() < 3 || name.len() > 255 || !valid_name_chars(&name) {
        cx.error_spanned_by(
            lit,
            "invalid index name: use 3 to 255 of the characters a-z, A-Z, 0-9, `_`, `-` and `.`",
        );
    }
}

// No 128-bit integers: serde_dynamo cannot serialize them.
const INTEGERS: &[&str] = &["u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64", "isize"];

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

fn is_integer(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.arguments.is_none() && INTEGERS.iter().any(|i| s.ident == i))
}

fn first_type_arg(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Keys for get and delete are built from the field's `KeyAttribute` impl, so serde must
/// store the field in that same form: the default form, or `dynorm::bytes` for `Vec<u8>`.
pub fn key_serialization_problem(ty: &Type, with: Option<&str>) -> Option<&'static str> {
    let bytes = matches!(with, Some("dynorm::bytes" | "::dynorm::bytes" | "serde_bytes"));
    match (is_byte_vec(ty), with) {
        (true, _) if bytes => None,
        (true, _) => Some(
            "serde writes `Vec<u8>` as a list, but a key must be binary: add #[serde(with = \"dynorm::bytes\")] to the field",
        ),
        (false, Some(_)) => Some(
            "a key must be stored in the form its KeyAttribute gives it, so custom serde `with`/`serialize_with` is not supported on key fields",
        ),
        (false, None) => None,
    }
}

fn is_byte_vec(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| {
        s.ident == "Vec"
            && first_type_arg(s)
                .and_then(last_segment)
                .is_some_and(|inner| inner.ident == "u8")
    })
}

fn option_inner(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty)?;
    if segment.ident == "Option" {
        first_type_arg(segment)
    } else {
        None
    }
}

/// Types the derive can reject on sight; anything else is checked through the
/// `KeyAttribute` trait, with the error at the field's type.
pub fn unsupported_key_type(ty: &Type, index_key: bool) -> Option<&'static str> {
    match ty {
        Type::Reference(_) => {
            return Some("a key field must own its value: use `String` or `Vec<u8>`, not a reference")
        }
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => {
            return Some("unsupported key type: DynamoDB keys are strings, numbers or binary")
        }
        _ => {}
    }
    let segment = last_segment(ty)?;
    let name = segment.ident.to_string();
    match name.as_str() {
        "u128" | "i128" => {
            Some("128-bit integers cannot be stored (serde_dynamo does not support them): use u64, i64 or a string")
        }
        "bool" => Some("a boolean cannot be a DynamoDB key: keys are strings, numbers or binary"),
        "f32" | "f64" => Some("floating-point numbers cannot be keys here: use an integer or a string"),
        "Option" if index_key => Some("an optional index key holds one key type: `Option<String>`, `Option<u64>`, ..."),
        "Option" => Some("a table key attribute is always present: use the inner type, not `Option`"),
        "Vec" => match first_type_arg(segment).and_then(last_segment) {
            Some(inner) if inner.ident == "u8" => None,
            _ => Some("a list cannot be a DynamoDB key: only `Vec<u8>` (binary) is a key type"),
        },
        "HashSet" | "BTreeSet" | "HashMap" | "BTreeMap" => {
            Some("sets and maps cannot be DynamoDB keys: keys are strings, numbers or binary")
        }
        _ => None,
    }
}
