//! The arguments of `#[adaptive_limit(...)]`: parsing here, the rules across keys in
//! [`AdaptiveLimitArgs::check`].

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

use super::{parse_count, parse_keyed, parse_number, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &[
    "name",
    "algorithm",
    "min_limit",
    "max_limit",
    "initial_limit",
    "max_wait",
    "priority",
    "backoff_ratio",
    "scope",
    "registry",
];

const ALGORITHMS: &[&str] = &["vegas", "gradient2", "aimd"];

/// The runtime's defaults (`AdaptiveLimitConfig::default()`), for the checks across keys.
const DEFAULT_MIN: u32 = 1;
const DEFAULT_MAX: u32 = 200;
const DEFAULT_INITIAL: u32 = 20;

#[derive(Default)]
pub(crate) struct AdaptiveLimitArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) name: Once<LitStr>,
    algorithm: Once<Ident>,
    min_limit: Once<u32>,
    max_limit: Once<u32>,
    initial_limit: Once<u32>,
    max_wait: Once<DurationArg>,
    pub(crate) priority: Once<Box<Expr>>,
    backoff_ratio: Once<f64>,
}

impl Parse for AdaptiveLimitArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = AdaptiveLimitArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        args.check()?;
        Ok(args)
    }
}

impl AdaptiveLimitArgs {
    fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "name" => self.name.set(key, super::keyed::parse_name(input, key)?),
            "algorithm" => self.algorithm.set(key, parse_algorithm(input)?),
            "min_limit" => self.min_limit.set(key, parse_count(input, key, 1)?),
            "max_limit" => self.max_limit.set(key, parse_count(input, key, 1)?),
            "initial_limit" => self.initial_limit.set(key, parse_count(input, key, 1)?),
            "max_wait" => self.max_wait.set(key, DurationArg::parse(input)?),
            "priority" => {
                let expr: Expr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`priority` takes an expression of type `resilience::Priority`, as in `priority = Priority::High`",
                    )
                })?;
                self.priority.set(key, Box::new(expr))
            }
            "backoff_ratio" => {
                let (value, span) = parse_number(input, key)?;
                if !(0.5..1.0).contains(&value) {
                    return Err(syn::Error::new(
                        span,
                        format!("`backoff_ratio` must be at least 0.5 and below 1 (the limit is multiplied by it on a drop); `{value}` is not"),
                    ));
                }
                self.backoff_ratio.set(key, value)
            }
            "scope" => parse_scope(input),
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            _ => Err(unknown_key("adaptive_limit", key, KEYS)),
        }
    }

    /// The rules across keys, with the runtime's defaults for the keys not given.
    fn check(&self) -> syn::Result<()> {
        let min = self.min_limit.get().copied().unwrap_or(DEFAULT_MIN);
        let max = self.max_limit.get().copied().unwrap_or(DEFAULT_MAX);
        let mut errors = crate::errors::Errors::default();
        if min > max {
            let span = self
                .min_limit
                .span()
                .or(self.max_limit.span())
                .unwrap_or_else(Span::call_site);
            errors.push(syn::Error::new(
                span,
                format!("`min_limit = {min}` is above `max_limit = {max}`; the limit moves between them, so give `min_limit <= max_limit`"),
            ));
        } else if let Some(initial) = self.initial_limit.get() {
            if !(min..=max).contains(initial) {
                let span = self.initial_limit.span().unwrap_or_else(Span::call_site);
                errors.push(syn::Error::new(
                    span,
                    format!("`initial_limit = {initial}` is outside `min_limit..=max_limit` ({min}..={max}); the limit starts there, so give a value within"),
                ));
            }
        }
        errors.finish()
    }

    /// The `AdaptiveLimitConfig` literal of the attribute's values. An initial limit not
    /// given is the default's, moved within the bounds given.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        if let Some(algorithm) = self.algorithm.get() {
            let variant = match algorithm.to_string().as_str() {
                "vegas" => quote!(Vegas),
                "aimd" => quote!(Aimd),
                _ => quote!(Gradient2),
            };
            fields.push(quote!(algorithm: ::resilience::adaptive_limit::Algorithm::#variant,));
        }
        let min = self.min_limit.get().copied();
        let max = self.max_limit.get().copied();
        if let Some(v) = min {
            fields.push(quote!(min_limit: #v,));
        }
        if let Some(v) = max {
            fields.push(quote!(max_limit: #v,));
        }
        let initial = self.initial_limit.get().copied().or_else(|| {
            (min.is_some() || max.is_some()).then(|| {
                DEFAULT_INITIAL.clamp(min.unwrap_or(DEFAULT_MIN), max.unwrap_or(DEFAULT_MAX))
            })
        });
        if let Some(v) = initial {
            fields.push(quote!(initial_limit: #v,));
        }
        if let Some(v) = self.max_wait.get() {
            fields.push(quote!(max_wait: #v,));
        }
        if let Some(v) = self.backoff_ratio.get() {
            fields.push(quote!(backoff_ratio: #v,));
        }
        quote! {
            ::resilience::AdaptiveLimitConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }

    /// The call's priority: the expression given, checked to be a `Priority` at its own
    /// span, or `Normal`.
    pub(crate) fn priority_tokens(&self) -> TokenStream {
        match self.priority.get() {
            Some(expr) => {
                let span = expr.span();
                quote_spanned!(span=> { let __resilience_p: ::resilience::Priority = #expr; __resilience_p })
            }
            None => quote!(::resilience::Priority::Normal),
        }
    }
}

fn parse_algorithm(input: ParseStream<'_>) -> syn::Result<Ident> {
    let how = "`algorithm` is one of `vegas`, `gradient2`, `aimd`, as in `algorithm = gradient2`";
    let ident: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), how))?;
    if !ALGORITHMS.contains(&ident.to_string().as_str()) {
        return Err(syn::Error::new(
            ident.span(),
            format!("unknown algorithm `{ident}`; {how}"),
        ));
    }
    Ok(ident)
}

/// `scope = local` is the only scope: a limit of calls at once is per process.
fn parse_scope(input: ParseStream<'_>) -> syn::Result<()> {
    let scope: Ident = input.parse()?;
    match scope.to_string().as_str() {
        "local" => Ok(()),
        "cluster" => Err(syn::Error::new(
            scope.span(),
            "an adaptive limit is per process: it counts this process's calls in flight and adapts to the latency this process sees; drop `scope`, or write `scope = local`",
        )),
        _ => Err(syn::Error::new(scope.span(), "`scope` takes `local`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> syn::Result<AdaptiveLimitArgs> {
        syn::parse_str(s)
    }

    #[test]
    fn the_config_has_what_is_given_and_an_initial_limit_within_the_bounds() {
        let args = parse("name = \"search\", algorithm = vegas, max_limit = 10").unwrap();
        let config = args.config().to_string();
        assert!(config.contains("Algorithm :: Vegas"), "{config}");
        assert!(config.contains("initial_limit : 10u32"), "{config}");
        let args = parse("min_limit = 30").unwrap();
        assert!(args.config().to_string().contains("initial_limit : 30u32"));
    }

    #[test]
    fn mistakes_say_how_to_fix_them() {
        let err = |s| parse(s).err().expect("an error").to_string();
        assert!(err("algorithm = cubic").contains("unknown algorithm `cubic`"));
        assert!(err("min_limit = 10, max_limit = 5").contains("is above `max_limit = 5`"));
        assert!(err("min_limit = 0").contains("at least 1"));
        assert!(err("initial_limit = 300").contains("outside"));
        assert!(err("scope = cluster").contains("per process"));
        assert!(err("backoff_ratio = 1.5").contains("below 1"));
        assert!(err("limit = 5").contains("unknown key `limit`"));
    }
}
