//! The code of each layer. Each takes the expression of the layer inside it (evaluating
//! to the function's return type) and returns its own; the runtime makes every decision,
//! the generated code only the control flow.
//!
//! Every layer has the same shape, because the success path is what a call pays for:
//! - it matches the outcome by value and rebuilds it, arm by arm, with nothing borrowing
//!   it across a call that may unwind, so the compiler builds the body's value in the
//!   caller's return slot (or the future's output) instead of copying it there;
//! - its `Err` arm is one call into the runtime, out of line, that takes the error by
//!   value and gives it back (or decides what happens next): the error's address never
//!   escapes the function, so on success its `Result` can stay in registers, and the
//!   function stays small;
//! - an early exit (a refusal) leaves the layer's labelled block with `break`, before
//!   the inner layers run, rather than nesting them in a `match` arm.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::exits::inline;
use super::function::Function;
use crate::args::{
    breaker::BreakerArgs, bulkhead::BulkheadArgs, context::ContextArgs, fallback::FallbackArgs,
    feature_switch::FeatureSwitchArgs, rate_limit::RateLimitArgs, retry::RetryArgs,
    timeout::TimeoutArgs,
};

/// `|e| <the runtime's view of e>`: what the runtime may learn about an error whose type
/// only the call site knows (`__private::view!`, which picks the view by autoref
/// specialization where the type is known).
pub(crate) fn view() -> TokenStream {
    quote!(::resilience::__private::view!())
}

/// The name of the function, for events and the monitor: `module::path::name`, or for a
/// method `module::path::Type::name`, made on first use (an expression of type
/// `&'static str`, used only on error paths).
pub(crate) fn function_name(f: &Function) -> TokenStream {
    let path = function_path(f);
    if !f.uses_self() {
        return path;
    }
    let self_type = self_type();
    quote!({
        static __RESILIENCE_NAME: ::resilience::__private::MethodName =
            ::resilience::__private::MethodName::new(#path);
        __RESILIENCE_NAME.get(#self_type)
    })
}

/// `module::path::name`, a `&'static str` constant.
pub(crate) fn function_path(f: &Function) -> TokenStream {
    let name = f.name().to_string();
    quote!(::core::concat!(::core::module_path!(), "::", #name))
}

/// A closure naming the method's `Self` type, for a site's first use.
fn self_type() -> TokenStream {
    quote!(|| ::core::any::type_name::<Self>())
}

/// The error arm's `observe` field: `Observe::Record(function)` in the one layer that
/// records the body's errors in the monitor, `Observe::Skip` in the others.
pub(crate) fn observe_arg(f: &Function, observe: bool) -> TokenStream {
    if observe {
        let name = function_name(f);
        quote!(::resilience::__private::Observe::Record(#name))
    } else {
        quote!(::resilience::__private::Observe::Skip)
    }
}

/// The shape every layer gives its outcome (see the module's doc), as statements ending
/// in the rebuilt `Result`: `on_success` runs before the value is rebuilt, and
/// `on_error`, an expression of `__resilience_error` taken by value, gives the error back.
pub(crate) fn rebuild(
    ret: &syn::Type,
    outcome: TokenStream,
    on_success: TokenStream,
    on_error: TokenStream,
) -> TokenStream {
    quote! {
        let __resilience_outcome: #ret = #outcome;
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                #on_success
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => ::core::result::Result::Err(#on_error),
        }
    }
}

/// The user's body, run once: inline when it can be (see [`inline`]), otherwise as its
/// own closure or async block, so that a `return` or `?` ends the body only.
pub(crate) fn body(f: &Function) -> TokenStream {
    let ret = &f.ret;
    let stmts = &f.body;
    if let Some(block) = inline(stmts) {
        return quote!({
            #[allow(unreachable_code)]
            let __resilience_ret: #ret = #block;
            __resilience_ret
        });
    }
    if f.is_async() {
        quote! {
            async {
                #[allow(unreachable_code)]
                let __resilience_ret: #ret = { #(#stmts)* };
                #[allow(unreachable_code)]
                __resilience_ret
            }.await
        }
    } else {
        quote!({
            #[allow(clippy::redundant_closure_call, clippy::result_large_err)]
            let __resilience_ret: #ret = (|| -> #ret { #(#stmts)* })();
            __resilience_ret
        })
    }
}

pub(crate) fn retry(
    f: &Function,
    args: &RetryArgs,
    inner: TokenStream,
    observe: bool,
) -> TokenStream {
    let ret = &f.ret;
    let config = args.config();
    let name = function_path(f);
    let view = view();
    let observe = observe_arg(f, observe);
    let retry_if = match args.retry_if.get() {
        Some(path) => {
            quote_spanned!(path.span()=> |__resilience_e: &_| ::core::option::Option::Some(#path(__resilience_e)))
        }
        None => quote!(|_: &_| ::core::option::Option::None),
    };
    let on_retry = match args.on_retry.get() {
        Some(path) => quote!(#path),
        None => quote!(|_: &_, _, _| {}),
    };
    let sleep = if f.is_async() {
        quote!(::resilience::__private::sleep(__resilience_delay).await)
    } else {
        quote!(::resilience::__private::sleep_blocking(__resilience_delay))
    };
    let site = match args.policy.get() {
        Some(policy) => {
            quote!(::resilience::__private::RetrySite::with_policy(#name, #policy, || #config))
        }
        None => quote!(::resilience::__private::RetrySite::new(#name, || #config)),
    };
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    let site = quote!(#site #in_registry);
    // A method's site gets its `Self` type on the first call's cold path.
    let (site, started) = if f.uses_self() {
        let self_type = self_type();
        (
            quote!(#site.in_method()),
            quote!(__RESILIENCE_RETRY.started_in(#self_type)),
        )
    } else {
        (site, quote!(__RESILIENCE_RETRY.started()))
    };
    // How an attempt's `Ok` reaches the return. Sync: a `match` on the `Result`, which
    // rustc turns into a move of the whole value, so the body writes it straight into the
    // return slot. Async: the return goes out through `Poll`, where that whole-value move
    // is a copy of every byte (40 in the benchmarks) whose loads wait on the body's
    // narrower stores; split as `?` splits it, only the value moves.
    let (split, ok, err) = if f.is_async() {
        (
            quote!(::resilience::__private::Question::branch(
                __resilience_outcome
            )),
            quote!(::core::ops::ControlFlow::Continue),
            quote!(::core::ops::ControlFlow::Break),
        )
    } else {
        (
            quote!(__resilience_outcome),
            quote!(::core::result::Result::Ok),
            quote!(::core::result::Result::Err),
        )
    };
    // `retry_if_ok`: an `Ok` the predicate names is retried like an error (the value is
    // dropped before the sleep); out of attempts, it is returned.
    let retry_ok = match args.retry_if_ok.get() {
        None => quote!(),
        Some(path) => {
            let ask = quote_spanned!(path.span()=> #path(&__resilience_value));
            quote! {
                if #ask {
                    match __RESILIENCE_RETRY.ok_retried(&mut __resilience_attempts, __resilience_started) {
                        ::core::ops::ControlFlow::Break(()) => {
                            break ::core::result::Result::Ok(__resilience_value);
                        }
                        ::core::ops::ControlFlow::Continue(__resilience_delay) => {
                            ::core::mem::drop(__resilience_value);
                            #sleep;
                            continue;
                        }
                    }
                }
            }
        }
    };
    // The attempt runs with the thread marked (a retry nested in it leaves the retrying
    // to this one): a sync attempt under a mark dropped at its end, an async one as a
    // future marked around each of its polls, never across an `.await`.
    let attempt = if f.is_async() {
        quote!(::resilience::__private::in_attempt(async { #inner }).await)
    } else {
        quote!({
            let __resilience_mark = ::resilience::__private::AttemptMark::enter();
            #inner
        })
    };
    // The retry state is made by the runtime at the first failure, so a first attempt
    // that succeeds stores none of it. The outcome lives only in the block that decides,
    // so an async function's future does not keep it (nor its error) across the sleep.
    quote! {{
        static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = #site;
        let __resilience_started = #started;
        let mut __resilience_attempts: ::core::option::Option<::resilience::__private::Attempts> =
            ::core::option::Option::None;
        loop {
            let __resilience_delay = {
                let __resilience_outcome: #ret = #attempt;
                let __resilience_error = match #split {
                    #ok(__resilience_value) => {
                        #retry_ok
                        __RESILIENCE_RETRY.succeeded(&__resilience_attempts, __resilience_started);
                        break ::core::result::Result::Ok(__resilience_value);
                    }
                    #err(__resilience_error) => __resilience_error,
                };
                match __RESILIENCE_RETRY.failed(
                    &mut __resilience_attempts,
                    __resilience_started,
                    __resilience_error,
                    #view,
                    ::resilience::__private::RetryArm {
                        observe: #observe,
                        retry_if: #retry_if,
                        on_retry: #on_retry,
                    },
                ) {
                    ::core::ops::ControlFlow::Break(__resilience_error) => {
                        break ::core::result::Result::Err(__resilience_error);
                    }
                    ::core::ops::ControlFlow::Continue(__resilience_delay) => __resilience_delay,
                }
            };
            #sleep;
        }
    }}
}

pub(crate) fn breaker(
    f: &Function,
    args: &BreakerArgs,
    span: Span,
    inner: TokenStream,
    observe: bool,
    index: usize,
) -> TokenStream {
    let name = args.name_tokens(f.name());
    let config = args.config();
    // The site names its function, for the warning about two sites configuring one
    // breaker differently.
    let function = function_path(f);
    let view = view();
    let observe = observe_arg(f, observe);
    // `None`: the error's verdict decides (a dependency's fault counts, a refusal never).
    let record_if = match args.record_if.get() {
        Some(path) => {
            quote_spanned!(path.span()=> |__resilience_e: &_| ::core::option::Option::Some(#path(__resilience_e)))
        }
        None => quote!(|_: &_| ::core::option::Option::None),
    };
    // One label per layer: `#[resilient]` and `#[circuit_breaker]` may both be on a function.
    let label = syn::Lifetime::new(&format!("'__resilience_breaker_{index}"), Span::call_site());
    // Spanned at the attribute: an error type without `From<CircuitOpen>` is reported
    // there, with the message of `FromRefusal` (a trait method, not a function's bound,
    // so the note points at no line of the runtime).
    let reject = refusal(span, quote!(__resilience_open));
    let outcome = rebuild(
        &f.ret,
        inner,
        quote!(__RESILIENCE_BREAKER.succeeded(__resilience_permit);),
        quote!(__RESILIENCE_BREAKER.failed(
            __resilience_permit,
            __resilience_error,
            #view,
            ::resilience::__private::BreakerArm {
                observe: #observe,
                record_if: #record_if,
            },
        )),
    );
    // With `key = expr`: the key's breaker, held for the call. Without: a method named by
    // default gets its `Self` type on the first call's cold path.
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    let new_site = quote!(::resilience::__private::BreakerSite::new(#name, || #config));
    let (site, breaker) = match args.key.get() {
        None if args.name.get().is_none() && f.uses_self() => {
            let self_type = self_type();
            (
                quote!(static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite =
                    #new_site.in_method().at(#function) #in_registry;),
                quote!(__RESILIENCE_BREAKER.instance_in(#self_type)),
            )
        }
        None => (
            quote! {
                static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite =
                    #new_site.at(#function) #in_registry;
                ::resilience::__private::known!(__RESILIENCE_BREAKER.declare);
            },
            quote!(__RESILIENCE_BREAKER.instance()),
        ),
        Some(key) => {
            let keyed = keyed_instance(key, quote!(__RESILIENCE_BREAKER), &label, span);
            (
                quote! {
                    static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite =
                        #new_site #in_registry;
                    ::resilience::__private::known!(__RESILIENCE_BREAKER.declare_keyed);
                    #keyed
                },
                quote!(__resilience_keyed),
            )
        }
    };
    quote! {#label: {
        #site
        let __resilience_permit = match #breaker.acquire() {
            ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
            ::core::result::Result::Err(__resilience_open) => break #label #reject,
        };
        #outcome
    }}
}

pub(crate) fn fallback(
    f: &Function,
    args: &FallbackArgs,
    span: Span,
    inner: TokenStream,
    observe: bool,
) -> syn::Result<TokenStream> {
    let arguments = f.call_arguments(span)?;
    let name = function_name(f);
    let cached_index = args.functions.len();
    // Built from the last fallback outwards: each one's error goes to the next.
    let mut chain: Option<TokenStream> = None;
    for (index, path) in args.functions.iter().enumerate().rev() {
        // Spanned at the fallback's name, so a signature that does not fit is reported there.
        let mut call_args: Vec<TokenStream> = arguments
            .iter()
            .map(|arg| respan(arg.clone(), path.span()))
            .collect();
        if args.with_error {
            call_args.push(quote!(__resilience_error));
        }
        let callee = match (&f.receiver, path.get_ident()) {
            (Some(_), Some(ident)) => quote_spanned!(ident.span()=> Self::#ident),
            _ => quote!(#path),
        };
        let awaited = if f.is_async() {
            quote_spanned!(path.span()=> .await)
        } else {
            quote!()
        };
        let label = quote!(#path).to_string().replace(' ', "");
        let call = quote_spanned!(path.span()=> #callee(#(#call_args),*) #awaited);
        let attempt = match chain.take() {
            None => call,
            Some(next) => quote! {
                match #call {
                    ::core::result::Result::Err(__resilience_error) => #next,
                    __resilience_ok => __resilience_ok,
                }
            },
        };
        chain = Some(quote!({
            ::resilience::__private::fallback_taken(#name, #label, #index);
            #attempt
        }));
    }
    let mut chain = chain.unwrap_or_default();
    // Bound always: the calls it made are counted before a fallback takes it.
    let error = quote!(mut __resilience_error);
    if observe {
        let view = view();
        let observed = quote!(::resilience::__private::observed(__resilience_error, #name, #view));
        chain = if args.with_error {
            quote!({ let __resilience_error = #observed; #chain })
        } else {
            quote!({ #observed; #chain })
        };
    }
    // An answer from a fallback recovers the failed call's monitor records.
    let counted = view();
    chain = quote!({
        let __resilience_failed = ::resilience::__private::calls_made(&mut __resilience_error, #counted);
        ::resilience::__private::answered_by_fallback(#name, __resilience_failed, #chain)
    });
    if !args.cached {
        return Ok(quote! {
            match #inner {
                ::core::result::Result::Ok(__resilience_value) => ::core::result::Result::Ok(__resilience_value),
                ::core::result::Result::Err(#error) => #chain,
            }
        });
    }
    // The last value the function itself produced, kept per call site, answers when every
    // fallback failed too.
    Ok(quote! {{
        static __RESILIENCE_LAST_GOOD: ::resilience::__private::LastGood = ::resilience::__private::LastGood::new();
        match #inner {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_LAST_GOOD.store(&__resilience_value);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(#error) => match #chain {
                ::core::result::Result::Err(__resilience_error) => match __RESILIENCE_LAST_GOOD.load() {
                    ::core::option::Option::Some(__resilience_value) => {
                        ::resilience::__private::fallback_taken(#name, "cached", #cached_index);
                        ::core::result::Result::Ok(__resilience_value)
                    }
                    ::core::option::Option::None => ::core::result::Result::Err(__resilience_error),
                },
                __resilience_ok => __resilience_ok,
            },
        }
    }})
}

fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            tree.set_span(span);
            tree
        })
        .collect()
}

pub(crate) fn context(
    f: &Function,
    args: &ContextArgs,
    inner: TokenStream,
    observe: bool,
) -> TokenStream {
    let ret = &f.ret;
    let operation = &args.operation;
    let view = view();
    let observe = observe_arg(f, observe);
    let fills = args.entries.iter().map(|(key, value)| {
        let span = value.span();
        if crate::args::context::FIELDS.contains(&key.to_string().as_str()) {
            quote_spanned!(span=> __resilience_ctx.#key = ::core::option::Option::Some(::std::string::ToString::to_string(&(#value)));)
        } else {
            let name = key.to_string();
            quote_spanned!(span=> __resilience_ctx.custom.insert(::std::string::String::from(#name), ::resilience::__private::to_json(&(#value)));)
        }
    });
    let run = if f.is_async() {
        quote!(__resilience_scope.run_async(async { #inner }).await)
    } else {
        quote!(__resilience_scope.run(|| -> #ret { #inner }))
    };
    let outcome = rebuild(
        ret,
        run,
        quote!(),
        quote!(__resilience_scope.failed(
            __resilience_error,
            #view,
            ::resilience::__private::ContextArm {
                observe: #observe,
                fill: |__resilience_ctx: &mut ::resilience::ErrorContext| {
                    #(#fills)*
                },
            },
        )),
    );
    quote! {{
        let __resilience_scope = ::resilience::__private::Scope::new(#operation);
        #outcome
    }}
}

pub(crate) fn timeout(
    f: &Function,
    args: &TimeoutArgs,
    span: Span,
    inner: TokenStream,
) -> syn::Result<TokenStream> {
    if !f.is_async() {
        return Err(syn::Error::new(
            f.item.sig.fn_token.span,
            "`#[timeout]` needs an `async fn`: a running sync call cannot be cut off; make the function `async`",
        ));
    }
    let limit = &args.limit;
    let name = function_name(f);
    let timed_out =
        quote_spanned!(span=> ::resilience::__private::timed_out(#name, __resilience_limit));
    Ok(quote! {{
        let __resilience_limit: ::core::time::Duration = #limit;
        match ::resilience::__private::timeout(__resilience_limit, async { #inner }).await {
            ::core::option::Option::Some(__resilience_done) => __resilience_done,
            ::core::option::Option::None => #timed_out,
        }
    }})
}

/// A disabled feature answers with its registered fallback value without running;
/// an enabled one reports each outcome, so repeated failures switch it off, and answers
/// a failure with the fallback value too (the reference's `execute_if_enabled`).
pub(crate) fn feature_switch(
    f: &Function,
    args: &FeatureSwitchArgs,
    inner: TokenStream,
    observe: bool,
) -> TokenStream {
    let name = &args.name;
    let view = view();
    let observe = observe_arg(f, observe);
    let ret = &f.ret;
    let outcome = quote! {
        let __resilience_outcome: #ret = #inner;
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_FEATURE.succeeded();
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                __RESILIENCE_FEATURE.failed(
                    __resilience_error,
                    #view,
                    ::resilience::__private::FeatureArm { observe: #observe },
                )
            }
        }
    };
    quote! {{
        static __RESILIENCE_FEATURE: ::resilience::__private::FeatureSite = ::resilience::__private::FeatureSite::new(#name);
        match __RESILIENCE_FEATURE.fallback_if_disabled() {
            ::core::option::Option::Some(__resilience_value) => ::core::result::Result::Ok(__resilience_value),
            ::core::option::Option::None => {
                #outcome
            }
        }
    }}
}

/// At most `max_concurrent` calls at once: the place is taken before the inner layers
/// run and given back when the block ends (or its future is dropped).
pub(crate) fn bulkhead(
    f: &Function,
    args: &BulkheadArgs,
    span: Span,
    inner: TokenStream,
    index: usize,
) -> TokenStream {
    let name = crate::args::keyed::name_tokens(args.name.get(), f.name());
    let config = args.config();
    let label = syn::Lifetime::new(
        &format!("'__resilience_bulkhead_{index}"),
        Span::call_site(),
    );
    // Spanned at the attribute: an error type without `From<BulkheadFull>` is reported there.
    let reject = refusal(span, quote!(__resilience_full));
    // With `key = expr`: the key's instance, held (an `Arc`) for the whole call.
    let declare = known(quote!(__RESILIENCE_BULKHEAD), args.key.get().is_some());
    let bulkhead = match args.key.get() {
        None => quote!(let __resilience_bulkhead = __RESILIENCE_BULKHEAD.instance();),
        Some(key) => {
            let keyed = keyed_instance(key, quote!(__RESILIENCE_BULKHEAD), &label, span);
            quote! {
                #keyed
                let __resilience_bulkhead = &*__resilience_keyed;
            }
        }
    };
    let admit = if f.is_async() {
        quote! {
            match __resilience_bulkhead.try_acquire() {
                ::core::option::Option::Some(__resilience_place) => __resilience_place,
                ::core::option::Option::None => match ::resilience::__private::bulkhead_wait(__resilience_bulkhead).await {
                    ::core::result::Result::Ok(__resilience_place) => __resilience_place,
                    ::core::result::Result::Err(__resilience_full) => break #label #reject,
                },
            }
        }
    } else {
        quote! {
            match __resilience_bulkhead.acquire_blocking() {
                ::core::result::Result::Ok(__resilience_place) => __resilience_place,
                ::core::result::Result::Err(__resilience_full) => break #label #reject,
            }
        }
    };
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    quote! {#label: {
        static __RESILIENCE_BULKHEAD: ::resilience::__private::BulkheadSite =
            ::resilience::__private::BulkheadSite::new(#name, || #config) #in_registry;
        #declare
        #bulkhead
        let __resilience_place = #admit;
        let __resilience_outcome = #inner;
        ::core::mem::drop(__resilience_place);
        __resilience_outcome
    }}
}

/// `limit` calls per `per` at the long-run rate, up to `burst` at once after a quiet
/// spell: a call is admitted (maybe after a delay) or refused before the inner layers
/// run. With `scope = cluster` (an `async fn` only: its admission is a Redis round
/// trip), the site's `admit_cluster` decides instead of the local limiter's `check`.
pub(crate) fn rate_limit(
    f: &Function,
    args: &RateLimitArgs,
    span: Span,
    inner: TokenStream,
    index: usize,
) -> syn::Result<TokenStream> {
    if let (Some(cluster), false) = (args.cluster(), f.is_async()) {
        return Err(syn::Error::new(
            cluster.span(),
            "`scope = cluster` needs an `async fn`: its admission is a Redis round trip; make the function `async`, or use `scope = local`",
        ));
    }
    let name = crate::args::keyed::name_tokens(args.name.get(), f.name());
    let config = args.config();
    let label = syn::Lifetime::new(
        &format!("'__resilience_rate_limit_{index}"),
        Span::call_site(),
    );
    // Spanned at the attribute: an error type without `From<RateLimited>` is reported there.
    let reject = refusal(span, quote!(__resilience_limited));
    // With `key = expr`: the key's instance, held (an `Arc`) for the whole call, where
    // an injected refusal finds it.
    let declare = known(quote!(__RESILIENCE_RATE_LIMIT), args.key.get().is_some());
    let limiter = match args.key.get() {
        None => quote!(let __resilience_limiter = __RESILIENCE_RATE_LIMIT.instance();),
        Some(key) => {
            let keyed = keyed_instance(key, quote!(__RESILIENCE_RATE_LIMIT), &label, span);
            quote! {
                #keyed
                let __resilience_limiter = &*__resilience_keyed;
            }
        }
    };
    // `cost = expr`: evaluated per call, before the admission, which takes that many
    // units; without it, the unweighted calls (and nothing more is generated).
    let (cost, weighted) = match args.cost() {
        Some(units) => (
            quote!(let __resilience_cost: u32 = #units;),
            Some(quote!(__resilience_cost)),
        ),
        None => (TokenStream::new(), None),
    };
    // An async call waits for its place, and gives it back if dropped while waiting;
    // a cluster admission is never delayed; a sync call sleeps on its thread, only when
    // it was delayed.
    let (admit, admitted, wait) = match (f.is_async(), args.cluster().is_some()) {
        (true, false) => (
            match &weighted {
                None => quote!(__resilience_limiter.reserve()),
                Some(cost) => quote!(__resilience_limiter.reserve_n(#cost)),
            },
            quote!(__resilience_place),
            quote! {
                if !__resilience_place.is_now() {
                    __resilience_limiter.wait(__resilience_place).await;
                }
            },
        ),
        (true, true) => (
            match &weighted {
                None => quote!(
                    __RESILIENCE_RATE_LIMIT
                        .admit_cluster(__resilience_limiter)
                        .await
                ),
                Some(cost) => quote!(
                    __RESILIENCE_RATE_LIMIT
                        .admit_cluster_n(__resilience_limiter, #cost)
                        .await
                ),
            },
            quote!(__resilience_delay),
            quote! {
                if !__resilience_delay.is_zero() {
                    ::resilience::__private::sleep(__resilience_delay).await;
                }
            },
        ),
        (false, _) => (
            match &weighted {
                None => quote!(__resilience_limiter.check()),
                Some(cost) => quote!(__resilience_limiter.check_n(#cost)),
            },
            quote!(__resilience_delay),
            quote! {
                if !__resilience_delay.is_zero() {
                    ::resilience::__private::sleep_blocking(__resilience_delay);
                }
            },
        ),
    };
    let in_registry = crate::args::registry::in_registry(args.registry.get());
    Ok(quote! {#label: {
        static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite =
            ::resilience::__private::RateLimitSite::new(#name, || #config) #in_registry;
        #declare
        #limiter
        #cost
        let __resilience_admitted = #admit;
        match __resilience_admitted {
            ::core::result::Result::Ok(#admitted) => { #wait }
            ::core::result::Result::Err(__resilience_limited) => break #label #reject,
        }
        #inner
    }})
}

/// The site's line in the list of sites known from the program's start, so its
/// instance (or keyed store) is registered before its first call.
fn known(site: TokenStream, keyed: bool) -> TokenStream {
    let declare = if keyed {
        quote!(declare_keyed)
    } else {
        quote!(declare)
    };
    quote!(::resilience::__private::known!(#site.#declare);)
}

/// `Err(E::from(refusal))` for a call a pattern refuses, through `FromRefusal` (whose
/// message names the variant to add), spanned at the attribute so a missing `From` is
/// reported there.
fn refusal(span: Span, refusal: TokenStream) -> TokenStream {
    quote_spanned!(span=> ::core::result::Result::Err(
        ::resilience::__private::FromRefusal::from_refusal(#refusal)
    ))
}

/// `__resilience_keyed`: the instance of the key `key` at the site `site`, held (an
/// `Arc`) for the call; a new key the name's full store refuses leaves the layer `label`
/// with the refusal.
fn keyed_instance(
    key: &syn::Expr,
    site: TokenStream,
    label: &syn::Lifetime,
    span: Span,
) -> TokenStream {
    let (imports, text) = crate::args::keyed::key_text(key);
    let reject = refusal(span, quote!(__resilience_refused));
    quote! {
        #imports
        let __resilience_keyed = match #site.keyed(#text) {
            ::core::result::Result::Ok(__resilience_instance) => __resilience_instance,
            ::core::result::Result::Err(__resilience_refused) => break #label #reject,
        };
    }
}

/// Records an error of the body in the monitor: a layer of its own only under
/// `#[timeout]`, which never sees the body's error (every other layer records it in its
/// own error handler).
pub(crate) fn observe(f: &Function, inner: TokenStream) -> TokenStream {
    let name = function_name(f);
    let view = view();
    let outcome = rebuild(
        &f.ret,
        inner,
        quote!(),
        quote!(::resilience::__private::observed(__resilience_error, #name, #view)),
    );
    quote!({ #outcome })
}
