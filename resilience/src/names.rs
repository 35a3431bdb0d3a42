//! Instance names: the rules every name given at run time must follow ([`validate`]),
//! and interning: a refusal hands out its breaker's, bulkhead's or rate limiter's name as
//! a `&'static str`, so building a `CircuitOpen`, `BulkheadFull` or `RateLimited`
//! touches no reference count (two atomic writes to a line every refusing thread shares).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

use crate::ConfigError;

/// The longest name accepted, in bytes.
pub(crate) const MAX_NAME_BYTES: usize = 1024;

/// Refuses a name no instance can have: empty (or only spaces), holding a control
/// character (NUL, a newline, an escape: a name is written into log lines, metric labels
/// and configuration files, where one would forge or break a line), or longer than
/// [`MAX_NAME_BYTES`]. The `Err` names the field `name` and shows the value escaped.
/// The registry's `configure…` methods, the configuration file and its environment
/// variables all call it; the attributes check the same rules at compile time.
pub(crate) fn validate(name: &str) -> Result<(), ConfigError> {
    if name.trim().is_empty() {
        return Err(ConfigError::new("name", name, "must not be empty"));
    }
    if let Some((at, c)) = name.char_indices().find(|(_, c)| c.is_control()) {
        return Err(ConfigError::new(
            "name",
            name,
            format!(
                "must not hold a control character ({c:?} at byte {at}): names are written into logs, metric labels and files"
            ),
        ));
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(ConfigError::new(
            "name",
            format_args!("{}… ({} bytes)", truncated(name), name.len()),
            format!("must be at most {MAX_NAME_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// The first 32 characters of a name too long to show whole.
fn truncated(name: &str) -> &str {
    name.char_indices()
        .nth(32)
        .map_or(name, |(at, _)| &name[..at])
}

/// The one `'static` copy of `name`, leaked the first time the name is seen: the memory
/// kept is bounded by the distinct names a program ever gives its breakers, bulkheads and rate limiters.
pub(crate) fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        // A set of leaked strings is whole after any panic.
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(known) = names.get(name) {
        return known;
    }
    let leaked: &'static str = Box::leak(name.into());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::{intern, validate};

    #[test]
    fn a_name_must_be_printable_not_empty_and_bounded() {
        assert!(validate("kanban.boards").is_ok());
        assert!(validate("app::client::Payments::fetch").is_ok());
        assert!(validate("zürich-δ").is_ok());
        for (bad, reason) in [
            ("", "must not be empty"),
            ("  ", "must not be empty"),
            ("a\0b", "control character ('\\0' at byte 1)"),
            ("line\nforged", "control character"),
            ("esc\u{1b}[31m", "control character"),
            ("del\u{7f}", "control character"),
            ("c1\u{85}", "control character"),
        ] {
            let err = validate(bad).unwrap_err();
            assert_eq!(err.field(), "name");
            assert_eq!(err.value(), format!("{bad:?}"));
            assert!(err.reason().contains(reason), "{bad:?}: {err}");
        }
        let long = "x".repeat(super::MAX_NAME_BYTES + 1);
        let err = validate(&long).unwrap_err();
        assert!(err.reason().contains("at most 1024 bytes"), "{err}");
        assert!(
            err.value().len() < 64,
            "the value is shown truncated: {err}"
        );
        assert!(validate(&long[1..]).is_ok());
    }

    #[test]
    fn one_copy_per_name() {
        let a = intern(&String::from("tests.name.a"));
        assert!(std::ptr::eq(a, intern("tests.name.a")));
        assert!(!std::ptr::eq(a, intern("tests.name.b")));
        assert_eq!(a, "tests.name.a");
    }
}
