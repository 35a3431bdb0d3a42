//! The call site of `#[circuit_breaker]`: what its generated code holds and calls (through
//! `__private`). Not a public API.
//!
//! Each annotated function owns one `static` [`BreakerSite`]; its first call finds or
//! registers the breaker in the global registry, every later call is one atomic load.
//! Its arms: [`BreakerSite::succeeded`] and [`BreakerSite::failed`] (told what to do by a
//! [`BreakerArm`]); a refused call returns [`BreakerSite::reject`].

use std::sync::{Arc, OnceLock};

use super::{Breaker, BreakerConfig};
use super::{CircuitOpen, Permit};
use crate::chaos::site::ChaosSite;
use crate::monitor::observe::Observe;
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
    chaos: ChaosSite,
}

impl BreakerSite {
    /// A site for the breaker `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> BreakerConfig) -> BreakerSite {
        BreakerSite {
            name,
            init,
            breaker: OnceLock::new(),
            chaos: ChaosSite::refusing(name),
        }
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

    /// The `CircuitOpen` an injected refusal returns (through [`reject`](Self::reject)).
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.refused", Default::default);
    /// assert!(SITE.refused().to_string().contains("docs.site.refused"));
    /// ```
    #[cold]
    pub fn refused(&'static self) -> CircuitOpen {
        CircuitOpen::from_name(self.name)
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
    /// (`arm.observe`, through `view`), then counts it against the breaker as `arm.record_if` says, and
    /// gives it back.
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
    /// let arm = BreakerArm { observe: Observe::Skip, record_if: |_: &_| true };
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
        mut error: E,
        view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
        arm: BreakerArm<R>,
    ) -> E
    where
        R: FnOnce(&E) -> bool,
    {
        arm.observe.error(&mut error, view);
        permit.record_error(&error, arm.record_if);
        error
    }

    /// The early return of a refused call: `Err(E::from(open))`.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    ///
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.reject", Default::default);
    /// let r: Result<(), resilience::CircuitOpen> = SITE.reject(resilience::CircuitOpen::from_name("x"));
    /// assert!(r.is_err());
    /// ```
    #[inline]
    pub fn reject<T, E: From<CircuitOpen>>(&'static self, open: CircuitOpen) -> Result<T, E> {
        Err(E::from(open))
    }

    #[cold]
    fn register(&'static self) -> &'static Breaker {
        self.breaker.get_or_init(|| {
            let registry = crate::registry();
            let mut config = (self.init)();
            if let Err(error) = config.validate() {
                tracing::error!(
                    target: "resilience::breaker",
                    name = self.name,
                    %error,
                    "invalid #[circuit_breaker] configuration; using the defaults"
                );
                config = BreakerConfig::default();
            }
            registry
                .register(self.name, config)
                .unwrap_or_else(|error| {
                    // Only a parent that would make a cycle gets here.
                    tracing::error!(
                        target: "resilience::breaker",
                        name = self.name,
                        %error,
                        "could not register the breaker as configured; using the defaults"
                    );
                    registry
                        .register(self.name, BreakerConfig::default())
                        .unwrap_or_else(|_| Arc::new(Breaker::fallback(self.name)))
                })
        })
    }
}

/// What [`BreakerSite::failed`] is told by the call site. (The error's view is an
/// argument of its own: a closure in a struct field would not be inferred as taking a
/// reference of any lifetime.)
pub struct BreakerArm<R> {
    /// Whether this layer records the error in the monitor.
    pub observe: Observe,
    /// `record_if`: which errors count as failures.
    pub record_if: R,
}
