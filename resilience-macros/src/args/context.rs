//! The arguments of `#[error_context("operation", key = expr, ...)]`.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token};

/// Keys written to a field of `ErrorContext`; every other key goes into `custom`.
pub(crate) const FIELDS: &[&str] = &["agent_id", "task_id", "integration_name"];

pub(crate) struct ContextArgs {
    pub(crate) operation: LitStr,
    pub(crate) entries: Vec<(Ident, Expr)>,
}

impl Parse for ContextArgs {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let operation: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "`#[error_context]` starts with the operation's name as a string, as in `#[error_context(\"sync_board\")]`",
            )
        })?;
        if operation.value().trim().is_empty() {
            return Err(syn::Error::new(
                operation.span(),
                "the operation's name must not be empty",
            ));
        }
        let mut entries: Vec<(Ident, Expr)> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let key: Ident = input.parse().map_err(|e| {
                syn::Error::new(e.span(), "expected `key = value`, as in `agent_id = agent`")
            })?;
            if key == "operation"
                || key == "correlation_id"
                || key == "operation_id"
                || key == "attempt"
                || key == "timestamp"
            {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` is set by the framework; give the operation as the first argument and other data as `key = value`"),
                ));
            }
            if entries.iter().any(|(k, _)| *k == key) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("`{key}` is given twice; keep one of them"),
                ));
            }
            input.parse::<Token![=]>().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    format!("expected `=` after `{key}`, as in `{key} = value`"),
                )
            })?;
            let value: Expr = input.parse()?;
            entries.push((key, value));
        }
        Ok(ContextArgs { operation, entries })
    }
}
