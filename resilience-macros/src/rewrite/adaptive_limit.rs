//! `#[adaptive_limit]`'s layer: a place taken before the inner layers run (waiting up to
//! `max_wait` in the async and sync ways, served by priority), the outcome told to the
//! site (measured on `Ok`, judged a drop or not on `Err`), the place given back as the
//! block ends or its future drops.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use super::function::Function;
use super::layers::{function_path, observe_arg, rebuild, view};
use crate::args::adaptive_limit::AdaptiveLimitArgs;

pub(crate) fn layer(
    f: &Function,
    args: &AdaptiveLimitArgs,
    span: Span,
    inner: TokenStream,
    observe: bool,
    index: usize,
) -> TokenStream {
    let name = match args.name.get() {
        Some(name) => quote!(#name),
        None => function_path(f),
    };
    let config = args.config();
    let label = syn::Lifetime::new(
        &format!("'__resilience_adaptive_limit_{index}"),
        Span::call_site(),
    );
    // Spanned at the attribute: an error type without `From<Overloaded>` is reported
    // there, with the message of `FromRefusal`.
    let reject = quote_spanned!(span=> ::core::result::Result::Err(
        ::resilience::__private::FromRefusal::from_refusal(__resilience_overloaded)
    ));
    let priority = args.priority_tokens();
    let admit = if f.is_async() {
        quote! {
            match __resilience_limiter.try_acquire() {
                ::core::option::Option::Some(__resilience_permit) => __resilience_permit,
                ::core::option::Option::None => match ::resilience::__private::adaptive_limit_wait(__resilience_limiter, __resilience_priority).await {
                    ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
                    ::core::result::Result::Err(__resilience_overloaded) => break #label #reject,
                },
            }
        }
    } else {
        quote! {
            match __resilience_limiter.acquire_blocking(__resilience_priority) {
                ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
                ::core::result::Result::Err(__resilience_overloaded) => break #label #reject,
            }
        }
    };
    let view = view();
    let observe = observe_arg(f, observe);
    let outcome = rebuild(
        &f.ret,
        inner,
        quote!(__RESILIENCE_ADAPTIVE_LIMIT.succeeded(__resilience_permit);),
        quote!(__RESILIENCE_ADAPTIVE_LIMIT.failed(__resilience_permit, __resilience_error, #view, #observe)),
    );
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    quote! {#label: {
        static __RESILIENCE_ADAPTIVE_LIMIT: ::resilience::__private::AdaptiveLimitSite =
            ::resilience::__private::AdaptiveLimitSite::new(#name, || #config) #in_registry;
        ::resilience::__private::known!(__RESILIENCE_ADAPTIVE_LIMIT.declare);
        let __resilience_limiter = __RESILIENCE_ADAPTIVE_LIMIT.instance();
        let __resilience_priority = #priority;
        let __resilience_permit = #admit;
        #outcome
    }}
}
