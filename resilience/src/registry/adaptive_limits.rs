//! The registry's adaptive limits, by name: the [`Registry`] methods over the generic
//! table of the pattern (`table.rs`).

use std::sync::Arc;

use super::Registry;
use crate::adaptive_limit::{AdaptiveLimitConfig, AdaptiveLimitSnapshot, AdaptiveLimiter};
use crate::ConfigError;

impl Registry {
    /// The adaptive limit named `name`, if a call site, a layer or
    /// [`configure_adaptive_limit`](Registry::configure_adaptive_limit) made it.
    ///
    /// ```
    /// use resilience::{registry::Registry, AdaptiveLimitConfig};
    /// let reg = Registry::new();
    /// assert!(reg.adaptive_limit("search").is_none());
    /// reg.configure_adaptive_limit("search", AdaptiveLimitConfig { initial_limit: 8, ..Default::default() })?;
    /// assert_eq!(reg.adaptive_limit("search").unwrap().limit(), 8);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn adaptive_limit(&self, name: &str) -> Option<Arc<AdaptiveLimiter>> {
        self.table::<AdaptiveLimiter>().get(name)
    }

    /// The adaptive limit named `name`, made with `config` if it does not exist yet. A
    /// configuration given earlier with
    /// [`configure_adaptive_limit`](Registry::configure_adaptive_limit) wins over
    /// `config`; an existing limit is returned as it is.
    ///
    /// ```
    /// use resilience::{registry::Registry, AdaptiveLimitConfig};
    /// let reg = Registry::new();
    /// let a = reg.register_adaptive_limit("search", AdaptiveLimitConfig::default())?;
    /// let b = reg.register_adaptive_limit("search", AdaptiveLimitConfig { initial_limit: 3, ..Default::default() })?;
    /// assert!(std::sync::Arc::ptr_eq(&a, &b));
    /// assert_eq!(b.limit(), 20);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn register_adaptive_limit(
        &self,
        name: &str,
        config: AdaptiveLimitConfig,
    ) -> Result<Arc<AdaptiveLimiter>, ConfigError> {
        self.table::<AdaptiveLimiter>().register(name, config)
    }

    /// [`register_adaptive_limit`](Registry::register_adaptive_limit) for a config known
    /// to be valid (a call site's, checked).
    #[cfg(feature = "tower")]
    pub(crate) fn adaptive_limit_or_insert(
        &self,
        name: &str,
        config: AdaptiveLimitConfig,
    ) -> Arc<AdaptiveLimiter> {
        // Only a name the registry refuses (empty, a control character) gets here: the
        // layer still limits, with a limiter of its own.
        self.table::<AdaptiveLimiter>()
            .register_or_own(name, config, |error| {
                <AdaptiveLimiter as crate::pattern::Pattern>::refused_config(name, error)
            })
    }

    /// Sets `name`'s adaptive limit configuration: applied at once to a live limit (its
    /// limit moved within the new bounds), and kept for one made later, winning over the
    /// attribute's values either way. An invalid one is an `Err` naming the field and
    /// the value, and changes nothing.
    ///
    /// ```
    /// use resilience::{registry::Registry, AdaptiveLimitConfig};
    /// let reg = Registry::new();
    /// let err = reg
    ///     .configure_adaptive_limit("search", AdaptiveLimitConfig { min_limit: 9, max_limit: 3, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("min_limit", "9"));
    /// assert!(reg.adaptive_limit("search").is_none());
    /// ```
    pub fn configure_adaptive_limit(
        &self,
        name: &str,
        config: AdaptiveLimitConfig,
    ) -> Result<(), ConfigError> {
        let table = self.table::<AdaptiveLimiter>();
        if !table.configure(name, config.clone())? {
            // Made now, so it is listed (and its metrics exist) before its first call.
            table.register(name, config)?;
        }
        Ok(())
    }

    /// Every adaptive limit's snapshot, by name.
    ///
    /// ```
    /// use resilience::{registry::Registry, AdaptiveLimitConfig};
    /// let reg = Registry::new();
    /// reg.register_adaptive_limit("b", AdaptiveLimitConfig::default())?;
    /// reg.register_adaptive_limit("a", AdaptiveLimitConfig::default())?;
    /// let names: Vec<_> = reg.adaptive_limits().into_iter().map(|s| s.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn adaptive_limits(&self) -> Vec<AdaptiveLimitSnapshot> {
        self.table::<AdaptiveLimiter>().snapshots()
    }
}
