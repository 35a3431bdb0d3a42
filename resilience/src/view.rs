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
//! otherwise [`classify`](crate::classify) does.

use core::cell::Cell;
use std::error::Error as StdError;

use crate::{Classification, MarcusError};

/// How deep a source chain is followed for one of this crate's errors.
const MAX_CHAIN_DEPTH: usize = 64;

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
    /// Whether to retry, as the API promises: a `MarcusError` by `retryable()`; an error
    /// holding one of this crate's errors (in itself or its source chain) by that error's;
    /// any other error by [`classify`](crate::classify), an unknown one yes; a value that
    /// is no error at all yes.
    pub fn retryable(&self) -> bool {
        match self {
            View::Marcus(e) => e.retryable(),
            View::Error(_) | View::Dyn(_) => match self.inner() {
                Some(ours) => ours.retryable(),
                None => {
                    let found = self.classification();
                    found == Classification::UNKNOWN || found.retryable
                }
            },
            View::Opaque(_) => true,
        }
    }

    /// The error's own retry delay: a `MarcusError`'s (also one found inside a foreign
    /// error), or the one a foreign error's classification reads from its messages.
    pub fn retry_after(&self) -> Option<core::time::Duration> {
        match self {
            View::Marcus(e) => e.retry_after(),
            View::Error(_) | View::Dyn(_) => match self.inner() {
                Some(ours) => ours.retry_after(),
                None => self.classification().retry_after,
            },
            View::Opaque(_) => None,
        }
    }

    /// The error's context, if it carries one.
    pub fn context_mut(&mut self) -> Option<&mut crate::ErrorContext> {
        match self {
            View::Marcus(e) => e.context_mut(),
            View::Error(_) | View::Dyn(_) | View::Opaque(_) => None,
        }
    }

    /// A short name of the error's kind: its code (also of one of this crate's errors
    /// found inside a foreign one), or its type name.
    pub fn kind(&self) -> &'static str {
        match self {
            View::Marcus(e) => e.code(),
            View::Error(_) | View::Dyn(_) => self.inner().map_or("ERROR", |ours| ours.code()),
            View::Opaque(name) => name,
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

    /// What [`classify`](crate::classify) says of a foreign error;
    /// [`Classification::UNKNOWN`] for the others. A borrowing error cannot be downcast:
    /// its own words are read, then its (`'static`) sources classified.
    pub fn classification(&self) -> Classification {
        match self {
            View::Dyn(e) => crate::classify(*e),
            View::Error(e) => {
                let own = crate::classify_message(&e.to_string());
                match (own == Classification::UNKNOWN, e.source()) {
                    (true, Some(source)) => crate::classify(source),
                    _ => own,
                }
            }
            View::Marcus(_) | View::Opaque(_) => Classification::UNKNOWN,
        }
    }
}

/// The first of this crate's errors in a source chain starting at `first`.
fn ours_in<'a>(first: Option<&'a (dyn StdError + 'static)>) -> Option<&'a dyn MarcusError> {
    let mut next = first;
    for _ in 0..MAX_CHAIN_DEPTH {
        let link = next?;
        if let Some(ours) = crate::errors::as_marcus(link) {
            return Some(ours);
        }
        next = link.source();
    }
    None
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
