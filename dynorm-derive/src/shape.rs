//! How each field is stored, read off its type: the `Shape` the runtime's encoder and
//! decoder follow. Sets of strings, numbers and byte vectors become `SS`/`NS`/`BS`, byte
//! vectors `B`, decimals `N`; a field whose type may be a nested `Document` gets its
//! shape from that impl at run time. `#[dynorm(list)]`, `set`, `binary` and `number`
//! override what the type says.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{GenericArgument, PathArguments, Type};

use crate::ast::Field;
use crate::attr::Storage;
use crate::types::{first_type_arg, last_segment, option_inner};

/// Types stored as serde writes them, whatever the derive would think of them.
const PLAIN: &[&str] = &[
    "String",
    "str",
    "bool",
    "char",
    "u8",
    "u16",
    "u32",
    "u64",
    "u128",
    "usize",
    "i8",
    "i16",
    "i32",
    "i64",
    "i128",
    "isize",
    "f32",
    "f64",
    "Cow",
    "Box",
    "Rc",
    "Arc",
    "NonZeroU64",
    "NonZeroU32",
    "NonZeroI64",
    "Duration",
    "SystemTime",
    "Value",
    "Timestamp",
    "Uuid",
    "Ulid",
    "DateTime",
    "NaiveDate",
    "NaiveDateTime",
    "OffsetDateTime",
    "PrimitiveDateTime",
    "Date",
    "Time",
];

/// Element types of a set the derive stores as a DynamoDB set.
fn is_set_element(ty: &Type) -> bool {
    if is_bytes(ty) {
        return true;
    }
    let Some(segment) = last_segment(ty) else {
        return false;
    };
    let name = segment.ident.to_string();
    matches!(name.as_str(), "String" | "Cow" | "Number")
        || crate::types::is_integer(ty)
        || matches!(name.as_str(), "u128" | "i128")
}

/// `Vec<u8>`, `[u8; N]`, `bytes::Bytes`, `serde_bytes::ByteBuf`: binary data.
pub fn is_bytes(ty: &Type) -> bool {
    match ty {
        Type::Array(array) => is_u8(&array.elem),
        Type::Group(g) => is_bytes(&g.elem),
        Type::Paren(p) => is_bytes(&p.elem),
        _ => last_segment(ty).is_some_and(|s| match s.ident.to_string().as_str() {
            "Vec" => first_type_arg(s).is_some_and(is_u8),
            "Bytes" | "ByteBuf" => s.arguments.is_none(),
            _ => false,
        }),
    }
}

fn is_u8(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == "u8" && s.arguments.is_none())
}

fn last_type_arg(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .last(),
        _ => None,
    }
}

/// The set type of a field stored as a set: `HashSet<E>` or `BTreeSet<E>` (or an
/// `Option` of one) of a set element type.
pub fn set_element(ty: &Type) -> Option<&Type> {
    let ty = option_inner(ty).unwrap_or(ty);
    let segment = last_segment(ty)?;
    if segment.ident != "HashSet" && segment.ident != "BTreeSet" {
        return None;
    }
    first_type_arg(segment)
}

/// How a field is stored: `None` for the way serde writes it.
pub fn field_shape(field: &Field) -> Option<TokenStream> {
    if field.attrs.skip_serializing || field.attrs.relation.is_some() {
        return None;
    }
    let optional = option_inner(field.ty).is_some();
    let ty = option_inner(field.ty).unwrap_or(field.ty);
    match field.attrs.storage.as_ref().map(|(s, _)| *s) {
        Some(Storage::List) => return None,
        Some(Storage::Set) => return Some(set(!optional)),
        Some(Storage::Binary) => return Some(quote!(::dynorm::__private::Shape::Binary)),
        Some(Storage::Number) => return Some(quote!(::dynorm::__private::Shape::Number)),
        None => {}
    }
    // A custom serde form is the user's to choose.
    if field.attrs.custom_serialize.is_some() {
        return None;
    }
    if field.attrs.flatten {
        return Some(probe(ty));
    }
    if set_element(ty).is_some_and(is_set_element) {
        return Some(set(!optional));
    }
    type_shape(ty, 0)
}

fn set(fill: bool) -> TokenStream {
    quote!(::dynorm::__private::Shape::Set { fill: #fill })
}

/// A document's shape from its `Document` impl, or plain for any other type.
fn probe(ty: &Type) -> TokenStream {
    quote! {
        ::dynorm::__private::Shape::Lazy(::dynorm::__private::LazyShape(|| {
            #[allow(unused_imports)]
            use ::dynorm::__private::{ViaDocument as _, ViaPlain as _};
            (&::dynorm::__private::ShapeProbe::<#ty>::new()).shape()
        }))
    }
}

/// The shape of a value of type `ty` inside a field: the elements of lists and the
/// values of maps are shaped too.
fn type_shape(ty: &Type, depth: usize) -> Option<TokenStream> {
    if depth > 4 {
        return None;
    }
    let ty = option_inner(ty).unwrap_or(ty);
    if is_bytes(ty) {
        return Some(quote!(::dynorm::__private::Shape::Binary));
    }
    match ty {
        Type::Array(array) => return each(&array.elem, depth),
        Type::Path(path) if path.qself.is_none() => {}
        _ => return None,
    }
    let segment = last_segment(ty)?;
    let name = segment.ident.to_string();
    match name.as_str() {
        "Decimal" | "BigDecimal" => Some(quote!(::dynorm::__private::Shape::Number)),
        "HashSet" | "BTreeSet" if first_type_arg(segment).is_some_and(is_set_element) => Some(set(true)),
        "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList" => each(first_type_arg(segment)?, depth),
        "HashMap" | "BTreeMap" | "IndexMap" => each(last_type_arg(segment)?, depth),
        _ if PLAIN.contains(&name.as_str()) => None,
        // A type parameter or a type of another crate or of the user's: a nested
        // document when it implements `Document`.
        _ if segment.arguments.is_none() => Some(probe(ty)),
        _ => None,
    }
}

fn each(element: &Type, depth: usize) -> Option<TokenStream> {
    let inner = type_shape(element, depth + 1)?;
    Some(quote!(::dynorm::__private::Shape::Each(&#inner)))
}

/// The shape of a struct: its shaped fields.
pub fn struct_shape(fields: &[Field]) -> TokenStream {
    let entries = fields.iter().filter_map(|field| {
        let shape = field_shape(field)?;
        let name = if field.attrs.flatten {
            ""
        } else {
            field.attr_name.as_str()
        };
        Some(quote!(::dynorm::__private::FieldShape { name: #name, shape: #shape }))
    });
    quote!(::dynorm::__private::Shape::Fields(&[#(#entries),*]))
}
