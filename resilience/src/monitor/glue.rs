//! The contract between the attributes and the monitor: every error that passes an
//! attribute is recorded.

use crate::view::View;

/// Records `error` into the global [`monitor()`](super::monitor) as raised by `function`.
/// The generated code calls it on the `Err` arm only, so a success costs nothing.
///
/// ```
/// use resilience::__private::{observe, Probe, ViewError, ViewMarcus, ViewOpaque};
///
/// let before = resilience::monitor().total_recorded();
/// let mut error = String::from("nope");
/// observe(&mut error, "my_fn", |e| (&&&Probe::new(e)).view());
/// assert!(resilience::monitor().total_recorded() > before);
/// ```
#[inline]
pub fn observe<E>(
    error: &mut E,
    function: &'static str,
    view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
) {
    record(&view(error), function, core::any::type_name::<E>());
}

#[cold]
#[inline(never)]
fn record(view: &View<'_>, function: &'static str, type_name: &'static str) {
    super::monitor().record_typed(view, function, type_name);
}
