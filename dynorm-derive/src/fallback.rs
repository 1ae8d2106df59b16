//! On error: the errors plus a stub impl, so the user sees the real error and not a
//! cascade of "DynaModel is not implemented" errors wherever the model is used.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub fn model(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    // The stub needs what DynaModel needs (Serialize, DeserializeOwned, Validate); only
    // a plain struct with named, owned fields can have those, so only it gets one.
    let plain = match &input.data {
        syn::Data::Struct(data) => match &data.fields {
            syn::Fields::Named(named) => !named.named.iter().any(|f| matches!(f.ty, syn::Type::Reference(_))),
            _ => false,
        },
        _ => false,
    };
    if !input.generics.params.is_empty() || !plain {
        return errors;
    }
    let ident = &input.ident;
    quote! {
        #errors

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::TableDef for #ident {
                const TABLE: &'static ::dynorm::__private::TableSchema = &::dynorm::__private::FALLBACK_SCHEMA;
            }

            #[automatically_derived]
            impl ::dynorm::Model for #ident {
                type Key = ::dynorm::__private::FallbackKey;

                const SCHEMA: &'static ::dynorm::__private::TableSchema = &::dynorm::__private::FALLBACK_SCHEMA;

                fn key(&self) -> Self::Key {
                    ::dynorm::__private::core::unreachable!()
                }
            }

            #[automatically_derived]
            impl ::dynorm::Document for #ident {
                type Fields<R> = ();

                fn __fields<R>(_: ::dynorm::__private::Path<R, Self>) {}
            }
        };
    }
}
