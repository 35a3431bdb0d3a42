//! The arguments of `#[rate_limit(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
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
];

#[derive(Default)]
pub(crate) struct RateLimitArgs {
    pub(crate) name: Once<LitStr>,
    pub(crate) key: Once<Box<Expr>>,
    limit: Once<u32>,
    per: Once<DurationArg>,
    burst: Once<u32>,
    max_delay: Once<DurationArg>,
    pub(crate) max_keys: Once<u32>,
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
                let span = self.burst.span().or(self.max_delay.span()).unwrap_or(span);
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
        super::keyed::check_max_keys(self.max_keys.span(), self.key.get().is_some())
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
        quote! {
            ::resilience::RateLimitConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }
}
