//! The call site of `#[circuit_breaker]`: what its generated code holds and calls (through
//! `__private`). Not a public API.
//!
//! Each annotated function owns one `static` [`BreakerSite`]; its first call finds or
//! registers the breaker in the global registry, every later call is one atomic load.
//! Its arms: [`BreakerSite::succeeded`] and [`BreakerSite::failed`] (told what to do by a
//! [`BreakerArm`]); a refused call returns [`BreakerSite::reject`].

use crate::sites::registry::SiteRegistry;
use std::sync::{Arc, OnceLock};

use crate::breaker::{Breaker, BreakerConfig};
use crate::breaker::{CircuitOpen, Permit};
use crate::classification::Verdict;
use crate::monitor::observe::Observe;
use crate::sites::chaos::ChaosSite;
use crate::view::View;

/// One call site's breaker, found once.
///
/// ```
/// use resilience::__private::BreakerSite;
/// use resilience::BreakerConfig;
///
/// fn init() -> BreakerConfig { BreakerConfig { failure_threshold: 3, ..Default::default() } }
/// static SITE: BreakerSite = BreakerSite::new("docs.site", init);
///
/// let b = SITE.breaker();
/// assert_eq!(b.config().failure_threshold, 3);
/// assert!(std::ptr::eq(b, SITE.breaker()));
/// ```
pub struct BreakerSite {
    name: &'static str,
    init: fn() -> BreakerConfig,
    breaker: OnceLock<Arc<Breaker>>,
    /// A method's default name: `name` is `module::function`, and the `Self` type goes
    /// in between at registration (see [`breaker_in`](Self::breaker_in)).
    method: bool,
    /// The decorated function (`module::function`), for the warning about two sites
    /// configuring one breaker differently; empty when not given.
    function: &'static str,
    chaos: ChaosSite,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
}

impl BreakerSite {
    /// A site for the breaker `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> BreakerConfig) -> BreakerSite {
        BreakerSite {
            name,
            init,
            registry: SiteRegistry::GLOBAL,
            breaker: OnceLock::new(),
            method: false,
            function: "",
            chaos: ChaosSite::refusing(name),
        }
    }

    /// The site of the function `function` (`module::function`): named in the warning
    /// given when another site configures the same breaker differently.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.at", Default::default).at("app::fetch");
    /// assert_eq!(SITE.breaker().name(), "docs.at");
    /// ```
    pub const fn at(mut self, function: &'static str) -> BreakerSite {
        self.function = function;
        self
    }

    /// The site of a method named by default: its `name` (`module::function`) gets the
    /// method's `Self` type, which [`breaker_in`](Self::breaker_in) is given.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    ///
    /// struct Payments;
    /// static SITE: BreakerSite = BreakerSite::new("app::fetch", Default::default).in_method();
    /// let b = SITE.breaker_in(|| std::any::type_name::<Payments>());
    /// assert_eq!(b.name(), "app::Payments::fetch");
    /// ```
    pub const fn in_method(mut self) -> BreakerSite {
        self.method = true;
        self
    }

    /// [`breaker`](Self::breaker) for a site made [`in_method`](Self::in_method):
    /// `self_type` (a closure calling `type_name::<Self>()`) is called only on first use.
    #[inline]
    pub fn breaker_in(&'static self, self_type: fn() -> &'static str) -> &'static Breaker {
        match self.breaker.get() {
            Some(b) => b,
            None => self.register_in(self_type),
        }
    }

    #[cold]
    #[inline(never)]
    fn register_in(&'static self, self_type: fn() -> &'static str) -> &'static Breaker {
        let name = if self.method {
            let name = crate::site_name::method_name(self.name, self_type());
            // Faults are named as the breaker, `Self` type included.
            self.chaos.rename(name);
            name
        } else {
            self.name
        };
        self.register_as(name)
    }

    /// The chaos gate of the calls through this breaker (faults named as the breaker).
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.chaos", Default::default);
    /// assert_eq!(SITE.chaos().name(), "docs.site.chaos");
    /// ```
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static ChaosSite {
        &self.chaos
    }

    /// The `CircuitOpen` an injected refusal returns (converted as a real refusal is).
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.refused", Default::default);
    /// assert!(SITE.refused().to_string().contains("docs.site.refused"));
    /// ```
    #[cold]
    pub fn refused(&'static self) -> CircuitOpen {
        CircuitOpen::from_name(self.chaos.name())
    }

    /// The breaker, registered on first use. A configuration given to the registry
    /// before that wins over `init`'s values.
    #[inline]
    pub fn breaker(&'static self) -> &'static Breaker {
        match self.breaker.get() {
            Some(b) => b,
            None => self.register(),
        }
    }

    /// The `Ok` arm: counts a success through `permit`. Inline: the success path is one
    /// call into the breaker's recording, as before a site existed.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    ///
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.succeeded", Default::default);
    /// SITE.breaker().acquire()?.record_error(&"down", |_| true);
    /// assert_eq!(SITE.breaker().snapshot().consecutive_failures, 1);
    /// SITE.succeeded(SITE.breaker().acquire()?);
    /// assert_eq!(SITE.breaker().snapshot().consecutive_failures, 0);
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
    /// let error = SITE.failed(SITE.breaker().acquire()?, "down", |_| View::Opaque("&str"), arm);
    /// assert_eq!(error, "down");
    /// assert_eq!(SITE.breaker().state(), BreakerState::Open);
    /// # Ok::<(), resilience::CircuitOpen>(())
    /// ```
    #[cold]
    #[inline(never)]
    pub fn failed<E, R>(
        &'static self,
        permit: Permit<'_>,
        error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: BreakerArm<R>,
    ) -> E
    where
        R: FnOnce(&E) -> Option<bool>,
    {
        BreakerSite::fail(permit, error, view, arm)
    }

    /// The `Err` arm's work, shared with the keyed site.
    #[inline(always)]
    pub(crate) fn fail<E, R>(
        permit: Permit<'_>,
        mut error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: BreakerArm<R>,
    ) -> E
    where
        R: FnOnce(&E) -> Option<bool>,
    {
        arm.observe.error(&mut error, &view);
        let verdict = view(&mut error).verdict();
        // Asked while the permit is held: a panicking `record_if` counts as a failure.
        let verdict = match (arm.record_if)(&error) {
            Some(failure) => verdict.failing(failure),
            None => verdict,
        };
        record(permit, &verdict);
        error
    }

    #[cold]
    fn register(&'static self) -> &'static Breaker {
        self.register_as(self.name)
    }

    fn register_as(&'static self, name: &'static str) -> &'static Breaker {
        self.breaker.get_or_init(|| {
            let registry = self.registry.get();
            let config = crate::config_error::valid_fields(
                (self.init)(),
                BreakerConfig::validate,
                "#[circuit_breaker]",
                name,
            );
            let attribute = config.clone();
            let breaker = registry.register(name, config).unwrap_or_else(|error| {
                // Only a parent that would make a cycle gets here.
                tracing::error!(
                    target: "resilience::breaker",
                    name = name,
                    %error,
                    "could not register the breaker as configured; using the defaults"
                );
                registry
                    .register(name, BreakerConfig::default())
                    .unwrap_or_else(|_| Arc::new(Breaker::fallback(name)))
            });
            sites::seen(name, self.function, attribute, &breaker);
            breaker
        })
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

/// An error type a breaker's refusal converts into: every `E: From<CircuitOpen>`. Its
/// only purpose is the message of a missing `From`, which names the fix.
///
/// ```
/// use resilience::__private::FromCircuitOpen;
/// let e = resilience::CircuitOpen::from_circuit_open(resilience::CircuitOpen::from_name("x"));
/// assert_eq!(e.name, "x");
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[circuit_breaker]` returns `Err({Self}::from(CircuitOpen))` while the breaker is open, but `{Self}` has no `From<resilience::CircuitOpen>`",
    label = "`{Self}` cannot hold the open breaker's refusal",
    note = "add a variant to the error enum: `#[error(transparent)] Open(#[from] resilience::CircuitOpen)`, or write `impl From<resilience::CircuitOpen> for {Self}`"
)]
pub trait FromCircuitOpen: Sized {
    /// `E::from(open)`.
    fn from_circuit_open(open: CircuitOpen) -> Self;
}

impl<E: From<CircuitOpen>> FromCircuitOpen for E {
    #[inline]
    fn from_circuit_open(open: CircuitOpen) -> Self {
        E::from(open)
    }
}

impl BreakerSite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.registry", Default::default)
    ///     .in_registry(|| &REG);
    /// SITE.breaker();
    /// assert!(REG.breaker("docs.site.registry").is_some());
    /// assert!(resilience::registry().breaker("docs.site.registry").is_none());
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
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
