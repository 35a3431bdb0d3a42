//! The arguments of `#[resilient(...)]`: the keys of `#[retry]` and `#[circuit_breaker]`
//! in one list, routed to each.

use syn::parse::{Parse, ParseStream};

use super::{breaker::BreakerArgs, parse_keyed, retry::RetryArgs};

pub(crate) struct ResilientArgs {
    pub(crate) retry: RetryArgs,
    pub(crate) breaker: BreakerArgs,
}

impl Parse for ResilientArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut retry = RetryArgs::default();
        let mut breaker = BreakerArgs::default();
        parse_keyed(input, |key, input| {
            let name = key.to_string();
            if super::retry::KEYS.contains(&name.as_str()) {
                retry.parse_value(key, input)
            } else if super::breaker::KEYS.contains(&name.as_str()) {
                breaker.parse_value(key, input)
            } else {
                let valid: Vec<&str> = super::retry::KEYS
                    .iter()
                    .chain(super::breaker::KEYS)
                    .copied()
                    .collect();
                Err(super::unknown_key("resilient", key, &valid))
            }
        })?;
        breaker.check_pairs()?;
        Ok(ResilientArgs { retry, breaker })
    }
}
