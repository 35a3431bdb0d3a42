//! `#[derive(MarcusError)]`: a typed view of the input (`ast`), attribute parsing
//! (`attr`), every semantic check (`valid`) and generation (`expand`); `naming` turns
//! Rust names into default codes.

mod ast;
mod attr;
mod expand;
mod naming;
mod valid;

use proc_macro2::{Span, TokenStream};

use crate::errors::Errors;

/// The derive. On any mistake it emits the errors and a stub impl, so the user sees the
/// mistake alone rather than every place that needed the impl.
pub(crate) fn derive(input: syn::DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let ast = ast::Input::from_syn(&input, &mut errors);
    if let Some(ast) = &ast {
        valid::check(ast, &mut errors);
    }
    match (ast, errors.into_error()) {
        (Some(ast), None) => expand::derive(&ast),
        (_, Some(error)) => expand::stub(&input, error),
        // `from_syn` reports why it gives no view; this arm keeps the macro total.
        (None, None) => expand::stub(
            &input,
            syn::Error::new(Span::call_site(), "`MarcusError` cannot be derived here"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use quote::quote;

    fn expand(input: proc_macro2::TokenStream) -> String {
        match syn::parse2(input) {
            Ok(input) => super::derive(input).to_string(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn valid_input_expands_to_one_impl_without_errors() {
        let out = expand(quote! {
            #[marcus(category = integration)]
            enum E<T> {
                A { #[context] ctx: ErrorContext, wait: Option<Duration> },
                #[marcus(transparent)]
                B(T),
                C(#[from] std::io::Error),
            }
        });
        let file: syn::File = match syn::parse_str(&out) {
            Ok(file) => file,
            Err(e) => panic!("the expansion parses: {e}"),
        };
        assert_eq!(file.items.len(), 1);
        assert!(!out.contains("compile_error"));
        assert!(out.contains("T : :: resilience :: MarcusError"));
    }

    #[test]
    fn a_mistake_gives_its_error_and_a_stub_impl() {
        let out = expand(quote! {
            enum E { #[marcus(category = temporary)] A }
        });
        assert_eq!(out.matches("compile_error").count(), 1);
        assert!(out.contains("impl"));
        assert!(out.contains("loop { }"));
    }
}
