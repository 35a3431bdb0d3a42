//! The arguments of `#[hedge(...)]`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr};

use super::{parse_keyed, unknown_key, DurationArg, Once};

pub(crate) const KEYS: &[&str] = &["delay", "max_hedges", "name", "registry"];

/// The most extra runs; the runtime's `resilience::hedge::MAX_HEDGES`.
const MAX_HEDGES: u32 = 16;

#[derive(Default)]
pub(crate) struct HedgeArgs {
    /// `registry = STATIC`: the registry the site registers in.
    pub(crate) registry: Once<syn::Path>,
    pub(crate) delay: Once<DurationArg>,
    pub(crate) max_hedges: Once<u32>,
    pub(crate) name: Once<LitStr>,
}

impl Parse for HedgeArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = HedgeArgs::default();
        parse_keyed(input, |key, input| args.parse_value(key, input))?;
        Ok(args)
    }
}

impl HedgeArgs {
    fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "delay" => self.delay.set(key, DurationArg::parse(input)?),
            "max_hedges" => self.max_hedges.set(key, parse_max_hedges(input, key)?),
            "name" => {
                let name: LitStr = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`name` takes the hedge's name as a string, as in `name = \"search\"`",
                    )
                })?;
                super::name::check(&name, "`name`")?;
                self.name.set(key, name)
            }
            "registry" => self.registry.set(key, super::registry::parse(input)?),
            _ => Err(unknown_key("hedge", key, KEYS)),
        }
    }

    /// The hedge's registry name: the one given, or the function's path.
    pub(crate) fn name_tokens(&self, function: &Ident) -> TokenStream {
        match self.name.get() {
            Some(name) => quote!(#name),
            None => {
                let function = function.to_string();
                quote!(::core::concat!(::core::module_path!(), "::", #function))
            }
        }
    }

    /// The `HedgeConfig` literal of the attribute's values.
    pub(crate) fn config(&self) -> TokenStream {
        let mut fields = Vec::new();
        if let Some(delay) = self.delay.get() {
            fields.push(quote!(delay: #delay,));
        }
        if let Some(n) = self.max_hedges.get() {
            fields.push(quote!(max_hedges: #n,));
        }
        if fields.len() == 2 {
            // Every field given: a struct update would be needless (a clippy lint).
            return quote!(::resilience::HedgeConfig { #(#fields)* });
        }
        quote!(::resilience::HedgeConfig { #(#fields)* ..::core::default::Default::default() })
    }
}

fn parse_max_hedges(input: ParseStream<'_>, key: &Ident) -> syn::Result<u32> {
    let lit: syn::LitInt = input.parse().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a whole number, as in `{key} = 1`"),
        )
    })?;
    let value: u32 = lit.base10_parse().map_err(|_| {
        syn::Error::new(
            lit.span(),
            format!("`{key}` takes a whole number from 1 to {MAX_HEDGES}"),
        )
    })?;
    if value == 0 {
        return Err(syn::Error::new(
            lit.span(),
            "`max_hedges = 0` would never start a hedge; give at least 1 (`max_hedges = 1`), or remove `#[hedge]`",
        ));
    }
    if value > MAX_HEDGES {
        return Err(syn::Error::new(
            lit.span(),
            format!("`max_hedges` is at most {MAX_HEDGES}: each hedge is one more call to the dependency; lower it"),
        ));
    }
    Ok(value)
}
