//! The expansion of an entity (`#[entity(..)]` on a `DynaModel`): its key type, its
//! schema built on the table declaration's, the const checks that need the table, and
//! the query methods typed from its templates.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, Ident, Type};

use crate::ast::Field;
use crate::common::{common, option, Common};
use crate::resolved::{EntityCase, Resolved, ResolvedEntity, ResolvedTemplate, Width};
use crate::template::Part;
use crate::typed_keys::{conversions, native_index_methods, partition_impls, private, sort_impls};
use crate::types;

pub fn expand(input: &DeriveInput, model: &Resolved, entity: &ResolvedEntity) -> TokenStream {
    let ident = &input.ident;
    let vis = &input.vis;
    let pv = private();
    let table = &entity.table;
    // The fields of the table's own key cannot be changed by an update: their paths
    // are key paths, for conditions only.
    let table_templates = 1 + usize::from(entity.has_sort);
    let mut key_idents: Vec<&Ident> = Vec::new();
    for t in &entity.templates[..table_templates.min(entity.templates.len())] {
        for f in &t.fields {
            if !key_idents.contains(&f.ident) {
                key_idents.push(f.ident);
            }
        }
    }
    let c = common(input, model, &key_idents);
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

    // The key type.
    let key_ident = format_ident!("{}Key", ident);
    let key_doc = format!(
        "The key of [`{ident}`]: the fields its key templates are made of. `{ident}::get(&db, ({}))` takes them as a tuple.",
        entity
            .key_fields
            .iter()
            .map(|f| f.ident.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let key_names: Vec<&Ident> = entity.key_fields.iter().map(|f| f.ident).collect();
    let key_types: Vec<&Type> = entity.key_fields.iter().map(|f| f.ty).collect();
    let key_attrs: Vec<&str> = entity.key_fields.iter().map(|f| f.attr_name.as_str()).collect();
    // Spanned at each field's type, so a type that cannot be a key part is reported there.
    let field_values: Vec<TokenStream> = entity
        .key_fields
        .iter()
        .map(|f| {
            let name = f.ident;
            quote_spanned!(f.ty.span()=> ::dynorm::KeyAttribute::to_attribute_value(&self.#name))
        })
        .collect();
    let range_type = if entity.has_sort {
        quote!(#pv::Templated)
    } else {
        quote!(#pv::NoRange)
    };
    let range_value = if entity.has_sort {
        quote!(::dynorm::__private::core::option::Option::Some(#pv::entity_key_value(<#ident as ::dynorm::Model>::SCHEMA, &::dynorm::PrimaryKey::field_values(self), false)))
    } else {
        quote!(::dynorm::__private::core::option::Option::None)
    };
    let into_key = conversions(
        &quote!(::dynorm::IntoKey<#key_ident>),
        &entity.key_fields,
        |values| quote!(#key_ident { #(#key_names: #values),* }),
        quote!(fn into_key(self) -> #key_ident),
    );

    // The schema.
    let table_def = quote!(<#table as ::dynorm::TableDef>::TABLE);
    let keys = entity.templates.iter().map(|t| computed_key(t, &table_def));
    let type_name = &entity.type_name;
    let stored_hash = key_source(&entity.templates[0]);
    let stored_range = option(entity.has_sort.then(|| key_source(&entity.templates[1])));
    let ttl_attr = quote! {
        // Time to live is the table's: the declaration's attribute, else the entity's.
        match #table_def.ttl_attribute {
            ::dynorm::__private::core::option::Option::Some(ttl) => ::dynorm::__private::core::option::Option::Some(ttl),
            ::dynorm::__private::core::option::Option::None => #ttl,
        }
    };

    // Checks that need the table declaration, evaluated as constants.
    let checks = checks(ident, entity, &table_def);

    // Queries.
    let sort_template = entity.has_sort.then(|| &entity.templates[1]);
    let table_index = quote!(::dynorm::Table<#ident>);
    let partition = &entity.templates[0];
    let table_partition = partition_impls(ident, &table_index, &partition.fields);
    let table_sort = sort_template.map(|t| sort_impls(ident, &table_index, &t.fields));
    let query_doc = format!(
        "Queries the {ident} items of one partition (`{}`), restricted to the sort keys of this entity. Narrow it with `sort_prefix`, `sort_between`, `sort_from` or `sort_until`.",
        partition.lit.value()
    );
    let handles = entity.indexes.iter().map(|index| {
        let marker = Ident::new(&index.marker, index.name.span());
        let method = Ident::new(&index.method, index.name.span());
        let name = &index.name;
        if let Some((pk, sk)) = &index.native {
            return native_entity_index(ident, vis, index, &marker, &method, pk, sk, &table_def);
        }
        let partition_fields = match index.partition {
            Some(i) => &entity.templates[i].fields,
            None => &partition.fields,
        };
        let partition_impls = partition_impls(ident, &quote!(#marker), partition_fields);
        let sort = index.sort.map(|i| sort_impls(ident, &quote!(#marker), &entity.templates[i].fields));
        let range = if index.sort.is_some() {
            quote!(#pv::Templated)
        } else {
            quote!(#pv::NoRange)
        };
        let type_doc = format!("The `{}` index of the table, as [`{ident}`] uses it; made by [`{ident}::{}`].", name.value(), index.method);
        let method_doc = format!("The `{}` index, with this entity's templates: `{ident}::{}().query(&db, ..)`.", name.value(), index.method);
        quote! {
            #[doc = #type_doc]
            #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
            #vis struct #marker;

            #[automatically_derived]
            impl ::dynorm::Index for #marker {
                type Model = #ident;
                type Hash = #pv::Templated;
                type Range = #range;

                fn schema() -> ::dynorm::__private::core::option::Option<&'static ::dynorm::IndexSchema> {
                    #pv::find_index(<#ident as ::dynorm::Model>::SCHEMA, #name)
                }
            }

            impl #marker {
                /// Queries one partition of the index (its template's fields), restricted
                /// to the sort keys of this entity.
                #[allow(dead_code)]
                #vis fn query<'a>(self, db: &'a ::dynorm::Db, partition: impl ::dynorm::entity::PartitionOf<#ident, #marker>) -> ::dynorm::Query<'a, #marker> {
                    #pv::entity_query::<#marker>(db, &::dynorm::entity::PartitionOf::values(partition))
                }
            }

            impl #ident {
                #[doc = #method_doc]
                #[allow(dead_code)]
                #vis fn #method() -> #marker {
                    #marker
                }
            }

            #partition_impls
            #sort
        }
    });

    quote! {
        #document

        #[doc = #key_doc]
        #[derive(Debug, Clone)]
        #vis struct #key_ident {
            #(
                #[allow(missing_docs)]
                pub #key_names: #key_types,
            )*
        }

        #[automatically_derived]
        impl ::dynorm::PrimaryKey for #key_ident {
            type Hash = #pv::Templated;
            type Range = #range_type;

            fn hash_value(&self) -> #pv::AttributeValue {
                #pv::entity_key_value(<#ident as ::dynorm::Model>::SCHEMA, &::dynorm::PrimaryKey::field_values(self), true)
            }

            fn range_value(&self) -> ::dynorm::__private::core::option::Option<#pv::AttributeValue> {
                #range_value
            }

            fn field_values(&self) -> ::std::vec::Vec<#pv::AttributeValue> {
                ::std::vec![#(#field_values),*]
            }
        }

        #into_key

        #[automatically_derived]
        impl ::dynorm::IntoKey<#key_ident> for #key_ident {
            fn into_key(self) -> #key_ident {
                self
            }
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_qualifications, clippy::all)]
        const _: () = {
            #[automatically_derived]
            impl ::dynorm::TableDef for #ident {
                const TABLE: &'static ::dynorm::__private::TableSchema = <Self as ::dynorm::Model>::SCHEMA;
            }

            #[automatically_derived]
            impl ::dynorm::Model for #ident {
                type Key = #key_ident;

                const SCHEMA: &'static ::dynorm::__private::TableSchema = &::dynorm::__private::TableSchema {
                    name: #table_def.name,
                    hash_key: #table_def.hash_key,
                    range_key: #table_def.range_key,
                    stored_key: ::dynorm::__private::StoredKey {
                        hash: #stored_hash,
                        range: #stored_range,
                    },
                    throughput: #table_def.throughput,
                    stream: #table_def.stream,
                    global_indexes: #table_def.global_indexes,
                    local_indexes: #table_def.local_indexes,
                    #item_fields
                    ttl_attribute: #ttl_attr,
                    entity: ::dynorm::__private::core::option::Option::Some(&::dynorm::EntitySchema {
                        type_name: #type_name,
                        type_attribute: <#table as ::dynorm::DynaTable>::TYPE_ATTRIBUTE,
                        key_fields: &[#(#key_attrs),*],
                        keys: &[#(#keys),*],
                    }),
                    options: #table_def.options,
                };

                fn key(&self) -> Self::Key {
                    #key_ident {
                        #(#key_names: ::dynorm::__private::core::clone::Clone::clone(&self.#key_names),)*
                    }
                }

                #version_fn

                #hooks_fn

                #migrate_fn
            }

            #[automatically_derived]
            impl ::dynorm::Entity for #ident {
                type Table = #table;
                const TYPE_NAME: &'static str = #type_name;
            }

            #hooks_impl

            #checks
        };

        impl #ident {
            /// Scans the table for the items of this entity (a filter on the type
            /// attribute: other entities' items are read and dropped by DynamoDB).
            #[allow(dead_code)]
            #vis fn scan(db: &::dynorm::Db) -> ::dynorm::Scan<'_, #table_index> {
                #pv::entity_scan::<#ident>(db)
            }

            #[doc = #query_doc]
            #[allow(dead_code)]
            #vis fn query<'a>(db: &'a ::dynorm::Db, partition: impl ::dynorm::entity::PartitionOf<#ident, #table_index>) -> ::dynorm::Query<'a, #table_index> {
                #pv::entity_query::<#table_index>(db, &::dynorm::entity::PartitionOf::values(partition))
            }
        }

        #table_partition
        #table_sort

        #(#handles)*
    }
}

/// The marker of an index whose key attributes are the entity's own fields, with the
/// checks that they are the table's index attributes, in order.
#[allow(clippy::too_many_arguments)]
fn native_entity_index(
    ident: &Ident,
    vis: &syn::Visibility,
    index: &crate::resolved::EntityIndex,
    marker: &Ident,
    method: &Ident,
    pk: &[&Field],
    sk: &[&Field],
    table_def: &TokenStream,
) -> TokenStream {
    let name = &index.name;
    let pv = private();
    let range = if sk.is_empty() {
        quote!(#pv::NoRange)
    } else {
        quote!(#pv::Templated)
    };
    let hash_names: Vec<&str> = pk.iter().map(|f| f.attr_name.as_str()).collect();
    let range_names: Vec<&str> = sk.iter().map(|f| f.attr_name.as_str()).collect();
    let message = format!(
        "the table's index `{}` does not have the key attributes [{}] / [{}] of this declaration, in this order",
        name.value(),
        hash_names.join(", "),
        range_names.join(", ")
    );
    let methods = native_index_methods(ident, marker, vis, pk, sk);
    let check = quote_spanned! {name.span()=>
        const _: () = if !#pv::index_has_keys(#table_def, #name, &[#(#hash_names),*], &[#(#range_names),*]) {
            ::dynorm::__private::core::panic!(#message)
        };
    };
    let type_doc = format!(
        "The `{}` index of the table, keyed by fields of [`{ident}`]; made by [`{ident}::{}`].",
        name.value(),
        index.method
    );
    let method_doc = format!(
        "The `{}` index: `{ident}::{}().query(&db, ..)`.",
        name.value(),
        index.method
    );
    quote! {
        #[doc = #type_doc]
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        #vis struct #marker;

        #[automatically_derived]
        impl ::dynorm::Index for #marker {
            type Model = #ident;
            type Hash = #pv::Templated;
            type Range = #range;

            fn schema() -> ::dynorm::__private::core::option::Option<&'static ::dynorm::IndexSchema> {
                #pv::find_index(<#ident as ::dynorm::Model>::SCHEMA, #name)
            }
        }

        #check

        #methods

        impl #ident {
            #[doc = #method_doc]
            #[allow(dead_code)]
            #vis fn #method() -> #marker {
                #marker
            }
        }
    }
}

fn key_source(t: &ResolvedTemplate) -> TokenStream {
    let parts = parts(t);
    quote!(::dynorm::__private::KeySource::Template(&[#(#parts),*]))
}

fn parts(t: &ResolvedTemplate) -> Vec<TokenStream> {
    let mut fields = t.fields.iter();
    t.template
        .parts
        .iter()
        .map(|p| match p {
            Part::Text(text) => quote!(::dynorm::TemplatePart::Text(#text)),
            Part::Field(_) => {
                // Stored under the field's attribute name.
                let name = fields.next().map(|f| f.attr_name.as_str()).unwrap_or_default();
                quote!(::dynorm::TemplatePart::Field(#name))
            }
        })
        .collect()
}

fn computed_key(t: &ResolvedTemplate, table_def: &TokenStream) -> TokenStream {
    let case = t.case;
    let parts = parts(t);
    let widths = t.widths.iter().map(|w| match w {
        Width::None => quote!(0u8),
        Width::Declared(w) => quote!(#w),
        Width::Auto(ty) => quote!(<#ty as ::dynorm::__private::AutoWidth>::WIDTH),
    });
    let case = match case {
        EntityCase::Keep => quote!(::dynorm::KeyCase::Keep),
        EntityCase::Lower => quote!(::dynorm::KeyCase::Lower),
        EntityCase::Upper => quote!(::dynorm::KeyCase::Upper),
    };
    let index = option(t.index.as_ref());
    let index_value = t
        .index
        .as_ref()
        .map(|lit| quote!(::dynorm::__private::core::option::Option::Some(#lit)));
    let index_value = index_value.unwrap_or_else(|| quote!(::dynorm::__private::core::option::Option::None));
    let partition = t.partition;
    let single = t.template.parts.len() == 1 && matches!(t.template.parts[0], Part::Field(_));
    let as_value = if single {
        quote!(!::dynorm::__private::key_is_string(#table_def, #index_value, #partition))
    } else {
        quote!(false)
    };
    quote! {
        ::dynorm::ComputedKey {
            attribute: ::dynorm::__private::index_key_name(#table_def, #index_value, #partition),
            index: #index,
            partition: #partition,
            template: ::dynorm::KeyTemplate {
                parts: &[#(#parts),*],
                widths: &[#(#widths),*],
                case: #case,
                as_value: #as_value,
            },
        }
    }
}

/// The checks only the table declaration can answer, as constants spanned where the
/// entity names what is wrong.
fn checks(ident: &Ident, entity: &ResolvedEntity, table_def: &TokenStream) -> TokenStream {
    let mut out = TokenStream::new();
    let span = entity.templates[0].lit.span();
    let has_sort = entity.has_sort;
    let message = if has_sort {
        "the entity has a sort key template (`sk`), but its table has no sort key"
    } else {
        "the entity's table has a sort key: add `sk = \"...\"` to #[entity]"
    };
    out.extend(quote_spanned! {span=>
        const _: () = if ::dynorm::__private::has_sort_key(#table_def, ::dynorm::__private::core::option::Option::None) != #has_sort {
            ::dynorm::__private::core::panic!(#message)
        };
    });
    let message = "two of the entity's templates write the same key attribute differently (an index whose key attribute is the table's, or two indexes sharing one): give them the same template, or use other attributes";
    out.extend(quote_spanned! {span=>
        const _: () = if !::dynorm::__private::distinct_key_attributes(<#ident as ::dynorm::Model>::SCHEMA) {
            ::dynorm::__private::core::panic!(#message)
        };
    });
    for index in &entity.indexes {
        let name = &index.name;
        let message = format!("the entity's table declares no index named `{}`", name.value());
        out.extend(quote_spanned! {name.span()=>
            const _: () = if !::dynorm::__private::has_index(#table_def, #name) {
                ::dynorm::__private::core::panic!(#message)
            };
        });
        if index.native.is_none() {
            let n = name.value();
            let (global, local_pk, multi, missing_sk) = (
                format!("`{n}` is a global index: give the entity's partition template for it with `pk = \"...\"`"),
                format!("`{n}` is a local index, which shares the table's partition key: give only `sk`"),
                format!("`{n}` has a multi-attribute key: name the entity's fields with `pk = [..]` and `sk = [..]`"),
                format!("`{n}` has a sort key: give the entity's template for it with `sk = \"...\"`"),
            );
            let has_pk = index.partition.is_some();
            let has_sk = index.sort.is_some();
            out.extend(quote_spanned! {name.span()=>
                const _: () = if ::dynorm::__private::is_global_index(#table_def, #name) && !#has_pk {
                    ::dynorm::__private::core::panic!(#global)
                };
                const _: () = if ::dynorm::__private::has_index(#table_def, #name)
                    && !::dynorm::__private::is_global_index(#table_def, #name) && #has_pk
                {
                    ::dynorm::__private::core::panic!(#local_pk)
                };
                const _: () = if ::dynorm::__private::is_multi_attribute_index(#table_def, #name) {
                    ::dynorm::__private::core::panic!(#multi)
                };
                const _: () = if ::dynorm::__private::has_index(#table_def, #name)
                    && ::dynorm::__private::has_sort_key(#table_def, ::dynorm::__private::core::option::Option::Some(#name))
                    && !#has_sk
                {
                    ::dynorm::__private::core::panic!(#missing_sk)
                };
            });
        }
        if let Some(i) = index.sort {
            let lit = &entity.templates[i].lit;
            let message = format!("the index `{}` has no sort key for this `sk` template", name.value());
            out.extend(quote_spanned! {lit.span()=>
                const _: () = if ::dynorm::__private::has_index(#table_def, #name)
                    && !::dynorm::__private::has_sort_key(#table_def, ::dynorm::__private::core::option::Option::Some(#name))
                {
                    ::dynorm::__private::core::panic!(#message)
                };
            });
        }
    }
    for t in &entity.templates {
        let single = t.template.parts.len() == 1 && matches!(t.template.parts[0], Part::Field(_));
        if !single {
            let index = match &t.index {
                Some(lit) => quote!(::dynorm::__private::core::option::Option::Some(#lit)),
                None => quote!(::dynorm::__private::core::option::Option::None),
            };
            let partition = t.partition;
            let message = "a key template makes a string, but this key attribute is not a string: use a template of one field (\"{{field}}\") for a number or binary key";
            out.extend(quote_spanned! {t.lit.span()=>
                const _: () = if !::dynorm::__private::key_is_string(#table_def, #index, #partition) {
                    ::dynorm::__private::core::panic!(#message)
                };
            });
        }
        let index = match &t.index {
            Some(lit) => quote!(::dynorm::__private::core::option::Option::Some(#lit)),
            None => quote!(::dynorm::__private::core::option::Option::None),
        };
        let partition = t.partition;
        for (field, width) in t.fields.iter().zip(&t.widths) {
            let ty = types::key_type(field.ty);
            out.extend(quote_spanned! {t.lit.span()=>
                const _: () = ::dynorm::__private::assert_key_part::<#ty>();
            });
            // A number of a type the derive cannot see through (a newtype, an alias)
            // needs a declared width to sort numerically as text.
            if !partition && matches!(width, Width::None) {
                let message = format!(
                    "`{}` is stored as a number: in a sort key template it needs a width to sort numerically, such as `{{{}:10}}`",
                    field.ident, field.ident
                )
                .replace('{', "{{")
                .replace('}', "}}");
                let as_value = if single {
                    quote!(!::dynorm::__private::key_is_string(#table_def, #index, #partition))
                } else {
                    quote!(false)
                };
                out.extend(quote_spanned! {t.lit.span()=>
                    const _: () = if !(#as_value) && ::dynorm::__private::is_number::<#ty>() {
                        ::dynorm::__private::core::panic!(#message)
                    };
                });
            }
        }
    }
    out
}
