//! The contract with `#[circuit_breaker]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`BreakerSite`]; its first call finds or
//! registers the breaker in the global registry, every later call is one atomic load.

use std::sync::{Arc, OnceLock};

use super::{Breaker, BreakerConfig};
pub use super::{CircuitOpen, Permit};

/// One call site's breaker, found once.
///
/// ```
/// use resilience::__private::BreakerSite;
/// use resilience::BreakerConfig;
///
/// fn init() -> BreakerConfig { BreakerConfig { failure_threshold: 3, ..Default::default() } }
/// static SITE: BreakerSite = BreakerSite::new("docs.glue", init);
///
/// let b = SITE.breaker();
/// assert_eq!(b.config().failure_threshold, 3);
/// assert!(std::ptr::eq(b, SITE.breaker()));
/// ```
pub struct BreakerSite {
    name: &'static str,
    init: fn() -> BreakerConfig,
    breaker: OnceLock<Arc<Breaker>>,
}

impl BreakerSite {
    /// A site for the breaker `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> BreakerConfig) -> BreakerSite {
        BreakerSite {
            name,
            init,
            breaker: OnceLock::new(),
        }
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

/// The early return of a refused call: `Err(E::from(open))`.
///
/// ```
/// let r: Result<(), resilience::CircuitOpen> =
///     resilience::__private::reject(resilience::CircuitOpen::from_name("x"));
/// assert!(r.is_err());
/// ```
#[inline]
pub fn reject<T, E: From<CircuitOpen>>(open: CircuitOpen) -> Result<T, E> {
    Err(E::from(open))
}
