//! The rules, as small named checks, each reporting its own error through the [`Ctxt`].
//! [`check`] runs them all and returns the resolved model that expansion reads; it
//! returns `None` only with an error in `cx`.
//!
//! - `table`: the `#[table]` attribute, table name, table keys, throughput;
//! - `keys`: what a key attribute's field must be, for the table and its indexes;
//! - `index`: each index, then the indexes together (names, limits, generated names);
//! - `roles`: the version, ttl, created_at and updated_at fields;
//! - `relation`: relationship fields, their templates and back references;
//! - `key_attribute`: `#[derive(KeyAttribute)]` newtypes.

mod entity;
mod index;
mod key_attribute;
mod keys;
mod relation;
mod roles;
mod table;

pub use key_attribute::{check_key_newtype, KeyNewtype};

use crate::ast::Model;
use crate::ctxt::Ctxt;
use crate::resolved::Resolved;

pub fn check<'m, 'a>(cx: &mut Ctxt, model: &'m Model<'a>) -> Option<Resolved<'m, 'a>> {
    table::check_not_generic(cx, model);
    if let Some(attr) = &model.entity {
        return check_entity_model(cx, model, attr);
    }
    for attr in &model.entity_indexes {
        cx.error_spanned_by(
            attr.attr,
            "#[entity_index] is for entities: add #[entity(table = .., pk = \"..\")]",
        );
    }
    let table = table::check_table_attr(cx, model)?;
    let table_name = table::check_table_name(cx, table);
    let hash = table::check_hash_key(cx, model, table);
    let range = table::check_range_key(cx, model, table, hash);
    let throughput = table::check_throughput(cx, &table.read, &table.write);
    let (global_indexes, local_indexes) = index::check_indexes(cx, model, hash, range, throughput.is_some());
    let roles = roles::check_roles(cx, model, hash, range);
    let indexes: Vec<_> = global_indexes.iter().chain(&local_indexes).collect();
    index::check_generated_names(cx, &indexes);
    let relations = relation::check_relations(cx, model, hash, range);
    Some(Resolved {
        all_fields: &model.fields,
        table_name,
        hash: Some(hash?),
        range,
        throughput,
        stream: table.stream.as_ref().map(|(_, view)| *view),
        options: table::check_options(cx, table),
        hooks: table.hooks.as_ref(),
        global_indexes,
        local_indexes,
        version: roles.version,
        ttl: roles.ttl,
        created_at: roles.created_at,
        updated_at: roles.updated_at,
        relations,
        entity: None,
        schema: model.schema.as_ref(),
    })
}

fn check_entity_model<'m, 'a>(
    cx: &mut Ctxt,
    model: &'m Model<'a>,
    attr: &'m crate::attr::EntityAttr<'a>,
) -> Option<Resolved<'m, 'a>> {
    let entity = entity::check_entity(cx, model, attr)?;
    let roles = roles::check_roles(cx, model, None, None);
    Some(Resolved {
        all_fields: &model.fields,
        table_name: String::new(),
        hash: None,
        range: None,
        throughput: None,
        stream: None,
        options: proc_macro2::TokenStream::new(),
        hooks: entity.hooks,
        global_indexes: Vec::new(),
        local_indexes: Vec::new(),
        version: roles.version,
        ttl: roles.ttl,
        created_at: roles.created_at,
        updated_at: roles.updated_at,
        relations: Vec::new(),
        entity: Some(entity),
        schema: model.schema.as_ref(),
    })
}
