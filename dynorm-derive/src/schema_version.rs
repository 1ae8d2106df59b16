//! `#[schema(version = N, migrations = [..], attribute = "..", default = D, write_back)]`:
//! a model's schema version and the chain of migrations that brings an older item to
//! it. Parsed and checked here (a chain with a missing step is an error at the list),
//! expanded into the schema's `SchemaVersion` and the model's `migrate` function.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, LitInt, LitStr};

use crate::ctxt::Ctxt;

pub const SCHEMA: &str = "schema";
const KEYS: &str = "`version`, `migrations`, `attribute`, `default`, `write_back`";
/// The attribute that holds the version unless `attribute = ".."` names another.
const DEFAULT_ATTRIBUTE: &str = "_v";

/// A checked `#[schema(..)]`.
pub struct SchemaAttr {
    pub current: u32,
    pub default: u32,
    pub attribute: String,
    pub write_back: bool,
    /// The step from version `i + 1` to `i + 2`, in order.
    pub steps: Vec<syn::Path>,
}

/// Reads and checks `#[schema(..)]`, if the struct has one; errors go to `cx`.
/// `fields` are the model's fields: the attribute each is stored in, and its name.
pub fn parse(cx: &mut Ctxt, attrs: &[Attribute], fields: &[(&str, &syn::Ident)]) -> Option<SchemaAttr> {
    let mut found = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident(SCHEMA)) {
        if found.is_some() {
            cx.error_spanned_by(attr, "duplicate #[schema] attribute");
            continue;
        }
        found = Some(attr);
    }
    let attr = found?;
    let mut version: Option<LitInt> = None;
    let mut default: Option<LitInt> = None;
    let mut attribute: Option<LitStr> = None;
    let mut write_back = false;
    let mut steps: Option<(syn::ExprArray, Vec<syn::Path>)> = None;
    let result = attr.parse_nested_meta(|meta| {
        let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
        match key.as_str() {
            "version" => version = Some(meta.value()?.parse()?),
            "default" => default = Some(meta.value()?.parse()?),
            "attribute" => attribute = Some(meta.value()?.parse()?),
            "write_back" => write_back = true,
            "migrations" => {
                let list: syn::ExprArray = meta.value()?.parse()?;
                let mut paths = Vec::new();
                for elem in &list.elems {
                    match elem {
                        syn::Expr::Path(p) => paths.push(p.path.clone()),
                        other => {
                            return Err(syn::Error::new_spanned(
                                other,
                                "a migration is the path of a function `fn(&mut dynorm::Item) -> Result<(), dynorm::BoxError>`",
                            ))
                        }
                    }
                }
                steps = Some((list, paths));
            }
            _ => return Err(meta.error(format!("unknown key in #[schema]; expected one of {KEYS}"))),
        }
        Ok(())
    });
    if let Err(err) = result {
        cx.syn_error(err);
        return None;
    }
    let Some(version_lit) = version else {
        cx.error_spanned_by(
            attr,
            "#[schema] needs `version = N`, the schema version this model writes",
        );
        return None;
    };
    let current = match version_lit.base10_parse::<u32>() {
        Ok(v) if v >= 1 => v,
        _ => {
            cx.error_spanned_by(&version_lit, "a schema version is a whole number from 1");
            return None;
        }
    };
    let default_version = match &default {
        None => 1,
        Some(lit) => match lit.base10_parse::<u32>() {
            Ok(v) if (1..=current).contains(&v) => v,
            _ => {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "the version of an item without the attribute is from 1 to the current version ({current})"
                    ),
                );
                return None;
            }
        },
    };
    let attribute = match attribute {
        None => DEFAULT_ATTRIBUTE.to_owned(),
        Some(lit) => {
            let name = lit.value();
            if name.is_empty() {
                cx.error_spanned_by(&lit, "the schema version attribute needs a name");
                return None;
            }
            name
        }
    };
    if let Some((_, ident)) = fields.iter().find(|(name, _)| *name == attribute) {
        cx.error_spanned_by(
            ident,
            format!("field `{ident}` is stored in `{attribute}`, the attribute of the schema version; name another with #[schema(attribute = \"..\")]"),
        );
        return None;
    }
    let (list_tokens, steps) = match steps {
        Some((list, paths)) => (Some(list), paths),
        None => (None, Vec::new()),
    };
    let needed = (current - 1) as usize;
    if steps.len() != needed {
        let message = if steps.len() < needed {
            let missing: Vec<String> = (steps.len() as u32 + 1..current)
                .map(|from| format!("{from} to {}", from + 1))
                .collect();
            format!(
                "schema version {current} needs {needed} migration{} (one per version, from 1); the step{} from {} {} missing",
                if needed == 1 { "" } else { "s" },
                if missing.len() == 1 { "" } else { "s" },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
            )
        } else {
            format!(
                "schema version {current} needs {needed} migration{} (one per version, from 1), not {}",
                if needed == 1 { "" } else { "s" },
                steps.len()
            )
        };
        match &list_tokens {
            Some(list) => cx.error_spanned_by(list, message),
            None => cx.error_spanned_by(&version_lit, message),
        }
        return None;
    }
    Some(SchemaAttr {
        current,
        default: default_version,
        attribute,
        write_back,
        steps,
    })
}

/// The `schema_version` field of the `TableSchema` literal.
pub fn schema_field(schema: Option<&SchemaAttr>) -> TokenStream {
    match schema {
        None => quote!(schema_version: ::dynorm::__private::core::option::Option::None,),
        Some(s) => {
            let (attribute, current, default, write_back) = (&s.attribute, s.current, s.default, s.write_back);
            quote! {
                schema_version: ::dynorm::__private::core::option::Option::Some(::dynorm::__private::SchemaVersion {
                    attribute: #attribute,
                    current: #current,
                    default: #default,
                    write_back: #write_back,
                }),
            }
        }
    }
}

/// The model's `migrate` function: step `from` of the chain.
pub fn migrate_fn(schema: Option<&SchemaAttr>) -> TokenStream {
    let Some(s) = schema else { return quote!() };
    let write_back = s.write_back.then(|| {
        quote! {
            fn write_back_migrated<'__a>(
                db: &'__a ::dynorm::Db,
                stored: &'__a ::dynorm::Item,
                migrated: &'__a ::dynorm::Item,
            ) -> ::dynorm::__private::BoxFuture<'__a, ()> {
                ::std::boxed::Box::pin(::dynorm::__private::write_back::<Self>(db, stored, migrated))
            }
        }
    });
    let arms = s.steps.iter().enumerate().map(|(i, path)| {
        let from = i as u32 + 1;
        // Spanned at the path, so a function of the wrong signature is reported there.
        let step = quote_spanned! {path.span()=>
            let step: fn(&mut ::dynorm::Item) -> ::dynorm::__private::core::result::Result<(), ::dynorm::BoxError> = #path;
        };
        quote!(#from => { #step step(item) })
    });
    quote! {
        fn migrate(
            from: u32,
            item: &mut ::dynorm::Item,
        ) -> ::dynorm::__private::core::result::Result<(), ::dynorm::BoxError> {
            match from {
                #(#arms)*
                _ => ::dynorm::__private::core::result::Result::Ok(()),
            }
        }

        #write_back
    }
}
