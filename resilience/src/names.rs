//! Instance names, interned: a refusal hands out its breaker's, bulkhead's or rate limiter's
//! name as a `&'static str`, so building a `CircuitOpen`, `BulkheadFull` or `RateLimited`
//! touches no reference count (two atomic writes to a line every refusing thread shares).

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};

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
    use super::intern;

    #[test]
    fn one_copy_per_name() {
        let a = intern(&String::from("tests.name.a"));
        assert!(std::ptr::eq(a, intern("tests.name.a")));
        assert!(!std::ptr::eq(a, intern("tests.name.b")));
        assert_eq!(a, "tests.name.a");
    }
}
