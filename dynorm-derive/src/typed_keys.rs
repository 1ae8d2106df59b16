//! The typed conversions of keys, partitions and sort prefixes that the generated
//! queries take, for entities and for indexes whose key attributes are fields.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, Type};

use crate::ast::Field;
use crate::types;

pub(crate) fn private() -> TokenStream {
    "::dynorm::__private".parse().expect("a path")
}

/// `query` on the marker of an index whose key attributes are fields, and the
/// partition and sort prefix conversions for it.
pub(crate) fn native_index_methods(
    ident: &Ident,
    marker: &Ident,
    vis: &syn::Visibility,
    pk: &[&Field],
    sk: &[&Field],
) -> TokenStream {
    let pv = private();
    let partition = partition_impls(ident, &quote!(#marker), pk);
    let sort = (!sk.is_empty()).then(|| sort_impls(ident, &quote!(#marker), sk));
    quote! {
        impl #marker {
            /// Queries the items whose partition attributes equal these values, in order.
            #[allow(dead_code)]
            #vis fn query<'a>(self, db: &'a ::dynorm::Db, partition: impl ::dynorm::entity::PartitionOf<#ident, #marker>) -> ::dynorm::Query<'a, #marker> {
                #pv::native_query::<#marker>(db, &::dynorm::entity::PartitionOf::values(partition))
            }
        }

        #partition
        #sort
    }
}

/// Conversions of values into one of the entity's typed keys or partitions: a tuple of
/// one value per field (each anything the field's type takes as a key part), and for a
/// single field the value itself.
pub(crate) fn conversions(
    trait_path: &TokenStream,
    fields: &[&Field],
    build: impl Fn(Vec<TokenStream>) -> TokenStream,
    signature: TokenStream,
) -> TokenStream {
    let params: Vec<Ident> = (0..fields.len()).map(|i| format_ident!("__K{}", i)).collect();
    let types: Vec<&Type> = fields.iter().map(|f| types::key_type(f.ty)).collect();
    let indexes: Vec<syn::Index> = (0..fields.len()).map(syn::Index::from).collect();
    let values = indexes
        .iter()
        .map(|i| quote!(::dynorm::KeyPart::into_key_part(self.#i)))
        .collect();
    let body = build(values);
    let mut out = quote! {
        #[automatically_derived]
        impl<#(#params: ::dynorm::KeyPart<#types>),*> #trait_path for (#(#params,)*) {
            #signature {
                #body
            }
        }
    };
    if let [ty] = types.as_slice() {
        let body = build(vec![quote!(::dynorm::KeyPart::into_key_part(self))]);
        let mut singles = vec![quote!(#ty)];
        if types::last_segment(ty).is_some_and(|s| s.ident == "String") {
            singles.push(quote!(&'__k str));
            singles.push(quote!(&'__k ::std::string::String));
        }
        for single in singles {
            out.extend(quote! {
                #[automatically_derived]
                impl<'__k> #trait_path for #single {
                    #signature {
                        #body
                    }
                }
            });
        }
    }
    out
}

/// `PartitionOf<M, I>` for the values of a partition template's fields.
pub(crate) fn partition_impls(ident: &Ident, index: &TokenStream, fields: &[&Field]) -> TokenStream {
    if fields.is_empty() {
        // A partition of literal text only: the unit value.
        return quote! {
            #[automatically_derived]
            impl ::dynorm::entity::PartitionOf<#ident, #index> for () {
                fn values(self) -> ::std::vec::Vec<::dynorm::__private::AttributeValue> {
                    ::std::vec::Vec::new()
                }
            }
        };
    }
    conversions(
        &quote!(::dynorm::entity::PartitionOf<#ident, #index>),
        fields,
        |values| {
            let types = fields.iter().map(|f| types::key_type(f.ty));
            quote!(::std::vec![#(::dynorm::KeyAttribute::to_attribute_value(&{ let v: #types = #values; v })),*])
        },
        quote!(fn values(self) -> ::std::vec::Vec<::dynorm::__private::AttributeValue>),
    )
}

/// `SortPrefix<M, I>` for every left prefix of a sort template's fields.
pub(crate) fn sort_impls(ident: &Ident, index: &TokenStream, fields: &[&Field]) -> TokenStream {
    let mut out = TokenStream::new();
    for n in 1..=fields.len() {
        let prefix = &fields[..n];
        out.extend(conversions(
            &quote!(::dynorm::SortPrefix<#ident, #index>),
            prefix,
            |values| {
                let types = prefix.iter().map(|f| types::key_type(f.ty));
                quote!(::std::vec![#(::dynorm::KeyAttribute::to_attribute_value(&{ let v: #types = #values; v })),*])
            },
            quote!(fn values(self) -> ::std::vec::Vec<::dynorm::__private::AttributeValue>),
        ));
    }
    out
}
