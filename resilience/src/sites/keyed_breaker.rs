//! The call site of `#[circuit_breaker(key = expr)]`: what its generated code holds and
//! calls (through `__private`). Not a public API. Its arms are [`BreakerSite`]'s.

use crate::sites::registry::SiteRegistry;
use std::sync::{Arc, OnceLock};

use super::breaker::{BreakerArm, BreakerSite};
use crate::breaker::{Breaker, BreakerConfig, Permit};
use crate::keyed::Keyed;
use crate::view::View;

/// One call site's keyed breakers (one per key), found once.
///
/// ```
/// use resilience::__private::KeyedBreakerSite;
/// use resilience::BreakerConfig;
///
/// fn init() -> BreakerConfig { BreakerConfig { failure_threshold: 2, ..Default::default() } }
/// static SITE: KeyedBreakerSite = KeyedBreakerSite::new("docs.keyed_breaker", init, 16);
/// let b = SITE.breaker("api.x");
/// assert_eq!(b.config().failure_threshold, 2);
/// assert!(std::sync::Arc::ptr_eq(&b, &resilience::registry().breaker_for("docs.keyed_breaker", "api.x").unwrap()));
/// ```
pub struct KeyedBreakerSite {
    name: &'static str,
    init: fn() -> BreakerConfig,
    max_keys: usize,
    store: OnceLock<Arc<Keyed<Breaker>>>,
    chaos: crate::sites::chaos::ChaosSite,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
}

impl KeyedBreakerSite {
    /// A site for the keyed breakers `name`, whose attribute values `init` returns, with
    /// at most `max_keys` keys live.
    pub const fn new(
        name: &'static str,
        init: fn() -> BreakerConfig,
        max_keys: usize,
    ) -> KeyedBreakerSite {
        KeyedBreakerSite {
            name,
            init,
            registry: SiteRegistry::GLOBAL,
            max_keys,
            store: OnceLock::new(),
            chaos: crate::sites::chaos::ChaosSite::refusing(name),
        }
    }

    /// The breaker for `key` (the text of the attribute's `key = expr`).
    #[inline]
    pub fn breaker(&'static self, key: &str) -> Arc<Breaker> {
        match self.store.get() {
            Some(store) => store.get(key),
            None => self.register().get(key),
        }
    }

    /// The chaos gate of the calls through these breakers (faults named as the name).
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static crate::sites::chaos::ChaosSite {
        &self.chaos
    }

    /// The `CircuitOpen` an injected refusal returns.
    #[cold]
    pub fn refused(&'static self) -> crate::breaker::CircuitOpen {
        crate::breaker::CircuitOpen::from_name(self.name)
    }

    /// The `Ok` arm, as [`BreakerSite::succeeded`].
    #[inline(always)]
    pub fn succeeded(&'static self, permit: Permit<'_>) {
        permit.record_success();
    }

    /// The `Err` arm, as [`BreakerSite::failed`].
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

    #[cold]
    fn register(&'static self) -> &'static Keyed<Breaker> {
        self.store.get_or_init(|| {
            let config = crate::config_error::valid_fields(
                (self.init)(),
                BreakerConfig::validate,
                "#[circuit_breaker]",
                self.name,
            );
            self.registry
                .get()
                .breakers_keyed(self.name, config, self.max_keys)
        })
    }
}

impl KeyedBreakerSite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::KeyedBreakerSite;
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: KeyedBreakerSite = KeyedBreakerSite::new("docs.keyed.registry", Default::default, 10)
    ///     .in_registry(|| &REG);
    /// SITE.breaker("a");
    /// assert!(REG.breaker_for("docs.keyed.registry", "a").is_some());
    /// assert!(resilience::registry().breaker_for("docs.keyed.registry", "a").is_none());
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
    }
}
