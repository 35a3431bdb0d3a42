//! `registry = STATIC`: the registry a pattern's call site registers in, instead of the
//! global one. Tests point attributes at a `Registry::new()` of their own (or a
//! `Registry::with_clock`) this way. Accepted by `#[retry]` (its policies and budgets),
//! `#[circuit_breaker]`, `#[bulkhead]`, `#[rate_limit]`, `#[hedge]` and `#[resilient]`.

use proc_macro2::TokenStream;
use quote::quote_spanned;
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Expr, Path};

const HOW: &str = "`registry` takes the name of a `static` holding a `Registry`, as in \
     `registry = TEST_REGISTRY` with \
     `static TEST_REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);`";

/// The value of `registry = …`: a path (to a `static`).
pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Path> {
    let value: Expr = input.parse()?;
    match value {
        Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => Ok(path.path),
        other => Err(syn::Error::new(other.span(), HOW)),
    }
}

/// `.in_registry(..)` for a site constructor, or nothing without the key. The closure
/// borrows the `static`; a `LazyLock<Registry>` (or any `static` that derefs to one)
/// reaches `&Registry` by deref coercion, and anything else is a type error at the path.
pub(crate) fn in_registry(registry: Option<&Path>) -> TokenStream {
    match registry {
        None => TokenStream::new(),
        Some(path) => quote_spanned! {path.span()=>
            .in_registry(|| -> &'static ::resilience::registry::Registry { &#path })
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_a_registry_and_anything_else_says_how() {
        let path: Path = syn::parse::Parser::parse_str(parse, "tests::REG").unwrap();
        assert_eq!(quote::quote!(#path).to_string(), "tests :: REG");
        let err = syn::parse::Parser::parse_str(parse, "\"global\"").unwrap_err();
        assert!(err.to_string().contains("name of a `static`"), "{err}");
        assert!(in_registry(None).is_empty());
        assert!(in_registry(Some(&path)).to_string().contains("in_registry"));
    }
}
