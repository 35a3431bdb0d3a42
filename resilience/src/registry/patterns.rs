//! The registry's bulkheads, rate limiters and keyed instances (`key = expr`), by name:
//! finding, configuring and snapshotting them. Kept apart from the breakers' part of the
//! registry; [`Registry`] holds one [`Patterns`].
//!
//! A name's configuration given here wins over the attributes' values, before or after
//! first use, and reaches every keyed instance of the name, live or made later.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use super::Registry;
use crate::breaker::{Breaker, BreakerConfig, BreakerSnapshot};
use crate::bulkhead::{Bulkhead, BulkheadConfig, BulkheadSnapshot};
use crate::clock::Clock;
use crate::events::Sink;
use crate::keyed::{Instance, Keyed};
use crate::rate_limit::{RateLimitConfig, RateLimiter, RateLimiterSnapshot};
use crate::ConfigError;

/// What a [`Registry`] keeps besides its breakers.
pub(crate) struct Patterns {
    clock: Arc<dyn Clock>,
    /// The registry's event stream, handed to every instance made here.
    events: Sink,
    inner: RwLock<Inner>,
}

#[derive(Default)]
struct Inner {
    bulkheads: BTreeMap<Arc<str>, Arc<Bulkhead>>,
    keyed_bulkheads: BTreeMap<Arc<str>, Arc<Keyed<Bulkhead>>>,
    bulkhead_configs: HashMap<Arc<str>, BulkheadConfig>,
    rate_limiters: BTreeMap<Arc<str>, Arc<RateLimiter>>,
    keyed_rate_limiters: BTreeMap<Arc<str>, Arc<Keyed<RateLimiter>>>,
    rate_limit_configs: HashMap<Arc<str>, RateLimitConfig>,
    keyed_breakers: BTreeMap<Arc<str>, Arc<Keyed<Breaker>>>,
}

impl Patterns {
    pub(crate) fn new(clock: Arc<dyn Clock>, events: Sink) -> Patterns {
        Patterns {
            clock,
            events,
            inner: RwLock::new(Inner::default()),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Every write replaces whole entries, so a poisoned lock still holds valid maps.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Instance for Breaker {
    type Config = BreakerConfig;

    /// Keyed breakers share the name's interned `&'static str`; the key is the store's.
    fn make(
        name: &'static str,
        _key: Arc<str>,
        config: &BreakerConfig,
        clock: &Arc<dyn Clock>,
    ) -> Breaker {
        Breaker::new(name, config.clone())
            .unwrap_or_else(|_| Breaker::fallback(name))
            .with_clock(clock.clone())
    }

    fn reconfigure(&self, config: &BreakerConfig) {
        // Validated by `configure` before it gets here.
        let _ = self.configure(config.clone());
    }

    fn is_idle(&self) -> bool {
        self.state() == crate::BreakerState::Closed
    }

    fn with_events(self, events: Sink) -> Breaker {
        Breaker::with_events(self, events)
    }
}

impl Registry {
    /// The bulkhead named `name` (the one without `key`), if registered.
    ///
    /// ```
    /// use resilience::{registry::Registry, BulkheadConfig};
    /// let reg = Registry::new();
    /// assert!(reg.bulkhead("db").is_none());
    /// reg.configure_bulkhead("db", BulkheadConfig { max_concurrent: 2, ..Default::default() })?;
    /// assert_eq!(reg.bulkhead("db").unwrap().config().max_concurrent, 2);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn bulkhead(&self, name: &str) -> Option<Arc<Bulkhead>> {
        self.patterns.read().bulkheads.get(name).cloned()
    }

    /// The configuration in force for the bulkhead `name`: its instance's, with the
    /// name's `max_keys` (a bound of the keyed store, which the instance does not hold).
    ///
    /// ```
    /// use resilience::{registry::Registry, BulkheadConfig};
    /// let reg = Registry::new();
    /// reg.configure_bulkhead("db", BulkheadConfig { max_keys: 3, ..Default::default() })?;
    /// assert_eq!(reg.bulkhead_config("db").unwrap().max_keys, 3);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn bulkhead_config(&self, name: &str) -> Option<BulkheadConfig> {
        let mut config = self.bulkhead(name)?.config();
        if let Some(stored) = self.patterns.read().bulkhead_configs.get(name) {
            config.max_keys = stored.max_keys;
        }
        Some(config)
    }

    /// The configuration in force for the rate limiter `name`, as
    /// [`bulkhead_config`](Self::bulkhead_config).
    ///
    /// ```
    /// use resilience::{registry::Registry, RateLimitConfig};
    /// let reg = Registry::new();
    /// reg.configure_rate_limit("api", RateLimitConfig { max_keys: 5, ..Default::default() })?;
    /// assert_eq!(reg.rate_limit_config("api").unwrap().max_keys, 5);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn rate_limit_config(&self, name: &str) -> Option<RateLimitConfig> {
        let mut config = self.rate_limiter(name)?.config();
        if let Some(stored) = self.patterns.read().rate_limit_configs.get(name) {
            config.max_keys = stored.max_keys;
        }
        Some(config)
    }

    /// The live instance of the keyed bulkhead `name` for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().bulkhead_for("db", "eu").is_none());
    /// ```
    pub fn bulkhead_for(&self, name: &str, key: &str) -> Option<Arc<Bulkhead>> {
        let store = self.patterns.read().keyed_bulkheads.get(name).cloned()?;
        store.find(key)
    }

    /// Sets `name`'s bulkhead configuration: applied at once to the bulkhead and every
    /// keyed instance of the name, and kept for those made later, winning over the
    /// attribute's values. An invalid configuration is an `Err` naming the field.
    ///
    /// ```
    /// use resilience::{registry::Registry, BulkheadConfig};
    /// let reg = Registry::new();
    /// let err = reg.configure_bulkhead("db", BulkheadConfig { max_concurrent: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "max_concurrent");
    /// ```
    pub fn configure_bulkhead(
        &self,
        name: &str,
        config: BulkheadConfig,
    ) -> Result<(), ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        let mut inner = self.patterns.write();
        if let Some(b) = inner.bulkheads.get(name) {
            b.apply(&config);
        }
        if let Some(store) = inner.keyed_bulkheads.get(name) {
            store.configure(config.clone(), config.max_keys);
        }
        if !inner.bulkheads.contains_key(name) && !inner.keyed_bulkheads.contains_key(name) {
            let b = Arc::new(
                Bulkhead::build(crate::breaker::intern_name(name), None, &config)
                    .with_events(self.patterns.events.clone()),
            );
            inner.bulkheads.insert(name.into(), b);
        }
        inner.bulkhead_configs.insert(name.into(), config);
        Ok(())
    }

    /// Every bulkhead's snapshot (keyed instances too), by name then key.
    ///
    /// ```
    /// use resilience::{registry::Registry, BulkheadConfig};
    /// let reg = Registry::new();
    /// reg.configure_bulkhead("db", BulkheadConfig::default())?;
    /// assert_eq!(reg.bulkheads()[0].name, "db");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn bulkheads(&self) -> Vec<BulkheadSnapshot> {
        let (plain, keyed) = {
            let inner = self.patterns.read();
            (
                inner.bulkheads.values().cloned().collect::<Vec<_>>(),
                inner
                    .keyed_bulkheads
                    .iter()
                    .map(|(n, s)| (n.clone(), s.clone()))
                    .collect::<Vec<_>>(),
            )
        };
        let mut all: Vec<BulkheadSnapshot> = plain.iter().map(|b| b.snapshot()).collect();
        for (name, store) in keyed {
            let max_keys = self
                .patterns
                .read()
                .bulkhead_configs
                .get(&name)
                .map_or(crate::keyed::DEFAULT_MAX_KEYS, |c| c.max_keys);
            all.extend(store.entries().into_iter().map(|(_, b)| {
                let mut s = b.snapshot();
                s.config.max_keys = max_keys;
                s
            }));
        }
        all.sort_by(|a, b| (&a.name, &a.key).cmp(&(&b.name, &b.key)));
        all
    }

    /// The rate limiter named `name` (the one without `key`), if registered.
    ///
    /// ```
    /// use resilience::{registry::Registry, RateLimitConfig};
    /// let reg = Registry::new();
    /// reg.configure_rate_limit("api", RateLimitConfig { limit: 5, ..Default::default() })?;
    /// assert_eq!(reg.rate_limiter("api").unwrap().config().limit, 5);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn rate_limiter(&self, name: &str) -> Option<Arc<RateLimiter>> {
        self.patterns.read().rate_limiters.get(name).cloned()
    }

    /// The live instance of the keyed rate limit `name` for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().rate_limiter_for("api", "eu").is_none());
    /// ```
    pub fn rate_limiter_for(&self, name: &str, key: &str) -> Option<Arc<RateLimiter>> {
        let store = self
            .patterns
            .read()
            .keyed_rate_limiters
            .get(name)
            .cloned()?;
        store.find(key)
    }

    /// Sets `name`'s rate limit: applied from the next call to the limiter and every
    /// keyed instance of the name, and kept for those made later, winning over the
    /// attribute's values. An invalid configuration is an `Err` naming the field.
    ///
    /// ```
    /// use resilience::{registry::Registry, RateLimitConfig};
    /// let reg = Registry::new();
    /// let err = reg.configure_rate_limit("api", RateLimitConfig { limit: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "limit");
    /// ```
    pub fn configure_rate_limit(
        &self,
        name: &str,
        config: RateLimitConfig,
    ) -> Result<(), ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        let mut inner = self.patterns.write();
        if let Some(l) = inner.rate_limiters.get(name) {
            l.apply(&config);
        }
        if let Some(store) = inner.keyed_rate_limiters.get(name) {
            store.configure(config.clone(), config.max_keys);
        }
        if !inner.rate_limiters.contains_key(name) && !inner.keyed_rate_limiters.contains_key(name)
        {
            let l = Arc::new(
                RateLimiter::build(
                    crate::breaker::intern_name(name),
                    None,
                    &config,
                    self.patterns.clock.clone(),
                )
                .with_events(self.patterns.events.clone()),
            );
            inner.rate_limiters.insert(name.into(), l);
        }
        inner.rate_limit_configs.insert(name.into(), config);
        Ok(())
    }

    /// Every rate limiter's snapshot (keyed instances too), by name then key.
    ///
    /// ```
    /// use resilience::{registry::Registry, RateLimitConfig};
    /// let reg = Registry::new();
    /// reg.configure_rate_limit("api", RateLimitConfig::default())?;
    /// assert_eq!(reg.rate_limiters()[0].available, 100);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn rate_limiters(&self) -> Vec<RateLimiterSnapshot> {
        let (plain, keyed) = {
            let inner = self.patterns.read();
            (
                inner.rate_limiters.values().cloned().collect::<Vec<_>>(),
                inner
                    .keyed_rate_limiters
                    .values()
                    .cloned()
                    .collect::<Vec<_>>(),
            )
        };
        let mut all: Vec<RateLimiterSnapshot> = plain.iter().map(|l| l.snapshot()).collect();
        for store in keyed {
            all.extend(store.entries().into_iter().map(|(_, l)| l.snapshot()));
        }
        all.sort_by(|a, b| (&a.name, &a.key).cmp(&(&b.name, &b.key)));
        all
    }

    /// The live instance of the keyed breaker `name` (`#[circuit_breaker(key = ..)]`)
    /// for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry().breaker_for("upstream", "api.x").is_none());
    /// ```
    pub fn breaker_for(&self, name: &str, key: &str) -> Option<Arc<Breaker>> {
        let store = self.patterns.read().keyed_breakers.get(name).cloned()?;
        store.find(key)
    }

    /// Every keyed breaker's snapshot, with its key.
    pub(crate) fn keyed_breaker_snapshots(&self) -> Vec<BreakerSnapshot> {
        let stores: Vec<_> = self
            .patterns
            .read()
            .keyed_breakers
            .values()
            .cloned()
            .collect();
        let mut all = Vec::new();
        for store in stores {
            let mut entries = store.entries();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            all.extend(entries.into_iter().map(|(key, b)| {
                let mut s = b.snapshot();
                s.key = Some(key.to_string());
                s
            }));
        }
        all
    }

    /// Applies a breaker configuration given to [`configure`](Registry::configure) to
    /// the keyed breakers of `name`.
    pub(crate) fn configure_keyed_breakers(&self, name: &str, config: &BreakerConfig) {
        if let Some(store) = self.patterns.read().keyed_breakers.get(name) {
            let max_keys = store.max_keys();
            store.configure(config.clone(), max_keys);
        }
    }

    pub(crate) fn bulkhead_or_insert(&self, name: &str, given: BulkheadConfig) -> Arc<Bulkhead> {
        if let Some(b) = self.bulkhead(name) {
            return b;
        }
        let mut inner = self.patterns.write();
        if let Some(b) = inner.bulkheads.get(name) {
            return b.clone();
        }
        let config = inner.bulkhead_configs.get(name).cloned().unwrap_or(given);
        let b = Arc::new(
            Bulkhead::build(crate::breaker::intern_name(name), None, &config)
                .with_events(self.patterns.events.clone()),
        );
        inner.bulkheads.insert(name.into(), b.clone());
        b
    }

    pub(crate) fn bulkheads_keyed(
        &self,
        name: &str,
        given: BulkheadConfig,
    ) -> Arc<Keyed<Bulkhead>> {
        let mut inner = self.patterns.write();
        if let Some(store) = inner.keyed_bulkheads.get(name) {
            return store.clone();
        }
        let config = inner.bulkhead_configs.get(name).cloned().unwrap_or(given);
        let max_keys = config.max_keys;
        let store = Arc::new(
            Keyed::new(
                crate::breaker::intern_name(name),
                config,
                max_keys,
                self.patterns.clock.clone(),
            )
            .with_events(self.patterns.events.clone()),
        );
        inner.keyed_bulkheads.insert(name.into(), store.clone());
        store
    }

    pub(crate) fn rate_limiter_or_insert(
        &self,
        name: &str,
        given: RateLimitConfig,
    ) -> Arc<RateLimiter> {
        if let Some(l) = self.rate_limiter(name) {
            return l;
        }
        let mut inner = self.patterns.write();
        if let Some(l) = inner.rate_limiters.get(name) {
            return l.clone();
        }
        let config = inner.rate_limit_configs.get(name).cloned().unwrap_or(given);
        let l = Arc::new(
            RateLimiter::build(
                crate::breaker::intern_name(name),
                None,
                &config,
                self.patterns.clock.clone(),
            )
            .with_events(self.patterns.events.clone()),
        );
        inner.rate_limiters.insert(name.into(), l.clone());
        l
    }

    pub(crate) fn rate_limiters_keyed(
        &self,
        name: &str,
        given: RateLimitConfig,
    ) -> Arc<Keyed<RateLimiter>> {
        let mut inner = self.patterns.write();
        if let Some(store) = inner.keyed_rate_limiters.get(name) {
            return store.clone();
        }
        let config = inner.rate_limit_configs.get(name).cloned().unwrap_or(given);
        let max_keys = config.max_keys;
        let store = Arc::new(
            Keyed::new(
                crate::breaker::intern_name(name),
                config,
                max_keys,
                self.patterns.clock.clone(),
            )
            .with_events(self.patterns.events.clone()),
        );
        inner.keyed_rate_limiters.insert(name.into(), store.clone());
        store
    }

    pub(crate) fn breakers_keyed(
        &self,
        name: &str,
        given: BreakerConfig,
        max_keys: usize,
    ) -> Arc<Keyed<Breaker>> {
        let configured = self.configured_breaker(name);
        let mut inner = self.patterns.write();
        if let Some(store) = inner.keyed_breakers.get(name) {
            return store.clone();
        }
        let config = configured.unwrap_or(given);
        let store = Arc::new(
            Keyed::new(
                crate::breaker::intern_name(name),
                config,
                max_keys,
                self.patterns.clock.clone(),
            )
            .with_events(self.patterns.events.clone()),
        );
        inner.keyed_breakers.insert(name.into(), store.clone());
        store
    }
}
