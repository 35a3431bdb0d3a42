//! The contract with `#[circuit_breaker(key = expr)]`'s generated code. Not a public API.

use std::sync::{Arc, OnceLock};

use super::{Breaker, BreakerConfig};
use crate::keyed::Keyed;

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
            max_keys,
            store: OnceLock::new(),
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

    #[cold]
    fn register(&'static self) -> &'static Keyed<Breaker> {
        self.store.get_or_init(|| {
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
            crate::registry().breakers_keyed(self.name, config, self.max_keys)
        })
    }
}
