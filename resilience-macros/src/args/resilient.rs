//! The arguments of `#[resilient(...)]`: the keys of `#[retry]`, `#[circuit_breaker]`,
//! `#[rate_limit]`, `#[bulkhead]` and `timeout = D` in one list, routed to each.
//! `name`, `key` and `max_keys` go to the breaker and to each keyed layer present;
//! `scope` to the breaker and the rate limit.

use syn::parse::{Parse, ParseStream};

use super::{
    breaker::BreakerArgs, bulkhead::BulkheadArgs, parse_keyed, rate_limit::RateLimitArgs,
    retry::RetryArgs, timeout::TimeoutArgs, DurationArg,
};

pub(crate) struct ResilientArgs {
    pub(crate) retry: RetryArgs,
    pub(crate) breaker: BreakerArgs,
    pub(crate) rate_limit: Option<RateLimitArgs>,
    pub(crate) bulkhead: Option<BulkheadArgs>,
    pub(crate) timeout: Option<TimeoutArgs>,
}

impl Parse for ResilientArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut retry = RetryArgs::default();
        let mut breaker = BreakerArgs::default();
        let mut rate_limit = RateLimitArgs::default();
        let mut bulkhead = BulkheadArgs::default();
        let mut timeout: super::Once<DurationArg> = super::Once::default();
        parse_keyed(input, |key, input| {
            let name = key.to_string();
            if super::retry::KEYS.contains(&name.as_str()) {
                retry.parse_value(key, input)
            } else if super::breaker::KEYS.contains(&name.as_str()) {
                breaker.parse_value(key, input)
            } else if super::rate_limit::KEYS.contains(&name.as_str()) {
                rate_limit.parse_value(key, input)
            } else if super::bulkhead::KEYS.contains(&name.as_str()) {
                bulkhead.parse_value(key, input)
            } else if name == "timeout" {
                let limit = DurationArg::parse(input)?;
                if limit.is_zero_literal() {
                    return Err(syn::Error::new(
                        limit.span(),
                        "a zero timeout would fail every call; give the longest a call may take, as in `timeout = 5s`",
                    ));
                }
                timeout.set(key, limit)
            } else {
                let valid: Vec<&str> = super::retry::KEYS
                    .iter()
                    .chain(super::breaker::KEYS)
                    .chain(super::rate_limit::KEYS)
                    .chain(super::bulkhead::KEYS)
                    .chain(&["timeout"])
                    .copied()
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                Err(super::unknown_key("resilient", key, &valid))
            }
        })?;
        // `registry` is routed to the retry (its key list comes first); every layer
        // registers in the same registry.
        breaker.registry.inherit(&retry.registry);
        breaker.check_pairs()?;
        let rate_limit = if rate_limit.any() {
            rate_limit.name.inherit(&breaker.name);
            rate_limit.key.inherit(&breaker.key);
            rate_limit.max_keys.inherit(&breaker.max_keys);
            rate_limit.scope.inherit(&breaker.scope);
            rate_limit.registry.inherit(&retry.registry);
            rate_limit.check(proc_macro2::Span::call_site())?;
            Some(rate_limit)
        } else {
            None
        };
        let bulkhead = if bulkhead.any() {
            bulkhead.name.inherit(&breaker.name);
            bulkhead.key.inherit(&breaker.key);
            bulkhead.max_keys.inherit(&breaker.max_keys);
            bulkhead.registry.inherit(&retry.registry);
            bulkhead.check()?;
            Some(bulkhead)
        } else {
            None
        };
        Ok(ResilientArgs {
            retry,
            breaker,
            rate_limit,
            bulkhead,
            timeout: timeout.get().cloned().map(|limit| TimeoutArgs { limit }),
        })
    }
}
