//! On error: the errors plus a stub impl, so the user sees the real error and not a
//! cascade of "DynaModel is not implemented" errors wherever the model is used.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

pub fn model(input: &DeriveInput, error: syn::Error) -> TokenStream {
    let errors = error.to_compile_error();
    if !input.generics.params.is_empty() || !matches!(input.data, syn::Data::Struct(_)) {
        return errors;
    }
    let ident = &input.ident;
    quote! {
        #errors

        #[doc(hidden)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::DynaModel for #ident {
                type Key = ::dynorm::__private::FallbackKey;

                fn schema() -> &'static ::dynorm::__private::TableSchema {
                    ::dynorm::__private::core::unreachable!()
                }

                fn pk(&self) -> Self::Key {
                    ::dynorm::__private::core::unreachable!()
                }
            }
        };
    }
}
