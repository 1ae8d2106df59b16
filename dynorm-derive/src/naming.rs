//! The names of generated items, in one place: index methods and marker types, the
//! fields struct, relationship methods, and the method names an index must not take.

use proc_macro2::Span;
use quote::format_ident;
use syn::Ident;

/// The method names an index method must not take: every verb of the runtime's
/// `DynaModel` trait (`dynorm/src/verbs.rs`), which the `reserved_names` test keeps in
/// step with the trait, then a few common constructors.
pub const RESERVED_METHODS: &[&str] = &[
    // `DynaModel`'s verbs.
    "schema",
    "pk",
    "to_item",
    "from_item",
    "get",
    "put",
    "put_unique",
    "save",
    "update",
    "update_by_key",
    "query",
    "scan",
    "fields",
    "delete",
    "delete_by_key",
    "objects",
    "create_table",
    "delete_table",
    "table_exists",
    "wait_until_active",
    "ensure_table",
    "plan_table",
    "apply_table",
    "cloudformation",
    // Not verbs: common inherent and trait constructors a method must not silently shadow.
    "new",
    "default",
];

/// `by-author` → `by_author`: the model's method that hands out an index. A name that is
/// no identifier gets an `index_` prefix.
pub fn index_method(index_name: &str) -> String {
    let mut out = String::new();
    let mut previous_lower = false;
    for c in index_name.chars() {
        if c.is_ascii_alphanumeric() {
            // camelCase words are split like serde's snake_case: `byAuthor` → `by_author`.
            if c.is_ascii_uppercase() && previous_lower {
                out.push('_');
            }
            previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c.to_ascii_lowercase());
        } else {
            previous_lower = false;
            if !out.ends_with('_') {
                out.push('_');
            }
        }
    }
    let out = out.trim_matches('_').to_owned();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) || syn::parse_str::<Ident>(&out).is_err() {
        format!("index_{out}")
    } else {
        out
    }
}

/// The index method as an identifier, spanned where the index is named (so an unknown
/// index is reported there).
pub fn index_method_ident(index_name: &str, span: Span) -> Ident {
    Ident::new(&index_method(index_name), span)
}

/// `Book` and `by_author` → `BookByAuthorIndex`: the marker type of an index.
pub fn index_marker(model: &Ident, method: &str) -> String {
    format!("{model}{}Index", pascal(method))
}

/// `Book` → `BookFields`: the struct of typed field paths.
pub fn fields_struct(model: &Ident) -> Ident {
    format_ident!("{}Fields", model)
}

/// `replies` → `prefetch_replies`: a relationship's prefetch.
pub fn prefetch_method(field: &Ident) -> Ident {
    format_ident!("prefetch_{}", field)
}

/// `profile` → `profile_or_create`: a one-to-one's `auto_create` accessor.
pub fn or_create_method(field: &Ident) -> Ident {
    format_ident!("{}_or_create", field)
}

/// `user` → `__user_key`: the hidden method giving a relationship's related key.
pub fn related_key_method(field: &Ident) -> Ident {
    format_ident!("__{}_key", field)
}

/// `by_author` → `ByAuthor`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut chars = p.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_methods() {
        assert_eq!(index_method("by-author"), "by_author");
        assert_eq!(index_method("byAuthor"), "by_author");
        assert_eq!(index_method("threads.by.user"), "threads_by_user");
        assert_eq!(index_method("2024-index"), "index_2024_index");
        assert_eq!(index_method("type"), "index_type");
        assert_eq!(index_method("---"), "index_");
    }

    #[test]
    fn markers() {
        let model = Ident::new("Book", Span::call_site());
        assert_eq!(index_marker(&model, "by_author"), "BookByAuthorIndex");
    }
}
