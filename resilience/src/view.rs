//! Seeing a generic error as a [`MarcusError`], a `std::error::Error`, or neither.
//!
//! Generated code does not know whether the function's error type implements
//! [`MarcusError`]; stable Rust has no specialization to ask. It asks by method
//! resolution instead ("autoref specialization"): `(&&&Probe::new(e)).view()` picks the
//! most specific of the three impls below that applies, at the call site, where the error
//! type is known (or, in a generic function, bounded).

use core::cell::Cell;

use crate::MarcusError;

/// What the runtime may learn about an error of an unknown type.
pub enum View<'a> {
    /// The error implements [`MarcusError`]: its code, retry advice and context.
    Marcus(&'a mut (dyn MarcusError + 'a)),
    /// The error implements `std::error::Error` only; [`classify`](crate::classify) it.
    Error(&'a mut (dyn std::error::Error + 'a)),
    /// Neither (a `String`, a `()`): only its type name is known.
    Opaque(&'static str),
}

impl View<'_> {
    /// Whether to retry, as the API promises: a `MarcusError` by `retryable()`, any other
    /// error type yes.
    pub fn retryable(&self) -> bool {
        match self {
            View::Marcus(e) => e.retryable(),
            View::Error(_) | View::Opaque(_) => true,
        }
    }

    /// The error's own retry delay, if it is a `MarcusError` that knows one.
    pub fn retry_after(&self) -> Option<core::time::Duration> {
        match self {
            View::Marcus(e) => e.retry_after(),
            View::Error(_) | View::Opaque(_) => None,
        }
    }

    /// The error's context, if it carries one.
    pub fn context_mut(&mut self) -> Option<&mut crate::ErrorContext> {
        match self {
            View::Marcus(e) => e.context_mut(),
            View::Error(_) | View::Opaque(_) => None,
        }
    }

    /// A short name of the error's kind: its code, or its type name.
    pub fn kind(&self) -> &'static str {
        match self {
            View::Marcus(e) => e.code(),
            View::Error(_) => "ERROR",
            View::Opaque(name) => name,
        }
    }
}

/// Holds the error for the duration of one `view()` call.
pub struct Probe<'a, E>(Cell<Option<&'a mut E>>);

impl<'a, E> Probe<'a, E> {
    /// Wraps `error` to be viewed once.
    pub fn new(error: &'a mut E) -> Self {
        Probe(Cell::new(Some(error)))
    }

    fn take(&self) -> &'a mut E {
        match self.0.take() {
            Some(e) => e,
            // `view()` is called once per probe by the generated code.
            None => unreachable!("a Probe is viewed once"),
        }
    }
}

/// Most specific: the error is a [`MarcusError`].
pub trait ViewMarcus<'a> {
    /// See the module docs.
    fn view(&self) -> View<'a>;
}

impl<'a, E: MarcusError + 'a> ViewMarcus<'a> for &&Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        View::Marcus(self.take())
    }
}

/// Next: the error is a `std::error::Error`.
pub trait ViewError<'a> {
    /// See the module docs.
    fn view(&self) -> View<'a>;
}

impl<'a, E: std::error::Error + 'a> ViewError<'a> for &Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        View::Error(self.take())
    }
}

/// Last: anything.
pub trait ViewOpaque<'a> {
    /// See the module docs.
    fn view(&self) -> View<'a>;
}

impl<'a, E> ViewOpaque<'a> for Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        let _ = self.take();
        View::Opaque(core::any::type_name::<E>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("plain")]
    struct Plain;

    fn kind_of<E>(mut e: E, f: impl for<'x> Fn(&'x mut E) -> View<'x>) -> &'static str {
        match f(&mut e) {
            View::Marcus(_) => "marcus",
            View::Error(_) => "error",
            View::Opaque(_) => "opaque",
        }
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows are the autoref specialization
    fn picks_the_most_specific_view() {
        let marcus = kind_of(crate::errors::NetworkTimeout::new("x"), |e| {
            (&&&Probe::new(e)).view()
        });
        let error = kind_of(Plain, |e| (&&&Probe::new(e)).view());
        let opaque = kind_of(String::from("x"), |e| (&&&Probe::new(e)).view());
        assert_eq!((marcus, error, opaque), ("marcus", "error", "opaque"));
    }
}
