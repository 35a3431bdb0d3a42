//! The arguments of `#[bulkhead(...)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr};

use super::{parse_count, parse_keyed, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &[
    "max_concurrent",
    "max_wait",
    "name",
    "key",
    "max_keys",
    "registry",
];

#[derive(Default)]
pub(crate) struct BulkheadArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) name: Once<LitStr>,
    pub(crate) key: Once<Box<Expr>>,
    max_concurrent: Once<u32>,
    max_wait: Once<DurationArg>,
    pub(crate) max_keys: Once<u32>,
}

impl Parse for BulkheadArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = BulkheadArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        args.check()?;
        Ok(args)
    }
}

impl BulkheadArgs {
    pub(crate) fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "name" => self.name.set(key, super::keyed::parse_name(input, key)?),
            "key" => self.key.set(key, super::keyed::parse_key(input)?),
            "max_keys" => self.max_keys.set(key, parse_count(input, key, 1)?),
            "max_concurrent" => self.max_concurrent.set(key, parse_count(input, key, 1)?),
            "max_wait" => self.max_wait.set(key, DurationArg::parse(input)?),
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            _ => Err(unknown_key("bulkhead", key, KEYS)),
        }
    }

    /// Keys that only mean something together.
    pub(crate) fn check(&self) -> syn::Result<()> {
        super::keyed::check_max_keys(self.max_keys.span(), self.key.get().is_some())
    }

    /// Whether any key of this attribute was given (for `#[resilient]`, which adds the
    /// layer only then).
    pub(crate) fn any(&self) -> bool {
        self.max_concurrent.get().is_some() || self.max_wait.get().is_some()
    }

    /// The `BulkheadConfig` literal of the attribute's values.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        if let Some(v) = self.max_concurrent.get() {
            fields.push(quote!(max_concurrent: #v,));
        }
        if let Some(v) = self.max_wait.get() {
            fields.push(quote!(max_wait: #v,));
        }
        if let Some(v) = self.max_keys.get() {
            let v = *v as usize;
            fields.push(quote!(max_keys: #v,));
        }
        quote! {
            ::resilience::BulkheadConfig {
                #(#fields)*
                ..::core::default::Default::default()
            }
        }
    }
}
