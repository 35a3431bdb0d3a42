//! Reading an adaptive `#[retry]` call site's current attempt limit from outside it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use super::AdaptiveAttempts;

/// The adaptive call sites resolved so far, by function name.
static SITES: Mutex<BTreeMap<&'static str, Arc<AdaptiveAttempts>>> = Mutex::new(BTreeMap::new());

/// The attempts a call starting now may make at the `#[retry(adaptive = true)]` site of
/// `function` (its default name, `module::function` or `module::Type::method`): the
/// site's adapted `max_attempts`. `None` for a site that is not adaptive or has not been
/// called yet.
///
/// ```
/// use resilience::retry;
///
/// #[retry(max_attempts = 4, adaptive = true, backoff = none)]
/// fn sync_board() -> Result<(), std::io::Error> {
///     Ok(())
/// }
///
/// let name = concat!(module_path!(), "::sync_board");
/// assert_eq!(retry::adapted_max_attempts(name), None); // not called yet
/// sync_board()?;
/// assert_eq!(retry::adapted_max_attempts(name), Some(4));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn adapted_max_attempts(function: &str) -> Option<u32> {
    SITES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(function)
        .map(|adaptive| adaptive.max_attempts())
}

/// A site's adaptive state, made (or remade, for a named policy) on its resolution.
pub(crate) fn register(function: &'static str, adaptive: Arc<AdaptiveAttempts>) {
    SITES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(function, adaptive);
}
