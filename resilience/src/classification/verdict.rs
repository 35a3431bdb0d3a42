//! [`Verdict`]: the one answer every pattern acts on for an outcome — a failure or not,
//! retryable or not, after how long, one of this crate's own refusals, an overload.
//!
//! Who supplies it: for an error of any type the attribute's [`View`](crate::__private::View)
//! (autoref specialization at the call site), for a generic error the [`Classify`] trait
//! (tower, reqwest), and, in their place when given, `retry_if`, `record_if`,
//! `failure_if`, `retry_response` and the reqwest middleware's HTTP rules. The retry
//! engine, the breakers and the adaptive limiter read only this.

use std::error::Error as StdError;
use std::time::Duration;

use super::{classify, Classification};
use crate::{Category, MarcusError};

/// One of this crate's own refusals: a pattern said no before the dependency was called.
///
/// Recognised by the refusing error's code (see [`Refusal::from_code`]), through any
/// `MarcusError` that delegates to it (a `#[from]` or `#[marcus(transparent)]` variant of
/// your enum, [`crate::Error`]) or behind a `dyn Error` that holds it. So a pattern defined
/// elsewhere (the adaptive limit's `Overloaded`, code `OVERLOADED_ERROR`) is recognised
/// without this module naming its type: its code is the contract. The codes ending in
/// `_ERROR` below are reserved for these refusals.
///
/// ```
/// use resilience::classification::Refusal;
/// assert_eq!(Refusal::from_code("RATE_LIMITED_ERROR"), Some(Refusal::RateLimited));
/// assert_eq!(Refusal::from_code("OVERLOADED_ERROR"), Some(Refusal::Overloaded));
/// assert_eq!(Refusal::from_code("KANBAN_TIMEOUT"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// An open circuit breaker (`CircuitOpen`, `CIRCUIT_OPEN_ERROR`).
    CircuitOpen,
    /// A full bulkhead (`BulkheadFull`, `BULKHEAD_FULL_ERROR`).
    BulkheadFull,
    /// A spent rate limit (`RateLimited`, `RATE_LIMITED_ERROR`).
    RateLimited,
    /// An adaptive concurrency limit at its limit (`Overloaded`, `OVERLOADED_ERROR`).
    Overloaded,
}

impl Refusal {
    /// The refusal whose error has `code`, if it is one.
    ///
    /// ```
    /// use resilience::{classification::Refusal, CircuitOpen, MarcusError};
    /// let open = CircuitOpen::from_name("x");
    /// assert_eq!(Refusal::from_code(open.code()), Some(Refusal::CircuitOpen));
    /// ```
    pub fn from_code(code: &str) -> Option<Refusal> {
        match code {
            "CIRCUIT_OPEN_ERROR" => Some(Refusal::CircuitOpen),
            "BULKHEAD_FULL_ERROR" => Some(Refusal::BulkheadFull),
            "RATE_LIMITED_ERROR" => Some(Refusal::RateLimited),
            "OVERLOADED_ERROR" => Some(Refusal::Overloaded),
            _ => None,
        }
    }

    /// Whether this refusal says the system is overloaded (all but an open breaker,
    /// which says the dependency is failing).
    ///
    /// ```
    /// use resilience::classification::Refusal;
    /// assert!(Refusal::BulkheadFull.is_overload());
    /// assert!(!Refusal::CircuitOpen.is_overload());
    /// ```
    pub const fn is_overload(self) -> bool {
        !matches!(self, Refusal::CircuitOpen)
    }
}

/// The code of [`TimedOut`](crate::TimedOut): a timeout is a failure and an overload.
const TIMED_OUT: &str = "TIMED_OUT_ERROR";

/// What one outcome means to the patterns.
///
/// - `failure`: a dependency's fault, which a circuit breaker counts: errors of the
///   transient, integration and system tiers, timeouts, and foreign errors nothing is
///   known about; not business-logic, configuration or security errors (the caller's
///   mistake is not the dependency's failure), and never a [`Refusal`].
/// - `retryable`, `retry_after`: whether another attempt may succeed, and the least wait
///   before it.
/// - `refusal`: one of this crate's own refusals, which a breaker counts as neither a
///   success nor a failure.
/// - `overload`: the outcome says "too much load" (HTTP 429 or 503, `RateLimited`,
///   `BulkheadFull`, `Overloaded`, `TimedOut`), which an adaptive limit backs off on.
///
/// ```
/// use resilience::classification::{Classify, Refusal, Verdict};
/// use resilience::errors::{NetworkTimeout, Validation};
/// use resilience::RateLimited;
/// use std::time::Duration;
///
/// let v = NetworkTimeout::new("board").verdict();
/// assert!(v.failure && v.retryable);
/// let v = Validation::new("bad id").verdict();
/// assert!(!v.failure && !v.retryable); // the caller's mistake
/// let v = RateLimited::new("api", None, Duration::from_secs(1)).verdict();
/// assert_eq!(v.refusal, Some(Refusal::RateLimited));
/// assert!(!v.failure && v.overload);
/// assert_eq!(Verdict::SUCCESS.failure, false);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verdict {
    /// A dependency's fault: a breaker counts it as a failure.
    pub failure: bool,
    /// Another attempt may succeed.
    pub retryable: bool,
    /// The least wait before another attempt, when the outcome says.
    pub retry_after: Option<Duration>,
    /// One of this crate's own refusals: neither success nor failure to a breaker.
    pub refusal: Option<Refusal>,
    /// The outcome says the dependency (or this process) is overloaded.
    pub overload: bool,
    /// A short name of the outcome's kind for events: an error's code, its type's name,
    /// `"HTTP_503"`.
    pub code: &'static str,
}

impl Verdict {
    /// A success: nothing to count against a breaker, nothing to retry.
    pub const SUCCESS: Verdict = Verdict {
        failure: false,
        retryable: false,
        retry_after: None,
        refusal: None,
        overload: false,
        code: "OK",
    };

    /// A failure another attempt may cure (after the backoff's delay).
    ///
    /// ```
    /// let v = resilience::classification::Verdict::retry();
    /// assert!(v.failure && v.retryable);
    /// ```
    pub const fn retry() -> Verdict {
        Verdict {
            failure: true,
            retryable: true,
            code: "FAILURE",
            ..Verdict::SUCCESS
        }
    }

    /// A failure not to retry.
    ///
    /// ```
    /// let v = resilience::classification::Verdict::fail();
    /// assert!(v.failure && !v.retryable);
    /// ```
    pub const fn fail() -> Verdict {
        Verdict {
            failure: true,
            code: "FAILURE",
            ..Verdict::SUCCESS
        }
    }

    /// The same verdict, waiting at least `retry_after` before another attempt.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// use std::time::Duration;
    /// let v = Verdict::retry().after(Some(Duration::from_secs(2)));
    /// assert_eq!(v.retry_after, Some(Duration::from_secs(2)));
    /// ```
    pub const fn after(self, retry_after: Option<Duration>) -> Verdict {
        Verdict {
            retry_after,
            ..self
        }
    }

    /// The same verdict, retryable or not as `retryable` says (`retry_if`).
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// assert!(!Verdict::retry().retrying(false).retryable);
    /// ```
    pub const fn retrying(self, retryable: bool) -> Verdict {
        Verdict { retryable, ..self }
    }

    /// The same verdict, counted as a failure or not as `failure` says (`record_if`); a
    /// refusal stays neither.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// assert!(!Verdict::retry().failing(false).failure);
    /// ```
    pub const fn failing(self, failure: bool) -> Verdict {
        Verdict {
            failure: failure && self.refusal.is_none(),
            ..self
        }
    }

    /// The same verdict with `code` as its kind's name in events.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// assert_eq!(Verdict::retry().coded("HTTP_503").code, "HTTP_503");
    /// ```
    pub const fn coded(self, code: &'static str) -> Verdict {
        Verdict { code, ..self }
    }

    /// The same verdict marked as an overload (or not).
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// assert!(Verdict::retry().overloaded(true).overload);
    /// ```
    pub const fn overloaded(self, overload: bool) -> Verdict {
        Verdict { overload, ..self }
    }

    /// What a [`MarcusError`] says of itself: its tier decides `failure`, its code a
    /// [`Refusal`] and a timeout.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// use resilience::TimedOut;
    /// let v = Verdict::of_marcus(&TimedOut { function: "f", limit: Default::default() });
    /// assert!(v.failure && v.overload && v.retryable);
    /// ```
    pub fn of_marcus(error: &(impl MarcusError + ?Sized)) -> Verdict {
        let code = error.code();
        let refusal = Refusal::from_code(code);
        let timed_out = code == TIMED_OUT;
        Verdict {
            failure: refusal.is_none() && (timed_out || dependency_fault(error.category())),
            retryable: error.retryable(),
            retry_after: error.retry_after(),
            refusal,
            overload: timed_out || refusal.is_some_and(Refusal::is_overload),
            code,
        }
    }

    /// What [`classify`] says of a foreign error, or of the crate's own error found in its
    /// source chain (which then decides, as [`of_marcus`](Self::of_marcus)). An error
    /// nothing is known about is a failure, and retried.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// let v = Verdict::of_error(&std::io::Error::other("HTTP 404 not found"));
    /// assert!(!v.failure && !v.retryable);
    /// let v = Verdict::of_error(&std::io::Error::other("something odd"));
    /// assert!(v.failure && v.retryable);
    /// ```
    pub fn of_error(error: &(dyn StdError + 'static)) -> Verdict {
        match ours_in(Some(error)) {
            Some(ours) => Verdict::of_marcus(ours),
            None => Verdict::of_classification(classify(error), || error.to_string()),
        }
    }

    /// [`of_error`](Self::of_error) for an error that borrows (not `'static`, so not to be
    /// downcast): its own words, then its sources.
    pub(crate) fn of_borrowed(error: &dyn StdError) -> Verdict {
        if let Some(ours) = ours_in(error.source()) {
            return Verdict::of_marcus(ours);
        }
        let own = super::classify_message(&error.to_string());
        let found = match (own == Classification::UNKNOWN, error.source()) {
            (true, Some(source)) => classify(source),
            _ => own,
        };
        Verdict::of_classification(found, || error.to_string())
    }

    /// A foreign error's classification: unknown means a failure to retry.
    fn of_classification(found: Classification, message: impl FnOnce() -> String) -> Verdict {
        if found == Classification::UNKNOWN {
            return Verdict::retry().coded("ERROR");
        }
        let overload = found.retryable && super::message::is_overload(&message());
        Verdict {
            failure: dependency_fault(found.category),
            retryable: found.retryable,
            retry_after: found.retry_after,
            refusal: None,
            overload,
            code: "ERROR",
        }
    }

    /// A value that is no error at all (a `String`, a `()`): a failure nothing is known
    /// about, retried; `name` is its type's name.
    ///
    /// ```
    /// let v = resilience::classification::Verdict::opaque("alloc::string::String");
    /// assert!(v.failure && v.retryable);
    /// ```
    pub const fn opaque(name: &'static str) -> Verdict {
        Verdict::retry().coded(name)
    }

    /// An HTTP status: 5xx a retryable failure, 429 retryable but not the host's failure
    /// (it answered), 429 and 503 overloads; the rest successes.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// let v = Verdict::of_status(503);
    /// assert!(v.failure && v.retryable && v.overload);
    /// let v = Verdict::of_status(429);
    /// assert!(!v.failure && v.retryable && v.overload);
    /// assert_eq!(Verdict::of_status(404), Verdict::SUCCESS.coded("HTTP_4XX"));
    /// ```
    pub const fn of_status(status: u16) -> Verdict {
        let code = http_code(status);
        match status {
            429 => Verdict::retry().failing(false).overloaded(true).coded(code),
            500..=599 => Verdict::retry().overloaded(status == 503).coded(code),
            _ => Verdict::SUCCESS.coded(code),
        }
    }
}

impl From<bool> for Verdict {
    /// For a predicate over responses (`retry_response`, `failure_if`): `true` a failure
    /// to retry (after the backoff's delay), `false` a success.
    ///
    /// ```
    /// use resilience::classification::Verdict;
    /// assert_eq!(Verdict::from(true), Verdict::retry());
    /// assert_eq!(Verdict::from(false), Verdict::SUCCESS);
    /// ```
    #[inline]
    fn from(retry: bool) -> Verdict {
        if retry {
            Verdict::retry()
        } else {
            Verdict::SUCCESS
        }
    }
}

/// The tiers whose errors are a dependency's fault.
const fn dependency_fault(category: Category) -> bool {
    matches!(
        category,
        Category::Transient | Category::Integration | Category::System
    )
}

/// `"HTTP_503"` for events, for the statuses a retry or a breaker decides on.
const fn http_code(status: u16) -> &'static str {
    match status {
        429 => "HTTP_429",
        500 => "HTTP_500",
        501 => "HTTP_501",
        502 => "HTTP_502",
        503 => "HTTP_503",
        504 => "HTTP_504",
        505..=599 => "HTTP_5XX",
        400..=428 | 430..=499 => "HTTP_4XX",
        _ => "HTTP",
    }
}

/// How deep a source chain is followed for one of this crate's errors.
const MAX_CHAIN_DEPTH: usize = 64;

/// The first of this crate's errors in a source chain starting at `first`.
pub(crate) fn ours_in<'a>(
    first: Option<&'a (dyn StdError + 'static)>,
) -> Option<&'a dyn MarcusError> {
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

/// An error that knows its [`Verdict`]: what tower layers and the reqwest middleware ask
/// of their error type, where no call site can look at the concrete type.
///
/// Implemented by every [`MarcusError`] (your derived enums, the crate's errors), by the
/// boxed `dyn Error`s tower uses (`tower::BoxError`), which are looked into for this
/// crate's errors and otherwise [`classify`]-ed, and by `std::io::Error`. For another
/// error type, implement it (one method), or give the layer a predicate (`retry_if`).
///
/// ```
/// use resilience::classification::Classify;
/// use resilience::CircuitOpen;
///
/// let open: Box<dyn std::error::Error + Send + Sync> = Box::new(CircuitOpen::from_name("x"));
/// assert!(!open.verdict().retryable);
/// assert!(!open.verdict().failure); // a refusal: neither success nor failure
/// let odd: Box<dyn std::error::Error + Send + Sync> = "something odd".into();
/// assert!(odd.verdict().retryable && odd.verdict().failure);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not say what its errors mean to a retry or a breaker",
    label = "`{Self}` does not implement `resilience::classification::Classify`",
    note = "derive `resilience::MarcusError` for it, implement `Classify` (one method, `fn verdict(&self) -> Verdict`), or use `tower::BoxError`"
)]
pub trait Classify: std::fmt::Display {
    /// What this error means to the patterns.
    fn verdict(&self) -> Verdict;
}

impl<E: MarcusError> Classify for E {
    #[inline]
    fn verdict(&self) -> Verdict {
        Verdict::of_marcus(self)
    }
}

impl Classify for Box<dyn StdError + Send + Sync> {
    fn verdict(&self) -> Verdict {
        Verdict::of_error(&**self)
    }
}

impl Classify for Box<dyn StdError + Send> {
    fn verdict(&self) -> Verdict {
        Verdict::of_error(&**self)
    }
}

impl Classify for Box<dyn StdError> {
    fn verdict(&self) -> Verdict {
        Verdict::of_error(&**self)
    }
}

impl Classify for std::io::Error {
    fn verdict(&self) -> Verdict {
        Verdict::of_error(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::errors::{Authorization, Database, InvalidConfiguration, TaskValidation};
    use crate::{BulkheadFull, CircuitOpen};

    #[test]
    fn a_breaker_counts_dependency_faults_only() {
        assert!(Database::new("down").verdict().failure);
        for v in [
            TaskValidation::new("x").verdict(),
            InvalidConfiguration::new("x").verdict(),
            Authorization::new("x").verdict(),
        ] {
            assert!(!v.failure, "{v:?}");
        }
    }

    #[test]
    fn refusals_are_neither_and_recognised_behind_a_box() {
        let full = BulkheadFull {
            name: "b",
            key: None,
            max_concurrent: 1,
            waited: Duration::ZERO,
        };
        let boxed: Box<dyn StdError + Send + Sync> = Box::new(full);
        let v = boxed.verdict();
        assert_eq!(v.refusal, Some(Refusal::BulkheadFull));
        assert!(!v.failure && v.overload);
        let v = CircuitOpen::from_name("x").verdict();
        assert_eq!(v.refusal, Some(Refusal::CircuitOpen));
        assert!(!v.failure && !v.overload);
        // `failing(true)` (a `record_if` saying yes) never makes a refusal a failure.
        assert!(!v.failing(true).failure);
    }

    #[test]
    fn foreign_overloads_by_their_words() {
        let v = Verdict::of_error(&std::io::Error::other("HTTP 503 Service Unavailable"));
        assert!(v.overload && v.failure);
        let v = Verdict::of_error(&std::io::Error::other("429 Too Many Requests"));
        assert!(v.overload);
        let v = Verdict::of_error(&std::io::Error::other("HTTP 500"));
        assert!(!v.overload && v.failure);
    }
}
