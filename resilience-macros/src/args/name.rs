//! A name given as a string (`name = "kanban"`, `parent`, `budget`, `policy`, a feature
//! switch's): the runtime's rules for names, checked at compile time, at the string.

use syn::LitStr;

/// The longest name, in bytes (the runtime's `names::MAX_NAME_BYTES`).
const MAX_NAME_BYTES: usize = 1024;

/// `Ok` for a name the runtime accepts: not empty, no control character, at most
/// 1 024 bytes. `what` is how the error starts (`` `name` ``).
pub(crate) fn check(name: &LitStr, what: &str) -> syn::Result<()> {
    let value = name.value();
    if value.trim().is_empty() {
        return Err(syn::Error::new(
            name.span(),
            format!("{what} must not be empty: give a name, such as \"kanban\""),
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "{what} must not hold a control character (found {c:?}): names are written into logs, metric labels and configuration files; remove it"
            ),
        ));
    }
    if value.len() > MAX_NAME_BYTES {
        return Err(syn::Error::new(
            name.span(),
            format!(
                "{what} is {} bytes long; a name is at most {MAX_NAME_BYTES} bytes",
                value.len()
            ),
        ));
    }
    Ok(())
}
