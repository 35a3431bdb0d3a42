//! Parsing of `#[marcus(...)]`, `#[context]` and thiserror's `#[from]` on one node.
//!
//! Each key is set once ([`Slot`]); a key given twice is refused at its second
//! occurrence. Whether a key belongs on the node it was written on is `valid`'s business.

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Member, Meta, Token};

use crate::args::Once;
use crate::errors::Errors;

mod kw {
    syn::custom_keyword!(code);
    syn::custom_keyword!(category);
    syn::custom_keyword!(severity);
    syn::custom_keyword!(retryable);
    syn::custom_keyword!(retry_after);
    syn::custom_keyword!(remediation);
    syn::custom_keyword!(transparent);

    syn::custom_keyword!(immediate);
    syn::custom_keyword!(fallback);
    syn::custom_keyword!(retry);
    syn::custom_keyword!(long_term);
    syn::custom_keyword!(escalation);
}

/// Defines a closed set of names written as bare identifiers (`transient`, `high`), and
/// the runtime enum variant each one stands for.
macro_rules! named_values {
    ($ty:ident, $what:literal, $($name:literal => $variant:ident),+ $(,)?) => {
        #[derive(Clone, Copy, PartialEq, Eq)]
        pub(crate) enum $ty { $($variant),+ }

        impl $ty {
            pub(crate) const NAMES: &'static [&'static str] = &[$($name),+];

            fn from_name(name: &str) -> Option<Self> {
                match name {
                    $($name => Some($ty::$variant),)+
                    _ => None,
                }
            }

            pub(crate) fn tokens(self) -> TokenStream {
                let path: TokenStream = match self {
                    $($ty::$variant => quote!(::resilience::$ty::$variant),)+
                };
                path
            }

            fn parse_value(input: ParseStream, key: &str) -> syn::Result<Self> {
                if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("write the {} without quotes: `{key} = {}`", $what, lit.value()),
                    ));
                }
                let ident = match input.call(Ident::parse_any) {
                    Ok(ident) => ident,
                    Err(_) => {
                        return Err(syn::Error::new(
                            input.span(),
                            format!("expected a {}: write `{key} = {}`", $what, Self::NAMES[0]),
                        ))
                    }
                };
                let name = ident.to_string();
                if let Some(value) = Self::from_name(&name) {
                    return Ok(value);
                }
                let snake = super::naming::snake_case(&name);
                let hint = if Self::from_name(&snake).is_some() {
                    format!("; write `{key} = {snake}`")
                } else {
                    String::new()
                };
                Err(syn::Error::new(
                    ident.span(),
                    format!(
                        "unknown {} `{name}`{hint}; expected one of {}",
                        $what,
                        quote_list(Self::NAMES),
                    ),
                ))
            }
        }
    };
}

named_values!(Category, "category",
    "transient" => Transient,
    "configuration" => Configuration,
    "business_logic" => BusinessLogic,
    "integration" => Integration,
    "security" => Security,
    "system" => System,
);

named_values!(Severity, "severity",
    "low" => Low,
    "medium" => Medium,
    "high" => High,
    "critical" => Critical,
);

/// `` `a`, `b` or `c` ``.
pub(crate) fn quote_list(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}

/// `remediation(immediate = "...", ...)`: each field a string literal, once.
#[derive(Default)]
pub(crate) struct Remediation {
    pub immediate: Once<LitStr>,
    pub fallback: Once<LitStr>,
    pub retry: Once<LitStr>,
    pub long_term: Once<LitStr>,
    pub escalation: Once<LitStr>,
}

impl Remediation {
    /// The runtime struct's field names, in the order of [`Remediation::fields`].
    pub(crate) const FIELDS: [&'static str; 5] =
        ["immediate", "fallback", "retry", "long_term", "escalation"];

    /// Each field's slot, in the order of [`Remediation::FIELDS`].
    pub(crate) fn fields(&self) -> [&Once<LitStr>; 5] {
        [
            &self.immediate,
            &self.fallback,
            &self.retry,
            &self.long_term,
            &self.escalation,
        ]
    }
}

impl Parse for Remediation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut out = Remediation::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            let (span, name, slot) = if lookahead.peek(kw::immediate) {
                let k: kw::immediate = input.parse()?;
                (k.span, "immediate", &mut out.immediate)
            } else if lookahead.peek(kw::fallback) {
                let k: kw::fallback = input.parse()?;
                (k.span, "fallback", &mut out.fallback)
            } else if lookahead.peek(kw::retry) {
                let k: kw::retry = input.parse()?;
                (k.span, "retry", &mut out.retry)
            } else if lookahead.peek(kw::long_term) {
                let k: kw::long_term = input.parse()?;
                (k.span, "long_term", &mut out.long_term)
            } else if lookahead.peek(kw::escalation) {
                let k: kw::escalation = input.parse()?;
                (k.span, "escalation", &mut out.escalation)
            } else {
                return Err(unknown_key(
                    input,
                    lookahead,
                    "remediation(...)",
                    &Remediation::FIELDS,
                ));
            };
            input.parse::<Token![=]>()?;
            let value = parse_str(input, &format!("remediation({name} = \"...\")"))?;
            slot.set_at(span, name, value)?;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(out)
    }
}

/// Everything `#[marcus(...)]` may say, merged over every `#[marcus]` on one node.
#[derive(Default)]
pub(crate) struct Marcus {
    pub code: Once<LitStr>,
    pub category: Once<Category>,
    pub severity: Once<Severity>,
    pub retryable: Once<bool>,
    pub retry_after: Once<Member>,
    pub remediation: Once<Remediation>,
    pub transparent: Once<()>,
}

impl Marcus {
    const KEYS: [&'static str; 7] = [
        "code",
        "category",
        "severity",
        "retryable",
        "retry_after",
        "remediation",
        "transparent",
    ];

    /// Keys given here that a node of some kind does not take, with their spans.
    pub(crate) fn given(&self) -> Vec<(&'static str, Span)> {
        let mut given = Vec::new();
        let mut push = |name, key: Option<Span>| {
            if let Some(key) = key {
                given.push((name, key));
            }
        };
        push("code", self.code.span());
        push("category", self.category.span());
        push("severity", self.severity.span());
        push("retryable", self.retryable.span());
        push("retry_after", self.retry_after.span());
        push("remediation", self.remediation.span());
        push("transparent", self.transparent.span());
        given
    }

    /// Parses one `#[marcus(...)]` into `self`, refusing keys already set.
    fn parse_into(&mut self, input: ParseStream) -> syn::Result<()> {
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::code) {
                let k: kw::code = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = parse_str(input, "code = \"KANBAN_TIMEOUT\"")?;
                self.code.set_at(k.span, "code", value)?;
            } else if lookahead.peek(kw::category) {
                let k: kw::category = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = Category::parse_value(input, "category")?;
                self.category.set_at(k.span, "category", value)?;
            } else if lookahead.peek(kw::severity) {
                let k: kw::severity = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = Severity::parse_value(input, "severity")?;
                self.severity.set_at(k.span, "severity", value)?;
            } else if lookahead.peek(kw::retryable) {
                let k: kw::retryable = input.parse()?;
                let value = if input.peek(Token![=]) {
                    input.parse::<Token![=]>()?;
                    parse_bool(input)?
                } else {
                    true
                };
                self.retryable.set_at(k.span, "retryable", value)?;
            } else if lookahead.peek(kw::retry_after) {
                let k: kw::retry_after = input.parse()?;
                input.parse::<Token![=]>()?;
                let value = parse_member(input)?;
                self.retry_after.set_at(k.span, "retry_after", value)?;
            } else if lookahead.peek(kw::remediation) {
                let k: kw::remediation = input.parse()?;
                if !input.peek(syn::token::Paren) {
                    return Err(syn::Error::new(
                        k.span,
                        "write `remediation(immediate = \"...\", fallback = \"...\")`",
                    ));
                }
                let content;
                syn::parenthesized!(content in input);
                let value: Remediation = content.parse()?;
                self.remediation.set_at(k.span, "remediation", value)?;
            } else if lookahead.peek(kw::transparent) {
                let k: kw::transparent = input.parse()?;
                self.transparent.set_at(k.span, "transparent", ())?;
            } else {
                return Err(unknown_key(
                    input,
                    lookahead,
                    "#[marcus(...)]",
                    &Marcus::KEYS,
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    }
}

/// An identifier where a key was expected is an unknown key; anything else gets syn's
/// "expected one of" from `lookahead`.
fn unknown_key(
    input: ParseStream,
    lookahead: syn::parse::Lookahead1,
    within: &str,
    keys: &[&str],
) -> syn::Error {
    match input.fork().call(Ident::parse_any) {
        Ok(ident) => syn::Error::new(
            ident.span(),
            format!(
                "unknown key `{ident}` in `{within}`; expected one of {}",
                quote_list(keys)
            ),
        ),
        Err(_) => lookahead.error(),
    }
}

fn parse_str(input: ParseStream, example: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    Err(syn::Error::new(
        value_span(input),
        format!("expected a string literal: write `{example}`"),
    ))
}

fn parse_bool(input: ParseStream) -> syn::Result<bool> {
    if input.peek(syn::LitBool) {
        let lit: syn::LitBool = input.parse()?;
        return Ok(lit.value);
    }
    Err(syn::Error::new(
        value_span(input),
        "expected `true` or `false`: write `retryable = false`, or `retryable` alone for true",
    ))
}

/// A field name, or a tuple field's index.
fn parse_member(input: ParseStream) -> syn::Result<Member> {
    if input.peek(syn::LitInt) {
        let lit: syn::LitInt = input.parse()?;
        return match lit.base10_parse::<u32>() {
            Ok(index) if lit.suffix().is_empty() => Ok(Member::Unnamed(syn::Index {
                index,
                span: lit.span(),
            })),
            _ => Err(syn::Error::new(
                lit.span(),
                "expected a field: write `retry_after = wait`, or `retry_after = 0` for a tuple field",
            )),
        };
    }
    if input.peek(Ident) {
        return input.parse().map(Member::Named);
    }
    let hint = if input.peek(LitStr) {
        let lit: LitStr = input.fork().parse()?;
        format!(
            "write the field's name without quotes: `retry_after = {}`",
            lit.value()
        )
    } else {
        "expected a field: write `retry_after = wait`, or `retry_after = 0` for a tuple field"
            .to_owned()
    };
    Err(syn::Error::new(value_span(input), hint))
}

/// The span of the next token tree, to point at a wrong value rather than its key.
fn value_span(input: ParseStream) -> Span {
    input
        .fork()
        .parse::<proc_macro2::TokenTree>()
        .map(|tt| tt.span())
        .unwrap_or_else(|_| input.span())
}

/// The attributes of one node the derive cares about.
#[derive(Default)]
pub(crate) struct Attrs<'a> {
    pub marcus: Marcus,
    /// The first `#[marcus]`, to point at when no key has a better span.
    pub marcus_attr: Option<&'a Attribute>,
    /// Every `#[context]` written on the node.
    pub context: Vec<&'a Attribute>,
    /// thiserror's `#[from]`.
    pub from: Option<&'a Attribute>,
    /// A `#[marcus]` here did not parse, so keys after the mistake are unknown: checks
    /// that a key is absent would report a second, false error.
    pub incomplete: bool,
}

/// Collects the derive's attributes among `attrs`; malformed ones are reported to
/// `errors` and skipped, so one mistake does not hide the others.
pub(crate) fn get<'a>(attrs: &'a [Attribute], errors: &mut Errors) -> Attrs<'a> {
    let mut out = Attrs::default();
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("marcus") {
            out.marcus_attr.get_or_insert(attr);
            match &attr.meta {
                Meta::List(list) => {
                    let marcus = &mut out.marcus;
                    let parsed =
                        list.parse_args_with(|input: ParseStream| marcus.parse_into(input));
                    out.incomplete |= parsed.is_err();
                    errors.push_result(parsed);
                }
                Meta::Path(_) | Meta::NameValue(_) => {
                    out.incomplete = true;
                    errors.push(syn::Error::new_spanned(
                        attr.meta.to_token_stream(),
                        "write `#[marcus(key = value, ...)]`, e.g. `#[marcus(category = transient)]`",
                    ))
                }
            }
        } else if path.is_ident("context") {
            if !matches!(attr.meta, Meta::Path(_)) {
                errors.push(syn::Error::new_spanned(
                    &attr.meta,
                    "`#[context]` takes no arguments: write `#[context]` on the `ErrorContext` field",
                ));
            }
            out.context.push(attr);
        } else if path.is_ident("from") {
            out.from.get_or_insert(attr);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: TokenStream) -> syn::Result<Marcus> {
        let mut m = Marcus::default();
        syn::parse::Parser::parse2(|input: ParseStream| m.parse_into(input), tokens)?;
        Ok(m)
    }

    #[test]
    fn parses_every_key() {
        let m = parse(quote!(
            code = "X_Y",
            category = business_logic,
            severity = critical,
            retryable = false,
            retry_after = 0,
            remediation(immediate = "a", escalation = "b"),
            transparent
        ))
        .unwrap_or_default();
        assert_eq!(m.code.get().map(LitStr::value).as_deref(), Some("X_Y"));
        assert!(matches!(m.category.get(), Some(Category::BusinessLogic)));
        assert!(matches!(m.severity.get(), Some(Severity::Critical)));
        assert_eq!(m.retryable.get(), Some(&false));
        assert!(matches!(m.retry_after.get(), Some(Member::Unnamed(i)) if i.index == 0));
        let rem = m
            .remediation
            .get()
            .map(|r| r.escalation.get().map(LitStr::value));
        assert_eq!(rem, Some(Some("b".to_owned())));
        assert!(m.transparent.get().is_some());
    }

    fn message(tokens: TokenStream) -> String {
        match parse(tokens) {
            Ok(_) => String::from("<parsed>"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn messages_say_what_to_write() {
        assert_eq!(message(quote!(retryable)), "<parsed>");
        assert!(message(quote!(retryable = "yes")).contains("write `retryable = false`"));
        assert!(message(quote!(code = 5)).contains("`code = \"KANBAN_TIMEOUT\"`"));
        assert!(message(quote!(category = "transient")).contains("`category = transient`"));
        assert!(message(quote!(category = BusinessLogic)).contains("`category = business_logic`"));
        assert!(message(quote!(severity = huge)).contains("`low`, `medium`, `high` or `critical`"));
        assert!(message(quote!(retry_after = "wait")).contains("`retry_after = wait`"));
        assert!(message(quote!(colour = red)).starts_with("unknown key `colour`"));
        assert!(message(quote!("colour" = red)).starts_with("expected one of"));
        assert!(message(quote!(code = "A", code = "B")).starts_with("`code` is given twice"));
        assert!(message(quote!(remediation(now = "x")))
            .contains("unknown key `now` in `remediation(...)`"));
    }
}
