//! The argument of `#[feature_switch("name")]`.

use syn::parse::{Parse, ParseStream};
use syn::LitStr;

pub(crate) struct FeatureSwitchArgs {
    pub(crate) name: LitStr,
}

impl Parse for FeatureSwitchArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let name: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "`#[feature_switch]` takes the feature's name as a string, as in `#[feature_switch(\"recommendations\")]`",
            )
        })?;
        super::name::check(&name, "the feature's name")?;
        if !input.is_empty() {
            return Err(input.error("`#[feature_switch]` takes only the feature's name"));
        }
        Ok(FeatureSwitchArgs { name })
    }
}
