//! The code of `#[hedge]`: the body as a closure that makes a fresh `async` block per
//! run, in the function's own body (so borrowed arguments, `&self` and generics work as
//! in the plain function), handed to the runtime's runner, which decides when each run
//! starts and which answer returns.
//!
//! Runs overlap, so they can share only what may be shared: a signature that gives the
//! body exclusive access (`&mut self`, a `&mut` argument, a `mut` binding) is refused
//! here, at that token, rather than by the borrow checker inside the expansion.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{FnArg, Pat};

use super::function::Function;
use super::layers::{function_name, function_path, view};
use crate::args::hedge::HedgeArgs;

pub(crate) fn layer(
    f: &Function,
    args: &HedgeArgs,
    inner: TokenStream,
    observe: bool,
) -> syn::Result<TokenStream> {
    if !f.is_async() {
        return Err(syn::Error::new(
            f.item.sig.fn_token.span,
            "`#[hedge]` needs an `async fn`: a hedged call runs its body again beside a slow run, which a sync call cannot do on its one thread; make the function `async`",
        ));
    }
    check_shared_access(f)?;
    let ret = &f.ret;
    let name = args.name_tokens(f.name());
    let function = function_name(f);
    // A `static` cannot name `Self`: the site is named by the function's path.
    let path = function_path(f);
    let config = args.config();
    let view = view();
    let observe = if observe {
        quote!(::resilience::__private::Observe::Record(#function))
    } else {
        quote!(::resilience::__private::Observe::Skip)
    };
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    Ok(quote! {{
        static __RESILIENCE_HEDGE: ::resilience::__private::HedgeSite =
            ::resilience::__private::HedgeSite::new(#name, #path, || #config) #in_registry;
        ::resilience::__private::known!(__RESILIENCE_HEDGE.declare);
        // The body before the view: closures are checked in argument order, and the
        // view's autoref specialization needs the error type the body fixes.
        ::resilience::__private::hedge(
            &__RESILIENCE_HEDGE,
            #observe,
            || async {
                let __resilience_run: #ret = #inner;
                __resilience_run
            },
            #view,
        )
        .await
    }})
}

const OVERLAP: &str = "`#[hedge]` runs the body several times at once";

/// Refuses exclusive access in the signature, every instance of it, at its `mut` token.
fn check_shared_access(f: &Function) -> syn::Result<()> {
    let mut errors = crate::errors::Errors::default();
    let mut refuse = |span: proc_macro2::Span, message: String| {
        errors.push(syn::Error::new(span, message));
    };
    for input in &f.item.sig.inputs {
        match input {
            FnArg::Receiver(receiver) => {
                let exclusive = receiver.reference.is_some();
                match (&receiver.mutability, exclusive) {
                    (Some(token), true) => refuse(
                        token.span,
                        format!("{OVERLAP}, and overlapping runs cannot share `&mut self`; take `&self` and keep what changes behind a `Mutex` or an atomic"),
                    ),
                    (Some(token), false) => refuse(
                        token.span,
                        format!("{OVERLAP}, and they cannot all change one `mut self`; remove `mut` and make a copy inside the body (`let mut this = self.clone();`)"),
                    ),
                    (None, _) => {}
                }
                if receiver.colon_token.is_some() {
                    for token in mut_references(&receiver.ty) {
                        refuse(
                            token,
                            format!("{OVERLAP}, and overlapping runs cannot share `&mut self`; take `&self` and keep what changes behind a `Mutex` or an atomic"),
                        );
                    }
                }
            }
            FnArg::Typed(typed) => {
                if let Pat::Ident(ident) = &*typed.pat {
                    if let Some(token) = &ident.mutability {
                        let name = &ident.ident;
                        refuse(
                            token.span,
                            format!("{OVERLAP}, and they cannot all change one `mut {name}`; remove `mut` and make a copy inside the body (`let mut {name} = {name}.clone();`)"),
                        );
                    }
                }
                for token in mut_references(&typed.ty) {
                    refuse(
                        token,
                        format!("{OVERLAP}, and overlapping runs cannot share a `&mut` argument; take `&` instead (with a `Mutex`, `RefCell` or atomic inside for what must change)"),
                    );
                }
            }
        }
    }
    errors.finish()
}

/// The `mut` tokens of every `&mut` reference in `ty`.
fn mut_references(ty: &syn::Type) -> Vec<proc_macro2::Span> {
    struct Find(Vec<proc_macro2::Span>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_type_reference(&mut self, r: &'ast syn::TypeReference) {
            if let Some(token) = &r.mutability {
                self.0.push(token.span());
            }
            syn::visit::visit_type_reference(self, r);
        }
    }
    let mut find = Find(Vec::new());
    find.visit_type(ty);
    find.0
}
