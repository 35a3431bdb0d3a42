//! The registry's methods by pattern: bulkheads, rate limiters and keyed breakers, each
//! a short wrapper of the pattern's [`Table`](super::table::Table) (the breakers' named
//! part is in `mod.rs`).
//!
//! A name's configuration given here wins over the attributes' values, before or after
//! first use, and reaches every keyed instance of the name, live or made later.

use std::sync::Arc;

use super::Registry;
use crate::breaker::Breaker;
use crate::bulkhead::{Bulkhead, BulkheadConfig, BulkheadSnapshot};
use crate::rate_limit::{RateLimitConfig, RateLimiter, RateLimiterSnapshot};
use crate::ConfigError;

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
        self.table::<Bulkhead>().get(name)
    }

    /// The configuration in force for the bulkhead `name` (its instance's, or its keyed
    /// instances').
    ///
    /// ```
    /// use resilience::{registry::Registry, BulkheadConfig};
    /// let reg = Registry::new();
    /// reg.configure_bulkhead("db", BulkheadConfig { max_keys: 3, ..Default::default() })?;
    /// assert_eq!(reg.bulkhead_config("db").unwrap().max_keys, 3);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn bulkhead_config(&self, name: &str) -> Option<BulkheadConfig> {
        self.table::<Bulkhead>().config(name)
    }

    /// The live instance of the keyed bulkhead `name` for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().bulkhead_for("db", "eu").is_none());
    /// ```
    pub fn bulkhead_for(&self, name: &str, key: &str) -> Option<Arc<Bulkhead>> {
        self.table::<Bulkhead>().find(name, key)
    }

    /// Sets `name`'s bulkhead configuration: applied at once to the bulkhead and every
    /// keyed instance of the name, and kept for those made later, winning over the
    /// attribute's values (the bulkhead is made if the name has no instance yet). An
    /// invalid configuration is an `Err` naming the field.
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
        configure_or_make(&self.table::<Bulkhead>(), name, config)
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
        self.table::<Bulkhead>().snapshots()
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
        self.table::<RateLimiter>().get(name)
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
        self.table::<RateLimiter>().config(name)
    }

    /// The live instance of the keyed rate limit `name` for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().rate_limiter_for("api", "eu").is_none());
    /// ```
    pub fn rate_limiter_for(&self, name: &str, key: &str) -> Option<Arc<RateLimiter>> {
        self.table::<RateLimiter>().find(name, key)
    }

    /// Sets `name`'s rate limit: applied from the next call to the limiter and every
    /// keyed instance of the name, and kept for those made later, winning over the
    /// attribute's values (the limiter is made if the name has no instance yet). An
    /// invalid configuration is an `Err` naming the field.
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
        configure_or_make(&self.table::<RateLimiter>(), name, config)
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
        self.table::<RateLimiter>().snapshots()
    }

    /// The live instance of the keyed breaker `name` (`#[circuit_breaker(key = ..)]`)
    /// for `key`, if any.
    ///
    /// ```
    /// assert!(resilience::registry().breaker_for("upstream", "api.x").is_none());
    /// ```
    pub fn breaker_for(&self, name: &str, key: &str) -> Option<Arc<Breaker>> {
        self.table::<Breaker>().find(name, key)
    }
}

/// A bulkhead's or rate limiter's `configure`: the name's instance is made with
/// `config` when it has none yet, so it is there to be read.
fn configure_or_make<P: crate::pattern::Pattern>(
    table: &super::table::Table<P>,
    name: &str,
    config: P::Config,
) -> Result<(), ConfigError> {
    if !table.configure(name, config.clone())? {
        table.register(name, config)?;
    }
    Ok(())
}
