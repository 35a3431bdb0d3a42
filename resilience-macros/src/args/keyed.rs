//! The keys `name`, `key = expr` and `max_keys` shared by `#[circuit_breaker]`,
//! `#[bulkhead]` and `#[rate_limit]`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

pub(crate) fn parse_name(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitStr> {
    let name: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a string, as in `{key} = \"upstream\"`"),
        )
    })?;
    super::name::check(&name, &format!("`{key}`"))?;
    Ok(name)
}

pub(crate) fn parse_key(input: ParseStream<'_>) -> syn::Result<Box<Expr>> {
    input.parse().map(Box::new).map_err(|e| {
        syn::Error::new(
            e.span(),
            "`key` takes an expression whose value is `Display`, as in `key = host`",
        )
    })
}

pub(crate) fn check_max_keys(max_keys: Option<Span>, keyed: bool) -> syn::Result<()> {
    match max_keys {
        Some(span) if !keyed => Err(syn::Error::new(
            span,
            "`max_keys` bounds the instances made by `key = expr`; give a key too, as in `key = host, max_keys = 1000`",
        )),
        _ => Ok(()),
    }
}

/// The text of a key expression, evaluated before the call: a string key as it is, any
/// other `Display` key written out (`KeyProbe` picks which, through the two traits the
/// statements before it import), spanned at the expression so a key that is not
/// `Display` is reported there. A temporary: borrow it within one statement.
pub(crate) fn key_text(key: &Expr) -> (TokenStream, TokenStream) {
    let span = key.span();
    let imports = quote! {
        #[allow(unused_imports)]
        use ::resilience::__private::{KeyDisplay as _, KeyStr as _};
    };
    let text = quote_spanned!(span=> (&&::resilience::__private::KeyProbe(&(#key))).key());
    (imports, quote!(#text.as_str()))
}

/// The name of an instance: the given one, or the function's module path and name.
pub(crate) fn name_tokens(name: Option<&LitStr>, function: &Ident) -> TokenStream {
    match name {
        Some(name) => quote!(#name),
        None => {
            let function = function.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #function))
        }
    }
}
