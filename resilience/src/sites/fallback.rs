//! `#[fallback]`'s call site: the last good value of `cached`, and what a fallback
//! taken reports.

use std::any::Any;
use std::sync::{Mutex, PoisonError};

/// The last value a `#[fallback(.., cached)]` function returned itself, kept for the
/// call site and answered when every fallback failed too.
///
/// Held as `dyn Any` because a `static` cannot name the function's generic `T`; a
/// generic function's call sites share one cache, and a value of another type is
/// never returned (the lookup is typed).
pub struct LastGood(Mutex<Option<Box<dyn Any + Send>>>);

impl LastGood {
    /// An empty cache.
    pub const fn new() -> Self {
        LastGood(Mutex::new(None))
    }

    /// Remembers `value`, reusing the last box when it holds the same type.
    pub fn store<T: Clone + Send + 'static>(&self, value: &T) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        match slot.as_mut().and_then(|b| b.downcast_mut::<T>()) {
            Some(kept) => kept.clone_from(value),
            None => *slot = Some(Box::new(value.clone())),
        }
    }

    /// The remembered value, if one of type `T` was stored.
    pub fn load<T: Clone + 'static>(&self) -> Option<T> {
        let slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        slot.as_ref().and_then(|b| b.downcast_ref::<T>()).cloned()
    }
}

impl Default for LastGood {
    fn default() -> Self {
        LastGood::new()
    }
}

/// Reports that `function` failed and its fallback number `index` (`fallback`) runs.
#[inline]
pub fn fallback_taken(function: &'static str, fallback: &'static str, index: usize) {
    taken(function, fallback, index, "attribute");
}

/// What every front end reports of a fallback taken (`via`: `"attribute"`, `"tower"`):
/// one event, one count.
pub(crate) fn taken(function: &'static str, fallback: &'static str, index: usize, via: &str) {
    crate::metrics::fallback(function, fallback);
    tracing::warn!(
        target: "resilience::fallback",
        function,
        fallback,
        index,
        via,
        "call failed; taking fallback"
    );
}

/// The calls the failed call made (its error context's `attempt`, when a retry inside
/// counted them; else 1): how many of its monitor records a fallback's answer
/// recovers.
///
/// ```
/// use resilience::__private::{calls_made, View};
/// assert_eq!(calls_made(&mut "down", |_| View::Opaque("&str")), 1);
/// ```
#[cold]
pub fn calls_made<E>(
    error: &mut E,
    view: impl for<'a> FnOnce(&'a mut E) -> crate::view::View<'a>,
) -> u32 {
    let mut view = view(error);
    view.context_mut().map_or(1, |ctx| ctx.attempt.max(1))
}

/// The fallbacks' outcome: when one answered, the failed call's `failed` monitor
/// records of `function` are marked recovered (see
/// [`Monitor::mark_recovered`](crate::Monitor::mark_recovered)).
///
/// ```
/// let r: Result<u8, ()> = resilience::__private::answered_by_fallback("f", 1, Ok(3));
/// assert_eq!(r, Ok(3));
/// ```
#[inline]
pub fn answered_by_fallback<T, E>(
    function: &'static str,
    failed: u32,
    outcome: Result<T, E>,
) -> Result<T, E> {
    if outcome.is_ok() {
        crate::monitor().mark_recovered(function, failed);
    }
    outcome
}
