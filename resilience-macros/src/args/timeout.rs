//! The argument of `#[timeout(D)]`.

use syn::parse::{Parse, ParseStream};

use super::DurationArg;

pub(crate) struct TimeoutArgs {
    pub(crate) limit: DurationArg,
}

impl Parse for TimeoutArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let limit = DurationArg::parse(input)?;
        if limit.is_zero_literal() {
            return Err(syn::Error::new(
                limit.span(),
                "a zero timeout would fail every call; give the longest a call may take, as in `#[timeout(5s)]`",
            ));
        }
        if !input.is_empty() {
            return Err(input.error("`#[timeout]` takes one duration, as in `#[timeout(5s)]`"));
        }
        Ok(TimeoutArgs { limit })
    }
}
