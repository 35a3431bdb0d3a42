//! Procedural macros of the [`resilience`](https://docs.rs/resilience) crate.
//!
//! Depend on `resilience`, which re-exports these; the generated code calls its runtime.
//! Each entry point here is thin: argument parsing lives in one module per attribute,
//! function rewriting in `rewrite`, and the derive in `derive/`.

use proc_macro::TokenStream;

mod derive;

/// Placeholder.
#[proc_macro_attribute]
pub fn retry(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder.
#[proc_macro_attribute]
pub fn circuit_breaker(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder.
#[proc_macro_attribute]
pub fn fallback(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Placeholder.
#[proc_macro_attribute]
pub fn error_context(_args: TokenStream, item: TokenStream) -> TokenStream {
    item
}

/// Derives [`MarcusError`](https://docs.rs/resilience/latest/resilience/trait.MarcusError.html):
/// codes, category, severity, retryability, retry delay, remediation and context.
/// See the `resilience` crate for the attribute syntax.
#[proc_macro_derive(MarcusError, attributes(marcus, context))]
pub fn derive_marcus_error(item: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    derive::derive(input).into()
}
