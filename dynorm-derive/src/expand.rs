//! Emits the trait impls. Generated code stays thin: a static schema, the key type and
//! `pk()`; the behaviour lives in the runtime crate.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ast::{Field, Model};
use crate::attr::StreamView;
use crate::ctxt::Ctxt;
use crate::fallback;
use crate::valid::{self, Resolved, ResolvedIndex, ResolvedProjection};

pub fn derive_model(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let model = Model::from_ast(&mut cx, input);
    if model.as_ref().is_some_and(|m| m.serde_will_fail) {
        // serde's derive rejects this struct with a precise error; adding ours (or an
        // impl that needs `Serialize`) would only bury it.
        return TokenStream::new();
    }
    let tokens = model.and_then(|model| valid::check(&mut cx, &model).map(|resolved| expand_model(input, &resolved)));
    match (cx.check(), tokens) {
        (Ok(()), Some(tokens)) => tokens,
        (Err(err), _) => fallback::model(input, err),
        // Every `None` comes with an error in `cx`; this arm keeps the macro total.
        (Ok(()), None) => fallback::model(input, syn::Error::new_spanned(&input.ident, "DynaModel: invalid input")),
    }
}

fn key_attr(field: &Field) -> TokenStream {
    let name = &field.attr_name;
    // Spanned at the field's type, so a type that is not a key attribute is reported there.
    let ty = valid::key_type(field);
    let key_type = quote_spanned!(field.ty.span()=> <#ty as ::dynorm::KeyAttribute>::KEY_TYPE);
    quote!(::dynorm::__private::KeyAttr { name: #name, key_type: #key_type })
}

fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::dynorm::__private::core::option::Option::Some(#v)),
        None => quote!(::dynorm::__private::core::option::Option::None),
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
    quote! {
        ::dynorm::__private::IndexSchema {
            name: #name,
            hash_key: #hash,
            range_key: #range,
            projection: #projection,
            throughput: #throughput,
        }
    }
}

/// DynaModel's own methods, which an index method must not shadow.
const MODEL_METHODS: &[&str] = &[
    "schema",
    "pk",
    "get",
    "put",
    "put_unique",
    "save",
    "update",
    "update_by_key",
    "query",
    "scan",
    "fields",
    "delete",
    "delete_by_key",
    "objects",
    "create_table",
    "delete_table",
    "table_exists",
    "wait_until_active",
    "ensure_table",
    // Common inherent and trait constructors a method must not silently shadow.
    "new",
    "default",
];

/// `by-author` → `by_author`; a name that is no identifier gets an `index_` prefix.
pub fn index_method_name(name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase words are split like serde's snake_case: `byAuthor` → `by_author`.
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || syn::parse_str::<syn::Ident>(&out).is_err() {
        format!("index_{out}")
    } else {
        out
    }
}

fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// One marker type per index, implementing `dynorm::Index`, and a constructor method on
/// the model named after the index.
fn index_handles(input: &DeriveInput, model: &Resolved) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let mut seen: Vec<String> = Vec::new();
    let mut markers: Vec<String> = Vec::new();
    let mut out = TokenStream::new();
    let all = model
        .global_indexes
        .iter()
        .enumerate()
        .map(|(i, x)| (i, x, true))
        .chain(model.local_indexes.iter().enumerate().map(|(i, x)| (i, x, false)));
    for (position, index, global) in all {
        let method_name = index_method_name(&index.name);
        if MODEL_METHODS.contains(&method_name.as_str()) || seen.contains(&method_name) {
            let problem = if seen.contains(&method_name) {
                format!("two indexes would both get the method `{method_name}`; rename one")
            } else {
                format!(
                    "an index named `{}` would shadow `DynaModel::{method_name}`; rename it",
                    index.name
                )
            };
            out.extend(syn::Error::new(index.name_span, problem).to_compile_error());
            continue;
        }
        seen.push(method_name.clone());
        let marker_name = format!("{}{}Index", ident, pascal(&method_name));
        if markers.contains(&marker_name) {
            let problem = format!("two indexes would both get the type `{marker_name}`; rename one");
            out.extend(syn::Error::new(index.name_span, problem).to_compile_error());
            continue;
        }
        markers.push(marker_name.clone());
        let method = quote::format_ident!("{}", method_name);
        // Spanned at the index's name, so errors about the handle point at the declaration.
        let marker = syn::Ident::new(&marker_name, index.name_span);
        let hash_ty = valid::key_type(index.hash);
        let range_ty = match index.range {
            Some(range) => {
                let ty = valid::key_type(range);
                quote!(#ty)
            }
            None => quote!(::dynorm::__private::NoRange),
        };
        let list = if global {
            quote!(global_indexes)
        } else {
            quote!(local_indexes)
        };
        let kind = if global { "global" } else { "local" };
        let name = &index.name;
        let type_doc = format!("The `{name}` {kind} secondary index of [`{ident}`], made by [`{ident}::{method_name}`]; query or scan it through [`dynorm::Index`].");
        let method_doc = format!(
            "The `{name}` {kind} secondary index: `{ident}::{method_name}().query(&db, hash)` or `.scan(&db)`."
        );
        let consistent = (!global).then(|| {
            quote! {
                #[automatically_derived]
                impl ::dynorm::__private::ConsistentRead for #marker {}
            }
        });
        out.extend(quote! {
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

            impl #ident {
                #[doc = #method_doc]
                #[allow(dead_code)]
                #vis fn #method() -> #marker {
                    #marker
                }
            }
        });
    }
    out
}

fn expand_model(input: &DeriveInput, model: &Resolved) -> TokenStream {
    let ident = &input.ident;
    let handles = index_handles(input, model);
    let relation_methods = crate::relation::model_methods(model.all_fields);
    let relations = crate::relation::expand(&input.ident, &input.vis, model.all_fields, (model.hash, model.range));
    let table_name = &model.table_name;
    let hash_key = key_attr(model.hash);
    let range_key = option(model.range.map(key_attr));
    let throughput = throughput(model.throughput);
    let stream = option(model.stream.map(|view| match view {
        StreamView::KeysOnly => quote!(::dynorm::__private::StreamView::KeysOnly),
        StreamView::NewImage => quote!(::dynorm::__private::StreamView::NewImage),
        StreamView::OldImage => quote!(::dynorm::__private::StreamView::OldImage),
        StreamView::NewAndOldImages => quote!(::dynorm::__private::StreamView::NewAndOldImages),
    }));
    let range_source = option(model.range.map(|_| quote!(::dynorm::__private::KeySource::Field)));
    let global_indexes = model.global_indexes.iter().map(index);
    let local_indexes = model.local_indexes.iter().map(index);
    let version = option(model.version.map(|f| f.attr_name.as_str()));
    let ttl = option(model.ttl.map(|f| f.attr_name.as_str()));

    let (key_type, pk) = match model.range {
        None => {
            let hash_ty = model.hash.ty;
            let hash_ident = model.hash.ident;
            (
                quote!(#hash_ty),
                quote!(::dynorm::__private::core::clone::Clone::clone(&self.#hash_ident)),
            )
        }
        Some(range) => {
            let (hash_ty, hash_ident) = (model.hash.ty, model.hash.ident);
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

    let keys: Vec<&syn::Ident> = std::iter::once(model.hash)
        .chain(model.range)
        .map(|f| f.ident)
        .collect();
    let document = crate::document::expand(input, model.all_fields, &keys);
    let version_fn = model.version.map(|field| {
        let (ident, ty) = (field.ident, field.ty);
        quote! {
            fn version(&self) -> ::dynorm::__private::core::option::Option<u64> {
                ::dynorm::__private::core::option::Option::Some(
                    <u64 as ::dynorm::__private::core::convert::TryFrom<#ty>>::try_from(self.#ident).unwrap_or(0),
                )
            }
        }
    });
    let version_max = match model.version {
        // The field's type caps the version; `as` casts, as this is a constant.
        Some(field) => {
            let ty = field.ty;
            quote! {
                if (<#ty>::MAX as u128) > (u64::MAX as u128) {
                    u64::MAX
                } else {
                    <#ty>::MAX as u64
                }
            }
        }
        None => quote!(u64::MAX),
    };
    let stamp_field = |field: Option<&Field>| {
        option(field.map(|field| {
            let ty = field.ty;
            let attr = &field.attr_name;
            let encoder = crate::document::encoder(field);
            let now = quote_spanned!(ty.span()=> <#ty as ::dynorm::Timestamp>::now());
            quote! {
                ::dynorm::__private::TimestampField {
                    attribute: #attr,
                    now: {
                        fn now() -> ::dynorm::__private::core::result::Result<
                            ::dynorm::__private::AttributeValue,
                            ::dynorm::__private::serde_dynamo::Error,
                        > {
                            let encode: fn(&#ty) -> _ = #encoder;
                            encode(&#now)
                        }
                        now
                    },
                }
            }
        }))
    };
    let created_at = stamp_field(model.created_at);
    let updated_at = stamp_field(model.updated_at);
    let stored = model
        .all_fields
        .iter()
        .filter(|f| !f.attrs.skip_serializing && !f.attrs.flatten)
        .map(|f| f.attr_name.as_str());
    let flattened = model.all_fields.iter().any(|f| f.attrs.flatten);
    // With `hooks`, the user implements `Hooks` and the model hands its methods to the
    // operations; without, the default impl makes a user's impl a conflict, not hooks
    // that never run.
    let (hooks_fn, hooks_impl) = match model.hooks {
        Some(flag) => (
            quote_spanned! {flag.span()=>
                fn hooks() -> ::dynorm::__private::core::option::Option<::dynorm::__private::HookFns<Self>> {
                    ::dynorm::__private::core::option::Option::Some(::dynorm::__private::hook_fns::<Self>())
                }
            },
            quote!(),
        ),
        None => (
            quote!(),
            quote! {
                #[automatically_derived]
                impl ::dynorm::Hooks for #ident {}
            },
        ),
    };

    quote! {
        #document

        #handles

        #relations

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
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
                    attributes: ::dynorm::__private::StoredAttributes {
                        names: &[#(#stored),*],
                        flattened: #flattened,
                    },
                    version_attribute: #version,
                    version_max: #version_max,
                    ttl_attribute: #ttl,
                    created_at: #created_at,
                    updated_at: #updated_at,
                };

                fn key(&self) -> Self::Key {
                    #pk
                }

                #version_fn

                #relation_methods

                #hooks_fn
            }

            #hooks_impl
        };
    }
}

pub fn derive_key_attribute(input: &DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let field = match &input.data {
        Data::Struct(data) => match &data.fields {
            // serde writes a tuple newtype as its inner value, which is what a key needs;
            // a struct with a named field would be written as a map.
            Fields::Unnamed(f) if f.unnamed.len() == 1 => f.unnamed.first(),
            _ => None,
        },
        _ => None,
    };
    let Some(field) = field else {
        return syn::Error::new_spanned(
            ident,
            "KeyAttribute can only be derived for a tuple newtype, such as `struct UserId(String);`",
        )
        .to_compile_error();
    };
    if !input.generics.params.is_empty() {
        return syn::Error::new_spanned(&input.generics, "KeyAttribute cannot be derived for generic structs")
            .to_compile_error();
    }
    let ty = &field.ty;
    if let Some(problem) = valid::unsupported_key_type(ty, false) {
        return syn::Error::new_spanned(ty, problem).to_compile_error();
    }
    let mut cx = Ctxt::default();
    let with = crate::attr::parse_field(&mut cx, field).custom_serialize;
    if let Err(err) = cx.check() {
        return err.to_compile_error();
    }
    if let Some(problem) = valid::key_serialization_problem(ty, with.as_deref()) {
        return syn::Error::new_spanned(ty, problem).to_compile_error();
    }
    let access = match &field.ident {
        Some(name) => quote!(self.#name),
        None => quote!(self.0),
    };
    let key_type = quote_spanned!(ty.span()=> <#ty as ::dynorm::KeyAttribute>::KEY_TYPE);
    let to_value = quote_spanned!(ty.span()=> <#ty as ::dynorm::KeyAttribute>::to_attribute_value(&#access));
    // `begins_with` works on newtypes of strings and byte vectors.
    let prefix = is_prefix_type(ty).then(|| {
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

/// Whether a newtype's field is a string or byte vector, whose keys have prefixes.
fn is_prefix_type(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "String" | "Vec" | "Cow")),
        _ => false,
    }
}
