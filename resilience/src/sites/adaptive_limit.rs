//! The contract with `#[adaptive_limit]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`AdaptiveLimitSite`], the generic [`Site`]
//! of an adaptive limit (`instance()`); this file holds what is the limit's own. The
//! success arm measures the call; the error arm (out of line) decides whether the error
//! is a *drop* ([`is_drop`]), records it in the monitor of the site's registry when this
//! layer is the one that does, and gives the error back. A refused call returns
//! `Err(FromRefusal::from_refusal(overloaded))`.

use crate::adaptive_limit::{AdaptiveLimiter, AdaptivePermit, Overloaded, Priority};
use crate::monitor::observe::Observe;
use crate::sites::site::Site;
use crate::view::View;

/// One call site's adaptive limit, found once.
///
/// ```
/// use resilience::__private::AdaptiveLimitSite;
/// use resilience::AdaptiveLimitConfig;
///
/// fn init() -> AdaptiveLimitConfig { AdaptiveLimitConfig { initial_limit: 3, ..Default::default() } }
/// static SITE: AdaptiveLimitSite = AdaptiveLimitSite::new("docs.adaptive_site", init);
/// assert_eq!(SITE.instance().limit(), 3);
/// ```
pub type AdaptiveLimitSite = Site<AdaptiveLimiter>;

impl Site<AdaptiveLimiter> {
    /// The `Ok` arm: the call's round-trip time is measured.
    #[inline(always)]
    pub fn succeeded(&'static self, permit: AdaptivePermit<'_>) {
        permit.succeeded();
    }

    /// The `Err` arm: the error recorded in the monitor if this layer is the one that
    /// does, counted as a drop if [`is_drop`] says so, and given back.
    ///
    /// ```
    /// use resilience::__private::{AdaptiveLimitSite, Observe, View};
    /// static SITE: AdaptiveLimitSite = AdaptiveLimitSite::new("docs.adaptive_site.failed", Default::default);
    /// let permit = SITE.instance().try_acquire().unwrap();
    /// let e = SITE.failed(permit, "no", |_| View::Opaque("&str"), Observe::Skip);
    /// assert_eq!((e, SITE.instance().in_flight()), ("no", 0));
    /// ```
    #[cold]
    #[inline(never)]
    pub fn failed<E>(
        &'static self,
        permit: AdaptivePermit<'_>,
        mut error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        observe: Observe,
    ) -> E {
        let drop = is_drop(&view(&mut error));
        permit.record(drop);
        observe.error_in(self.registry().monitor(), &mut error, view);
        error
    }

    /// The `Overloaded` an injected refusal returns (converted as a real one is): the
    /// limit's name and limit, not counted as a rejection.
    ///
    /// ```
    /// use resilience::__private::AdaptiveLimitSite;
    /// static SITE: AdaptiveLimitSite = AdaptiveLimitSite::new("docs.adaptive_site.refused", Default::default);
    /// assert_eq!(SITE.refused(resilience::Priority::Low).name, "docs.adaptive_site.refused");
    /// ```
    #[cold]
    pub fn refused(&'static self, priority: Priority) -> Overloaded {
        self.instance()
            .overloaded(priority, std::time::Duration::ZERO)
    }
}

/// The slow half of an async call's admission: wait up to `max_wait` for a place.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let l = resilience::adaptive_limit::AdaptiveLimiter::new("docs.adaptive_wait", Default::default()).unwrap();
/// assert!(resilience::__private::adaptive_limit_wait(&l, resilience::Priority::Normal).await.is_ok());
/// # }
/// ```
pub async fn adaptive_limit_wait(
    limiter: &AdaptiveLimiter,
    priority: Priority,
) -> Result<AdaptivePermit<'_>, Overloaded> {
    limiter.wait(priority).await
}

/// Whether an error that ended a call through an adaptive limit is a *drop*: a sign the
/// limit is too high. One rule for every front end (the attribute here, the tower layer).
///
/// A drop is a timeout ([`TimedOut`](crate::TimedOut), or an error the classification
/// calls one), a refusal for overload from further down ([`Overloaded`],
/// [`BulkheadFull`](crate::BulkheadFull), [`RateLimited`](crate::RateLimited)), or an
/// error saying so (an HTTP 429 or 503, "too many requests", "service unavailable").
/// Any other error (a 404, a bad request, a failure that says nothing of load) is an
/// ordinary outcome: its round-trip time is measured as a success's.
///
/// ```
/// use resilience::__private::{is_drop, View};
/// use resilience::TimedOut;
/// let mut timed_out = TimedOut { function: "f", limit: Default::default() };
/// assert!(is_drop(&View::Marcus(&mut timed_out)));
/// let e: Box<dyn std::error::Error + Send + Sync> = "HTTP 503 Service Unavailable".into();
/// assert!(is_drop(&View::Dyn(&*e)));
/// let e: Box<dyn std::error::Error + Send + Sync> = "HTTP 404 Not Found".into();
/// assert!(!is_drop(&View::Dyn(&*e)));
/// ```
pub fn is_drop(view: &View<'_>) -> bool {
    view.verdict().overload
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn dyn_drop(e: Box<dyn std::error::Error + Send + Sync>) -> bool {
        is_drop(&View::Dyn(&*e))
    }

    #[test]
    fn drops_are_timeouts_and_overload_from_further_down() {
        let overloaded = crate::Overloaded {
            name: "x",
            key: None,
            limit: 1,
            priority: Priority::Normal,
            waited: Default::default(),
            retry_after: Default::default(),
        };
        assert!(dyn_drop(Box::new(overloaded)));
        assert!(dyn_drop(Box::new(crate::BulkheadFull {
            name: "x",
            key: None,
            max_concurrent: 1,
            waited: Default::default()
        })));
        assert!(dyn_drop("429 Too Many Requests".into()));
        assert!(dyn_drop("upstream request timed out".into()));
        assert!(!dyn_drop("HTTP 404 Not Found".into()));
        assert!(!dyn_drop("invalid argument".into()));
        assert!(!is_drop(&View::Opaque("String")));
        let mut open = crate::CircuitOpen::from_name("inner");
        assert!(!is_drop(&View::Marcus(&mut open)));
    }
}
