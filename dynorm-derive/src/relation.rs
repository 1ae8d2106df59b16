//! Relationship fields (`#[dynorm(one_to_many(..))]` and siblings): accessors that
//! resolve the related items through the related model's table or index, and
//! prefetches that load them for many parents at once. The rules are in
//! `valid/relation.rs`; this expands relationships that passed them.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::{DeriveInput, Ident, Type};

use crate::ast::Field;
use crate::naming;
use crate::resolved::{Access, Back, RelatedIndex, ResolvedRelation};
use crate::template::{Part, Template};

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
        fields: Vec<Ident>,
    },
}

impl TemplateValue {
    /// The value a template gives for `self`: the field itself for `"{field}"`,
    /// otherwise a string formatted at run time, which refuses ambiguous values.
    fn of(template: &Template) -> TemplateValue {
        if let Some(name) = template.single_field() {
            let ident = format_ident!("{}", name);
            return TemplateValue::Field(
                quote_spanned!(template.lit.span()=> ::dynorm::__private::core::clone::Clone::clone(&self.#ident)),
            );
        }
        let template_parts = template_parts(&template.parts);
        TemplateValue::Formatted {
            parts: quote!(&[#(#template_parts),*]),
            fields: template.fields().map(|name| format_ident!("{}", name)).collect(),
        }
    }

    fn is_formatted(&self) -> bool {
        matches!(self, TemplateValue::Formatted { .. })
    }

    /// `&[&dyn Display]`: the fields of `receiver`, in the template's order.
    fn values(fields: &[Ident], receiver: TokenStream) -> TokenStream {
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

/// The accessors and prefetches of every relationship of the model `ident`, and the
/// back references they declare on the related models.
pub fn expand_relations(input: &DeriveInput, relations: &[ResolvedRelation]) -> TokenStream {
    let mut out = TokenStream::new();
    for rel in relations {
        out.extend(match &rel.access {
            Access::Query { index } => expand_query(input, rel, index.as_ref()),
            Access::Get { range, or_create, .. } => expand_get(input, rel, range.as_ref(), *or_create),
        });
        out.extend(match &rel.back {
            Some(Back::Parent { name, key }) => expand_back_parent(input, rel, name, key),
            Some(Back::Children { name, index }) => expand_back_children(input, rel, name, index.as_ref()),
            None => TokenStream::new(),
        });
    }
    out
}

/// A one-to-many: the accessor is a query of the target's table or index.
fn expand_query(input: &DeriveInput, rel: &ResolvedRelation, index: Option<&RelatedIndex>) -> TokenStream {
    let (ident, vis) = (&input.ident, &input.vis);
    let target = rel.target;
    let name = rel.field.ident;
    let prefetch = naming::prefetch_method(name);
    let hash_value = TemplateValue::of(&rel.hash);
    let (ret, index_value) = match index {
        Some(index) => {
            let method = &index.method;
            (
                quote!(::dynorm::ReadStream<'__a, impl ::dynorm::Index<Model = #target>, ::dynorm::read::QueryOp, #target>),
                quote_spanned!(index.name.span()=> <#target>::#method()),
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
            let body = match index {
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
    let mut doc = format!("The `{name}` of this `{ident}`: a lazy query stream (add `.recursive()` for every page).");
    let mut prefetch_doc = format!(
        "Loads the `{name}` of every parent with concurrent queries (a bounded number at once) into each parent's `{name}` field."
    );
    if hash_value.is_formatted() {
        doc.push_str(" A key template value that contains the separator following its field is refused: the stream yields `dynorm::Error::InvalidKey` and sends nothing.");
        prefetch_doc
            .push_str(" A parent whose key template value is refused fails the prefetch before anything is sent.");
    }
    quote! {
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
    }
}

/// A many-to-one or one-to-one: the accessor is a get by the key the templates give.
fn expand_get(input: &DeriveInput, rel: &ResolvedRelation, range: Option<&Template>, or_create: bool) -> TokenStream {
    let (ident, vis) = (&input.ident, &input.vis);
    let target = rel.target;
    let name = rel.field.ident;
    let prefetch = naming::prefetch_method(name);
    let key_fn = naming::related_key_method(name);
    // Each value converts to its key part where the template is written, so a field of
    // the wrong type is reported there. A formatted template refuses an ambiguous value
    // with the error of the attribute it fills.
    let hash_value = TemplateValue::of(&rel.hash);
    let mut formatted = hash_value.is_formatted();
    let hash_value = hash_value.fallible(quote!(<#target as ::dynorm::DynaModel>::schema().hash_key.name));
    let hash_part = quote_spanned!(rel.hash.lit.span()=>
        ::dynorm::KeyPart::<<<#target as ::dynorm::Model>::Key as ::dynorm::PrimaryKey>::Hash>::into_key_part(#hash_value)
    );
    let key = match range {
        Some(range) => {
            let range_value = TemplateValue::of(range);
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
            formatted |= range_value.is_formatted();
            let range_value = range_value.fallible(range_attribute);
            let range_part = quote_spanned!(range.lit.span()=>
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
    let or_create = or_create.then(|| {
        let method = naming::or_create_method(name);
        let mut doc = format!(
            "The `{name}` of this `{ident}`, read from the table (a consistent read), or created (from `Default`, \
             with its key) when it does not exist; it is loaded into `self.{name}` (replacing what that held), so \
             a cascading save of this `{ident}` saves the changes made to it, and returned there."
        );
        if formatted {
            doc.push_str(
                " A refused key template value fails with `dynorm::Error::InvalidKey` before anything is sent.",
            );
        }
        quote! {
            #[doc = #doc]
            #vis async fn #method(&mut self, db: &::dynorm::Db) -> ::dynorm::Result<&mut #target> {
                let child = ::dynorm::rel::get_or_create::<#target>(db, self.#key_fn()?).await?;
                ::dynorm::__private::core::result::Result::Ok(::dynorm::rel::OneToOne::insert(&mut self.#name, child))
            }
        }
    });
    let prefetch_doc = format!(
        "Loads the `{name}` of every parent with batch gets (each key read once) into each parent's `{name}` field."
    );
    quote! {
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
    }
}

/// The back reference of a one-to-many, on the child: its attribute, parsed with the
/// template, gives this model's key.
fn expand_back_parent(
    input: &DeriveInput,
    rel: &ResolvedRelation,
    back_name: &Ident,
    key: &[(usize, &Field)],
) -> TokenStream {
    let (ident, vis) = (&input.ident, &input.vis);
    let target = rel.target;
    let template_parts = template_parts(&rel.hash.parts);
    let parse_key = key.iter().map(|(position, f)| {
        let ty = f.ty;
        quote!(match parts[#position].parse::<#ty>() {
            ::dynorm::__private::core::result::Result::Ok(v) => v,
            ::dynorm::__private::core::result::Result::Err(_) => return ::dynorm::rel::GetRelated::Missing,
        })
    });
    let key = if key.len() == 1 {
        quote!(#(#parse_key)*)
    } else {
        quote!((#(#parse_key),*))
    };
    let attribute = match &rel.access {
        Access::Query { index: Some(index) } => {
            let index = &index.name;
            quote! {
                {
                    let schema = <#target as ::dynorm::DynaModel>::schema();
                    match schema.global_indexes.iter().chain(schema.local_indexes).find(|i| i.name == #index) {
                        ::dynorm::__private::core::option::Option::Some(i) => i.hash_key.name,
                        ::dynorm::__private::core::option::Option::None => return ::dynorm::rel::GetRelated::Missing,
                    }
                }
            }
        }
        _ => quote!(<#target as ::dynorm::DynaModel>::schema().hash_key.name),
    };
    let doc = format!(
        "The `{ident}` this item belongs to (the back reference of `{ident}::{}`); `None` when it does not exist.",
        rel.field.ident
    );
    quote! {
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
    }
}

/// The back reference of a many-to-one or one-to-one, on the related model: a query of
/// this model's table, or of its index `index` (the method, spanned at the name).
fn expand_back_children(
    input: &DeriveInput,
    rel: &ResolvedRelation,
    back_name: &Ident,
    index: Option<&Ident>,
) -> TokenStream {
    let (ident, vis) = (&input.ident, &input.vis);
    let target = rel.target;
    let doc = format!(
        "The `{ident}` items that refer to this one (the back reference of `{ident}::{}`): a lazy query stream.",
        rel.field.ident
    );
    let (ret, body) = match index {
        Some(method) => {
            let call = quote_spanned!(method.span()=> <#ident>::#method());
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
    quote! {
        impl #target {
            #[doc = #doc]
            #vis fn #back_name<'__a>(&self, db: &'__a ::dynorm::Db) -> #ret {
                #body
            }
        }
    }
}

/// The `Model` methods relationships override: keeping loaded relationships when an
/// instance is refreshed, and the one-to-one cascades.
pub fn expand_model_methods(relations: &[ResolvedRelation]) -> TokenStream {
    if relations.is_empty() {
        return TokenStream::new();
    }
    let take = relations.iter().map(|rel| {
        let name = rel.field.ident;
        quote!(self.#name = ::dynorm::__private::core::mem::take(&mut from.#name);)
    });
    let cascading: Vec<(&Ident, &Type)> = relations
        .iter()
        .filter(|rel| matches!(rel.access, Access::Get { cascade: true, .. }))
        .map(|rel| (rel.field.ident, rel.target))
        .collect();
    let cascade = (!cascading.is_empty()).then(|| {
        let saves = cascading.iter().map(|(name, target)| {
            quote! {
                if let ::dynorm::__private::core::option::Option::Some(::dynorm::__private::core::option::Option::Some(child)) = self.#name.loaded() {
                    <#target as ::dynorm::DynaModel>::put(child, db).await?;
                }
            }
        });
        let deletes = cascading.iter().map(|(name, target)| {
            let key_fn = naming::related_key_method(name);
            quote!(<#target as ::dynorm::DynaModel>::delete_by_key(db, self.#key_fn()?).await?;)
        });
        quote! {
            const CASCADES: bool = true;

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
