//! The model as validation leaves it: every rule has passed, every name is chosen and
//! every template parsed, so expansion only emits tokens and cannot fail.

use syn::{Ident, LitStr, Type};

use crate::ast::Field;
use crate::attr::StreamView;
use crate::template::Template;

pub struct Resolved<'m, 'a> {
    pub all_fields: &'m [Field<'a>],
    pub table_name: String,
    /// The hash key field; `None` for an entity, whose keys are templates.
    pub hash: Option<&'m Field<'a>>,
    pub range: Option<&'m Field<'a>>,
    pub throughput: Option<(i64, i64)>,
    pub stream: Option<StreamView>,
    /// Deletion protection, table class, encryption, tags, point-in-time recovery.
    pub options: proc_macro2::TokenStream,
    /// `#[table(hooks)]`: the user implements `dynorm::Hooks`.
    pub hooks: Option<&'m syn::Path>,
    pub global_indexes: Vec<ResolvedIndex<'m, 'a>>,
    pub local_indexes: Vec<ResolvedIndex<'m, 'a>>,
    pub version: Option<&'m Field<'a>>,
    pub ttl: Option<&'m Field<'a>>,
    pub created_at: Option<&'m Field<'a>>,
    pub updated_at: Option<&'m Field<'a>>,
    /// The relationship fields, in declaration order.
    pub relations: Vec<ResolvedRelation<'m, 'a>>,
    /// `#[entity(..)]`: an entity of a single-table design.
    pub entity: Option<ResolvedEntity<'m, 'a>>,
    /// `#[schema(..)]`: the schema version and its migrations.
    pub schema: Option<&'m crate::schema_version::SchemaAttr>,
}

/// An entity: its table, type name and key templates.
pub struct ResolvedEntity<'m, 'a> {
    /// The `#[derive(DynaTable)]` type.
    pub table: syn::Path,
    pub type_name: String,
    /// The fields of the entity's key, in order: the partition template's, then the
    /// sort template's.
    pub key_fields: Vec<&'m Field<'a>>,
    /// Whether the entity has a sort key template.
    pub has_sort: bool,
    /// The table's partition template, its sort template (when `has_sort`), then the
    /// templates of each index.
    pub templates: Vec<ResolvedTemplate<'m, 'a>>,
    pub indexes: Vec<EntityIndex<'m, 'a>>,
    /// `hooks` in `#[entity]`.
    pub hooks: Option<&'m syn::Path>,
}

#[derive(Clone, Copy)]
pub enum EntityCase {
    Keep,
    Lower,
    Upper,
}

/// One template of an entity.
pub struct ResolvedTemplate<'m, 'a> {
    pub lit: LitStr,
    /// The index it keys; `None` for the table.
    pub index: Option<LitStr>,
    pub partition: bool,
    pub template: Template,
    /// The case it is written in.
    pub case: EntityCase,
    /// Its fields, in order.
    pub fields: Vec<&'m Field<'a>>,
    /// The padding of each field.
    pub widths: Vec<Width<'a>>,
}

/// How a template field is padded.
pub enum Width<'a> {
    None,
    Declared(u8),
    /// The largest width of the integer type.
    Auto(&'a Type),
}

/// An index an entity uses, with the positions of its templates in
/// [`ResolvedEntity::templates`].
pub struct EntityIndex<'m, 'a> {
    pub name: LitStr,
    pub method: String,
    pub marker: String,
    pub partition: Option<usize>,
    pub sort: Option<usize>,
    /// `pk = [..]`, `sk = [..]`: an index whose key attributes are the entity's own
    /// fields (a multi-attribute key), rather than templates.
    pub native: Option<(Vec<&'m Field<'a>>, Vec<&'m Field<'a>>)>,
}

pub struct ResolvedIndex<'m, 'a> {
    pub name: String,
    /// Where the index is named, for errors about its name and the spans of its handle.
    pub name_span: proc_macro2::Span,
    pub hash: &'m Field<'a>,
    pub range: Option<&'m Field<'a>>,
    /// The further attributes of a multi-attribute key.
    pub more_hash: Vec<&'m Field<'a>>,
    pub more_range: Vec<&'m Field<'a>>,
    pub projection: ResolvedProjection,
    pub throughput: Option<(i64, i64)>,
    /// The model's method that hands out the index, `by_author`.
    pub method: String,
    /// The index's marker type, `BookByAuthorIndex`.
    pub marker: String,
}

pub enum ResolvedProjection {
    All,
    KeysOnly,
    Include(Vec<String>),
}

/// A relationship field whose rules passed.
pub struct ResolvedRelation<'m, 'a> {
    pub field: &'m Field<'a>,
    /// `T` of the field's `OneToMany<T>`, `ManyToOne<T>` or `OneToOne<T>`.
    pub target: &'a Type,
    /// The related key's hash template, its fields all fields of this model.
    pub hash: Template,
    pub access: Access,
    pub back: Option<Back<'m, 'a>>,
}

/// How the related items are read.
pub enum Access {
    /// One-to-many: a query of the target's table, or of its index `index`.
    Query { index: Option<RelatedIndex> },
    /// Many-to-one or one-to-one: a get by key, `range` giving the range key.
    Get {
        range: Option<Template>,
        /// One-to-one `auto_create`: a `{field}_or_create` accessor.
        or_create: bool,
        /// One-to-one `cascade`: a put or save saves the loaded child, a delete deletes it.
        cascade: bool,
    },
}

/// An index of the related model, which the derive cannot see: its name checks only
/// when the generated call to its method compiles.
pub struct RelatedIndex {
    /// The index's name as written, which finds its schema at run time.
    pub name: LitStr,
    /// The target's method for it, spanned at the name.
    pub method: Ident,
}

/// The accessor `back = "name"` generates on the related model.
pub enum Back<'m, 'a> {
    /// Of a one-to-many: the child parses its attribute with the template back into this
    /// model's key.
    Parent {
        name: Ident,
        /// This model's key fields, hash first, each with its position among the
        /// template's fields.
        key: Vec<(usize, &'m Field<'a>)>,
    },
    /// Of a many-to-one or one-to-one: a query of this model's table, or of the index
    /// `back_index` (its method, spanned at the name).
    Children { name: Ident, index: Option<Ident> },
}
