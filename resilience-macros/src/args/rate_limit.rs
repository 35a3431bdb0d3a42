//! The arguments of `#[rate_limit(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr};

use super::{parse_count, parse_keyed, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &[
    "limit",
    "per",
    "burst",
    "max_delay",
    "name",
    "key",
    "max_keys",
    "scope",
    "expected_instances",
    "registry",
    "cost",
];

#[derive(Default)]
pub(crate) struct RateLimitArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) name: Once<LitStr>,
    pub(crate) key: Once<Box<Expr>>,
    limit: Once<u32>,
    per: Once<DurationArg>,
    burst: Once<u32>,
    max_delay: Once<DurationArg>,
    pub(crate) max_keys: Once<u32>,
    pub(crate) scope: Once<Ident>,
    expected_instances: Once<u32>,
    /// `cost = expr`: the units of the limit a call takes, evaluated per call.
    cost: Once<Box<Expr>>,
}

impl Parse for RateLimitArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = RateLimitArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        args.check(Span::call_site())?;
        Ok(args)
    }
}

impl RateLimitArgs {
    pub(crate) fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "name" => self.name.set(key, super::keyed::parse_name(input, key)?),
            "key" => self.key.set(key, super::keyed::parse_key(input)?),
            "max_keys" => self.max_keys.set(key, parse_count(input, key, 1)?),
            "limit" => self.limit.set(key, parse_count(input, key, 1)?),
            "burst" => self.burst.set(key, parse_count(input, key, 1)?),
            "per" => {
                let per = DurationArg::parse(input)?;
                if per.is_zero_literal() {
                    return Err(syn::Error::new(
                        per.span(),
                        "`per` must be longer than zero, as in `per = 1s`",
                    ));
                }
                self.per.set(key, per)
            }
            "max_delay" => self.max_delay.set(key, DurationArg::parse(input)?),
            "scope" => self.scope.set(key, super::breaker::parse_scope(input)?),
            "expected_instances" => self
                .expected_instances
                .set(key, parse_count(input, key, 1)?),
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            "cost" => self.cost.set(key, parse_cost(input)?),
            _ => Err(unknown_key("rate_limit", key, KEYS)),
        }
    }

    /// Whether any key of this attribute was given (for `#[resilient]`, which adds the
    /// layer only then).
    pub(crate) fn any(&self) -> bool {
        self.limit.get().is_some()
            || self.per.get().is_some()
            || self.burst.get().is_some()
            || self.max_delay.get().is_some()
            || self.expected_instances.get().is_some()
            || self.cost.get().is_some()
    }

    /// `limit` and `per` go together; `max_keys` needs `key`.
    pub(crate) fn check(&self, span: Span) -> syn::Result<()> {
        match (self.limit.span(), self.per.span()) {
            (Some(_), Some(_)) => {}
            (Some(span), None) => return Err(syn::Error::new(
                span,
                "`limit` needs `per`, the period it is counted over, as in `limit = 100, per = 1s`",
            )),
            (None, Some(span)) => return Err(syn::Error::new(
                span,
                "`per` needs `limit`, the calls admitted per period, as in `limit = 100, per = 1s`",
            )),
            (None, None) => {
                let span = self
                    .burst
                    .span()
                    .or(self.max_delay.span())
                    .or(self.expected_instances.span())
                    .or(self.cost.span())
                    .unwrap_or(span);
                return Err(syn::Error::new(
                    span,
                    "`#[rate_limit]` needs `limit` and `per`, as in `#[rate_limit(limit = 100, per = 1s)]`",
                ));
            }
        }
        if let (Some(&limit), Some(DurationArg::Literal { nanos, .. })) =
            (self.limit.get(), self.per.get())
        {
            if *nanos < u128::from(limit) {
                return Err(syn::Error::new(
                    self.limit.span().unwrap_or(span),
                    format!(
                        "`limit = {limit}` is more than one call per nanosecond of `per` ({nanos} ns); \
                         lower `limit` or lengthen `per`, as in `limit = {limit}, per = 1s`"
                    ),
                ));
            }
        }
        super::keyed::check_max_keys(self.max_keys.span(), self.key.get().is_some())?;
        self.check_scope()
    }

    /// `cost = expr` as the generated code evaluates it: `Cost::units(expr)`, a `u32`,
    /// spanned at the expression so a value of a wrong type is reported there; an
    /// unsuffixed integer literal is written as the `u32` it is.
    pub(crate) fn cost(&self) -> Option<TokenStream> {
        let expr = self.cost.get()?;
        if let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(int),
            ..
        }) = &**expr
        {
            if int.suffix().is_empty() {
                let units = syn::LitInt::new(&format!("{}u32", int.base10_digits()), int.span());
                return Some(quote!(#units));
            }
        }
        Some(quote_spanned!(expr.span()=> ::resilience::__private::Cost::units(#expr)))
    }

    /// The `scope = cluster` of this attribute, if it says so.
    pub(crate) fn cluster(&self) -> Option<&Ident> {
        self.scope.get().filter(|scope| *scope == "cluster")
    }

    /// `expected_instances` needs `scope = cluster`; a cluster limit takes no `key` and
    /// no `max_delay`.
    fn check_scope(&self) -> syn::Result<()> {
        let Some(cluster) = self.cluster() else {
            return match self.expected_instances.span() {
                Some(span) => Err(syn::Error::new(
                    span,
                    "`expected_instances` sets the local share of a cluster rate limit; add `scope = cluster`, as in `scope = cluster, expected_instances = 3`",
                )),
                None => Ok(()),
            };
        };
        if self.key.get().is_some() {
            return Err(syn::Error::new(
                cluster.span(),
                "`scope = cluster` takes no `key = expr`: a cluster rate limit is one limit per name, shared by every instance; drop `key`, or keep it with `scope = local`",
            ));
        }
        if let Some(span) = self.max_delay.span() {
            return Err(syn::Error::new(
                span,
                "`max_delay` does not go with `scope = cluster`: a cluster admission is decided at once, no place is reserved ahead; drop `max_delay`",
            ));
        }
        Ok(())
    }

    /// The `RateLimitConfig` literal of the attribute's values.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        if let Some(v) = self.limit.get() {
            fields.push(quote!(limit: #v,));
        }
        if let Some(v) = self.per.get() {
            fields.push(quote!(per: #v,));
        }
        if let Some(v) = self.burst.get() {
            fields.push(quote!(burst: ::core::option::Option::Some(#v),));
        }
        if let Some(v) = self.max_delay.get() {
            fields.push(quote!(max_delay: #v,));
        }
        if let Some(v) = self.max_keys.get() {
            let v = *v as usize;
            fields.push(quote!(max_keys: #v,));
        }
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
        if let Some(v) = self.expected_instances.get() {
            fields.push(quote!(expected_instances: #v,));
        }
        quote! {
            ::resilience::RateLimitConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }
}

/// `cost = expr`: any expression (of an unsigned integer type, which the generated
/// code's `Cost` bound checks); an integer literal must fit in a `u32`.
fn parse_cost(input: ParseStream<'_>) -> syn::Result<Box<Expr>> {
    let expr: Expr = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            "`cost` takes an expression of an unsigned integer type, evaluated per call, as in `cost = tokens` or `cost = 5`",
        )
    })?;
    if let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Int(int),
        ..
    }) = &expr
    {
        if int.suffix().is_empty() && int.base10_parse::<u32>().is_err() {
            return Err(syn::Error::new(
                int.span(),
                format!(
                    "`cost = {}` is more than a `u32` holds; a cost is at most 4294967295 units",
                    int.base10_digits()
                ),
            ));
        }
    }
    Ok(Box::new(expr))
}

#[cfg(test)]
mod tests {
    use super::RateLimitArgs;

    fn parse(args: &str) -> syn::Result<RateLimitArgs> {
        syn::parse_str(args)
    }

    fn error(args: &str) -> String {
        match parse(args) {
            Ok(_) => panic!("`{args}` parsed"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn scope_and_expected_instances_reach_the_config() {
        let args = parse("limit = 500, per = 1m, scope = cluster, expected_instances = 3").unwrap();
        assert!(args.cluster().is_some());
        let config = args.config().to_string();
        assert!(
            config.contains("scope : :: resilience :: Scope :: Cluster"),
            "{config}"
        );
        assert!(config.contains("expected_instances : 3u32"), "{config}");
        let local = parse("limit = 5, per = 1s, scope = local").unwrap();
        assert!(local.cluster().is_none());
        assert!(local
            .config()
            .to_string()
            .contains("scope : :: resilience :: Scope :: Local"));
        // No scope: the config says nothing of it (the default, local).
        let plain = parse("limit = 5, per = 1s").unwrap();
        assert!(!plain.config().to_string().contains("scope"));
    }

    #[test]
    fn cluster_scope_misuse_is_an_error_that_says_how_to_fix_it() {
        assert!(error("limit = 5, per = 1s, scope = region").contains("unknown scope `region`"));
        assert!(
            error("limit = 5, per = 1s, expected_instances = 3").contains("add `scope = cluster`")
        );
        assert!(error("limit = 5, per = 1s, scope = cluster, key = tenant")
            .contains("`scope = cluster` takes no `key = expr`"));
        assert!(
            error("limit = 5, per = 1s, scope = cluster, max_delay = 10ms")
                .contains("`max_delay` does not go with `scope = cluster`")
        );
        assert!(
            error("limit = 5, per = 1s, scope = cluster, expected_instances = 0")
                .contains("expected_instances")
        );
        assert!(
            error("limit = 5, per = 1s, scope = cluster, scope = local").contains("given twice")
        );
    }

    #[test]
    fn resilient_gives_its_scope_to_the_rate_limit() {
        use crate::args::resilient::ResilientArgs;
        let args: ResilientArgs = syn::parse_str(
            "scope = cluster, quorum = 2, limit = 5, per = 1s, expected_instances = 2",
        )
        .unwrap();
        let rate_limit = args.rate_limit.expect("a rate-limit layer");
        assert!(rate_limit.cluster().is_some());
        assert!(rate_limit
            .config()
            .to_string()
            .contains("expected_instances : 2u32"));
        // No rate-limit key: no rate-limit layer, the scope is the breaker's alone.
        let args: ResilientArgs = syn::parse_str("scope = cluster, quorum = 2").unwrap();
        assert!(args.rate_limit.is_none());
        // `expected_instances` alone asks for a rate limit, which needs its keys.
        let err = syn::parse_str::<ResilientArgs>("expected_instances = 2")
            .err()
            .expect("an error");
        assert!(err.to_string().contains("needs `limit` and `per`"), "{err}");
    }

    #[test]
    fn cost_is_an_expression_and_a_literal_a_u32() {
        let args = parse("limit = 100, per = 1s, cost = tokens.len() as u32").unwrap();
        let cost = args.cost().unwrap().to_string();
        assert!(
            cost.contains("Cost :: units (tokens . len () as u32)"),
            "{cost}"
        );
        assert_eq!(
            parse("limit = 100, per = 1s, cost = 5")
                .unwrap()
                .cost()
                .unwrap()
                .to_string(),
            "5u32"
        );
        assert!(parse("limit = 100, per = 1s").unwrap().cost().is_none());
        assert!(
            error("limit = 100, per = 1s, cost = 4294967296").contains("more than a `u32` holds")
        );
        assert!(error("limit = 100, per = 1s, cost = ").contains("`cost` takes an expression"));
    }
}
