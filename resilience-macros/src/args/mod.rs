//! Parsing of the attributes' arguments: one module per attribute, plus the pieces they
//! share (durations, set-once keys, error collection).

pub(crate) mod adaptive_limit;
pub(crate) mod breaker;
pub(crate) mod bulkhead;
pub(crate) mod context;
pub(crate) mod fallback;
pub(crate) mod feature_switch;
pub(crate) mod hedge;
pub(crate) mod keyed;
pub(crate) mod name;
pub(crate) mod rate_limit;
pub(crate) mod registry;
pub(crate) mod resilient;
pub(crate) mod retry;
pub(crate) mod timeout;

use proc_macro2::{Span, TokenStream};
use quote::{quote_spanned, ToTokens};
use syn::parse::ParseStream;
use syn::spanned::Spanned;
use syn::{Expr, Lit};

/// A value that may be given once; a second time is an error at the second key.
pub(crate) struct Once<T> {
    value: Option<(Span, T)>,
}

impl<T> Default for Once<T> {
    fn default() -> Self {
        Once { value: None }
    }
}

impl<T> Once<T> {
    pub(crate) fn set(&mut self, key: &syn::Ident, value: T) -> syn::Result<()> {
        self.set_at(key.span(), &key.to_string(), value)
    }

    /// [`set`](Self::set) for a key that is not an `Ident` (a custom keyword).
    pub(crate) fn set_at(&mut self, key: Span, name: &str, value: T) -> syn::Result<()> {
        if self.value.is_some() {
            return Err(syn::Error::new(
                key,
                format!("`{name}` is given twice; keep one of them"),
            ));
        }
        self.value = Some((key, value));
        Ok(())
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(s, _)| *s)
    }

    /// Takes `other`'s value, if it has one and this has none (`#[resilient]` gives its
    /// `name` and `key` to each keyed layer).
    pub(crate) fn inherit(&mut self, other: &Once<T>)
    where
        T: Clone,
    {
        if self.value.is_none() {
            self.value.clone_from(&other.value);
        }
    }
}

/// A duration: a suffixed literal (`250ms`, `1.5s`), resolved at compile time, or any
/// expression of type `std::time::Duration`.
#[derive(Clone)]
pub(crate) enum DurationArg {
    Literal { nanos: u128, span: Span },
    Expr(Box<Expr>),
}

impl DurationArg {
    pub(crate) fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let expr: Expr = input.parse()?;
        Self::from_expr(expr)
    }

    pub(crate) fn from_expr(expr: Expr) -> syn::Result<Self> {
        let Expr::Lit(lit) = &expr else {
            return Ok(DurationArg::Expr(Box::new(expr)));
        };
        let (digits, suffix, span) = match &lit.lit {
            Lit::Int(int) => (int.base10_digits().to_owned(), int.suffix().to_owned(), int.span()),
            Lit::Float(float) => (float.base10_digits().to_owned(), float.suffix().to_owned(), float.span()),
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "expected a duration such as `250ms`, `1.5s` or an expression of type `std::time::Duration`",
                ))
            }
        };
        let per_unit: u128 = match suffix.as_str() {
            "ns" => 1,
            "us" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(syn::Error::new(
                    span,
                    format!("a duration needs a unit: write `{digits}ms` or `{digits}s` (units: ns us ms s m h)"),
                ))
            }
            unit => {
                return Err(syn::Error::new(
                    span,
                    format!("unknown duration unit `{unit}`; use one of ns, us, ms, s, m, h (as in `{digits}ms`)"),
                ))
            }
        };
        let nanos = scale(&digits, per_unit).ok_or_else(|| {
            syn::Error::new(
                span,
                "this duration is too large; the limit is about 584 years",
            )
        })?;
        Ok(DurationArg::Literal { nanos, span })
    }

    /// Whether the duration is known at compile time to be zero.
    pub(crate) fn is_zero_literal(&self) -> bool {
        matches!(self, DurationArg::Literal { nanos: 0, .. })
    }

    pub(crate) fn span(&self) -> Span {
        match self {
            DurationArg::Literal { span, .. } => *span,
            DurationArg::Expr(e) => e.span(),
        }
    }
}

/// `digits` (decimal, maybe with a fraction or exponent) times `per_unit`, in whole
/// nanoseconds, if it fits in a `u64`.
fn scale(digits: &str, per_unit: u128) -> Option<u128> {
    let value: f64 = digits.parse().ok()?;
    let nanos = if digits.contains(['.', 'e', 'E']) {
        let n = (value * per_unit as f64).round();
        if !(0.0..=u64::MAX as f64).contains(&n) {
            return None;
        }
        n as u128
    } else {
        digits.parse::<u128>().ok()?.checked_mul(per_unit)?
    };
    (nanos <= u128::from(u64::MAX)).then_some(nanos)
}

impl ToTokens for DurationArg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            DurationArg::Literal { nanos, span } => {
                let nanos = *nanos as u64;
                tokens.extend(quote_spanned!(*span=> ::core::time::Duration::from_nanos(#nanos)));
            }
            DurationArg::Expr(expr) => {
                // The type ascription makes a wrong type an error at the user's expression.
                let span = expr.span();
                tokens.extend(quote_spanned!(span=> { let __resilience_d: ::core::time::Duration = #expr; __resilience_d }));
            }
        }
    }
}

/// A whole number literal (`5`), checked to fit a `u32` and, where asked, to be at least 1.
pub(crate) fn parse_count(input: ParseStream<'_>, key: &syn::Ident, min: u32) -> syn::Result<u32> {
    let lit: syn::LitInt = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a whole number, as in `{key} = 5`"),
        )
    })?;
    let value: u32 = lit.base10_parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{key}` takes a whole number that fits in a u32"),
        )
    })?;
    if value < min {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`{key}` must be at least {min}; `{key} = {value}` would never let a call through"
            ),
        ));
    }
    Ok(value)
}

/// A number literal (`50`, `2.5`) as `f64`.
pub(crate) fn parse_number(input: ParseStream<'_>, key: &syn::Ident) -> syn::Result<(f64, Span)> {
    let lit: Lit = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a number, as in `{key} = 50`"),
        )
    })?;
    let value = match &lit {
        Lit::Int(i) => i.base10_parse::<f64>(),
        Lit::Float(f) => f.base10_parse::<f64>(),
        other => Err(syn::Error::new(other.span(), "")),
    }
    .map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{key}` takes a number, as in `{key} = 50`"),
        )
    })?;
    Ok((value, lit.span()))
}

/// The error for a key that the attribute does not know.
pub(crate) fn unknown_key(attribute: &str, key: &syn::Ident, valid: &[&str]) -> syn::Error {
    let list = valid
        .iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ");
    syn::Error::new(
        key.span(),
        format!("unknown key `{key}` for `#[{attribute}]`; expected one of {list}"),
    )
}

/// Parses `key = value, ...`, handing each key to `value`. A bad value is collected and
/// parsing goes on at the next key, so every mistake is reported at once, each once.
pub(crate) fn parse_keyed(
    input: ParseStream<'_>,
    mut value: impl FnMut(&syn::Ident, ParseStream<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    let mut errors = crate::errors::Errors::default();
    while !input.is_empty() {
        let key: syn::Ident = input.parse()?;
        input.parse::<syn::Token![=]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("expected `=` after `{key}`, as in `{key} = ...`"),
            )
        })?;
        if let Err(e) = value(&key, input) {
            errors.push(e);
            while !input.is_empty() && !input.peek(syn::Token![,]) {
                input.parse::<proc_macro2::TokenTree>()?;
            }
        }
        if input.is_empty() {
            break;
        }
        input.parse::<syn::Token![,]>()?;
    }
    errors.finish()
}
