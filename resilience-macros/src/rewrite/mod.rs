//! Rewrites a function for the attributes stacked on it.
//!
//! The first of our attributes to expand takes every later one of ours off the function
//! and builds all the layers at once, so the order a reader sees is the order of the
//! layers: the attribute written first is the outermost. (Expanding one attribute at a
//! time would wrap the body inside-out, in the order the compiler happens to expand.)

mod adaptive_limit;
pub(crate) mod chaos;
mod exits;
mod function;
mod hedge;
mod layers;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn};

use crate::args::adaptive_limit::AdaptiveLimitArgs;
use crate::args::{
    breaker::BreakerArgs, bulkhead::BulkheadArgs, context::ContextArgs, fallback::FallbackArgs,
    feature_switch::FeatureSwitchArgs, hedge::HedgeArgs, rate_limit::RateLimitArgs,
    resilient::ResilientArgs, retry::RetryArgs, timeout::TimeoutArgs,
};
use function::Function;

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Retry,
    CircuitBreaker,
    Fallback,
    ErrorContext,
    Resilient,
    Timeout,
    FeatureSwitch,
    Bulkhead,
    RateLimit,
    Hedge,
    AdaptiveLimit,
}

const KINDS: [Kind; 11] = [
    Kind::Retry,
    Kind::CircuitBreaker,
    Kind::Fallback,
    Kind::ErrorContext,
    Kind::Resilient,
    Kind::Timeout,
    Kind::FeatureSwitch,
    Kind::Bulkhead,
    Kind::RateLimit,
    Kind::Hedge,
    Kind::AdaptiveLimit,
];

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Retry => "retry",
            Kind::CircuitBreaker => "circuit_breaker",
            Kind::Fallback => "fallback",
            Kind::ErrorContext => "error_context",
            Kind::Resilient => "resilient",
            Kind::Timeout => "timeout",
            Kind::FeatureSwitch => "feature_switch",
            Kind::Bulkhead => "bulkhead",
            Kind::RateLimit => "rate_limit",
            Kind::Hedge => "hedge",
            Kind::AdaptiveLimit => "adaptive_limit",
        }
    }

    /// Ours, written as `name`, `resilience::name` or `::resilience::name`.
    fn of(attr: &Attribute) -> Option<Kind> {
        let path = attr.path();
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let last = match segments.as_slice() {
            [only] => only,
            [krate, last] if krate == "resilience" => last,
            _ => return None,
        };
        KINDS.into_iter().find(|k| k.name() == last)
    }
}

/// One parsed attribute.
enum Layer {
    Retry(RetryArgs),
    Breaker(BreakerArgs, Span),
    Fallback(FallbackArgs, Span),
    Context(ContextArgs),
    Timeout(TimeoutArgs, Span),
    FeatureSwitch(FeatureSwitchArgs),
    Bulkhead(BulkheadArgs, Span),
    RateLimit(RateLimitArgs, Span),
    Hedge(HedgeArgs),
    AdaptiveLimit(AdaptiveLimitArgs, Span),
}

impl Layer {
    /// The layers one attribute stands for, outermost first.
    fn parse(kind: Kind, args: TokenStream, span: Span) -> syn::Result<Vec<Layer>> {
        Ok(match kind {
            Kind::Retry => vec![Layer::Retry(syn::parse2(args)?)],
            Kind::CircuitBreaker => vec![Layer::Breaker(syn::parse2(args)?, span)],
            Kind::Fallback => vec![Layer::Fallback(
                parse_required(args, span, "#[fallback(cached_board)]")?,
                span,
            )],
            Kind::ErrorContext => vec![Layer::Context(parse_required(
                args,
                span,
                "#[error_context(\"sync_board\")]",
            )?)],
            Kind::Timeout => vec![Layer::Timeout(
                parse_required(args, span, "#[timeout(5s)]")?,
                span,
            )],
            Kind::FeatureSwitch => vec![Layer::FeatureSwitch(parse_required(
                args,
                span,
                "#[feature_switch(\"recommendations\")]",
            )?)],
            Kind::Hedge => vec![Layer::Hedge(syn::parse2(args)?)],
            Kind::AdaptiveLimit => vec![Layer::AdaptiveLimit(syn::parse2(args)?, span)],
            Kind::Bulkhead => vec![Layer::Bulkhead(syn::parse2(args)?, span)],
            Kind::RateLimit => vec![Layer::RateLimit(
                parse_required(args, span, "#[rate_limit(limit = 100, per = 1s)]")?,
                span,
            )],
            // `#[resilient]` is `#[retry]` written before `#[circuit_breaker]`, then
            // `#[rate_limit]`, `#[bulkhead]` and `#[timeout]` when their keys are given.
            Kind::Resilient => {
                let ResilientArgs {
                    retry,
                    breaker,
                    rate_limit,
                    bulkhead,
                    timeout,
                } = syn::parse2(args)?;
                let mut layers = vec![Layer::Retry(retry), Layer::Breaker(breaker, span)];
                layers.extend(rate_limit.map(|args| Layer::RateLimit(args, span)));
                layers.extend(bulkhead.map(|args| Layer::Bulkhead(args, span)));
                layers.extend(timeout.map(|args| Layer::Timeout(args, span)));
                layers
            }
        })
    }
}

impl Layer {
    /// The registry the layer's `registry = STATIC` names, if it takes and has one.
    fn registry(&self) -> Option<&syn::Path> {
        match self {
            Layer::Retry(args) => args.registry.get(),
            Layer::Breaker(args, _) => args.registry.get(),
            Layer::Bulkhead(args, _) => args.registry.get(),
            Layer::RateLimit(args, _) => args.registry.get(),
            Layer::Hedge(args) => args.registry.get(),
            Layer::AdaptiveLimit(args, _) => args.registry.get(),
            Layer::Fallback(..)
            | Layer::Context(_)
            | Layer::Timeout(..)
            | Layer::FeatureSwitch(_) => None,
        }
    }
}

fn parse_required<T: syn::parse::Parse>(
    args: TokenStream,
    span: Span,
    example: &str,
) -> syn::Result<T> {
    if args.is_empty() {
        return Err(syn::Error::new(
            span,
            format!("this attribute needs arguments, as in `{example}`"),
        ));
    }
    syn::parse2(args)
}

/// The entry point of every attribute.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut item: ItemFn = match syn::parse2(item.clone()) {
        Ok(item) => item,
        Err(_) => {
            let message = format!(
                "`#[{}]` applies to a function with a body (`fn` or `async fn`, free or in an `impl`)",
                kind.name()
            );
            let error = syn::Error::new(Span::call_site(), message).to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors = crate::errors::Errors::default();
    let mut layers = Vec::new();
    match Layer::parse(kind, args, Span::call_site()) {
        Ok(parsed) => layers.extend(parsed),
        Err(e) => errors.push(e),
    }
    // Every later attribute of ours becomes an inner layer.
    let mut kept = Vec::new();
    let mut absorbed = Vec::new();
    for attr in std::mem::take(&mut item.attrs) {
        let Some(kind) = Kind::of(&attr) else {
            kept.push(attr);
            continue;
        };
        let span = attr.path().span();
        absorbed.push(attr.path().clone());
        let args = match &attr.meta {
            syn::Meta::Path(_) => TokenStream::new(),
            syn::Meta::List(list) => list.tokens.clone(),
            syn::Meta::NameValue(nv) => {
                errors.push(syn::Error::new(
                    nv.eq_token.span(),
                    format!(
                        "write `#[{}(...)]`, not `#[{} = ...]`",
                        kind.name(),
                        kind.name()
                    ),
                ));
                continue;
            }
        };
        match Layer::parse(kind, args, span) {
            Ok(parsed) => layers.extend(parsed),
            Err(e) => errors.push(e),
        }
    }
    item.attrs = kept;
    if let Some(errors) = errors.into_error() {
        return emit_with_error(item, errors);
    }
    let function = match Function::analyse(item.clone(), kind.name()) {
        Ok(f) => f,
        Err(e) => return emit_with_error(item, e),
    };
    match build(&function, &layers) {
        // The absorbed attributes never expand, so their imports would look unused.
        Ok(body) => function.emit(quote!(#(#[allow(unused_imports)] use #absorbed as _;)* #body)),
        Err(e) => emit_with_error(item, e),
    }
}

/// The layers around the body, innermost first.
///
/// Exactly one layer records the body's errors in the monitor, in its own error
/// handler: the innermost that is not an error context (so the contexts inside it have
/// filled the error first), or the outermost when every layer is a context. Recording
/// there, instead of in a layer of its own, saves the success path one more match.
fn build(f: &Function, layers: &[Layer]) -> syn::Result<TokenStream> {
    let observer = layers
        .iter()
        .rposition(|layer| !matches!(layer, Layer::Context(_)))
        .unwrap_or(0);
    // The function's own faults: in the innermost layer's gate when it has one (a
    // breaker, bulkhead, rate limiter, adaptive limit or hedge), in a gate of their own
    // otherwise.
    let function_site = chaos::FunctionSite {
        registry: layers.iter().find_map(Layer::registry).cloned(),
    };
    let gated_innermost = matches!(
        layers.last(),
        Some(
            Layer::Breaker(..)
                | Layer::Bulkhead(..)
                | Layer::RateLimit(..)
                | Layer::Hedge(..)
                | Layer::AdaptiveLimit(..)
        )
    );
    let mut expr = layers::body(f);
    if !gated_innermost {
        expr = chaos::function(f, &function_site, expr);
    }
    for (index, layer) in layers.iter().enumerate().rev() {
        let observe = index == observer;
        let function = (index + 1 == layers.len()).then_some(&function_site);
        expr = match layer {
            Layer::Retry(args) => layers::retry(f, args, expr, observe),
            Layer::Breaker(args, span) => {
                let pattern = chaos::Refusing::breaker(*span, index);
                let expr = chaos::refusing(f, pattern, function, expr, index);
                layers::breaker(f, args, *span, expr, observe, index)
            }
            Layer::Fallback(args, span) => layers::fallback(f, args, *span, expr, observe)?,
            Layer::Context(args) => layers::context(f, args, expr, observe),
            Layer::Timeout(args, span) => {
                // A timeout never sees the body's error; the monitor does, just inside it.
                let inner = if observe {
                    layers::observe(f, expr)
                } else {
                    expr
                };
                layers::timeout(f, args, *span, inner)?
            }
            Layer::FeatureSwitch(args) => layers::feature_switch(f, args, expr, observe),
            Layer::Bulkhead(args, span) => {
                let pattern = chaos::Refusing::bulkhead(*span, index);
                let expr = chaos::refusing(f, pattern, function, expr, index);
                // A bulkhead never sees the body's error; the monitor does, just inside it.
                let inner = if observe {
                    layers::observe(f, expr)
                } else {
                    expr
                };
                layers::bulkhead(f, args, *span, inner, index)
            }
            Layer::RateLimit(args, span) => {
                let pattern = chaos::Refusing::rate_limit(*span, index);
                let expr = chaos::refusing(f, pattern, function, expr, index);
                let inner = if observe {
                    layers::observe(f, expr)
                } else {
                    expr
                };
                layers::rate_limit(f, args, *span, inner, index)?
            }
            Layer::Hedge(args) => {
                let expr = chaos::hedge(f, function, expr, index);
                hedge::layer(f, args, expr, observe)?
            }
            Layer::AdaptiveLimit(args, span) => {
                let pattern = chaos::Refusing::adaptive_limit(*span, index);
                let expr = chaos::refusing(f, pattern, function, expr, index);
                adaptive_limit::layer(f, args, *span, expr, observe, index)
            }
        };
    }
    Ok(expr)
}

/// The function as written, with the error inside its body: one mistake gives one error,
/// and the item stays in place for the editor and the rest of the crate.
fn emit_with_error(mut item: ItemFn, error: syn::Error) -> TokenStream {
    // The error goes first among the body's own statements, in the body's own block: the
    // body nested as a block would be the tail expression of another, which
    // `unused_braces` flags beside the error, suggesting a fix that breaks the function
    // (`async fn f() -> Result<(), E> Err(E::X)`).
    let error = syn::Stmt::Item(syn::Item::Verbatim(error.to_compile_error()));
    item.block.stmts.insert(0, error);
    item.into_token_stream()
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::*;

    /// What `#[circuit_breaker(failure_threshold = 0)]` emits on `f`: the function.
    fn emitted_on_error(body: TokenStream) -> syn::ItemFn {
        let item = quote!(async fn f() -> Result<(), E> #body);
        let out = expand(Kind::CircuitBreaker, quote!(failure_threshold = 0), item);
        syn::parse2(out).expect("the function is still emitted")
    }

    #[test]
    fn an_error_is_emitted_in_the_body_s_own_block_never_around_it() {
        let f = emitted_on_error(quote!({ Err(E::X) }));
        let stmts = &f.block.stmts;
        assert_eq!(stmts.len(), 2, "the error, then the body's statement");
        assert!(quote!(#(#stmts)*).to_string().contains("compile_error"));
        // No block as the tail: `unused_braces` would flag it.
        assert!(
            matches!(
                stmts.last(),
                Some(syn::Stmt::Expr(syn::Expr::Call(_), None))
            ),
            "{}",
            quote!(#f)
        );
        let f = emitted_on_error(quote!({
            let x = 1;
            Ok(x)
        }));
        assert_eq!(f.block.stmts.len(), 3);
    }
}
