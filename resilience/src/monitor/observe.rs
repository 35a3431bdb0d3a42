//! The attributes' side of the monitor: every error that passes an attribute is recorded,
//! by the one layer per function that [`Observe::Record`] names.

use crate::view::View;

/// Whether a layer's error arm records the body's error in the global
/// [`monitor()`](super::monitor): exactly one layer per function does (the innermost,
/// after its error contexts have filled the error); the others are told to [`Skip`](Observe::Skip).
///
/// ```
/// use resilience::__private::{Observe, View};
///
/// let before = resilience::monitor().total_recorded();
/// let mut error = "down";
/// Observe::Skip.error(&mut error, |_| View::Opaque("&str"));
/// assert_eq!(resilience::monitor().total_recorded(), before);
/// Observe::Record("docs::observe").error(&mut error, |_| View::Opaque("&str"));
/// assert!(resilience::monitor().total_recorded() > before);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    /// This layer leaves the error to another.
    Skip,
    /// This layer records the error as raised by the named function (`module::path::name`).
    Record(&'static str),
}

impl Observe {
    /// Records `error` if this is the layer that does.
    #[inline]
    pub fn error<E>(self, error: &mut E, view: impl for<'a> FnOnce(&'a mut E) -> View<'a>) {
        if let Observe::Record(function) = self {
            observe(error, function, view);
        }
    }

    /// Records `error` into `monitor` (a call site's registry's) if this is the layer
    /// that does.
    #[inline]
    pub(crate) fn error_in<E>(
        self,
        monitor: &super::Monitor,
        error: &mut E,
        view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
    ) {
        if let Observe::Record(function) = self {
            monitor.record_typed(&view(error), function, core::any::type_name::<E>());
        }
    }
}

/// Records `error` into the global [`monitor()`](super::monitor) as raised by `function`.
/// The generated code reaches it from one layer's error handler only, so a success
/// costs nothing.
///
/// ```
/// use resilience::__private::{observe, Probe, ViewError, ViewMarcus, ViewOpaque};
///
/// let before = resilience::monitor().total_recorded();
/// let mut error = String::from("nope");
/// observe(&mut error, "my_fn", |e| (&&&&&Probe::new(e)).view());
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

/// [`observe`], by value and out of line: the `Err` arm of a layer that records the
/// body's error in the monitor and does nothing else with it (under `#[timeout]`).
///
/// Taking the error by value (not by reference) keeps its address from escaping the
/// decorated function, so the compiler can keep the function's `Result` in registers on
/// the success path.
///
/// ```
/// use resilience::__private::{observed, View};
///
/// let before = resilience::monitor().total_recorded();
/// let error = observed(String::from("nope"), "my_fn", |_| View::Opaque("String"));
/// assert_eq!(error, "nope");
/// assert!(resilience::monitor().total_recorded() > before);
/// ```
#[cold]
#[inline(never)]
pub fn observed<E>(
    mut error: E,
    function: &'static str,
    view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
) -> E {
    observe(&mut error, function, view);
    error
}

/// [`observe`] for an error without a context slot, with the `#[error_context]` scope's
/// context standing in for its own: its operation, ids, agent and integration go to the
/// record.
#[cold]
#[inline(never)]
pub(crate) fn observe_in<E>(
    error: &mut E,
    function: &'static str,
    view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
    ctx: &crate::ErrorContext,
) {
    super::monitor().record_in(&view(error), function, core::any::type_name::<E>(), ctx);
}

#[cold]
#[inline(never)]
fn record(view: &View<'_>, function: &'static str, type_name: &'static str) {
    super::monitor().record_typed(view, function, type_name);
}
