//! `#[global_index]` and `#[local_index]`: each index on its own, then the indexes
//! together (unique names, at most five local ones, no clash of generated names).

use super::keys;
use super::table::{check_throughput, valid_name_chars};
use crate::ast::{Field, Model};
use crate::attr::{IndexAttr, ProjectionAttr};
use crate::ctxt::Ctxt;
use crate::naming;
use crate::resolved::{ResolvedIndex, ResolvedProjection};
use syn::LitStr;

const MAX_LOCAL_INDEXES: usize = 5;

/// The global and the local indexes, in declaration order, each with a unique name.
pub fn check_indexes<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    table_hash: Option<&'m Field<'a>>,
    table_range: Option<&'m Field<'a>>,
    table_provisioned: bool,
) -> (Vec<ResolvedIndex<'m, 'a>>, Vec<ResolvedIndex<'m, 'a>>) {
    let mut global_indexes = Vec::new();
    let mut local_indexes: Vec<ResolvedIndex> = Vec::new();
    for index in &model.indexes {
        let Some(resolved) = check_index(cx, model, index, table_hash, table_range, table_provisioned) else {
            continue;
        };
        let earlier = global_indexes.iter().chain(&local_indexes).map(|e| e.name.as_str());
        if !check_unique_name(cx, index, &resolved.name, earlier) {
            continue;
        }
        if index.local {
            check_local_count(cx, index, local_indexes.len());
            local_indexes.push(resolved);
        } else {
            // 20 global indexes is a default quota that AWS can raise, so it is not checked.
            global_indexes.push(resolved);
        }
    }
    (global_indexes, local_indexes)
}

fn check_unique_name<'e>(
    cx: &mut Ctxt,
    index: &IndexAttr,
    name: &str,
    mut earlier: impl Iterator<Item = &'e str>,
) -> bool {
    if !earlier.any(|e| e == name) {
        return true;
    }
    if let Some(lit) = &index.name {
        cx.error_spanned_by(lit, format!("duplicate index name `{name}`"));
    }
    false
}

fn check_local_count(cx: &mut Ctxt, index: &IndexAttr, earlier: usize) {
    if earlier == MAX_LOCAL_INDEXES {
        cx.error_spanned_by(
            index.attr,
            "DynamoDB allows at most 5 local secondary indexes per table",
        );
    }
}

fn check_index<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    index: &IndexAttr,
    table_hash: Option<&'m Field<'a>>,
    table_range: Option<&'m Field<'a>>,
    table_provisioned: bool,
) -> Option<ResolvedIndex<'m, 'a>> {
    let name = check_index_name(cx, index);
    let hash = if index.local {
        check_local_on_range_table(cx, model, index, table_range);
        table_hash
    } else {
        check_index_hash_key(cx, model, index)
    };
    let range = check_index_range_key(cx, model, index, hash);
    let (more_hash, more_range) = check_more_keys(cx, model, index, [hash, range]);
    let throughput = check_throughput(cx, &index.read, &index.write);
    check_index_throughput_provisioned(cx, index, throughput, table_provisioned);
    let projection = check_projection(cx, model, index, [table_hash, table_range, hash, range]);
    let name_span = match &index.name {
        Some(lit) => lit.span(),
        None => syn::spanned::Spanned::span(index.attr),
    };
    let name = name?;
    let method = naming::index_method(&name);
    Some(ResolvedIndex {
        marker: naming::index_marker(&model.input.ident, &method),
        method,
        name_span,
        name,
        hash: hash?,
        range,
        more_hash,
        more_range,
        projection,
        throughput,
    })
}

/// The further attributes of a multi-attribute key: a global index's only, at most four
/// partition and four sort attributes, each a different key field.
fn check_more_keys<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    index: &IndexAttr,
    first: [Option<&'m Field<'a>>; 2],
) -> (Vec<&'m Field<'a>>, Vec<&'m Field<'a>>) {
    let mut seen: Vec<&Field> = first.into_iter().flatten().collect();
    let mut resolve = |cx: &mut Ctxt, lits: &[LitStr], what: &str| {
        if lits.len() > 3 {
            cx.error_spanned_by(
                &lits[3],
                format!("a multi-attribute key has at most four {what} attributes"),
            );
        }
        let mut out = Vec::new();
        for lit in lits {
            if let Some(field) = keys::check_key_field(cx, model, lit, true) {
                if seen.iter().any(|s| std::ptr::eq(*s, field)) {
                    cx.error_spanned_by(lit, "this attribute is already part of the index's key");
                    continue;
                }
                seen.push(field);
                out.push(field);
            }
        }
        out
    };
    if index.local && !(index.more_hash.is_empty() && index.more_range.is_empty()) {
        cx.error_spanned_by(index.attr, "only a global index can have a multi-attribute key");
        return (Vec::new(), Vec::new());
    }
    let hash = resolve(cx, &index.more_hash, "partition");
    let range = resolve(cx, &index.more_range, "sort");
    (hash, range)
}

fn which(index: &IndexAttr) -> &'static str {
    if index.local {
        "#[local_index]"
    } else {
        "#[global_index]"
    }
}

fn check_index_name(cx: &mut Ctxt, index: &IndexAttr) -> Option<String> {
    let Some(lit) = &index.name else {
        if !index.malformed {
            cx.error_spanned_by(index.attr, format!("{} needs `name = \"...\"`", which(index)));
        }
        return None;
    };
    let name = lit.value();
    if name.len() < 3 || name.len() > 255 || !valid_name_chars(&name) {
        cx.error_spanned_by(
            lit,
            "invalid index name: use 3 to 255 of the characters a-z, A-Z, 0-9, `_`, `-` and `.`",
        );
    }
    Some(name)
}

/// A local index sorts the table's partitions another way, so the table needs a range key.
fn check_local_on_range_table(cx: &mut Ctxt, model: &Model, index: &IndexAttr, table_range: Option<&Field>) {
    if table_range.is_none() && model.table.as_ref().is_some_and(|t| t.range_key.is_none()) {
        cx.error_spanned_by(index.attr, "a local index needs a table with a range key");
    }
}

fn check_index_hash_key<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>, index: &IndexAttr) -> Option<&'m Field<'a>> {
    let Some(lit) = &index.hash_key else {
        if !index.malformed {
            cx.error_spanned_by(index.attr, "#[global_index] needs `hash_key = \"field\"`");
        }
        return None;
    };
    keys::check_key_field(cx, model, lit, true)
}

fn check_index_range_key<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    index: &IndexAttr,
    hash: Option<&'m Field<'a>>,
) -> Option<&'m Field<'a>> {
    let Some(lit) = &index.range_key else {
        if index.local && !index.malformed {
            cx.error_spanned_by(index.attr, "#[local_index] needs `range_key = \"field\"`");
        }
        return None;
    };
    let range = keys::check_key_field(cx, model, lit, true);
    if let (Some(h), Some(r)) = (hash, range) {
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
    range
}

fn check_index_throughput_provisioned(
    cx: &mut Ctxt,
    index: &IndexAttr,
    throughput: Option<(i64, i64)>,
    table_provisioned: bool,
) {
    if let (Some(_), Some(read), false) = (throughput, &index.read, table_provisioned) {
        cx.error_spanned_by(
            read,
            "index throughput needs a provisioned table: set `read` and `write` on #[table] too",
        );
    }
}

/// `include(...)` names stored fields that are not keys (keys are always projected).
fn check_projection(
    cx: &mut Ctxt,
    model: &Model,
    index: &IndexAttr,
    key_fields: [Option<&Field>; 4],
) -> ResolvedProjection {
    let names = match &index.projection {
        None | Some(ProjectionAttr::All) => return ResolvedProjection::All,
        Some(ProjectionAttr::KeysOnly) => return ResolvedProjection::KeysOnly,
        Some(ProjectionAttr::Include(names)) => names,
    };
    let mut attrs = Vec::new();
    for (name, span) in names {
        let problem = match model.find_field(name) {
            Some(field) if field.attrs.skip_serializing || field.attrs.flatten => {
                format!("`{name}` is skipped or flattened by serde, so it is not an attribute to project")
            }
            Some(field) if key_fields.iter().flatten().any(|k| std::ptr::eq(*k, field)) => {
                format!("`{name}` is a key attribute and is always projected")
            }
            Some(field) => {
                if !attrs.contains(&field.attr_name) {
                    attrs.push(field.attr_name.clone());
                }
                continue;
            }
            None => keys::no_field_message(model, name),
        };
        cx.syn_error(syn::Error::new(*span, problem));
    }
    if names.is_empty() {
        cx.error_spanned_by(index.attr, "`include(...)` needs at least one field");
    }
    ResolvedProjection::Include(attrs)
}

/// Each index gets a method on the model and a marker type: neither may shadow one of
/// `DynaModel`'s verbs or another index's.
pub fn check_generated_names(cx: &mut Ctxt, indexes: &[&ResolvedIndex]) {
    let mut methods: Vec<&str> = Vec::new();
    let mut markers: Vec<&str> = Vec::new();
    for index in indexes {
        let method = index.method.as_str();
        let problem = if methods.contains(&method) {
            format!("two indexes would both get the method `{method}`; rename one")
        } else if naming::RESERVED_METHODS.contains(&method) {
            format!(
                "an index named `{}` would shadow `DynaModel::{method}`; rename it",
                index.name
            )
        } else if markers.contains(&index.marker.as_str()) {
            methods.push(method);
            format!("two indexes would both get the type `{}`; rename one", index.marker)
        } else {
            methods.push(method);
            markers.push(&index.marker);
            continue;
        };
        cx.syn_error(syn::Error::new(index.name_span, problem));
    }
}
