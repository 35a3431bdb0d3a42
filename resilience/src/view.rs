//! Seeing a generic error as a [`MarcusError`], a `std::error::Error`, or neither.
//!
//! Generated code does not know whether the function's error type implements
//! [`MarcusError`]; stable Rust has no specialization to ask. It asks by method
//! resolution instead ("autoref specialization"): `(&&&&&Probe::new(e)).view()` picks the
//! most specific of the five impls below that applies, at the call site, where the error
//! type is known (or, in a generic function, bounded).
//!
//! An error seen as a `std::error::Error`, or through one (`anyhow::Error`,
//! `Box<dyn Error + Send + Sync>`, `Box<dyn Error>`: anything `AsRef<dyn Error>`), is
//! looked into: if its source chain holds one of this crate's errors
//! ([`errors::as_marcus`](crate::errors) lists them), that error decides and reports;
//! otherwise [`classify`](crate::classify) does. Either way the answer is one
//! [`Verdict`](crate::classification::Verdict) ([`View::verdict`]): the view is how the
//! attribute supplies the classification for an error of any type.

use core::cell::Cell;

use crate::classification::{ours_in, Verdict};
use crate::MarcusError;

/// What the runtime may learn about an error of an unknown type.
pub enum View<'a> {
    /// The error implements [`MarcusError`]: its code, retry advice and context.
    Marcus(&'a mut (dyn MarcusError + 'a)),
    /// The error implements `std::error::Error` only; [`classify`](crate::classify) it.
    Error(&'a mut (dyn std::error::Error + 'a)),
    /// The error is a `std::error::Error` behind a pointer (`anyhow::Error`,
    /// `Box<dyn Error + Send + Sync>`, `Box<dyn Error>`): looked into for this crate's
    /// errors, else classified.
    Dyn(&'a (dyn std::error::Error + 'static)),
    /// Neither (a `String`, a `()`): only its type name is known.
    Opaque(&'static str),
}

impl View<'_> {
    /// What the patterns make of the error: the one [`Verdict`] a retry, a breaker and an
    /// adaptive limit act on. A `MarcusError` by its own facts; an error holding one of
    /// this crate's errors (in itself or its source chain) by that error's; any other
    /// error by [`classify`](crate::classify) (one nothing is known about is a failure,
    /// retried); a value that is no error at all likewise.
    pub fn verdict(&self) -> Verdict {
        match self {
            View::Marcus(e) => Verdict::of_marcus(&**e),
            View::Error(e) => Verdict::of_borrowed(&**e),
            View::Dyn(e) => Verdict::of_error(*e),
            View::Opaque(name) => Verdict::opaque(name),
        }
    }

    /// Whether to retry: the verdict's `retryable`.
    pub fn retryable(&self) -> bool {
        self.verdict().retryable
    }

    /// A short name of the error's kind: the verdict's `code` (an error's code, also of
    /// one of this crate's errors found inside a foreign one, or a type's name).
    pub fn kind(&self) -> &'static str {
        self.verdict().code
    }

    /// The error's context, if it carries one.
    pub fn context_mut(&mut self) -> Option<&mut crate::ErrorContext> {
        match self {
            View::Marcus(e) => e.context_mut(),
            View::Error(_) | View::Dyn(_) | View::Opaque(_) => None,
        }
    }

    /// One of this crate's errors inside a foreign one: the error itself (behind a
    /// pointer) or a link of its source chain.
    pub fn inner(&self) -> Option<&dyn MarcusError> {
        match self {
            View::Marcus(_) | View::Opaque(_) => None,
            View::Error(e) => ours_in(e.source()),
            View::Dyn(e) => ours_in(Some(*e)),
        }
    }

    /// The error's message, for events (a value that is no error: its type's name).
    pub fn message(&self) -> String {
        match self {
            View::Marcus(e) => e.to_string(),
            View::Error(e) => e.to_string(),
            View::Dyn(e) => e.to_string(),
            View::Opaque(name) => format!("a `{name}`"),
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

impl<'a, E: MarcusError + 'a> ViewMarcus<'a> for &&&&Probe<'a, E> {
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

impl<'a, E: std::error::Error + 'a> ViewError<'a> for &&&Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        View::Error(self.take())
    }
}

/// Next: the error is a `dyn Error + Send + Sync` behind a pointer (`anyhow::Error`,
/// `Box<dyn Error + Send + Sync>`, `eyre::Report`).
pub trait ViewDynSync<'a> {
    /// See the module docs.
    fn view(&self) -> View<'a>;
}

impl<'a, E: AsRef<dyn std::error::Error + Send + Sync> + 'a> ViewDynSync<'a> for &&Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        let error: &'a E = self.take();
        View::Dyn(error.as_ref())
    }
}

/// Next: the error is a `dyn Error` behind a pointer (`Box<dyn Error>`).
pub trait ViewDyn<'a> {
    /// See the module docs.
    fn view(&self) -> View<'a>;
}

impl<'a, E: AsRef<dyn std::error::Error> + 'a> ViewDyn<'a> for &Probe<'a, E> {
    #[inline]
    fn view(&self) -> View<'a> {
        let error: &'a E = self.take();
        View::Dyn(error.as_ref())
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
            View::Dyn(_) => "dyn",
            View::Opaque(_) => "opaque",
        }
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows are the autoref specialization
    fn picks_the_most_specific_view() {
        let marcus = kind_of(crate::errors::NetworkTimeout::new("x"), |e| {
            (&&&&&Probe::new(e)).view()
        });
        let error = kind_of(Plain, |e| (&&&&&Probe::new(e)).view());
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(Plain);
        let dyn_sync = kind_of(boxed, |e| (&&&&&Probe::new(e)).view());
        let boxed: Box<dyn std::error::Error> = Box::new(Plain);
        let dyn_plain = kind_of(boxed, |e| (&&&&&Probe::new(e)).view());
        let opaque = kind_of(String::from("x"), |e| (&&&&&Probe::new(e)).view());
        assert_eq!(
            (marcus, error, dyn_sync, dyn_plain, opaque),
            ("marcus", "error", "dyn", "dyn", "opaque")
        );
    }
}
