//! What the derive can tell about a field's type from its tokens: integers, `Option<T>`,
//! byte vectors, and the types that can never be keys.

use syn::{GenericArgument, PathArguments, Type};

const INTEGERS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

pub fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

pub fn is_integer(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| s.arguments.is_none() && INTEGERS.iter().any(|i| s.ident == i))
}

pub fn first_type_arg(segment: &syn::PathSegment) -> Option<&Type> {
    match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// `T` of `Option<T>`.
pub fn option_inner(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty)?;
    if segment.ident == "Option" {
        first_type_arg(segment)
    } else {
        None
    }
}

/// The type whose `KeyAttribute` impl gives a key field's DynamoDB type: the field type,
/// or `T` for an `Option<T>` index key.
pub fn key_type(ty: &Type) -> &Type {
    option_inner(ty).unwrap_or(ty)
}

fn is_byte_vec(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|s| {
        s.ident == "Vec"
            && first_type_arg(s)
                .and_then(last_segment)
                .is_some_and(|inner| inner.ident == "u8")
    })
}

/// Whether a newtype's field is a string or byte vector, whose keys have prefixes.
pub fn is_prefix_type(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p
            .path
            .segments
            .last()
            .is_some_and(|s| matches!(s.ident.to_string().as_str(), "String" | "Vec" | "Cow")),
        _ => false,
    }
}

/// `T` of `wrapper<T>`, when the type's last segment is `wrapper` with exactly one
/// type argument: the related type of `OneToMany<T>`.
pub fn wrapped_type<'t>(ty: &'t Type, wrapper: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    if last.ident != wrapper {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) => match args.args.first() {
            Some(GenericArgument::Type(ty)) if args.args.len() == 1 => Some(ty),
            _ => None,
        },
        _ => None,
    }
}

/// Keys for get and delete are built from the field's `KeyAttribute` impl, so the field
/// must be stored in that same form: the default form, or binary for `Vec<u8>`. A model
/// stores its own `Vec<u8>` fields as binary (`binary_by_shape`); the field of a
/// `KeyAttribute` newtype is written by serde alone, which writes a list, so it needs
/// `dynorm::bytes`.
pub fn key_serialization_problem(ty: &Type, with: Option<&str>, binary_by_shape: bool) -> Option<&'static str> {
    let bytes = matches!(with, Some("dynorm::bytes" | "::dynorm::bytes" | "serde_bytes"));
    match (is_byte_vec(ty), with) {
        (true, _) if bytes => None,
        (true, None) if binary_by_shape => None,
        (true, None) => Some(
            "serde writes `Vec<u8>` as a list, but a key must be binary: add #[serde(with = \"dynorm::bytes\")] to the field",
        ),
        (_, Some(_)) => Some(
            "a key must be stored in the form its KeyAttribute gives it, so custom serde `with`/`serialize_with` is not supported on key fields",
        ),
        (false, None) => None,
    }
}

/// Types the derive can reject on sight; anything else is checked through the
/// `KeyAttribute` trait, with the error at the field's type.
pub fn unsupported_key_type(ty: &Type, index_key: bool) -> Option<&'static str> {
    match ty {
        Type::Reference(_) => {
            return Some("a key field must own its value: use `String` or `Vec<u8>`, not a reference")
        }
        Type::Tuple(_) | Type::Array(_) | Type::Slice(_) => {
            return Some("unsupported key type: DynamoDB keys are strings, numbers or binary")
        }
        _ => {}
    }
    let segment = last_segment(ty)?;
    let name = segment.ident.to_string();
    match name.as_str() {
        "bool" => Some("a boolean cannot be a DynamoDB key: keys are strings, numbers or binary"),
        "f32" | "f64" => Some("floating-point numbers cannot be keys here: use an integer or a string"),
        "Option" if index_key => Some("an optional index key holds one key type: `Option<String>`, `Option<u64>`, ..."),
        "Option" => Some("a table key attribute is always present: use the inner type, not `Option`"),
        "Vec" => match first_type_arg(segment).and_then(last_segment) {
            Some(inner) if inner.ident == "u8" => None,
            _ => Some("a list cannot be a DynamoDB key: only `Vec<u8>` (binary) is a key type"),
        },
        "HashSet" | "BTreeSet" | "HashMap" | "BTreeMap" => {
            Some("sets and maps cannot be DynamoDB keys: keys are strings, numbers or binary")
        }
        _ => None,
    }
}
