//! The registry's adaptive limits: one [`AdaptiveLimiter`] per name, with configurations
//! given before the name is first used. The registry's methods
//! (`registry/adaptive_limits.rs`) read it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use super::{AdaptiveLimitConfig, AdaptiveLimitSnapshot, AdaptiveLimiter};
use crate::clock::Clock;
use crate::events::Sink;
use crate::ConfigError;

/// The adaptive limits of one [`Registry`](crate::Registry). Lookups take a lock; they
/// are cold (each call site finds its limiter once and keeps it).
#[derive(Default)]
pub(crate) struct AdaptiveLimitTable {
    inner: RwLock<Tables>,
}

impl core::fmt::Debug for AdaptiveLimitTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdaptiveLimitTable").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct Tables {
    limiters: BTreeMap<Arc<str>, Arc<AdaptiveLimiter>>,
    /// Configurations given with `configure_adaptive_limit`, kept for limiters made later.
    configs: HashMap<Arc<str>, AdaptiveLimitConfig>,
}

impl AdaptiveLimitTable {
    pub(crate) fn get(&self, name: &str) -> Option<Arc<AdaptiveLimiter>> {
        self.read().limiters.get(name).cloned()
    }

    /// The limiter `name`, made with `config` (validated) on `clock` if it does not
    /// exist yet; a configuration given earlier wins.
    pub(crate) fn register(
        &self,
        name: &str,
        config: AdaptiveLimitConfig,
        clock: &Arc<dyn Clock>,
        events: &Sink,
    ) -> Arc<AdaptiveLimiter> {
        if let Some(limiter) = self.get(name) {
            return limiter;
        }
        let mut tables = self.write();
        if let Some(limiter) = tables.limiters.get(name) {
            return limiter.clone();
        }
        let config = tables.configs.get(name).cloned().unwrap_or(config);
        let limiter = Arc::new(
            AdaptiveLimiter::build(crate::names::intern(name), None, config, clock.clone())
                .with_events(events.clone()),
        );
        tables.limiters.insert(name.into(), limiter.clone());
        limiter
    }

    pub(crate) fn configure(
        &self,
        name: &str,
        config: AdaptiveLimitConfig,
        clock: &Arc<dyn Clock>,
        events: &Sink,
    ) -> Result<(), ConfigError> {
        config.validate()?;
        let mut tables = self.write();
        match tables.limiters.get(name) {
            Some(limiter) => limiter.apply(config.clone()),
            None => {
                // Made now, so it is listed (and its metrics exist) before its first call.
                let limiter = Arc::new(
                    AdaptiveLimiter::build(
                        crate::names::intern(name),
                        None,
                        config.clone(),
                        clock.clone(),
                    )
                    .with_events(events.clone()),
                );
                tables.limiters.insert(name.into(), limiter);
            }
        }
        tables.configs.insert(name.into(), config);
        Ok(())
    }

    pub(crate) fn snapshots(&self) -> Vec<AdaptiveLimitSnapshot> {
        let limiters: Vec<Arc<AdaptiveLimiter>> = self.read().limiters.values().cloned().collect();
        limiters.iter().map(|l| l.snapshot()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tables> {
        // Every write replaces whole entries, so a poisoned lock still holds valid maps.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Tables> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}
