//! What every model's expansion shares, whatever its keys: the document, the version,
//! the timestamps, the stored attributes, the hooks, and small token helpers.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::DeriveInput;

use crate::ast::Field;
use crate::resolved::Resolved;
use crate::{document, types};

pub(crate) fn key_attr(field: &Field) -> TokenStream {
    let name = &field.attr_name;
    // Spanned at the field's type, so a type that is not a key attribute is reported there.
    let ty = types::key_type(field.ty);
    let key_type = quote_spanned!(field.ty.span()=> <#ty as ::dynorm::KeyAttribute>::KEY_TYPE);
    quote!(::dynorm::__private::KeyAttr { name: #name, key_type: #key_type })
}

pub(crate) fn option<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::dynorm::__private::core::option::Option::Some(#v)),
        None => quote!(::dynorm::__private::core::option::Option::None),
    }
}

/// What every model expands to whatever its keys: the document, the version, the
/// timestamps, the stored attributes and the hooks.
pub(crate) struct Common {
    pub document: TokenStream,
    pub version_fn: Option<TokenStream>,
    pub version: TokenStream,
    pub version_max: TokenStream,
    pub ttl: TokenStream,
    pub created_at: TokenStream,
    pub updated_at: TokenStream,
    pub stored: Vec<String>,
    pub flattened: bool,
    pub hooks_fn: TokenStream,
    pub hooks_impl: TokenStream,
    /// The model's `migrate` function, with `#[schema(..)]`.
    pub migrate_fn: TokenStream,
    /// The `schema_version` field of the schema literal.
    pub schema_version: TokenStream,
}

impl Common {
    /// The fields of a `TableSchema` literal that describe the items, the same for every
    /// kind of model: stored attributes, version and timestamps.
    pub fn item_fields(&self, ident: &syn::Ident) -> TokenStream {
        let Common {
            version,
            version_max,
            created_at,
            updated_at,
            stored,
            flattened,
            schema_version,
            ..
        } = self;
        quote! {
            attributes: ::dynorm::__private::StoredAttributes {
                names: &[#(#stored),*],
                flattened: #flattened,
                shape: <#ident as ::dynorm::Document>::__SHAPE,
            },
            version_attribute: #version,
            version_max: #version_max,
            created_at: #created_at,
            updated_at: #updated_at,
            #schema_version
        }
    }
}

pub(crate) fn common(input: &DeriveInput, model: &Resolved, keys: &[&syn::Ident]) -> Common {
    let ident = &input.ident;
    let document = document::expand(input, model.all_fields, keys);
    let version = option(model.version.map(|f| f.attr_name.as_str()));
    let ttl = option(model.ttl.map(|f| f.attr_name.as_str()));
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
            let encoder = document::encoder(field);
            let now = quote_spanned!(ty.span()=> <#ty as ::dynorm::Timestamp>::now());
            quote! {
                ::dynorm::__private::TimestampField {
                    attribute: #attr,
                    now: {
                        fn now() -> ::dynorm::__private::core::result::Result<
                            ::dynorm::__private::AttributeValue,
                            ::dynorm::__private::ValueError,
                        > {
                            let encode: fn(&#ty, ::dynorm::__private::Shape) -> _ = #encoder;
                            encode(&#now, ::dynorm::__private::Shape::Plain)
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
        .map(|f| f.attr_name.clone())
        .collect();
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
    Common {
        document,
        version_fn,
        version,
        version_max,
        ttl,
        created_at,
        updated_at,
        stored,
        flattened,
        hooks_fn,
        hooks_impl,
        migrate_fn: crate::schema_version::migrate_fn(model.schema),
        schema_version: crate::schema_version::schema_field(model.schema),
    }
}
