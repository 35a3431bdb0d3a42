//! The contract between the attributes and the monitor: every error that passes an
//! attribute is recorded.

use crate::view::View;

/// On `Err`, records the error into the global [`monitor()`](super::monitor) as raised
/// by `function`; on `Ok`, nothing (inlined to a branch).
///
/// ```
/// use resilience::__private::{observe, Probe, ViewError, ViewMarcus, ViewOpaque};
///
/// let before = resilience::monitor().total_recorded();
/// let mut outcome: Result<(), String> = Err("nope".into());
/// observe(&mut outcome, "my_fn", |e| (&&&Probe::new(e)).view());
/// assert!(resilience::monitor().total_recorded() > before);
/// ```
#[inline]
pub fn observe<T, E>(
    outcome: &mut Result<T, E>,
    function: &'static str,
    view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
) {
    if let Err(error) = outcome {
        record(&view(error), function, core::any::type_name::<E>());
    }
}

#[cold]
#[inline(never)]
fn record(view: &View<'_>, function: &'static str, type_name: &'static str) {
    super::monitor().record_typed(view, function, type_name);
}
