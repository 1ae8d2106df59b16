//! Relationship fields (`#[dynorm(one_to_many(..))]` and siblings): accessors that
//! resolve the related items through the related model's table or index, and
//! prefetches that load them for many parents at once.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{GenericArgument, LitStr, PathArguments, Type};

use crate::ast::Field;
use crate::attr::{RelationAttr, RelationKind};
use crate::expand::index_method_name;

/// One part of a key template.
enum Part {
    Text(String),
    Field(String),
}

/// Splits `"{forum_name}\n{subject}"` into text and field names. `{{` and `}}` are
/// literal braces.
fn parse_template(lit: &LitStr) -> syn::Result<Vec<Part>> {
    let value = lit.value();
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                text.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                text.push('}');
            }
            '{' => {
                let mut name = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(c) => name.push(c),
                        None => return Err(syn::Error::new_spanned(lit, "unclosed `{` in the key template")),
                    }
                }
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                parts.push(Part::Field(name.trim().to_owned()));
            }
            '}' => {
                return Err(syn::Error::new_spanned(
                    lit,
                    "unmatched `}` in the key template; write `}}`",
                ))
            }
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(Part::Text(text));
    }
    if !parts.iter().any(|p| matches!(p, Part::Field(_))) {
        return Err(syn::Error::new_spanned(
            lit,
            "a key template names at least one field of this model, such as \"{user_name}\"",
        ));
    }
    Ok(parts)
}

/// The value a template gives for a model instance.
enum TemplateValue {
    /// `"{field}"`: the field itself (a clone of `self.field`).
    Field(TokenStream),
    /// Text and fields: formatted at run time by `dynorm::rel::format_template` (or
    /// `query_template`), which refuses a value containing the separator that follows
    /// its field, so the key is never ambiguous.
    Formatted {
        /// `&[TemplatePart]`, the template's parts.
        parts: TokenStream,
        /// The fields, in the template's order.
        fields: Vec<syn::Ident>,
    },
}

impl TemplateValue {
    /// `&[&dyn Display]`: the fields of `receiver`, in the template's order.
    fn values(fields: &[syn::Ident], receiver: TokenStream) -> TokenStream {
        quote!(&[#(&#receiver.#fields as &dyn ::dynorm::__private::core::fmt::Display),*])
    }

    /// An expression of type `String` (or the field's type, for `"{field}"`) in a
    /// function returning `dynorm::Result`: a refused value returns its error.
    /// `attribute` is the `&str` attribute the template fills, for that error.
    fn fallible(&self, attribute: TokenStream) -> TokenStream {
        match self {
            TemplateValue::Field(value) => value.clone(),
            TemplateValue::Formatted { parts, fields } => {
                let values = Self::values(fields, quote!(self));
                quote!(::dynorm::rel::format_template(#attribute, #parts, #values)?)
            }
        }
    }
}

/// The value a template gives for `self`: the field itself for `"{field}"`, otherwise a
/// string formatted at run time, which refuses ambiguous values.
fn template_value(lit: &LitStr, fields: &[Field]) -> syn::Result<TemplateValue> {
    let parts = parse_template(lit)?;
    for part in &parts {
        if let Part::Field(name) = part {
            if !fields.iter().any(|f| f.ident == name.as_str()) {
                return Err(syn::Error::new_spanned(
                    lit,
                    format!("no field named `{name}` in this model for the key template"),
                ));
            }
        }
    }
    if let [Part::Field(name)] = parts.as_slice() {
        let ident = format_ident!("{}", name);
        return Ok(TemplateValue::Field(
            quote_spanned!(lit.span()=> ::dynorm::__private::core::clone::Clone::clone(&self.#ident)),
        ));
    }
    let template_parts = template_parts(&parts);
    let fields = parts
        .iter()
        .filter_map(|part| match part {
            Part::Field(name) => Some(format_ident!("{}", name)),
            Part::Text(_) => None,
        })
        .collect();
    Ok(TemplateValue::Formatted {
        parts: quote!(&[#(#template_parts),*]),
        fields,
    })
}

/// The template's parts as `dynorm::rel::TemplatePart` values.
fn template_parts(parts: &[Part]) -> Vec<TokenStream> {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => quote!(::dynorm::rel::TemplatePart::Text(#t)),
            Part::Field(n) => quote!(::dynorm::rel::TemplatePart::Field(#n)),
        })
        .collect()
}

/// `T` of `OneToMany<T>` (or the kind's wrapper), checking the wrapper's name.
fn related_type(field: &Field, kind: RelationKind) -> syn::Result<Type> {
    let wrapper = match kind {
        RelationKind::OneToMany => "OneToMany",
        RelationKind::ManyToOne => "ManyToOne",
        RelationKind::OneToOne => "OneToOne",
    };
    let error = || {
        syn::Error::new_spanned(
            field.ty,
            format!("this relationship's field must have the type `dynorm::rel::{wrapper}<T>`"),
        )
    };
    let Type::Path(path) = field.ty else {
        return Err(error());
    };
    let last = path.path.segments.last().ok_or_else(error)?;
    if last.ident != wrapper {
        return Err(error());
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(GenericArgument::Type(ty)) if args.args.len() == 1 => Ok(ty.clone()),
            _ => Err(error()),
        },
        _ => Err(error()),
    }
}

/// The accessors and prefetches of every relationship field of the model `ident`.
pub fn expand(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    fields: &[Field],
    keys: (&Field, Option<&Field>),
) -> TokenStream {
    let mut out = TokenStream::new();
    for field in fields {
        let Some(rel) = &field.attrs.relation else { continue };
        let back = back_reference(ident, vis, field, rel, keys);
        match expand_one(ident, vis, fields, field, rel).and_then(|t| back.map(|b| quote!(#t #b))) {
            Ok(tokens) => out.extend(tokens),
            Err(err) => out.extend(err.to_compile_error()),
        }
    }
    out
}

fn expand_one(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    fields: &[Field],
    field: &Field,
    rel: &RelationAttr,
) -> syn::Result<TokenStream> {
    if !field.attrs.skip_serializing {
        return Err(syn::Error::new_spanned(
            &rel.path,
            "relationship fields are not stored: add `#[serde(skip)]` to this field",
        ));
    }
    let target = related_type(field, rel.kind)?;
    let Some(hash) = &rel.hash else {
        return Ok(TokenStream::new());
    };
    let hash_value = template_value(hash, fields)?;
    let name = field.ident;
    let prefetch = format_ident!("prefetch_{}", name);
    match rel.kind {
        RelationKind::OneToMany => {
            if let Some(range) = &rel.range {
                return Err(syn::Error::new_spanned(
                    range,
                    "a one-to-many relationship queries by hash key only",
                ));
            }
            let (ret, index_value) = match &rel.index {
                Some(index) => {
                    let method = syn::Ident::new(&index_method_name(&index.value()), index.span());
                    (
                        quote!(::dynorm::ReadStream<'__a, impl ::dynorm::Index<Model = #target>, ::dynorm::read::QueryOp, #target>),
                        quote_spanned!(index.span()=> <#target>::#method()),
                    )
                }
                None => (
                    quote!(::dynorm::Query<'__a, ::dynorm::Table<#target>>),
                    quote!(::dynorm::Table::<#target>::new()),
                ),
            };
            // A formatted template is checked for every parent before a prefetch sends
            // anything; the accessor's stream reports a refused value when polled.
            let (body, check) = match &hash_value {
                TemplateValue::Field(value) => {
                    let body = match &rel.index {
                        Some(_) => quote!(::dynorm::Index::query(#index_value, db, #value)),
                        None => quote!(<#target as ::dynorm::DynaModel>::query(db, #value)),
                    };
                    (body, TokenStream::new())
                }
                TemplateValue::Formatted { parts, fields } => {
                    let values = TemplateValue::values(fields, quote!(self));
                    let parent_values = TemplateValue::values(fields, quote!(parent));
                    (
                        quote!(::dynorm::rel::query_template(#index_value, db, #parts, #values)),
                        quote! {
                            for parent in parents.iter() {
                                ::dynorm::rel::check_template(&#index_value, #parts, #parent_values)?;
                            }
                        },
                    )
                }
            };
            let formatted = matches!(hash_value, TemplateValue::Formatted { .. });
            let mut doc =
                format!("The `{name}` of this `{ident}`: a lazy query stream (add `.recursive()` for every page).");
            let mut prefetch_doc = format!(
                "Loads the `{name}` of every parent with concurrent queries (a bounded number at once) into each parent's `{name}` field."
            );
            if formatted {
                doc.push_str(" A key template value that contains the separator following its field is refused: the stream yields `dynorm::Error::InvalidKey` and sends nothing.");
                prefetch_doc.push_str(
                    " A parent whose key template value is refused fails the prefetch before anything is sent.",
                );
            }
            Ok(quote! {
                impl #ident {
                    #[doc = #doc]
                    #vis fn #name<'__a>(&self, db: &'__a ::dynorm::Db) -> #ret {
                        #body
                    }

                    #[doc = #prefetch_doc]
                    #vis async fn #prefetch(db: &::dynorm::Db, parents: &mut [Self]) -> ::dynorm::Result<()> {
                        #check
                        ::dynorm::rel::prefetch_many(
                            parents,
                            |parent: &Self| parent.#name(db).recursive(),
                            |parent: &mut Self, children| parent.#name.set(children),
                        )
                        .await
                    }
                }
            })
        }
        RelationKind::ManyToOne | RelationKind::OneToOne => {
            if let Some(index) = &rel.index {
                return Err(syn::Error::new_spanned(
                    index,
                    "a many-to-one or one-to-one relationship reads by key; `index` is for one-to-many",
                ));
            }
            // Each value converts to its key part where the template is written, so a
            // field of the wrong type is reported there. A formatted template refuses an
            // ambiguous value with the error of the attribute it fills.
            let mut formatted = matches!(hash_value, TemplateValue::Formatted { .. });
            let hash_value = hash_value.fallible(quote!(<#target as ::dynorm::DynaModel>::schema().hash_key.name));
            let hash_part = quote_spanned!(hash.span()=>
                ::dynorm::KeyPart::<<<#target as ::dynorm::Model>::Key as ::dynorm::PrimaryKey>::Hash>::into_key_part(#hash_value)
            );
            let key = match &rel.range {
                Some(range) => {
                    let range_value = template_value(range, fields)?;
                    let range_attribute = match &range_value {
                        TemplateValue::Formatted { fields, .. } => {
                            let fallback = fields.first().map(ToString::to_string).unwrap_or_default();
                            quote! {
                                match <#target as ::dynorm::DynaModel>::schema().range_key {
                                    ::dynorm::__private::core::option::Option::Some(key) => key.name,
                                    ::dynorm::__private::core::option::Option::None => #fallback,
                                }
                            }
                        }
                        TemplateValue::Field(_) => TokenStream::new(),
                    };
                    formatted |= matches!(range_value, TemplateValue::Formatted { .. });
                    let range_value = range_value.fallible(range_attribute);
                    let range_part = quote_spanned!(range.span()=>
                        ::dynorm::KeyPart::<<<#target as ::dynorm::Model>::Key as ::dynorm::PrimaryKey>::Range>::into_key_part(#range_value)
                    );
                    quote!((#hash_part, #range_part))
                }
                None => hash_part,
            };
            let mut doc = format!("The `{name}` of this `{ident}`: a get by key, `None` when it does not exist.");
            if formatted {
                doc.push_str(" A key template value that contains the separator following its field is refused: the get resolves to `dynorm::Error::InvalidKey` and sends nothing.");
            }
            let key_fn = format_ident!("__{}_key", name);
            let or_create = rel.auto_create.as_ref().map(|_| {
                let method = format_ident!("{}_or_create", name);
                let mut doc = format!(
                    "The `{name}` of this `{ident}`, created (from `Default`, with its key) when it does not exist."
                );
                if formatted {
                    doc.push_str(
                        " A refused key template value fails with `dynorm::Error::InvalidKey` before anything is sent.",
                    );
                }
                quote! {
                    #[doc = #doc]
                    #vis async fn #method(&self, db: &::dynorm::Db) -> ::dynorm::Result<#target> {
                        ::dynorm::rel::get_or_create::<#target>(db, self.#key_fn()?).await
                    }
                }
            });
            let prefetch_doc = format!(
                "Loads the `{name}` of every parent with batch gets (each key read once) into each parent's `{name}` field."
            );
            Ok(quote! {
                impl #ident {
                    #[doc(hidden)]
                    fn #key_fn(&self) -> ::dynorm::Result<<#target as ::dynorm::Model>::Key> {
                        ::dynorm::__private::core::result::Result::Ok(::dynorm::IntoKey::into_key(#key))
                    }

                    #[doc = #doc]
                    #vis fn #name<'__a>(&self, db: &'__a ::dynorm::Db) -> ::dynorm::rel::GetRelated<'__a, #target> {
                        match self.#key_fn() {
                            ::dynorm::__private::core::result::Result::Ok(key) => {
                                ::dynorm::rel::GetRelated::Get(<#target as ::dynorm::DynaModel>::get(db, key))
                            }
                            ::dynorm::__private::core::result::Result::Err(err) => ::dynorm::rel::GetRelated::Refused(err),
                        }
                    }

                    #or_create

                    #[doc = #prefetch_doc]
                    #vis async fn #prefetch(db: &::dynorm::Db, parents: &mut [Self]) -> ::dynorm::Result<()> {
                        ::dynorm::rel::prefetch_one::<Self, #target>(
                            db,
                            parents,
                            |parent: &Self| parent.#key_fn(),
                            |parent: &mut Self, item| parent.#name.set(item),
                        )
                        .await
                    }
                }
            })
        }
    }
}

/// The back reference a relationship declares on the related model.
fn back_reference(
    ident: &syn::Ident,
    vis: &syn::Visibility,
    field: &Field,
    rel: &RelationAttr,
    (hash_field, range_field): (&Field, Option<&Field>),
) -> syn::Result<TokenStream> {
    let Some(back) = &rel.back else {
        if let Some(index) = &rel.back_index {
            return Err(syn::Error::new_spanned(
                index,
                "`back_index` goes with `back = \"name\"`",
            ));
        }
        return Ok(TokenStream::new());
    };
    let (Some(hash), Ok(target)) = (&rel.hash, related_type(field, rel.kind)) else {
        return Ok(TokenStream::new());
    };
    let back_name = syn::Ident::new(&back.value(), back.span());
    let parts = parse_template(hash)?;
    match rel.kind {
        RelationKind::OneToMany => {
            // The child's attribute holds the template; its fields must be this model's
            // key, so parsing it back gives the parent's key.
            let key_fields: Vec<&Field> = std::iter::once(hash_field).chain(range_field).collect();
            let named: Vec<&str> = parts
                .iter()
                .filter_map(|p| match p {
                    Part::Field(n) => Some(n.as_str()),
                    Part::Text(_) => None,
                })
                .collect();
            let exact = named.len() == key_fields.len()
                && key_fields
                    .iter()
                    .all(|f| named.iter().filter(|n| f.ident == **n).count() == 1);
            if !exact {
                return Err(syn::Error::new_spanned(
                    hash,
                    format!("a back reference parses this template back into `{ident}`'s key, so it must name each key field once"),
                ));
            }
            let template_parts = template_parts(&parts);
            let parse_key = key_fields.iter().map(|f| {
                let position = named.iter().position(|n| f.ident == *n).unwrap_or(0);
                let ty = f.ty;
                quote!(match parts[#position].parse::<#ty>() {
                    ::dynorm::__private::core::result::Result::Ok(v) => v,
                    ::dynorm::__private::core::result::Result::Err(_) => return ::dynorm::rel::GetRelated::Missing,
                })
            });
            let key = if key_fields.len() == 1 {
                quote!(#(#parse_key)*)
            } else {
                quote!((#(#parse_key),*))
            };
            let attribute = match &rel.index {
                Some(index) => quote! {
                    {
                        let schema = <#target as ::dynorm::DynaModel>::schema();
                        match schema.global_indexes.iter().chain(schema.local_indexes).find(|i| i.name == #index) {
                            ::dynorm::__private::core::option::Option::Some(i) => i.hash_key.name,
                            ::dynorm::__private::core::option::Option::None => return ::dynorm::rel::GetRelated::Missing,
                        }
                    }
                },
                None => quote!(<#target as ::dynorm::DynaModel>::schema().hash_key.name),
            };
            let doc = format!("The `{ident}` this item belongs to (the back reference of `{ident}::{}`); `None` when it does not exist.", field.ident);
            Ok(quote! {
                impl #target {
                    #[doc = #doc]
                    #vis fn #back_name<'__a>(&self, db: &'__a ::dynorm::Db) -> ::dynorm::rel::GetRelated<'__a, #ident> {
                        const PARTS: &[::dynorm::rel::TemplatePart] = &[#(#template_parts),*];
                        let attribute: &str = #attribute;
                        let ::dynorm::__private::core::option::Option::Some(text) = ::dynorm::rel::attribute_text(self, attribute) else {
                            return ::dynorm::rel::GetRelated::Missing;
                        };
                        let ::dynorm::__private::core::option::Option::Some(parts) = ::dynorm::rel::parse_template(PARTS, &text) else {
                            return ::dynorm::rel::GetRelated::Missing;
                        };
                        ::dynorm::rel::GetRelated::Get(<#ident as ::dynorm::DynaModel>::get(db, #key))
                    }
                }
            })
        }
        RelationKind::ManyToOne | RelationKind::OneToOne => {
            if !matches!(parts.as_slice(), [Part::Field(_)]) || rel.range.is_some() {
                return Err(syn::Error::new_spanned(
                    back,
                    "a back reference of a many-to-one relationship needs a single-field hash template, such as \"{user_name}\"",
                ));
            }
            let doc = format!("The `{ident}` items that refer to this one (the back reference of `{ident}::{}`): a lazy query stream.", field.ident);
            let (ret, body) = match &rel.back_index {
                Some(index) => {
                    let method = syn::Ident::new(&index_method_name(&index.value()), index.span());
                    let call = quote_spanned!(index.span()=> <#ident>::#method());
                    (
                        quote!(::dynorm::ReadStream<'__a, impl ::dynorm::Index<Model = #ident>, ::dynorm::read::QueryOp, #ident>),
                        quote!(::dynorm::Index::query(#call, db, <#target as ::dynorm::DynaModel>::pk(self))),
                    )
                }
                None => (
                    quote!(::dynorm::Query<'__a, ::dynorm::Table<#ident>>),
                    quote!(<#ident as ::dynorm::DynaModel>::query(db, <#target as ::dynorm::DynaModel>::pk(self))),
                ),
            };
            Ok(quote! {
                impl #target {
                    #[doc = #doc]
                    #vis fn #back_name<'__a>(&self, db: &'__a ::dynorm::Db) -> #ret {
                        #body
                    }
                }
            })
        }
    }
}

/// The `DynaModel` methods relationships override: keeping loaded relationships when an
/// instance is refreshed, and the one-to-one cascades.
pub fn model_methods(fields: &[Field]) -> TokenStream {
    let related: Vec<&Field> = fields.iter().filter(|f| f.attrs.relation.is_some()).collect();
    if related.is_empty() {
        return TokenStream::new();
    }
    let take = related.iter().map(|f| {
        let name = f.ident;
        quote!(self.#name = ::dynorm::__private::core::mem::take(&mut from.#name);)
    });
    let cascading: Vec<(&Field, Type)> = related
        .iter()
        .filter(|f| {
            f.attrs
                .relation
                .as_ref()
                .is_some_and(|r| r.kind == RelationKind::OneToOne && r.cascade.is_some())
        })
        .filter_map(|f| related_type(f, RelationKind::OneToOne).ok().map(|t| (*f, t)))
        .collect();
    let cascade = (!cascading.is_empty()).then(|| {
        let saves = cascading.iter().map(|(f, target)| {
            let name = f.ident;
            quote! {
                if let ::dynorm::__private::core::option::Option::Some(::dynorm::__private::core::option::Option::Some(child)) = self.#name.loaded() {
                    <#target as ::dynorm::DynaModel>::put(child, db).await?;
                }
            }
        });
        let deletes = cascading.iter().map(|(f, target)| {
            let key_fn = format_ident!("__{}_key", f.ident);
            quote!(<#target as ::dynorm::DynaModel>::delete_by_key(db, self.#key_fn()?).await?;)
        });
        quote! {
            fn cascade_save<'__a>(&'__a self, db: &'__a ::dynorm::Db) -> ::dynorm::__private::BoxFuture<'__a, ::dynorm::Result<()>> {
                ::std::boxed::Box::pin(async move {
                    #(#saves)*
                    ::dynorm::__private::core::result::Result::Ok(())
                })
            }

            fn cascade_delete<'__a>(&'__a self, db: &'__a ::dynorm::Db) -> ::dynorm::__private::BoxFuture<'__a, ::dynorm::Result<()>> {
                ::std::boxed::Box::pin(async move {
                    #(#deletes)*
                    ::dynorm::__private::core::result::Result::Ok(())
                })
            }
        }
    });
    quote! {
        fn take_relations(&mut self, from: &mut Self) {
            #(#take)*
        }

        #cascade
    }
}
