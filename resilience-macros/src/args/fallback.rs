//! The arguments of `#[fallback(f, g, with_error)]`.

use syn::parse::{Parse, ParseStream};
use syn::{Path, Token};

pub(crate) struct FallbackArgs {
    /// The fallbacks, tried in order.
    pub(crate) functions: Vec<Path>,
    /// Each fallback also takes the error, by value, as its last argument.
    pub(crate) with_error: bool,
    /// When every fallback fails, the call site's last successful value is returned.
    pub(crate) cached: bool,
}

impl Parse for FallbackArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut functions = Vec::new();
        let mut with_error: Option<proc_macro2::Span> = None;
        let mut cached: Option<proc_macro2::Span> = None;
        while !input.is_empty() {
            let path: Path = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected the name of a fallback function, as in `#[fallback(cached_board)]`",
                )
            })?;
            if path.is_ident("with_error") {
                if with_error.is_some() {
                    return Err(syn::Error::new_spanned(
                        &path,
                        "`with_error` is given twice; keep one of them",
                    ));
                }
                with_error = Some(path.segments[0].ident.span());
            } else if path.is_ident("cached") && !functions.is_empty() {
                // First in the list, `cached` names a function; after one, it is the flag.
                if cached.is_some() {
                    return Err(syn::Error::new_spanned(
                        &path,
                        "`cached` is given twice; keep one of them",
                    ));
                }
                cached = Some(path.segments[0].ident.span());
            } else {
                if with_error.is_some() || cached.is_some() {
                    return Err(syn::Error::new_spanned(
                        &path,
                        "`with_error` and `cached` go after the fallback functions, as in `#[fallback(f, g, with_error)]`",
                    ));
                }
                functions.push(path);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if functions.is_empty() {
            return Err(syn::Error::new(
                with_error.unwrap_or_else(proc_macro2::Span::call_site),
                "`#[fallback]` needs at least one function to call, as in `#[fallback(cached_board)]`",
            ));
        }
        Ok(FallbackArgs {
            functions,
            with_error: with_error.is_some(),
            cached: cached.is_some(),
        })
    }
}
