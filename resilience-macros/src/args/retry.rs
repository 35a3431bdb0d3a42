//! The arguments of `#[retry(...)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitBool, LitStr, Path, Token};

use super::{parse_count, parse_keyed, parse_number, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &[
    "max_attempts",
    "backoff",
    "jitter",
    "max_elapsed",
    "max_retry_after",
    "retry_if",
    "retry_if_ok",
    "on_retry",
    "budget",
    "adaptive",
    "policy",
    "registry",
];

/// `backoff = ...`
#[derive(Clone)]
pub(crate) enum Backoff {
    None,
    Fixed(DurationArg),
    Linear {
        base: Option<DurationArg>,
        step: Option<DurationArg>,
    },
    Exponential {
        base: Option<DurationArg>,
        factor: Option<f64>,
        max: Option<DurationArg>,
    },
}

/// `jitter = ...`
#[derive(Clone)]
pub(crate) enum Jitter {
    None,
    Full,
    Equal,
    Decorrelated,
    Spread(f64),
}

#[derive(Default)]
pub(crate) struct RetryArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) max_attempts: Once<u32>,
    pub(crate) backoff: Once<Backoff>,
    pub(crate) jitter: Once<Jitter>,
    pub(crate) max_elapsed: Once<DurationArg>,
    pub(crate) max_retry_after: Once<DurationArg>,
    pub(crate) retry_if: Once<Path>,
    /// `retry_if_ok = path`: `fn(&T) -> bool`, an `Ok` value to retry like an error.
    pub(crate) retry_if_ok: Once<Path>,
    pub(crate) on_retry: Once<Path>,
    pub(crate) budget: Once<LitStr>,
    pub(crate) adaptive: Once<bool>,
    pub(crate) policy: Once<LitStr>,
}

impl Parse for RetryArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = RetryArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        Ok(args)
    }
}

impl RetryArgs {
    pub(crate) fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "max_attempts" => self.max_attempts.set(key, parse_count(input, key, 1)?),
            "backoff" => self.backoff.set(key, parse_backoff(input)?),
            "jitter" => self.jitter.set(key, parse_jitter(input)?),
            "max_elapsed" => {
                let d = DurationArg::parse(input)?;
                if d.is_zero_literal() {
                    return Err(syn::Error::new(
                        d.span(),
                        "`max_elapsed` must be longer than zero; remove it to allow every attempt",
                    ));
                }
                self.max_elapsed.set(key, d)
            }
            "max_retry_after" => self.max_retry_after.set(key, DurationArg::parse(input)?),
            "retry_if" => self
                .retry_if
                .set(key, parse_path(input, key, "fn(&E) -> bool")?),
            "retry_if_ok" => self
                .retry_if_ok
                .set(key, parse_path(input, key, "fn(&T) -> bool")?),
            "on_retry" => self.on_retry.set(
                key,
                parse_path(input, key, "fn(&E, u32, std::time::Duration)")?,
            ),
            "budget" => {
                let name: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`budget` takes the budget's name as a string, as in `budget = \"kanban\"`",
                    )
                })?;
                super::name::check(&name, "`budget`")?;
                self.budget.set(key, name)
            }
            "policy" => {
                let name: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(e.span(), "`policy` takes the name of a registry retry policy, as in `policy = \"kanban\"`")
                })?;
                super::name::check(&name, "`policy`")?;
                self.policy.set(key, name)
            }
            "adaptive" => {
                let b: LitBool = input
                    .parse()
                    .map_err(|e| syn::Error::new(e.span(), "`adaptive` takes `true` or `false`"))?;
                self.adaptive.set(key, b.value)
            }
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            _ => Err(unknown_key("retry", key, KEYS)),
        }
    }

    /// The `RetryConfig` literal the call site's policy is built from.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        if let Some(n) = self.max_attempts.get() {
            fields.push(quote!(max_attempts: #n,));
        }
        if let Some(b) = self.backoff.get() {
            let b = backoff_tokens(b);
            fields.push(quote!(backoff: #b,));
        }
        if let Some(j) = self.jitter.get() {
            let j = jitter_tokens(j);
            fields.push(quote!(jitter: #j,));
        }
        if let Some(d) = self.max_elapsed.get() {
            fields.push(quote!(max_elapsed: ::core::option::Option::Some(#d),));
        }
        if let Some(d) = self.max_retry_after.get() {
            fields.push(quote!(max_retry_after: #d,));
        }
        if let Some(name) = self.budget.get() {
            fields.push(
                quote!(budget: ::core::option::Option::Some(::std::borrow::Cow::Borrowed(#name)),),
            );
        }
        if let Some(a) = self.adaptive.get() {
            fields.push(quote!(adaptive: #a,));
        }
        quote! {
            ::resilience::RetryConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }
}

fn parse_path(input: ParseStream<'_>, key: &Ident, shape: &str) -> syn::Result<Path> {
    input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes the path of a function `{shape}`, as in `{key} = my_check`"),
        )
    })
}

const BACKOFFS: &str = "`none`, `fixed(D)`, `linear(base = D, step = D)` or `exponential(base = D, factor = F, max = D)`";

fn parse_backoff(input: ParseStream<'_>) -> syn::Result<Backoff> {
    let kind: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("expected a backoff: {BACKOFFS}")))?;
    match kind.to_string().as_str() {
        "none" => Ok(Backoff::None),
        "fixed" => {
            let content;
            syn::parenthesized!(content in input);
            let d = DurationArg::parse(&content)?;
            if !content.is_empty() {
                return Err(content.error("`fixed` takes one duration, as in `fixed(500ms)`"));
            }
            Ok(Backoff::Fixed(d))
        }
        "linear" => {
            let (mut base, mut step) = (Once::default(), Once::default());
            parse_named(input, &kind, &["base", "step"], |key, content| {
                match key.to_string().as_str() {
                    "base" => base.set(key, DurationArg::parse(content)?),
                    _ => step.set(key, DurationArg::parse(content)?),
                }
            })?;
            Ok(Backoff::Linear {
                base: base.get().cloned(),
                step: step.get().cloned(),
            })
        }
        "exponential" => {
            let (mut base, mut factor, mut max) =
                (Once::default(), Once::default(), Once::default());
            parse_named(
                input,
                &kind,
                &["base", "factor", "max"],
                |key, content| match key.to_string().as_str() {
                    "base" => base.set(key, DurationArg::parse(content)?),
                    "factor" => {
                        let (f, span) = parse_number(content, key)?;
                        if !(f >= 1.0 && f.is_finite()) {
                            return Err(syn::Error::new(
                                span,
                                "`factor` must be at least 1.0, as in `factor = 2.0`",
                            ));
                        }
                        factor.set(key, f)
                    }
                    _ => max.set(key, DurationArg::parse(content)?),
                },
            )?;
            Ok(Backoff::Exponential {
                base: base.get().cloned(),
                factor: factor.get().copied(),
                max: max.get().cloned(),
            })
        }
        other => Err(syn::Error::new(
            kind.span(),
            format!("unknown backoff `{other}`; expected {BACKOFFS}"),
        )),
    }
}

/// `kind(key = value, ...)` with the keys in `valid`; the parenthesis may be left out.
fn parse_named(
    input: ParseStream<'_>,
    kind: &Ident,
    valid: &[&str],
    mut each: impl FnMut(&Ident, ParseStream<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    if !input.peek(syn::token::Paren) {
        return Ok(());
    }
    let content;
    syn::parenthesized!(content in input);
    while !content.is_empty() {
        let key: Ident = content.parse()?;
        if !valid.contains(&key.to_string().as_str()) {
            let list = valid
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(syn::Error::new(
                key.span(),
                format!("unknown key `{key}` for `{kind}(...)`; expected one of {list}"),
            ));
        }
        content.parse::<Token![=]>()?;
        each(&key, &content)?;
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(())
}

const JITTERS: &str = "`none`, `full`, `equal`, `decorrelated` or `spread(F)` with 0 < F <= 1";

fn parse_jitter(input: ParseStream<'_>) -> syn::Result<Jitter> {
    let kind: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), format!("expected a jitter: {JITTERS}")))?;
    match kind.to_string().as_str() {
        "none" => Ok(Jitter::None),
        "full" => Ok(Jitter::Full),
        "equal" => Ok(Jitter::Equal),
        "decorrelated" => Ok(Jitter::Decorrelated),
        "spread" => {
            let content;
            syn::parenthesized!(content in input);
            let (f, span) = parse_number(&content, &kind)?;
            if !(f > 0.0 && f <= 1.0) {
                return Err(syn::Error::new(
                    span,
                    "`spread(F)` takes a fraction with 0 < F <= 1, as in `spread(0.5)`",
                ));
            }
            Ok(Jitter::Spread(f))
        }
        other => Err(syn::Error::new(
            kind.span(),
            format!("unknown jitter `{other}`; expected {JITTERS}"),
        )),
    }
}

fn backoff_tokens(b: &Backoff) -> TokenStream {
    let default_base = DurationArg::Literal {
        nanos: 1_000_000_000,
        span: Span::call_site(),
    };
    match b {
        Backoff::None => quote!(::resilience::retry::Backoff::None),
        Backoff::Fixed(d) => quote!(::resilience::retry::Backoff::Fixed(#d)),
        Backoff::Linear { base, step } => {
            let base = base.as_ref().unwrap_or(&default_base);
            let step = step.as_ref().unwrap_or(base);
            quote!(::resilience::retry::Backoff::Linear { base: #base, step: #step })
        }
        Backoff::Exponential { base, factor, max } => {
            let base = base.as_ref().unwrap_or(&default_base);
            let factor = factor.unwrap_or(2.0);
            let max = max.clone().unwrap_or(DurationArg::Literal {
                nanos: 60_000_000_000,
                span: Span::call_site(),
            });
            quote!(::resilience::retry::Backoff::Exponential { base: #base, factor: #factor, max: #max })
        }
    }
}

fn jitter_tokens(j: &Jitter) -> TokenStream {
    match j {
        Jitter::None => quote!(::resilience::retry::Jitter::None),
        Jitter::Full => quote!(::resilience::retry::Jitter::Full),
        Jitter::Equal => quote!(::resilience::retry::Jitter::Equal),
        Jitter::Decorrelated => quote!(::resilience::retry::Jitter::Decorrelated),
        Jitter::Spread(f) => quote!(::resilience::retry::Jitter::Spread(#f)),
    }
}
