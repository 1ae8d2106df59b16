//! Typed field paths: the `{Name}Fields` struct with one method per stored field, and
//! the `Document` impl that hands it out. Shared by `DynaModel` and `Document`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::{Field, Model};
use crate::attr::Storage;
use crate::ctxt::Ctxt;
use crate::naming;
use crate::shape;

/// An expression of type `fn(&T) -> Result<AttributeValue, ValueError>` that
/// encodes the field's value as serde stores it, following `#[serde(with)]` and
/// `#[serde(serialize_with)]`.
pub fn encoder(field: &Field) -> TokenStream {
    let ty = field.ty;
    let custom = field
        .attrs
        .custom_serialize
        .as_deref()
        .and_then(|path| syn::parse_str::<syn::Path>(path).ok());
    let Some(path) = custom else {
        return quote!(::dynorm::__private::encode::<#ty>);
    };
    let call = if field.attrs.custom_is_module {
        quote!(#path::serialize(self.0, serializer))
    } else {
        quote!(#path(self.0, serializer))
    };
    quote!({
        fn __encode(
            value: &#ty,
            _: ::dynorm::__private::Shape,
        ) -> ::dynorm::__private::core::result::Result<
            ::dynorm::__private::AttributeValue,
            ::dynorm::__private::ValueError,
        > {
            struct __With<'__a>(&'__a #ty);
            impl<'__a> ::dynorm::__private::serde::Serialize for __With<'__a> {
                fn serialize<__S: ::dynorm::__private::serde::Serializer>(
                    &self,
                    serializer: __S,
                ) -> ::dynorm::__private::core::result::Result<__S::Ok, __S::Error> {
                    #call
                }
            }
            ::dynorm::__private::encode(&__With(value), ::dynorm::__private::Shape::Plain)
        }
        __encode
    })
}

/// The fields struct and the `Document` impl. The fields in `keys` (a model's primary
/// key) get a `KeyPath`, which conditions take and updates do not: DynamoDB cannot change
/// an item's key.
pub fn expand(input: &DeriveInput, fields: &[Field], keys: &[&syn::Ident]) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let fields_ident = naming::fields_struct(ident);
    let shape = shape::struct_shape(fields);
    let doc = format!("Typed attribute paths of [`{ident}`]'s fields, made by its `fields()`.");
    let methods = fields
        .iter()
        .filter(|f| !f.attrs.skip_serializing && !f.attrs.flatten && f.attrs.relation.is_none())
        .map(|field| {
            let name = field.ident;
            let ty = field.ty;
            let attr = &field.attr_name;
            let doc = format!("The path of `{}` (stored as `{attr}`).", name);
            let listed_set = match &field.attrs.storage {
                Some((Storage::List, _)) => shape::set_element(ty),
                _ => None,
            };
            let (ty, path) = if let Some(element) = listed_set {
                // A set stored as a list has a list's path: no set operations.
                let list: syn::Type = syn::parse_quote!(::std::vec::Vec<#element>);
                let path = quote!(self.base.__child::<#list>(#attr));
                (quote!(#list), path)
            } else if field.attrs.custom_serialize.is_some() {
                let encoder = encoder(field);
                (quote!(#ty), quote!(self.base.__child_with::<#ty>(#attr, #encoder)))
            } else if let Some(shape) = shape::field_shape(field) {
                (quote!(#ty), quote!(self.base.__child_shaped::<#ty>(#attr, #shape)))
            } else {
                (quote!(#ty), quote!(self.base.__child::<#ty>(#attr)))
            };
            if keys.contains(&name) {
                let doc = format!("{doc} A key attribute: for conditions and filters, not updates.");
                return quote! {
                    #[doc = #doc]
                    #[allow(clippy::all)]
                    pub fn #name(&self) -> ::dynorm::__private::KeyPath<R, #ty> {
                        ::dynorm::__private::KeyPath::__new(#path)
                    }
                };
            }
            quote! {
                #[doc = #doc]
                #[allow(clippy::all)]
                pub fn #name(&self) -> ::dynorm::__private::Path<R, #ty> {
                    #path
                }
            }
        });
    quote! {
        #[doc = #doc]
        #vis struct #fields_ident<R> {
            base: ::dynorm::__private::Path<R, #ident>,
        }

        #[automatically_derived]
        #[allow(dead_code, non_snake_case, clippy::all)]
        impl<R> #fields_ident<R> {
            #(#methods)*
        }

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::Document for #ident {
                type Fields<R> = #fields_ident<R>;

                const __SHAPE: ::dynorm::__private::Shape = #shape;

                fn __fields<R>(base: ::dynorm::__private::Path<R, Self>) -> #fields_ident<R> {
                    #fields_ident { base }
                }
            }
        };
    }
}

/// `#[derive(Document)]` on a nested struct.
pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "Document cannot be derived for generic structs");
    }
    let model = Model::from_ast(&mut cx, input);
    let tokens = model.map(|model| expand(input, &model.fields, &[]));
    match (cx.check(), tokens) {
        (Ok(()), Some(tokens)) => tokens,
        (Err(err), _) => err.to_compile_error(),
        (Ok(()), None) => syn::Error::new_spanned(&input.ident, "Document: invalid input").to_compile_error(),
    }
}
