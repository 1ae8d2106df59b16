//! Typed views of the derive input that borrow from syn and keep the original tokens
//! for error spans.

use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr::{self, EntityAttr, EntityIndexAttr, FieldAttrs, IndexAttr, TableAttr};
use crate::ctxt::Ctxt;

pub struct Model<'a> {
    pub input: &'a DeriveInput,
    pub table: Option<TableAttr<'a>>,
    /// Global and local indexes, in declaration order.
    pub indexes: Vec<IndexAttr<'a>>,
    /// `#[entity(..)]`: an entity of a single-table design.
    pub entity: Option<EntityAttr<'a>>,
    /// `#[entity_index(..)]`, in declaration order.
    pub entity_indexes: Vec<EntityIndexAttr<'a>>,
    pub fields: Vec<Field<'a>>,
    /// `#[schema(..)]`: the schema version and its migrations, checked.
    pub schema: Option<crate::schema_version::SchemaAttr>,
    /// serde's derive will reject the struct (unknown `rename_all`); emit nothing.
    pub serde_will_fail: bool,
}

pub struct Field<'a> {
    pub ident: &'a Ident,
    pub ty: &'a Type,
    /// The attribute name serde writes for this field.
    pub attr_name: String,
    pub attrs: FieldAttrs,
}

impl<'a> Model<'a> {
    /// Reads the input. Returns `None` (with an error in `cx`) when the input is not a
    /// struct with named fields.
    pub fn from_ast(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<Model<'a>> {
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                _ => {
                    cx.error_spanned_by(&input.ident, "DynaModel needs a struct with named fields");
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error_spanned_by(data.enum_token, "DynaModel can only be derived for structs");
                return None;
            }
            Data::Union(data) => {
                cx.error_spanned_by(data.union_token, "DynaModel can only be derived for structs");
                return None;
            }
        };

        let mut table = None;
        let mut indexes = Vec::new();
        let mut entity = None;
        let mut entity_indexes = Vec::new();
        for attr in &input.attrs {
            if attr.path().is_ident(attr::ENTITY) {
                let parsed = attr::parse_entity(cx, attr);
                if entity.is_some() {
                    cx.error_spanned_by(attr, "duplicate #[entity] attribute");
                } else {
                    entity = Some(parsed);
                }
            } else if attr.path().is_ident(attr::ENTITY_INDEX) {
                entity_indexes.push(attr::parse_entity_index(cx, attr));
            }
            if attr.path().is_ident(attr::TABLE) {
                let parsed = attr::parse_table(cx, attr);
                if table.is_some() {
                    cx.error_spanned_by(attr, "duplicate #[table] attribute; a model maps to one table");
                } else {
                    table = Some(parsed);
                }
            } else if attr.path().is_ident(attr::GLOBAL_INDEX) {
                indexes.push(attr::parse_index(cx, attr, false));
            } else if attr.path().is_ident(attr::LOCAL_INDEX) {
                indexes.push(attr::parse_index(cx, attr, true));
            }
        }

        let serde = attr::parse_container_serde(&input.attrs);
        let fields = named
            .named
            .iter()
            .filter_map(|field| {
                let ident = field.ident.as_ref()?;
                let attrs = attr::parse_field(cx, field);
                let rust_name = ident.unraw().to_string();
                let attr_name = match (&attrs.rename, serde.rename_all) {
                    (Some(rename), _) => rename.clone(),
                    (None, Some(rule)) => rule.apply_to_field(&rust_name),
                    (None, None) => rust_name,
                };
                Some(Field {
                    ident,
                    ty: &field.ty,
                    attr_name,
                    attrs,
                })
            })
            .collect::<Vec<_>>();
        let names: Vec<(&str, &Ident)> = fields.iter().map(|f| (f.attr_name.as_str(), f.ident)).collect();
        let schema = crate::schema_version::parse(cx, &input.attrs, &names);

        Some(Model {
            input,
            table,
            indexes,
            entity,
            entity_indexes,
            fields,
            schema,
            serde_will_fail: serde.unknown_rename_all,
        })
    }

    /// The field a key attribute names: by Rust field name first, then by the
    /// attribute name serde writes.
    pub fn find_field(&self, name: &str) -> Option<&Field<'a>> {
        self.fields
            .iter()
            .find(|f| f.ident.unraw() == name)
            .or_else(|| self.fields.iter().find(|f| f.attr_name == name))
    }
}
