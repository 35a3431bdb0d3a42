//! `#[derive(MarcusError)]`: a typed view of the input (`ast`), attribute parsing
//! (`attr`), every semantic check (`valid`) and generation (`expand`).

use proc_macro2::TokenStream;

/// Placeholder, replaced by the derive's owner.
pub(crate) fn derive(input: syn::DeriveInput) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
