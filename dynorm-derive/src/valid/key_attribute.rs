//! `#[derive(KeyAttribute)]`: a non-generic tuple newtype around a key type that serde
//! stores in its default form. The first rule that fails is the only error.

use syn::{Data, DeriveInput, Fields, Ident, Type};

use crate::attr;
use crate::ctxt::Ctxt;
use crate::types;

/// A newtype whose rules passed.
pub struct KeyNewtype<'a> {
    pub ident: &'a Ident,
    /// The wrapped key type.
    pub ty: &'a Type,
}

pub fn check_key_newtype<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<KeyNewtype<'a>> {
    let field = check_tuple_newtype(cx, input)?;
    check_not_generic(cx, input)?;
    let ty = &field.ty;
    check_key_type(cx, ty)?;
    let with = attr::parse_field(cx, field).custom_serialize;
    if cx.has_errors() {
        return None;
    }
    check_serialization(cx, ty, with.as_deref())?;
    Some(KeyNewtype {
        ident: &input.ident,
        ty,
    })
}

/// serde writes a tuple newtype as its inner value, which is what a key needs; a struct
/// with a named field would be written as a map.
fn check_tuple_newtype<'a>(cx: &mut Ctxt, input: &'a DeriveInput) -> Option<&'a syn::Field> {
    let field = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Unnamed(f) if f.unnamed.len() == 1 => f.unnamed.first(),
            _ => None,
        },
        _ => None,
    };
    if field.is_none() {
        cx.error_spanned_by(
            &input.ident,
            "KeyAttribute can only be derived for a tuple newtype, such as `struct UserId(String);`",
        );
    }
    field
}

fn check_not_generic(cx: &mut Ctxt, input: &DeriveInput) -> Option<()> {
    if input.generics.params.is_empty() {
        return Some(());
    }
    cx.error_spanned_by(&input.generics, "KeyAttribute cannot be derived for generic structs");
    None
}

fn check_key_type(cx: &mut Ctxt, ty: &Type) -> Option<()> {
    let Some(problem) = types::unsupported_key_type(ty, false) else {
        return Some(());
    };
    cx.error_spanned_by(ty, problem);
    None
}

fn check_serialization(cx: &mut Ctxt, ty: &Type, with: Option<&str>) -> Option<()> {
    let Some(problem) = types::key_serialization_problem(ty, with, false) else {
        return Some(());
    };
    cx.error_spanned_by(ty, problem);
    None
}
