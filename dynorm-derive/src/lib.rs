//! Derive macros for [dynorm](https://docs.rs/dynorm). Use them through the `dynorm`
//! crate, which re-exports them; the generated code refers to `::dynorm`.

// Parsing: the input's typed views, its attributes, serde's renaming rules.
mod ast;
mod attr;
mod case;
// Shared by the stages: the error collector, generated names, type shapes, templates.
mod ctxt;
mod naming;
mod template;
mod types;
// Validation: named rules that give the resolved model.
mod resolved;
mod shape;
mod valid;
// Expansion of a resolved model, and the stub emitted on errors.
mod collection;
mod common;
mod document;
mod entity;
mod expand;
mod fallback;
mod relation;
mod schema_version;
mod typed_keys;

use proc_macro::TokenStream;
use syn::{parse_macro_input, DeriveInput};

/// Derives `dynorm::DynaModel`. See the `dynorm` crate for the attributes.
#[proc_macro_derive(
    DynaModel,
    attributes(table, global_index, local_index, dynorm, entity, entity_index, schema)
)]
pub fn derive_dyna_model(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_model(&input).into()
}

/// Derives `dynorm::DynaTable`: a table of a single-table design, declared once.
#[proc_macro_derive(DynaTable, attributes(table, global_index, local_index, dynorm))]
pub fn derive_dyna_table(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_table(&input).into()
}

/// Derives `dynorm::Collection` for an enum of entities sharing a partition.
#[proc_macro_derive(Collection, attributes(collection))]
pub fn derive_collection(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    collection::derive(&input).into()
}

/// Derives `dynorm::Document`: typed paths for a struct nested in a model.
#[proc_macro_derive(Document, attributes(dynorm))]
pub fn derive_document(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    document::derive(&input).into()
}

/// Derives `dynorm::KeyAttribute` for a newtype around a key type.
#[proc_macro_derive(KeyAttribute)]
pub fn derive_key_attribute(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive_key_attribute(&input).into()
}
