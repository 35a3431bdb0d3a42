//! The arguments of `#[circuit_breaker(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Path};

use super::{parse_count, parse_keyed, parse_number, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &[
    "name",
    "failure_threshold",
    "success_threshold",
    "recovery_timeout",
    "recovery_factor",
    "max_recovery_timeout",
    "half_open_max_calls",
    "window",
    "max_failures_per_window",
    "failure_rate",
    "minimum_calls",
    "window_size",
    "rate_window",
    "slow_call",
    "slow_call_rate",
    "record_if",
    "parent",
    "key",
    "max_keys",
    "scope",
    "quorum",
    "registry",
];

#[derive(Default)]
pub(crate) struct BreakerArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) name: Once<LitStr>,
    failure_threshold: Once<u32>,
    success_threshold: Once<u32>,
    recovery_timeout: Once<DurationArg>,
    recovery_factor: Once<f64>,
    max_recovery_timeout: Once<DurationArg>,
    half_open_max_calls: Once<u32>,
    window: Once<DurationArg>,
    max_failures_per_window: Once<u32>,
    failure_rate: Once<f64>,
    minimum_calls: Once<u32>,
    window_size: Once<u32>,
    rate_window: Once<DurationArg>,
    slow_call: Once<DurationArg>,
    slow_call_rate: Once<f64>,
    pub(crate) record_if: Once<Path>,
    parent: Once<LitStr>,
    pub(crate) key: Once<Box<syn::Expr>>,
    pub(crate) max_keys: Once<u32>,
    pub(crate) scope: Once<Ident>,
    quorum: Once<u32>,
}

impl Parse for BreakerArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = BreakerArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        args.check_pairs()?;
        Ok(args)
    }
}

impl BreakerArgs {
    pub(crate) fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "name" => self.name.set(key, parse_name(input, key)?),
            "parent" => self.parent.set(key, parse_name(input, key)?),
            "failure_threshold" => self.failure_threshold.set(key, parse_count(input, key, 1)?),
            "success_threshold" => self.success_threshold.set(key, parse_count(input, key, 1)?),
            "half_open_max_calls" => self.half_open_max_calls.set(key, parse_count(input, key, 1)?),
            "max_failures_per_window" => self.max_failures_per_window.set(key, parse_count(input, key, 1)?),
            "minimum_calls" => self.minimum_calls.set(key, parse_count(input, key, 1)?),
            "window_size" => self.window_size.set(key, parse_count(input, key, 1)?),
            "recovery_timeout" => self.recovery_timeout.set(key, parse_positive_duration(input, key)?),
            "recovery_factor" => self.recovery_factor.set(key, parse_factor(input, key)?),
            "max_recovery_timeout" => self.max_recovery_timeout.set(key, parse_positive_duration(input, key)?),
            "rate_window" => self.rate_window.set(key, parse_rate_window(input, key)?),
            "window" => self.window.set(key, parse_positive_duration(input, key)?),
            "slow_call" => self.slow_call.set(key, parse_positive_duration(input, key)?),
            "failure_rate" => self.failure_rate.set(key, parse_percent(input, key)?),
            "slow_call_rate" => self.slow_call_rate.set(key, parse_percent(input, key)?),
            "scope" => self.scope.set(key, parse_scope(input)?),
            "quorum" => self.quorum.set(key, parse_count(input, key, 1)?),
            "record_if" => self.record_if.set(
                key,
                input.parse().map_err(|e| {
                    syn::Error::new(e.span(), "`record_if` takes the path of a function `fn(&E) -> bool`, as in `record_if = is_outage`")
                })?,
            ),
            "key" => self.key.set(key, super::keyed::parse_key(input)?),
            "max_keys" => self.max_keys.set(key, parse_count(input, key, 1)?),
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            _ => Err(unknown_key("circuit_breaker", key, KEYS)),
        }
    }

    /// Keys that only mean something together.
    pub(crate) fn check_pairs(&self) -> syn::Result<()> {
        let pair =
            |a: Option<Span>, b: Option<Span>, a_name: &str, b_name: &str, example: &str| match (
                a, b,
            ) {
                (Some(span), None) => Err(syn::Error::new(
                    span,
                    format!("`{a_name}` needs `{b_name}` too, as in `{example}`"),
                )),
                (None, Some(span)) => Err(syn::Error::new(
                    span,
                    format!("`{b_name}` needs `{a_name}` too, as in `{example}`"),
                )),
                _ => Ok(()),
            };
        pair(
            self.window.span(),
            self.max_failures_per_window.span(),
            "window",
            "max_failures_per_window",
            "window = 60s, max_failures_per_window = 10",
        )?;
        pair(
            self.slow_call.span(),
            self.slow_call_rate.span(),
            "slow_call",
            "slow_call_rate",
            "slow_call = 2s, slow_call_rate = 50",
        )?;
        super::keyed::check_max_keys(self.max_keys.span(), self.key.get().is_some())?;
        if let (Some(span), None) = (
            self.quorum.span(),
            self.scope.get().filter(|s| *s == "cluster"),
        ) {
            return Err(syn::Error::new(
                span,
                "`quorum` counts instances of a cluster breaker; add `scope = cluster`, as in `scope = cluster, quorum = 2`",
            ));
        }
        self.check_rate_window()?;
        self.check_recovery()?;
        if let (Some(min), Some(size)) = (self.minimum_calls.get(), self.window_size.get()) {
            if min > size {
                return Err(syn::Error::new(
                    self.minimum_calls.span().unwrap_or_else(Span::call_site),
                    format!("`minimum_calls = {min}` is larger than `window_size = {size}`; the rate could never be computed"),
                ));
            }
        }
        Ok(())
    }

    /// `rate_window` replaces `window_size`, and needs a rate to hold calls for.
    fn check_rate_window(&self) -> syn::Result<()> {
        let Some(span) = self.rate_window.span() else {
            return Ok(());
        };
        if self.window_size.get().is_some() {
            return Err(syn::Error::new(
                span,
                "`rate_window` replaces `window_size`: the rates are over the calls of the last `rate_window` instead of the last `window_size` calls; keep one of them",
            ));
        }
        if self.failure_rate.get().is_none() && self.slow_call_rate.get().is_none() {
            return Err(syn::Error::new(
                span,
                "`rate_window` holds the calls a rate is computed over; add `failure_rate` or `slow_call_rate`, as in `failure_rate = 50, rate_window = 60s`",
            ));
        }
        Ok(())
    }

    /// `max_recovery_timeout` caps a growing period, from `recovery_timeout` up.
    fn check_recovery(&self) -> syn::Result<()> {
        let Some(max) = self.max_recovery_timeout.get() else {
            return Ok(());
        };
        if self.recovery_factor.get().is_none_or(|f| *f == 1.0) {
            return Err(syn::Error::new(
                self.max_recovery_timeout.span().unwrap_or_else(|| max.span()),
                "`max_recovery_timeout` caps an open period that grows; add `recovery_factor` above 1, as in `recovery_factor = 2, max_recovery_timeout = 5m`",
            ));
        }
        // Known at compile time only when both are literals (the default is 60 s).
        let (recovery, said) = match self.recovery_timeout.get() {
            Some(DurationArg::Literal { nanos, .. }) => (*nanos, "`recovery_timeout`"),
            Some(DurationArg::Expr(_)) => return Ok(()),
            None => (60_000_000_000, "`recovery_timeout` (60s, its default)"),
        };
        if let DurationArg::Literal { nanos, span } = max {
            if *nanos < recovery {
                return Err(syn::Error::new(
                    *span,
                    format!("`max_recovery_timeout` is shorter than {said}: the cap must be at least the first open period"),
                ));
            }
        }
        Ok(())
    }

    /// The breaker's name: the given one, or the function's module path and name.
    pub(crate) fn name_tokens(&self, function: &Ident) -> TokenStream {
        match self.name.get() {
            Some(name) => quote!(#name),
            None => {
                let function = function.to_string();
                quote!(::core::concat!(::core::module_path!(), "::", #function))
            }
        }
    }

    /// The `BreakerConfig` literal of the attribute's values.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        macro_rules! plain {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field.get() { fields.push(quote!($field: #v,)); }
            )*};
        }
        macro_rules! optional {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field.get() { fields.push(quote!($field: ::core::option::Option::Some(#v),)); }
            )*};
        }
        plain!(
            failure_threshold,
            success_threshold,
            recovery_timeout,
            recovery_factor,
            half_open_max_calls,
            minimum_calls,
            window_size
        );
        optional!(
            max_recovery_timeout,
            window,
            max_failures_per_window,
            failure_rate,
            rate_window,
            slow_call,
            slow_call_rate
        );
        plain!(quorum);
        if let Some(scope) = self.scope.get() {
            let variant = Ident::new(
                if scope == "cluster" {
                    "Cluster"
                } else {
                    "Local"
                },
                scope.span(),
            );
            fields.push(quote!(scope: ::resilience::Scope::#variant,));
        }
        if let Some(parent) = self.parent.get() {
            fields.push(quote!(parent: ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#parent)),));
        }
        if let Some(v) = self.max_keys.get() {
            let v = *v as usize;
            fields.push(quote!(max_keys: #v,));
        }
        // A failure rate alone uses the default window; asking for one implies it.
        quote! {
            ::resilience::BreakerConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }
}

fn parse_name(input: ParseStream<'_>, key: &Ident) -> syn::Result<LitStr> {
    let name: LitStr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a string, as in `{key} = \"kanban\"`"),
        )
    })?;
    super::name::check(&name, &format!("`{key}`"))?;
    Ok(name)
}

pub(super) fn parse_scope(input: ParseStream<'_>) -> syn::Result<Ident> {
    let scope: Ident = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`scope` is `local` or `cluster`, as in `scope = cluster`",
        )
    })?;
    if scope != "local" && scope != "cluster" {
        return Err(syn::Error::new(
            scope.span(),
            format!("unknown scope `{scope}`: write `scope = local` or `scope = cluster`"),
        ));
    }
    Ok(scope)
}

fn parse_positive_duration(input: ParseStream<'_>, key: &Ident) -> syn::Result<DurationArg> {
    let d = DurationArg::parse(input)?;
    if d.is_zero_literal() {
        return Err(syn::Error::new(
            d.span(),
            format!("`{key}` must be longer than zero, as in `{key} = 30s`"),
        ));
    }
    Ok(d)
}

fn parse_percent(input: ParseStream<'_>, key: &Ident) -> syn::Result<f64> {
    let (value, span) = parse_number(input, key)?;
    if !(value > 0.0 && value <= 100.0) {
        return Err(syn::Error::new(
            span,
            format!("`{key}` is a percentage above 0 and at most 100, as in `{key} = 50`; `{value}` is out of range"),
        ));
    }
    Ok(value)
}

/// `recovery_factor = F`: a finite number of at least 1.
fn parse_factor(input: ParseStream<'_>, key: &Ident) -> syn::Result<f64> {
    let (value, span) = parse_number(input, key)?;
    if !(value.is_finite() && value >= 1.0) {
        return Err(syn::Error::new(
            span,
            format!("`{key}` multiplies the open period after each failed trial: a number of at least 1, as in `{key} = 2`; `{value}` would not let it grow"),
        ));
    }
    Ok(value)
}

/// `rate_window = D`: between one second and a day when written as a literal (the
/// runtime checks an expression).
fn parse_rate_window(input: ParseStream<'_>, key: &Ident) -> syn::Result<DurationArg> {
    const SECOND: u128 = 1_000_000_000;
    let d = parse_positive_duration(input, key)?;
    if let DurationArg::Literal { nanos, span } = d {
        if !(SECOND..=86_400 * SECOND).contains(&nanos) {
            return Err(syn::Error::new(
                span,
                format!("`{key}` is between 1s and 24h, as in `{key} = 60s`: a shorter window would hold more noise than calls, a longer one keeps failures long after a recovery"),
            ));
        }
    }
    Ok(d)
}
