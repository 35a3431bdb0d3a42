//! The fault-injection gates (the cargo feature `chaos` of `resilience`, which turns on
//! this crate's feature of the same name). Without it every function here returns the
//! layer's code unchanged, so an expansion holds no trace of fault injection.
//!
//! With it, a gate is one call into the runtime, inlined there to one relaxed atomic load
//! while no fault is set, and a `match` on its answer: run (after a delay), return the
//! injected error, or refuse as the pattern refuses (a `break` out of its layer). Where a
//! gate sits:
//! - a breaker's, bulkhead's, rate limiter's or adaptive limit's inside its permit, place
//!   or admission (faults named as the instance);
//! - a hedge's at the start of each run (faults named as the hedge);
//! - the function's own (faults named by its default name, `module::path::name`) around
//!   its body: merged into the innermost layer's gate when that layer has one, else a
//!   gate of its own.
//!
//! Why a feature of this crate rather than a `macro_rules!` in `__private` that expands
//! to nothing without the feature: the macro then never emits the gate's tokens at all
//! (rustc parses, expands and type-checks nothing for it, in every decorated function),
//! the expansion snapshots show exactly what a build compiles, and the gate is written
//! here, beside the layers it sits in, not split between two crates.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

use super::function::Function;
use super::layers::function_path;

/// Whether gates are emitted: the `chaos` feature; the snapshot tests set it per case.
pub(crate) fn enabled() -> bool {
    #[cfg(test)]
    if let Some(forced) = FORCED.with(std::cell::Cell::get) {
        return forced;
    }
    cfg!(feature = "chaos")
}

#[cfg(test)]
thread_local! {
    static FORCED: std::cell::Cell<Option<bool>> = const { std::cell::Cell::new(None) };
}

/// Runs `f` with gates emitted (`true`) or not, whatever the crate's feature: how the
/// expansion snapshots show both builds from one test run.
#[cfg(test)]
pub(crate) fn with_gates<T>(on: bool, f: impl FnOnce() -> T) -> T {
    FORCED.with(|forced| forced.set(Some(on)));
    let out = f();
    FORCED.with(|forced| forced.set(None));
    out
}

/// A pattern that refuses calls and its gate's names: the `static` of its site, the
/// label of its block, and its refusal (an expression of the function's return type).
pub(crate) struct Refusing {
    pub(crate) site: TokenStream,
    pub(crate) label: syn::Lifetime,
    pub(crate) refusal: TokenStream,
}

impl Refusing {
    /// A breaker's: `CircuitOpen` from its site.
    pub(crate) fn breaker(span: Span, index: usize) -> Refusing {
        Refusing {
            site: quote!(__RESILIENCE_BREAKER),
            label: label("breaker", index),
            refusal: quote_spanned!(span=> ::core::result::Result::Err(
                ::resilience::__private::FromRefusal::from_refusal(__RESILIENCE_BREAKER.refused())
            )),
        }
    }

    /// A bulkhead's: `BulkheadFull` naming the instance (its key too) the call is in.
    pub(crate) fn bulkhead(span: Span, index: usize) -> Refusing {
        Refusing {
            site: quote!(__RESILIENCE_BULKHEAD),
            label: label("bulkhead", index),
            refusal: quote_spanned!(span=> ::core::result::Result::Err(
                ::resilience::__private::FromRefusal::from_refusal(
                    __RESILIENCE_BULKHEAD.refused(__resilience_bulkhead)
                )
            )),
        }
    }

    /// A rate limiter's: `RateLimited` naming the instance (its key too).
    pub(crate) fn rate_limit(span: Span, index: usize) -> Refusing {
        Refusing {
            site: quote!(__RESILIENCE_RATE_LIMIT),
            label: label("rate_limit", index),
            refusal: quote_spanned!(span=> ::core::result::Result::Err(
                ::resilience::__private::FromRefusal::from_refusal(
                    __RESILIENCE_RATE_LIMIT.refused(__resilience_limiter)
                )
            )),
        }
    }

    /// An adaptive limit's: `Overloaded` naming the limit, at the call's priority.
    pub(crate) fn adaptive_limit(span: Span, index: usize) -> Refusing {
        Refusing {
            site: quote!(__RESILIENCE_ADAPTIVE_LIMIT),
            label: label("adaptive_limit", index),
            refusal: quote_spanned!(span=> ::core::result::Result::Err(
                ::resilience::__private::FromRefusal::from_refusal(
                    __RESILIENCE_ADAPTIVE_LIMIT.refused(__resilience_priority)
                )
            )),
        }
    }
}

fn label(layer: &str, index: usize) -> syn::Lifetime {
    syn::Lifetime::new(&format!("'__resilience_{layer}_{index}"), Span::call_site())
}

/// The gate of a refusing pattern around `inner` (its inner layers), drawing the
/// function's own faults too when `function` is given (the pattern is innermost).
pub(crate) fn refusing(
    f: &Function,
    pattern: Refusing,
    function: Option<&FunctionSite>,
    inner: TokenStream,
    index: usize,
) -> TokenStream {
    if !enabled() {
        return inner;
    }
    let Refusing {
        site,
        label,
        refusal,
    } = pattern;
    let chaos = syn::Lifetime::new(&format!("'__resilience_chaos_{index}"), Span::call_site());
    let inject = inject(f);
    let (function_static, draw) = match function {
        Some(function) => (
            function.declare(f),
            quote!(#site.chaos().draw_refusing_with(&__RESILIENCE_CHAOS, #inject)),
        ),
        None => (quote!(), quote!(#site.chaos().draw_refusing(#inject))),
    };
    let sleep = sleep(f);
    quote! {#chaos: {
        #function_static
        let __resilience_delay = match #draw {
            ::resilience::__private::Hit::Run(__resilience_delay) => __resilience_delay,
            ::resilience::__private::Hit::Fail(__resilience_failed) => break #chaos __resilience_failed,
            ::resilience::__private::Hit::Refuse => break #label #refusal,
        };
        #sleep
        #inner
    }}
}

/// The gate at the start of each run of a hedged call (faults named as the hedge),
/// drawing the function's own faults too when `function` is given (the hedge is
/// innermost).
pub(crate) fn hedge(
    f: &Function,
    function: Option<&FunctionSite>,
    inner: TokenStream,
    index: usize,
) -> TokenStream {
    if !enabled() {
        return inner;
    }
    let label = syn::Lifetime::new(&format!("'__resilience_chaos_{index}"), Span::call_site());
    let inject = inject(f);
    let (function_static, draw) = match function {
        Some(function) => (
            function.declare(f),
            quote!(__RESILIENCE_HEDGE.chaos().draw_with(&__RESILIENCE_CHAOS, #inject)),
        ),
        None => (quote!(), quote!(__RESILIENCE_HEDGE.chaos().draw(#inject))),
    };
    non_refusing(f, label, function_static, draw, inner)
}

/// The function's own gate around its body, when no layer's gate takes its faults.
pub(crate) fn function(f: &Function, function: &FunctionSite, inner: TokenStream) -> TokenStream {
    if !enabled() {
        return inner;
    }
    let inject = inject(f);
    let label = syn::Lifetime::new("'__resilience_chaos", Span::call_site());
    non_refusing(
        f,
        label,
        function.declare(f),
        quote!(__RESILIENCE_CHAOS.draw(#inject)),
        inner,
    )
}

fn non_refusing(
    f: &Function,
    label: syn::Lifetime,
    declare: TokenStream,
    draw: TokenStream,
    inner: TokenStream,
) -> TokenStream {
    let sleep = sleep(f);
    quote! {#label: {
        #declare
        let __resilience_delay = match #draw {
            ::core::result::Result::Ok(__resilience_delay) => __resilience_delay,
            ::core::result::Result::Err(__resilience_failed) => break #label __resilience_failed,
        };
        #sleep
        #inner
    }}
}

/// The function's own fault site: named by its default name, drawing from the registry
/// the first of its attributes that names one gives (`registry = STATIC`), else the
/// global one.
pub(crate) struct FunctionSite {
    pub(crate) registry: Option<syn::Path>,
}

impl FunctionSite {
    fn declare(&self, f: &Function) -> TokenStream {
        let name = function_path(f);
        let in_registry = crate::args::registry::in_registry(self.registry.as_ref());
        quote! {
            static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite =
                ::resilience::__private::ChaosSite::function(#name) #in_registry;
        }
    }
}

/// What the call site knows of its types: whether its error takes an `InjectedFault`,
/// and a method's `Self` (a method's faults are named `module::Type::method`).
fn inject(f: &Function) -> TokenStream {
    let ret = &f.ret;
    if f.uses_self() {
        quote!(::resilience::__private::inject!(#ret, Self))
    } else {
        quote!(::resilience::__private::inject!(#ret))
    }
}

/// The injected latency, if any (the delay lives only until the sleep starts).
fn sleep(f: &Function) -> TokenStream {
    let sleep = if f.is_async() {
        quote!(::resilience::__private::sleep(__resilience_delay).await)
    } else {
        quote!(::resilience::__private::sleep_blocking(__resilience_delay))
    };
    quote! {
        if !__resilience_delay.is_zero() {
            #sleep;
        }
    }
}
