//! The call site of `#[circuit_breaker]` (with or without `key = expr`): what its
//! generated code holds and calls (through `__private`). Not a public API.
//!
//! Each annotated function owns one `static` [`BreakerSite`], the generic [`Site`] of a
//! breaker; this file holds what is the breaker's own: its arms,
//! `succeeded` and `failed` (told what to do by a [`BreakerArm`]), the refusal an
//! injected fault returns, and the warning when two sites configure one breaker
//! differently. A refused call returns `Err(FromRefusal::from_refusal(open))`.

#[cfg(feature = "chaos")]
use crate::breaker::CircuitOpen;
use crate::breaker::Permit;
use crate::breaker::{Breaker, BreakerConfig};
use crate::classification::Verdict;
use crate::monitor::observe::Observe;
use crate::sites::site::{Site, SiteExtra};
use crate::view::View;

/// One call site's breaker (or, with `key = expr`, its breakers, one per key), found
/// once: the [`Site`] of a breaker, warning when two sites configure one breaker
/// differently.
///
/// ```
/// use resilience::__private::BreakerSite;
/// use resilience::BreakerConfig;
///
/// fn init() -> BreakerConfig { BreakerConfig { failure_threshold: 3, ..Default::default() } }
/// static SITE: BreakerSite = BreakerSite::new("docs.site", init);
///
/// let b = SITE.instance();
/// assert_eq!(b.config().failure_threshold, 3);
/// assert!(std::ptr::eq(b, SITE.instance()));
/// let keyed = SITE.keyed("api.x").unwrap();
/// assert!(std::sync::Arc::ptr_eq(&keyed, &resilience::registry().breaker_for("docs.site", "api.x").unwrap()));
/// ```
pub type BreakerSite = Site<Breaker, SameConfig>;

impl Site<Breaker, SameConfig> {
    /// A site for the breaker `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> BreakerConfig) -> BreakerSite {
        Site::with(name, init, SameConfig)
    }

    /// The `CircuitOpen` an injected refusal returns (converted as a real refusal is).
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.refused", Default::default);
    /// assert!(SITE.refused().to_string().contains("docs.site.refused"));
    /// ```
    #[cfg(feature = "chaos")]
    #[cold]
    pub fn refused(&'static self) -> CircuitOpen {
        CircuitOpen::from_name(self.chaos().name())
    }

    /// The `Ok` arm: counts a success through `permit`. Inline: the success path is one
    /// call into the breaker's recording, as before a site existed.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    ///
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.succeeded", Default::default);
    /// SITE.instance().acquire()?.record_error(&"down", |_| true);
    /// assert_eq!(SITE.instance().snapshot().consecutive_failures, 1);
    /// SITE.succeeded(SITE.instance().acquire()?);
    /// assert_eq!(SITE.instance().snapshot().consecutive_failures, 0);
    /// # Ok::<(), resilience::CircuitOpen>(())
    /// ```
    #[inline(always)]
    pub fn succeeded(&'static self, permit: Permit<'_>) {
        permit.record_success();
    }

    /// The `Err` arm: records the error in the monitor if this layer is the one that does
    /// (`arm.observe`, through `view`), counts it against the breaker, and gives it back.
    ///
    /// What counts is the error's [`Verdict`]: one of this crate's own refusals from a
    /// layer inside the breaker (`RateLimited`, `BulkheadFull`, `Overloaded`, an inner
    /// breaker's `CircuitOpen`) is neither a success nor a failure (a half-open trial
    /// place it held is given back); any other error is a failure when it is a
    /// dependency's fault (transient, integration and system tiers, timeouts, errors
    /// nothing is known about) or, when the attribute names one, when `record_if` says so
    /// (`arm.record_if` returns `Some(decision)` then, `None` otherwise), and otherwise a
    /// success: the dependency answered.
    ///
    /// Out of line and by value, so the decorated function's success path stays small and
    /// its `Result` never has its address taken there (see
    /// [`observed`](crate::__private::observed)).
    ///
    /// ```
    /// use resilience::__private::{BreakerArm, BreakerSite, Observe, View};
    /// use resilience::{BreakerConfig, BreakerState};
    ///
    /// fn init() -> BreakerConfig { BreakerConfig { failure_threshold: 1, ..Default::default() } }
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.failed", init);
    /// let arm = BreakerArm { observe: Observe::Skip, record_if: |_: &_| Some(true) };
    /// let error = SITE.failed(SITE.instance().acquire()?, "down", |_| View::Opaque("&str"), arm);
    /// assert_eq!(error, "down");
    /// assert_eq!(SITE.instance().state(), BreakerState::Open);
    /// # Ok::<(), resilience::CircuitOpen>(())
    /// ```
    #[cold]
    #[inline(never)]
    pub fn failed<E, R>(
        &'static self,
        permit: Permit<'_>,
        mut error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: BreakerArm<R>,
    ) -> E
    where
        R: FnOnce(&E) -> Option<bool>,
    {
        arm.observe
            .error_in(self.registry().monitor(), &mut error, &view);
        let verdict = view(&mut error).verdict();
        // Asked while the permit is held: a panicking `record_if` counts as a failure.
        let verdict = match (arm.record_if)(&error) {
            Some(failure) => verdict.failing(failure),
            None => verdict,
        };
        record(permit, &verdict);
        error
    }
}

/// Counts a call's `verdict` through its permit: a refusal of this crate's is neither a
/// success nor a failure (the permit is given back unrecorded: a half-open trial place
/// returns), a failure is one, anything else a success. Shared by every front end of a
/// breaker (the attribute, `CircuitBreakerLayer`, the reqwest middleware).
#[inline]
pub(crate) fn record(permit: Permit<'_>, verdict: &Verdict) {
    if verdict.refusal.is_some() {
        // Not panicking here, so a dropped permit records nothing (see `Permit`'s docs).
        drop(permit);
    } else if verdict.failure {
        permit.record_failure();
    } else {
        permit.record_success();
    }
}

/// What [`BreakerSite::failed`] is told by the call site. (The error's view is an
/// argument of its own: a closure in a struct field would not be inferred as taking a
/// reference of any lifetime.)
pub struct BreakerArm<R> {
    /// Whether this layer records the error in the monitor.
    pub observe: Observe,
    /// `record_if`: `Some(decision)` when the attribute names one (which errors count as
    /// failures), `None` to ask the error's verdict.
    pub record_if: R,
}

/// A breaker site's own part: on its first call, a WARN when another site configured
/// the same breaker differently (naming both sites and the configuration in force).
pub struct SameConfig;

impl SiteExtra<Breaker> for SameConfig {
    fn found(
        &self,
        name: &'static str,
        function: &'static str,
        attribute: &BreakerConfig,
        breaker: &Breaker,
    ) {
        sites::seen(name, function, attribute.clone(), breaker);
    }
}

/// The attribute sites of each breaker, to warn when two configure it differently.
mod sites {
    use std::collections::{BTreeMap, BTreeSet};
    use std::sync::{Mutex, PoisonError};

    use super::{Breaker, BreakerConfig};

    /// Per breaker name, the first site's function and attribute configuration; and the
    /// names already warned about (once each).
    type Seen = (
        BTreeMap<&'static str, (&'static str, BreakerConfig)>,
        BTreeSet<&'static str>,
    );

    static SEEN: Mutex<Seen> = Mutex::new((BTreeMap::new(), BTreeSet::new()));

    /// A site of `function` registered the breaker `name` with the attribute's `config`
    /// (once per site, on its first call). A later site whose configuration differs
    /// from the first's gets a WARN naming both sites and the configuration in force.
    pub(super) fn seen(
        name: &'static str,
        function: &'static str,
        config: BreakerConfig,
        breaker: &Breaker,
    ) {
        let first_site = {
            let mut guard = SEEN.lock().unwrap_or_else(PoisonError::into_inner);
            let (first, warned) = &mut *guard;
            match first.get(name) {
                None => {
                    first.insert(name, (function, config));
                    return;
                }
                Some((_, first_config)) if *first_config == config => return,
                Some((first_site, _)) => {
                    if !warned.insert(name) {
                        return;
                    }
                    *first_site
                }
            }
        };
        tracing::warn!(
            target: "resilience::breaker",
            name,
            site = function,
            first_site,
            kept = ?breaker.config(),
            ignored = ?config,
            "two call sites configure one circuit breaker differently; the first configuration (or the registry's) stays"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::Classify;
    use crate::BulkheadFull;
    use std::time::Duration;

    #[test]
    fn a_refused_trial_gives_its_place_back_and_counts_nothing() {
        let config = BreakerConfig {
            half_open_max_calls: 1,
            success_threshold: 1,
            ..Default::default()
        };
        let breaker = Breaker::new("sites.refused_trial", config).unwrap();
        breaker.transition_to_half_open();
        let full = BulkheadFull {
            name: "inner",
            key: None,
            max_concurrent: 1,
            waited: Duration::ZERO,
        };
        let trial = breaker.acquire().expect("the trial place");
        assert!(trial.is_trial());
        record(trial, &full.verdict());
        // Neither success nor failure: still half-open, and its one place free again.
        assert_eq!(breaker.state(), crate::BreakerState::HalfOpen);
        let trial = breaker.acquire().expect("the place was given back");
        record(trial, &Verdict::SUCCESS);
        assert_eq!(breaker.state(), crate::BreakerState::Closed);
    }
}
