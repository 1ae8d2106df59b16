//! The derive pipelines (parse, validate, then expand or fall back) and the expansion
//! of a model: a static schema, the key type and `key()`, the index handles; the
//! behaviour lives in the runtime crate. Expansion reads a resolved model and cannot fail.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::DeriveInput;

use crate::ast::{Field, Model};
use crate::attr::StreamView;
use crate::common::{common, key_attr, option, Common};
use crate::ctxt::Ctxt;
use crate::resolved::{Resolved, ResolvedIndex, ResolvedProjection};
use crate::valid::{self, KeyNewtype};
use crate::{fallback, relation, types};

pub fn derive_model(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = Model::from_ast(&mut cx, input);
    if model.as_ref().is_some_and(|m| m.serde_will_fail) {
        // serde's derive rejects this struct with a precise error; adding ours (or an
        // impl that needs `Serialize`) would only bury it.
        return TokenStream::new();
    }
    let resolved = model.as_ref().and_then(|model| valid::check(&mut cx, model));
    match (cx.check(), resolved) {
        (Ok(()), Some(resolved)) => expand_model(input, &resolved),
        (Err(err), _) => fallback::model(input, err),
        // Every `None` comes with an error in `cx`; this arm keeps the macro total.
        (Ok(()), None) => fallback::model(input, syn::Error::new_spanned(&input.ident, "DynaModel: invalid input")),
    }
}

fn throughput(t: Option<(i64, i64)>) -> TokenStream {
    option(t.map(|(read, write)| quote!(::dynorm::__private::Throughput::new(#read, #write))))
}

fn index(index: &ResolvedIndex) -> TokenStream {
    let name = &index.name;
    let hash = key_attr(index.hash);
    let range = option(index.range.map(key_attr));
    let projection = match &index.projection {
        ResolvedProjection::All => quote!(::dynorm::__private::Projection::All),
        ResolvedProjection::KeysOnly => quote!(::dynorm::__private::Projection::KeysOnly),
        ResolvedProjection::Include(names) => {
            quote!(::dynorm::__private::Projection::Include(&[#(#names),*]))
        }
    };
    let throughput = throughput(index.throughput);
    let more_hash = index.more_hash.iter().map(|f| key_attr(f));
    let more_range = index.more_range.iter().map(|f| key_attr(f));
    quote! {
        ::dynorm::__private::IndexSchema {
            name: #name,
            hash_key: #hash,
            range_key: #range,
            projection: #projection,
            throughput: #throughput,
            more_hash_keys: &[#(#more_hash),*],
            more_range_keys: &[#(#more_range),*],
        }
    }
}

/// One marker type per index, implementing `dynorm::Index`, and a constructor method on
/// the model named after the index.
fn expand_index_handles(input: &DeriveInput, model: &Resolved) -> TokenStream {
    let global = model.global_indexes.iter().enumerate().map(|(i, x)| (i, x, true));
    let local = model.local_indexes.iter().enumerate().map(|(i, x)| (i, x, false));
    global
        .chain(local)
        .map(|(position, index, global)| expand_index_handle(input, index, position, global))
        .collect()
}

fn expand_index_handle(input: &DeriveInput, index: &ResolvedIndex, position: usize, global: bool) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let method_name = &index.method;
    let method = quote::format_ident!("{}", method_name);
    // Spanned at the index's name, so errors about the handle point at the declaration.
    let marker = syn::Ident::new(&index.marker, index.name_span);
    let multi = !index.more_hash.is_empty() || !index.more_range.is_empty();
    let hash_ty = types::key_type(index.hash.ty);
    let range_ty = match index.range {
        Some(_) if multi => quote!(::dynorm::__private::Templated),
        Some(range) => {
            let ty = types::key_type(range.ty);
            quote!(#ty)
        }
        None => quote!(::dynorm::__private::NoRange),
    };
    let hash_ty = if multi {
        quote!(::dynorm::__private::Templated)
    } else {
        quote!(#hash_ty)
    };
    // A multi-attribute key is queried with every partition attribute, and sorted by
    // left prefixes of its sort attributes.
    let multi_methods = multi.then(|| {
        let hash_fields: Vec<&Field> = std::iter::once(index.hash)
            .chain(index.more_hash.iter().copied())
            .collect();
        let range_fields: Vec<&Field> = index
            .range
            .into_iter()
            .chain(index.more_range.iter().copied())
            .collect();
        crate::typed_keys::native_index_methods(ident, &marker, vis, &hash_fields, &range_fields)
    });
    let list = if global {
        quote!(global_indexes)
    } else {
        quote!(local_indexes)
    };
    let kind = if global { "global" } else { "local" };
    let name = &index.name;
    let type_doc = format!("The `{name}` {kind} secondary index of [`{ident}`], made by [`{ident}::{method_name}`]; query or scan it through [`dynorm::Index`].");
    let method_doc =
        format!("The `{name}` {kind} secondary index: `{ident}::{method_name}().query(&db, hash)` or `.scan(&db)`.");
    let consistent = (!global).then(|| {
        quote! {
            #[automatically_derived]
            impl ::dynorm::__private::ConsistentRead for #marker {}
        }
    });
    quote! {
        #[doc = #type_doc]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #vis struct #marker;

        #[automatically_derived]
        impl ::dynorm::__private::Index for #marker {
            type Model = #ident;
            type Hash = #hash_ty;
            type Range = #range_ty;

            fn schema() -> ::dynorm::__private::core::option::Option<&'static ::dynorm::__private::IndexSchema> {
                ::dynorm::__private::core::option::Option::Some(
                    &<#ident as ::dynorm::Model>::SCHEMA.#list[#position],
                )
            }
        }

        #consistent

        #multi_methods

        impl #ident {
            #[doc = #method_doc]
            #[allow(dead_code)]
            #vis fn #method() -> #marker {
                #marker
            }
        }
    }
}

fn expand_model(input: &DeriveInput, model: &Resolved) -> TokenStream {
    match (&model.entity, model.hash) {
        (Some(entity), _) => crate::entity::expand(input, model, entity),
        (None, Some(hash)) => expand_table_model(input, model, hash),
        // Validation gives every model a hash key or an entity.
        (None, None) => TokenStream::new(),
    }
}

fn expand_table_model(input: &DeriveInput, model: &Resolved, hash: &Field) -> TokenStream {
    let ident = &input.ident;
    let handles = expand_index_handles(input, model);
    let relation_methods = relation::expand_model_methods(&model.relations);
    let relations = relation::expand_relations(input, &model.relations);
    let table_name = &model.table_name;
    let hash_key = key_attr(hash);
    let range_key = option(model.range.map(key_attr));
    let throughput = throughput(model.throughput);
    let stream = stream_view(model.stream);
    let range_source = option(model.range.map(|_| quote!(::dynorm::__private::KeySource::Field)));
    let global_indexes = model.global_indexes.iter().map(index);
    let local_indexes = model.local_indexes.iter().map(index);
    let options = &model.options;

    let (key_type, pk) = match model.range {
        None => {
            let hash_ty = hash.ty;
            let hash_ident = hash.ident;
            (
                quote!(#hash_ty),
                quote!(::dynorm::__private::core::clone::Clone::clone(&self.#hash_ident)),
            )
        }
        Some(range) => {
            let (hash_ty, hash_ident) = (hash.ty, hash.ident);
            let (range_ty, range_ident) = (range.ty, range.ident);
            (
                quote!((#hash_ty, #range_ty)),
                quote!((
                    ::dynorm::__private::core::clone::Clone::clone(&self.#hash_ident),
                    ::dynorm::__private::core::clone::Clone::clone(&self.#range_ident),
                )),
            )
        }
    };

    let keys: Vec<&syn::Ident> = std::iter::once(hash).chain(model.range).map(|f| f.ident).collect();
    let c = common(input, model, &keys);
    let item_fields = c.item_fields(ident);
    let Common {
        document,
        version_fn,
        ttl,
        hooks_fn,
        hooks_impl,
        migrate_fn,
        ..
    } = c;

    quote! {
        #document

        #handles

        #relations

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::TableDef for #ident {
                const TABLE: &'static ::dynorm::__private::TableSchema = <Self as ::dynorm::Model>::SCHEMA;
            }

            #[automatically_derived]
            impl ::dynorm::Model for #ident {
                type Key = #key_type;

                const SCHEMA: &'static ::dynorm::__private::TableSchema = &::dynorm::__private::TableSchema {
                    name: #table_name,
                    hash_key: #hash_key,
                    range_key: #range_key,
                    stored_key: ::dynorm::__private::StoredKey {
                        hash: ::dynorm::__private::KeySource::Field,
                        range: #range_source,
                    },
                    throughput: #throughput,
                    stream: #stream,
                    global_indexes: &[#(#global_indexes),*],
                    local_indexes: &[#(#local_indexes),*],
                    #item_fields
                    ttl_attribute: #ttl,
                    entity: ::dynorm::__private::core::option::Option::None,
                    options: #options,
                };

                fn key(&self) -> Self::Key {
                    #pk
                }

                #version_fn

                #relation_methods

                #hooks_fn

                #migrate_fn
            }

            #hooks_impl
        };
    }
}

pub(crate) fn stream_view(view: Option<StreamView>) -> TokenStream {
    option(view.map(|view| match view {
        StreamView::KeysOnly => quote!(::dynorm::__private::StreamView::KeysOnly),
        StreamView::NewImage => quote!(::dynorm::__private::StreamView::NewImage),
        StreamView::OldImage => quote!(::dynorm::__private::StreamView::OldImage),
        StreamView::NewAndOldImages => quote!(::dynorm::__private::StreamView::NewAndOldImages),
    }))
}

/// `#[derive(DynaTable)]`: the table declaration of a single-table design, its
/// struct's fields the key attributes of the table and its indexes.
pub fn derive_table(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = Model::from_ast(&mut cx, input);
    if let Some(model) = &model {
        if let Some(entity) = &model.entity {
            cx.error_spanned_by(
                entity.attr,
                "a DynaTable declares a table; #[entity] is for the entities on it",
            );
        }
    }
    let resolved = model.as_ref().and_then(|model| valid::check(&mut cx, model));
    let type_attribute = model
        .as_ref()
        .and_then(|m| m.table.as_ref())
        .and_then(|t| t.type_attribute.as_ref())
        .map(|lit| {
            if lit.value().is_empty() {
                cx.error_spanned_by(lit, "the type attribute's name cannot be empty");
            }
            lit.value()
        })
        .unwrap_or_else(|| "_type".to_owned());
    match (cx.check(), resolved) {
        (Ok(()), Some(resolved)) => match resolved.hash {
            Some(hash) => expand_table(input, &resolved, hash, &type_attribute),
            None => TokenStream::new(),
        },
        (Err(err), _) => err.to_compile_error(),
        (Ok(()), None) => syn::Error::new_spanned(&input.ident, "DynaTable: invalid input").to_compile_error(),
    }
}

fn expand_table(input: &DeriveInput, model: &Resolved, hash: &Field, type_attribute: &str) -> TokenStream {
    let ident = &input.ident;
    let table_name = &model.table_name;
    let hash_key = key_attr(hash);
    let range_key = option(model.range.map(key_attr));
    let throughput = throughput(model.throughput);
    let stream = stream_view(model.stream);
    let range_source = option(model.range.map(|_| quote!(::dynorm::__private::KeySource::Field)));
    let global_indexes = model.global_indexes.iter().map(index);
    let local_indexes = model.local_indexes.iter().map(index);
    let ttl = option(model.ttl.map(|f| f.attr_name.as_str()));
    let options = &model.options;
    let field_idents = model.all_fields.iter().map(|f| f.ident);
    let key_types = model.all_fields.iter().map(|f| {
        let ty = types::key_type(f.ty);
        quote_spanned!(f.ty.span()=> let _ = <#ty as ::dynorm::KeyAttribute>::KEY_TYPE;)
    });
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::TableDef for #ident {
                const TABLE: &'static ::dynorm::__private::TableSchema = &::dynorm::__private::TableSchema {
                    name: #table_name,
                    hash_key: #hash_key,
                    range_key: #range_key,
                    stored_key: ::dynorm::__private::StoredKey {
                        hash: ::dynorm::__private::KeySource::Field,
                        range: #range_source,
                    },
                    throughput: #throughput,
                    stream: #stream,
                    global_indexes: &[#(#global_indexes),*],
                    local_indexes: &[#(#local_indexes),*],
                    attributes: ::dynorm::__private::StoredAttributes {
                        names: &[],
                        flattened: false,
                        shape: ::dynorm::__private::Shape::Plain,
                    },
                    version_attribute: ::dynorm::__private::core::option::Option::None,
                    version_max: u64::MAX,
                    ttl_attribute: #ttl,
                    created_at: ::dynorm::__private::core::option::Option::None,
                    updated_at: ::dynorm::__private::core::option::Option::None,
                    entity: ::dynorm::__private::core::option::Option::None,
                    options: #options,
                    schema_version: ::dynorm::__private::core::option::Option::None,
                };
            }

            #[automatically_derived]
            impl ::dynorm::DynaTable for #ident {
                const TYPE_ATTRIBUTE: &'static str = #type_attribute;
            }

            const _: () = { #(#key_types)* };

            // The fields declare the key attributes; they are never read as values.
            #[allow(dead_code)]
            fn __fields(table: &#ident) {
                let _ = (#(&table.#field_idents,)*);
            }
        };
    }
}

pub fn derive_key_attribute(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let newtype = valid::check_key_newtype(&mut cx, input);
    match (cx.check(), newtype) {
        (Ok(()), Some(newtype)) => expand_key_attribute(&newtype),
        (Err(err), _) => err.to_compile_error(),
        // Every `None` comes with an error in `cx`; this arm keeps the macro total.
        (Ok(()), None) => syn::Error::new_spanned(&input.ident, "KeyAttribute: invalid input").to_compile_error(),
    }
}

fn expand_key_attribute(newtype: &KeyNewtype) -> TokenStream {
    let KeyNewtype { ident, ty } = newtype;
    let key_type = quote_spanned!(ty.span()=> <#ty as ::dynorm::KeyAttribute>::KEY_TYPE);
    let to_value = quote_spanned!(ty.span()=> <#ty as ::dynorm::KeyAttribute>::to_attribute_value(&self.0));
    // `begins_with` works on newtypes of strings and byte vectors.
    let prefix = types::is_prefix_type(ty).then(|| {
        quote! {
            #[automatically_derived]
            impl ::dynorm::__private::PrefixKey for #ident {}
        }
    });
    quote! {
        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::KeyAttribute for #ident {
                const KEY_TYPE: ::dynorm::KeyType = #key_type;
                fn to_attribute_value(&self) -> ::dynorm::__private::AttributeValue {
                    #to_value
                }
            }
            #prefix
        };
    }
}
