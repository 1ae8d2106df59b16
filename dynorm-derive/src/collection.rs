//! `#[derive(Collection)]`: an enum of entities sharing a partition, read by one query.
//! Each variant holds one entity; an optional `#[collection(other)]` variant holding a
//! `dynorm::Item` receives items of types the enum does not list.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::Ctxt;

pub fn derive(input: &DeriveInput) -> TokenStream {
    let mut cx = Ctxt::default();
    let Data::Enum(data) = &input.data else {
        return syn::Error::new_spanned(
            &input.ident,
            "Collection is derived for an enum whose variants each hold one entity",
        )
        .to_compile_error();
    };
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(&input.generics, "Collection cannot be derived for generic enums");
    }
    let mut entities = Vec::new();
    let mut other = None;
    for variant in &data.variants {
        let is_other = variant
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("collection"))
            .any(|a| {
                let mut found = false;
                let result = a.parse_nested_meta(|meta| {
                    if meta.path.is_ident("other") {
                        found = true;
                        Ok(())
                    } else {
                        Err(meta.error("unknown `collection` attribute; expected `other`"))
                    }
                });
                if let Err(err) = result {
                    cx.syn_error(err);
                }
                found
            });
        let ty = match &variant.fields {
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => &fields.unnamed[0].ty,
            _ => {
                cx.error_spanned_by(variant, "each variant of a Collection holds one entity: `User(User)`");
                continue;
            }
        };
        if is_other {
            if other.is_some() {
                cx.error_spanned_by(variant, "a Collection has at most one #[collection(other)] variant");
            }
            other = Some((&variant.ident, ty));
        } else {
            entities.push((&variant.ident, ty));
        }
    }
    if entities.is_empty() {
        cx.error_spanned_by(&input.ident, "a Collection needs at least one entity variant");
    }
    if let Err(err) = cx.check() {
        return err.to_compile_error();
    }
    let ident = &input.ident;
    let vis = &input.vis;
    let (_, root) = entities[0];
    let arms = entities.iter().map(|(variant, ty)| {
        quote! {
            ::dynorm::__private::core::option::Option::Some(name) if name == <#ty as ::dynorm::Entity>::TYPE_NAME => {
                ::dynorm::__private::decode_entity::<#ty>(item).map(Self::#variant)
            }
        }
    });
    let fallback = match other {
        Some((variant, ty)) => quote_spanned! {ty.span()=>
            _ => {
                let item: #ty = item;
                ::dynorm::__private::core::result::Result::Ok(Self::#variant(item))
            }
        },
        None => quote! {
            _ => ::dynorm::__private::core::result::Result::Err(::dynorm::__private::unknown_type::<Self>(&item)),
        },
    };
    let checks = entities.iter().skip(1).map(|(variant, ty)| {
        let message = format!(
            "the entity of variant `{variant}` does not share the partition of the collection's first variant: its table and `pk` template must be the same"
        );
        quote_spanned! {ty.span()=>
            const _: () = if !::dynorm::__private::str_eq(
                <#ty as ::dynorm::Model>::SCHEMA.name,
                <#root as ::dynorm::Model>::SCHEMA.name,
            ) || !::dynorm::__private::same_template(
                ::dynorm::__private::partition_template(<#ty as ::dynorm::Model>::SCHEMA),
                ::dynorm::__private::partition_template(<#root as ::dynorm::Model>::SCHEMA),
            ) {
                ::dynorm::__private::core::panic!(#message)
            };
        }
    });
    let entity_bounds = entities.iter().map(|(_, ty)| {
        quote_spanned! {ty.span()=>
            const _: fn() = || {
                fn entity<E: ::dynorm::Entity>() {}
                entity::<#ty>();
            };
        }
    });
    let doc = format!("Queries one partition of the collection: every item, each decoded into the variant its type names (see [`{ident}`]).");
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #(#entity_bounds)*
            #(#checks)*

            #[automatically_derived]
            impl ::dynorm::Collection for #ident {
                type Root = #root;

                fn decode(item: ::dynorm::Item) -> ::dynorm::Result<Self> {
                    match ::dynorm::__private::type_name_of::<Self>(&item) {
                        #(#arms)*
                        #fallback
                    }
                }
            }
        };

        impl #ident {
            #[doc = #doc]
            #[allow(dead_code)]
            #vis fn query<'a>(
                db: &'a ::dynorm::Db,
                partition: impl ::dynorm::entity::PartitionOf<#root, ::dynorm::Table<#root>>,
            ) -> ::dynorm::Query<'a, ::dynorm::Table<#root>, #ident> {
                ::dynorm::__private::collection_query::<#ident>(db, &::dynorm::entity::PartitionOf::values(partition))
            }
        }
    }
}
