//! Parsing of dynorm's attributes (`#[table]`, `#[global_index]`, `#[local_index]`,
//! `#[dynorm]`) and the serde attributes that decide attribute names. Only parsing
//! happens here; the cross-field rules are in `valid/`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitInt, LitStr, Token};

use crate::case::RenameRule;
use crate::ctxt::Ctxt;

// Attribute names.
pub const TABLE: &str = "table";
pub const GLOBAL_INDEX: &str = "global_index";
pub const LOCAL_INDEX: &str = "local_index";
pub const DYNORM: &str = "dynorm";
pub const ENTITY: &str = "entity";
pub const ENTITY_INDEX: &str = "entity_index";
pub const TYPE_ATTRIBUTE: &str = "type_attribute";
pub const SERDE: &str = "serde";

// Keys inside #[table], #[global_index] and #[local_index].
pub const NAME: &str = "name";
pub const HASH_KEY: &str = "hash_key";
pub const PARTITION_KEY: &str = "partition_key";
pub const RANGE_KEY: &str = "range_key";
pub const SORT_KEY: &str = "sort_key";
pub const READ: &str = "read";
pub const WRITE: &str = "write";
pub const STREAM: &str = "stream";
pub const PROJECTION: &str = "projection";
pub const HOOKS: &str = "hooks";

// Field roles inside #[dynorm].
pub const VERSION: &str = "version";
pub const TTL: &str = "ttl";
pub const CREATED_AT: &str = "created_at";
pub const UPDATED_AT: &str = "updated_at";
pub const LIST: &str = "list";
pub const SET: &str = "set";
pub const BINARY: &str = "binary";
pub const NUMBER: &str = "number";
pub const ONE_TO_MANY: &str = "one_to_many";
pub const MANY_TO_ONE: &str = "many_to_one";
pub const ONE_TO_ONE: &str = "one_to_one";

const TABLE_KEYS: &str = "`name`, `hash_key`, `range_key`, `read`, `write`, `stream`, `hooks`, `deletion_protection`, `table_class`, `encryption`, `kms_key`, `tags(..)`, `point_in_time_recovery`";
const GLOBAL_INDEX_KEYS: &str = "`name`, `hash_key`, `range_key`, `projection`, `read`, `write`";
const LOCAL_INDEX_KEYS: &str = "`name`, `range_key`, `projection`";
const FIELD_ROLES: &str =
    "`version`, `ttl`, `created_at`, `updated_at`, `one_to_many`, `many_to_one`, `one_to_one`, `list`, `set`, `binary`, `number`";

/// How a field's attribute asks it to be stored, over what its type says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// `#[dynorm(list)]`: as serde writes it (a set or byte vector as a list).
    List,
    /// `#[dynorm(set)]`: as a string, number or binary set.
    Set,
    /// `#[dynorm(binary)]`: as binary.
    Binary,
    /// `#[dynorm(number)]`: a string serde writes, as a number.
    Number,
}
const RELATION_KEYS: &str = "`hash`, `range`, `index`, `back`, `back_index`, `auto_create`, `cascade`";

/// The kind of a relationship field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum RelationKind {
    OneToMany,
    ManyToOne,
    OneToOne,
}

/// `#[dynorm(one_to_many(..))]` and its siblings on a relationship field.
pub struct RelationAttr {
    pub kind: RelationKind,
    /// Where the attribute is, for errors.
    pub path: syn::Path,
    /// The template of the related item's hash key: `"{forum_name}\n{subject}"`.
    pub hash: Option<LitStr>,
    /// The template of its range key, for a get by a hash and range key.
    pub range: Option<LitStr>,
    /// The related model's index to query (one-to-many), instead of its table.
    pub index: Option<LitStr>,
    /// The name of the back reference generated on the related model.
    pub back: Option<LitStr>,
    /// The index of this model a back reference queries (many-to-one).
    pub back_index: Option<LitStr>,
    /// One-to-one: generate `{field}_or_create`, which creates a missing related item.
    pub auto_create: Option<syn::Path>,
    /// One-to-one: saving this model saves the loaded related item, deleting it deletes it.
    pub cascade: Option<syn::Path>,
}

/// `#[table(..)]`.
pub struct TableAttr<'a> {
    pub attr: &'a Attribute,
    pub name: Option<LitStr>,
    pub hash_key: Option<LitStr>,
    pub range_key: Option<LitStr>,
    pub read: Option<LitInt>,
    pub write: Option<LitInt>,
    pub stream: Option<(LitStr, StreamView)>,
    /// `hooks`: the model implements `dynorm::Hooks` itself.
    pub hooks: Option<syn::Path>,
    /// `type_attribute = ".."` of a `DynaTable` declaration.
    pub type_attribute: Option<LitStr>,
    /// `deletion_protection` (or `= true`/`= false`).
    pub deletion_protection: Option<bool>,
    /// `table_class = "standard" | "standard_infrequent_access"`.
    pub table_class: Option<LitStr>,
    /// `encryption = "owned" | "aws_managed" | "kms"`, with `kms_key = ".."` for a
    /// customer managed key.
    pub encryption: Option<LitStr>,
    pub kms_key: Option<LitStr>,
    /// `tags(team = "payments", ..)`.
    pub tags: Vec<(String, LitStr)>,
    /// `point_in_time_recovery` (or `= true`/`= false`).
    pub point_in_time_recovery: Option<bool>,
    /// The attribute had a syntax error or an unknown key, already reported; checks for
    /// missing keys are skipped so the user sees that error alone.
    pub malformed: bool,
}

#[derive(Clone, Copy)]
pub enum StreamView {
    KeysOnly,
    NewImage,
    OldImage,
    NewAndOldImages,
}

/// `#[entity(table = T, name = "..", pk = "..", sk = "..", case = "..")]`.
pub struct EntityAttr<'a> {
    pub attr: &'a Attribute,
    pub table: Option<syn::Path>,
    pub name: Option<LitStr>,
    pub pk: Option<LitStr>,
    pub sk: Option<LitStr>,
    /// `case = "lower"` or `"upper"`, for every template of the entity.
    pub case: Option<LitStr>,
    pub hooks: Option<syn::Path>,
    pub malformed: bool,
}

/// `#[entity_index(name = "..", pk = "..", sk = "..")]`: the entity's templates for one
/// index of its table.
pub struct EntityIndexAttr<'a> {
    pub attr: &'a Attribute,
    pub name: Option<LitStr>,
    pub pk: Option<LitStr>,
    pub sk: Option<LitStr>,
    /// `case = ".."` for this index's templates, over the entity's.
    pub case: Option<LitStr>,
    /// `pk = ["a", "b"]`: a multi-attribute key of the entity's own fields.
    pub pk_fields: Option<Vec<LitStr>>,
    pub sk_fields: Option<Vec<LitStr>>,
    pub malformed: bool,
}

const ENTITY_KEYS: &str = "`table`, `name`, `pk`, `sk`, `case`, `hooks`";
const ENTITY_INDEX_KEYS: &str = "`name`, `pk`, `sk`, `case`";

pub fn parse_entity<'a>(cx: &mut Ctxt, attr: &'a Attribute) -> EntityAttr<'a> {
    let mut out = EntityAttr {
        attr,
        table: None,
        name: None,
        pk: None,
        sk: None,
        case: None,
        hooks: None,
        malformed: false,
    };
    let result = attr.parse_nested_meta(|meta| {
        let key = path_name(&meta.path);
        match key.as_str() {
            TABLE => set_once(cx, &meta, &mut out.table, meta.value()?.parse()?),
            NAME => set_once(cx, &meta, &mut out.name, meta.value()?.parse()?),
            "pk" | HASH_KEY | PARTITION_KEY => set_once(cx, &meta, &mut out.pk, meta.value()?.parse()?),
            "sk" | RANGE_KEY | SORT_KEY => set_once(cx, &meta, &mut out.sk, meta.value()?.parse()?),
            "case" => set_once(cx, &meta, &mut out.case, meta.value()?.parse()?),
            HOOKS => {
                if meta.input.peek(syn::Token![=]) {
                    return Err(meta.error("`hooks` takes no value: write `hooks`"));
                }
                set_once(cx, &meta, &mut out.hooks, meta.path.clone());
            }
            _ => {
                let hint = suggestion(&key, &[TABLE, NAME, "pk", "sk", "case", HOOKS]);
                cx.error_spanned_by(
                    &meta.path,
                    format!("unknown `entity` attribute `{key}`{hint}; expected one of {ENTITY_KEYS}"),
                );
                out.malformed = true;
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        out.malformed = true;
        cx.syn_error(err);
    }
    out
}

pub fn parse_entity_index<'a>(cx: &mut Ctxt, attr: &'a Attribute) -> EntityIndexAttr<'a> {
    let mut out = EntityIndexAttr {
        attr,
        name: None,
        pk: None,
        sk: None,
        case: None,
        pk_fields: None,
        sk_fields: None,
        malformed: false,
    };
    let result = attr.parse_nested_meta(|meta| {
        let key = path_name(&meta.path);
        match key.as_str() {
            NAME => set_once(cx, &meta, &mut out.name, meta.value()?.parse()?),
            "pk" | HASH_KEY | PARTITION_KEY if meta.input.peek(Token![=]) && meta.input.peek2(syn::token::Bracket) => {
                let (first, more) = parse_key_names(&meta)?;
                set_once(
                    cx,
                    &meta,
                    &mut out.pk_fields,
                    std::iter::once(first).chain(more).collect(),
                );
            }
            "sk" | RANGE_KEY | SORT_KEY if meta.input.peek(Token![=]) && meta.input.peek2(syn::token::Bracket) => {
                let (first, more) = parse_key_names(&meta)?;
                set_once(
                    cx,
                    &meta,
                    &mut out.sk_fields,
                    std::iter::once(first).chain(more).collect(),
                );
            }
            "pk" | HASH_KEY | PARTITION_KEY => set_once(cx, &meta, &mut out.pk, meta.value()?.parse()?),
            "sk" | RANGE_KEY | SORT_KEY => set_once(cx, &meta, &mut out.sk, meta.value()?.parse()?),
            "case" => set_once(cx, &meta, &mut out.case, meta.value()?.parse()?),
            _ => {
                let hint = suggestion(&key, &[NAME, "pk", "sk", "case"]);
                cx.error_spanned_by(
                    &meta.path,
                    format!("unknown `entity_index` attribute `{key}`{hint}; expected one of {ENTITY_INDEX_KEYS}"),
                );
                out.malformed = true;
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        out.malformed = true;
        cx.syn_error(err);
    }
    out
}

/// `#[global_index(..)]` or `#[local_index(..)]`.
pub struct IndexAttr<'a> {
    pub attr: &'a Attribute,
    pub local: bool,
    pub name: Option<LitStr>,
    pub hash_key: Option<LitStr>,
    pub range_key: Option<LitStr>,
    /// The further attributes of a multi-attribute key: `hash_key = ["a", "b"]`.
    pub more_hash: Vec<LitStr>,
    pub more_range: Vec<LitStr>,
    pub projection: Option<ProjectionAttr>,
    pub read: Option<LitInt>,
    pub write: Option<LitInt>,
    /// See [`TableAttr::malformed`].
    pub malformed: bool,
}

pub enum ProjectionAttr {
    All,
    KeysOnly,
    /// Field names with the span to report them at.
    Include(Vec<(String, Span)>),
}

/// What the derive reads from a field's attributes.
#[derive(Default)]
pub struct FieldAttrs {
    pub rename: Option<String>,
    pub skip_serializing: bool,
    pub flatten: bool,
    /// `skip_serializing_if`: the attribute can be absent from the item.
    pub skip_serializing_if: bool,
    /// The path given to `with` or `serialize_with`, when serde does not write the field's
    /// default form.
    pub custom_serialize: Option<String>,
    /// Whether `custom_serialize` came from `with` (a module) rather than
    /// `serialize_with` (a function).
    pub custom_is_module: bool,
    pub version: Option<syn::Path>,
    pub ttl: Option<syn::Path>,
    pub created_at: Option<syn::Path>,
    pub updated_at: Option<syn::Path>,
    pub relation: Option<RelationAttr>,
    /// `#[dynorm(list)]`, `set`, `binary` or `number`, with the attribute's path for spans.
    pub storage: Option<(Storage, syn::Path)>,
}

/// What the derive reads from the struct's serde attributes.
#[derive(Default)]
pub struct ContainerSerde {
    pub rename_all: Option<RenameRule>,
    /// serde will fail on this struct; the derive then emits nothing, so serde's error
    /// stands alone.
    pub unknown_rename_all: bool,
}

fn set_once<T>(cx: &mut Ctxt, meta: &ParseNestedMeta, slot: &mut Option<T>, value: T) {
    if slot.is_none() {
        *slot = Some(value);
        return;
    }
    let given = path_name(&meta.path);
    let message = match canonical(&given) {
        Some(canonical) => format!("duplicate `{given}`: it is an alias of `{canonical}`, which is already set"),
        None => format!("duplicate `{given}`"),
    };
    cx.error_spanned_by(&meta.path, message);
}

/// The key an alias stands for.
fn canonical(alias: &str) -> Option<&'static str> {
    match alias {
        PARTITION_KEY => Some(HASH_KEY),
        SORT_KEY => Some(RANGE_KEY),
        _ => None,
    }
}

/// The known key closest to a misspelled one, for a "did you mean" hint.
fn suggestion(unknown: &str, known: &[&'static str]) -> String {
    let distance = |a: &str, b: &str| {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut row = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != *cb);
                row.push((prev[j] + cost).min(prev[j + 1] + 1).min(row[j] + 1));
            }
            prev = row;
        }
        prev[b.len()]
    };
    known
        .iter()
        .map(|k| (distance(unknown, k), *k))
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

fn path_name(path: &syn::Path) -> String {
    path.get_ident().map(|i| i.to_string()).unwrap_or_else(|| "?".into())
}

pub fn parse_table<'a>(cx: &mut Ctxt, attr: &'a Attribute) -> TableAttr<'a> {
    let mut out = TableAttr {
        attr,
        name: None,
        hash_key: None,
        range_key: None,
        read: None,
        write: None,
        stream: None,
        hooks: None,
        type_attribute: None,
        deletion_protection: None,
        table_class: None,
        encryption: None,
        kms_key: None,
        tags: Vec::new(),
        point_in_time_recovery: None,
        malformed: false,
    };
    let result = attr.parse_nested_meta(|meta| {
        let key = path_name(&meta.path);
        match key.as_str() {
            NAME => set_once(cx, &meta, &mut out.name, meta.value()?.parse()?),
            TYPE_ATTRIBUTE => set_once(cx, &meta, &mut out.type_attribute, meta.value()?.parse()?),
            "deletion_protection" => {
                let on = flag_value(&meta)?;
                set_once(cx, &meta, &mut out.deletion_protection, on)
            }
            "point_in_time_recovery" => {
                let on = flag_value(&meta)?;
                set_once(cx, &meta, &mut out.point_in_time_recovery, on)
            }
            "table_class" => set_once(cx, &meta, &mut out.table_class, meta.value()?.parse()?),
            "encryption" => set_once(cx, &meta, &mut out.encryption, meta.value()?.parse()?),
            "kms_key" => set_once(cx, &meta, &mut out.kms_key, meta.value()?.parse()?),
            "tags" => {
                meta.parse_nested_meta(|tag| {
                    let key = tag
                        .path
                        .get_ident()
                        .map(|i| i.unraw().to_string())
                        .ok_or_else(|| tag.error("a tag is `key = \"value\"`"))?;
                    let value: LitStr = tag.value()?.parse()?;
                    out.tags.push((key, value));
                    Ok(())
                })?;
            }
            HOOKS => {
                if meta.input.peek(syn::Token![=]) {
                    return Err(meta.error("`hooks` takes no value: write `hooks`"));
                }
                set_once(cx, &meta, &mut out.hooks, meta.path.clone());
            }
            HASH_KEY | PARTITION_KEY => set_once(cx, &meta, &mut out.hash_key, meta.value()?.parse()?),
            RANGE_KEY | SORT_KEY => set_once(cx, &meta, &mut out.range_key, meta.value()?.parse()?),
            READ => set_once(cx, &meta, &mut out.read, meta.value()?.parse()?),
            WRITE => set_once(cx, &meta, &mut out.write, meta.value()?.parse()?),
            STREAM => {
                let lit: LitStr = meta.value()?.parse()?;
                let view = match lit.value().to_ascii_lowercase().as_str() {
                    "keys_only" => StreamView::KeysOnly,
                    "new_image" => StreamView::NewImage,
                    "old_image" => StreamView::OldImage,
                    "new_and_old_images" => StreamView::NewAndOldImages,
                    _ => {
                        return Err(syn::Error::new_spanned(
                            &lit,
                            "unknown stream view; expected \"keys_only\", \"new_image\", \"old_image\" or \"new_and_old_images\"",
                        ))
                    }
                };
                set_once(cx, &meta, &mut out.stream, (lit, view));
            }
            _ => {
                let hint = suggestion(
                    &key,
                    &[NAME, HASH_KEY, RANGE_KEY, READ, WRITE, STREAM, HOOKS, "deletion_protection", "table_class", "encryption", "tags"],
                );
                cx.error_spanned_by(
                    &meta.path,
                    format!("unknown `table` attribute `{key}`{hint}; expected one of {TABLE_KEYS}"),
                );
                out.malformed = true;
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        out.malformed = true;
        cx.syn_error(err);
    }
    out
}

pub fn parse_index<'a>(cx: &mut Ctxt, attr: &'a Attribute, local: bool) -> IndexAttr<'a> {
    let mut out = IndexAttr {
        attr,
        local,
        name: None,
        hash_key: None,
        range_key: None,
        more_hash: Vec::new(),
        more_range: Vec::new(),
        projection: None,
        read: None,
        write: None,
        malformed: false,
    };
    let (which, expected) = if local {
        (LOCAL_INDEX, LOCAL_INDEX_KEYS)
    } else {
        (GLOBAL_INDEX, GLOBAL_INDEX_KEYS)
    };
    let result = attr.parse_nested_meta(|meta| {
        let key = path_name(&meta.path);
        match key.as_str() {
            NAME => set_once(cx, &meta, &mut out.name, meta.value()?.parse()?),
            RANGE_KEY | SORT_KEY => {
                let (first, more) = parse_key_names(&meta)?;
                set_once(cx, &meta, &mut out.range_key, first);
                out.more_range = more;
            }
            PROJECTION => set_once(cx, &meta, &mut out.projection, parse_projection(meta.value()?)?),
            HASH_KEY | PARTITION_KEY if !local => {
                let (first, more) = parse_key_names(&meta)?;
                set_once(cx, &meta, &mut out.hash_key, first);
                out.more_hash = more;
            }
            READ if !local => set_once(cx, &meta, &mut out.read, meta.value()?.parse()?),
            WRITE if !local => set_once(cx, &meta, &mut out.write, meta.value()?.parse()?),
            HASH_KEY | PARTITION_KEY => {
                cx.error_spanned_by(
                    &meta.path,
                    "a local index always uses the table's hash key; remove `hash_key`",
                );
                skip_value(&meta)?;
            }
            READ | WRITE => {
                cx.error_spanned_by(
                    &meta.path,
                    "a local index shares the table's throughput; set `read`/`write` on #[table]",
                );
                skip_value(&meta)?;
            }
            _ => {
                cx.error_spanned_by(
                    &meta.path,
                    format!("unknown `{which}` attribute `{key}`; expected one of {expected}"),
                );
                skip_value(&meta)?;
            }
        }
        Ok(())
    });
    if let Err(err) = result {
        out.malformed = true;
        cx.syn_error(err);
    }
    out
}

/// A flag written bare (`deletion_protection`: on) or with a value (`= false`).
fn flag_value(meta: &ParseNestedMeta) -> syn::Result<bool> {
    if meta.input.peek(Token![=]) {
        let lit: syn::LitBool = meta.value()?.parse()?;
        Ok(lit.value)
    } else {
        Ok(true)
    }
}

/// `"field"`, or `["a", "b"]` for a multi-attribute key: the first name and the others.
fn parse_key_names(meta: &ParseNestedMeta) -> syn::Result<(LitStr, Vec<LitStr>)> {
    let input = meta.value()?;
    if input.peek(syn::token::Bracket) {
        let content;
        let bracket = syn::bracketed!(content in input);
        let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
        let mut names = names.into_iter();
        let Some(first) = names.next() else {
            return Err(syn::Error::new(bracket.span.join(), "name at least one attribute"));
        };
        return Ok((first, names.collect()));
    }
    Ok((input.parse()?, Vec::new()))
}

/// `all`, `keys_only`, `include(a, b)`, or the same as a string.
fn parse_projection(input: ParseStream) -> syn::Result<ProjectionAttr> {
    const EXPECTED: &str = "expected `all`, `keys_only` or `include(field, ...)`";
    let unknown = |value: &dyn std::fmt::Display| format!("unknown projection `{value}`: {EXPECTED}");
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        let value = lit.value();
        let value = value.trim();
        return match value.to_ascii_lowercase().as_str() {
            "all" => Ok(ProjectionAttr::All),
            "keys_only" => Ok(ProjectionAttr::KeysOnly),
            lower if lower.starts_with("include(") && lower.ends_with(')') => {
                let inner = &value["include(".len()..value.len() - 1];
                let names = inner
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| (s.to_owned(), lit.span()))
                    .collect();
                Ok(ProjectionAttr::Include(names))
            }
            _ => Err(syn::Error::new_spanned(&lit, unknown(&value))),
        };
    }
    let ident: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), EXPECTED))?;
    match ident.to_string().as_str() {
        "all" => Ok(ProjectionAttr::All),
        "keys_only" => Ok(ProjectionAttr::KeysOnly),
        "include" => {
            let content;
            syn::parenthesized!(content in input);
            let names = Punctuated::<IncludeName, Token![,]>::parse_terminated(&content)?;
            Ok(ProjectionAttr::Include(names.into_iter().map(|n| (n.0, n.1)).collect()))
        }
        _ => Err(syn::Error::new_spanned(&ident, unknown(&ident))),
    }
}

struct IncludeName(String, Span);

impl syn::parse::Parse for IncludeName {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            Ok(IncludeName(lit.value(), lit.span()))
        } else {
            let ident = Ident::parse_any(input)?;
            Ok(IncludeName(ident.unraw().to_string(), ident.span()))
        }
    }
}

/// Reads `#[dynorm(..)]` and the naming-relevant parts of `#[serde(..)]` on a field.
pub fn parse_field(cx: &mut Ctxt, field: &syn::Field) -> FieldAttrs {
    let mut out = FieldAttrs::default();
    for attr in &field.attrs {
        if attr.path().is_ident(DYNORM) {
            let result = attr.parse_nested_meta(|meta| {
                let key = path_name(&meta.path);
                match key.as_str() {
                    VERSION => set_once(cx, &meta, &mut out.version, meta.path.clone()),
                    TTL => set_once(cx, &meta, &mut out.ttl, meta.path.clone()),
                    CREATED_AT => set_once(cx, &meta, &mut out.created_at, meta.path.clone()),
                    UPDATED_AT => set_once(cx, &meta, &mut out.updated_at, meta.path.clone()),
                    LIST | SET | BINARY | NUMBER => {
                        let storage = match key.as_str() {
                            LIST => Storage::List,
                            SET => Storage::Set,
                            BINARY => Storage::Binary,
                            _ => Storage::Number,
                        };
                        if let Some((_, first)) = &out.storage {
                            let first = path_name(first);
                            cx.error_spanned_by(
                                &meta.path,
                                format!("`{key}` conflicts with `{first}`: a field is stored one way"),
                            );
                        } else {
                            out.storage = Some((storage, meta.path.clone()));
                        }
                    }
                    ONE_TO_MANY | MANY_TO_ONE | ONE_TO_ONE => {
                        let kind = match key.as_str() {
                            ONE_TO_MANY => RelationKind::OneToMany,
                            MANY_TO_ONE => RelationKind::ManyToOne,
                            _ => RelationKind::OneToOne,
                        };
                        let relation = parse_relation(cx, &meta, kind)?;
                        set_once(cx, &meta, &mut out.relation, relation);
                    }
                    _ => {
                        cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "unknown `dynorm` field attribute `{key}`{}; expected one of {FIELD_ROLES}",
                                suggestion(
                                    &key,
                                    &[
                                        VERSION,
                                        TTL,
                                        CREATED_AT,
                                        UPDATED_AT,
                                        ONE_TO_MANY,
                                        MANY_TO_ONE,
                                        ONE_TO_ONE,
                                        LIST,
                                        SET,
                                        BINARY,
                                        NUMBER
                                    ]
                                )
                            ),
                        );
                        skip_value(&meta)?;
                    }
                }
                Ok(())
            });
            if let Err(err) = result {
                cx.syn_error(err);
            }
        } else if attr.path().is_ident(SERDE) {
            // serde reports its own errors; here unknown content is skipped, not judged.
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rename") {
                    if let Some(name) = parse_rename(&meta)? {
                        out.rename = Some(name);
                    }
                } else if meta.path.is_ident("skip") || meta.path.is_ident("skip_serializing") {
                    out.skip_serializing = true;
                } else if meta.path.is_ident("flatten") {
                    out.flatten = true;
                } else if meta.path.is_ident("skip_serializing_if") {
                    out.skip_serializing_if = true;
                    skip_value(&meta)?;
                } else if meta.path.is_ident("with") || meta.path.is_ident("serialize_with") {
                    out.custom_is_module = meta.path.is_ident("with");
                    out.custom_serialize = Some(match meta.value()?.parse::<LitStr>() {
                        Ok(lit) => lit.value(),
                        Err(_) => String::new(),
                    });
                } else {
                    skip_value(&meta)?;
                }
                Ok(())
            });
        }
    }
    out
}

/// Reads `rename_all` from the struct's `#[serde(..)]` attributes.
pub fn parse_container_serde(attrs: &[Attribute]) -> ContainerSerde {
    let mut out = ContainerSerde::default();
    for attr in attrs.iter().filter(|a| a.path().is_ident(SERDE)) {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let lit = if meta.input.peek(Token![=]) {
                    Some(meta.value()?.parse::<LitStr>()?)
                } else {
                    let mut serialize = None;
                    meta.parse_nested_meta(|inner| {
                        if inner.path.is_ident("serialize") {
                            serialize = Some(inner.value()?.parse::<LitStr>()?);
                        } else {
                            skip_value(&inner)?;
                        }
                        Ok(())
                    })?;
                    serialize
                };
                if let Some(lit) = lit {
                    match RenameRule::from_name(&lit.value()) {
                        Some(rule) => out.rename_all = Some(rule),
                        // serde's derive reports it, listing the valid rules.
                        None => out.unknown_rename_all = true,
                    }
                }
            } else {
                skip_value(&meta)?;
            }
            Ok(())
        });
    }
    out
}

/// `rename = "x"` or `rename(serialize = "x", deserialize = "y")`: the serialized name.
fn parse_rename(meta: &ParseNestedMeta) -> syn::Result<Option<String>> {
    if meta.input.peek(Token![=]) {
        return Ok(Some(meta.value()?.parse::<LitStr>()?.value()));
    }
    let mut serialize = None;
    meta.parse_nested_meta(|inner| {
        if inner.path.is_ident("serialize") {
            serialize = Some(inner.value()?.parse::<LitStr>()?.value());
        } else {
            skip_value(&inner)?;
        }
        Ok(())
    })?;
    Ok(serialize)
}

/// Consumes whatever follows a key we do not handle: `= expr`, `(...)`, or nothing.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content: proc_macro2::TokenStream = {
            let content;
            syn::parenthesized!(content in meta.input);
            content.parse()?
        };
    }
    Ok(())
}

/// Reads the inside of `one_to_many(..)`, `many_to_one(..)` or `one_to_one(..)`.
fn parse_relation(cx: &mut Ctxt, meta: &ParseNestedMeta, kind: RelationKind) -> syn::Result<RelationAttr> {
    let mut out = RelationAttr {
        kind,
        path: meta.path.clone(),
        hash: None,
        range: None,
        index: None,
        back: None,
        back_index: None,
        auto_create: None,
        cascade: None,
    };
    meta.parse_nested_meta(|inner| {
        let key = path_name(&inner.path);
        if key == "auto_create" || key == "cascade" {
            if kind != RelationKind::OneToOne {
                cx.error_spanned_by(&inner.path, format!("`{key}` is a one-to-one option"));
            }
            let slot = if key == "auto_create" {
                &mut out.auto_create
            } else {
                &mut out.cascade
            };
            set_once(cx, &inner, slot, inner.path.clone());
            return Ok(());
        }
        let slot = match key.as_str() {
            "hash" => &mut out.hash,
            "range" => &mut out.range,
            "index" => &mut out.index,
            "back" => &mut out.back,
            "back_index" => &mut out.back_index,
            _ => {
                cx.error_spanned_by(
                    &inner.path,
                    format!(
                        "unknown relationship key `{key}`{}; expected one of {RELATION_KEYS}",
                        suggestion(
                            &key,
                            &["hash", "range", "index", "back", "back_index", "auto_create", "cascade"]
                        )
                    ),
                );
                return skip_value(&inner);
            }
        };
        let lit: LitStr = inner.value()?.parse()?;
        set_once(cx, &inner, slot, lit);
        Ok(())
    })?;
    if out.hash.is_none() {
        cx.error_spanned_by(
            &out.path,
            "a relationship needs `hash = \"{field}\"`: the related key, from this model's fields",
        );
    }
    Ok(out)
}
