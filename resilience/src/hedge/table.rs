//! The registry's hedges: one [`Hedge`] per name, with configurations given before the
//! name is first used. The registry's hedge methods (`registry/hedges.rs`) read it.

use crate::events::Sink;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

use super::{Hedge, HedgeConfig, HedgeSnapshot};
use crate::ConfigError;

/// The hedges of one [`Registry`](crate::Registry). Lookups take a lock; they are cold (each call site
/// finds its hedge once and keeps it).
#[derive(Debug, Default)]
pub(crate) struct HedgeTable {
    inner: RwLock<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    hedges: BTreeMap<Arc<str>, Arc<Hedge>>,
    /// Configurations given with `configure_hedge`, kept for hedges made later.
    configs: HashMap<Arc<str>, HedgeConfig>,
}

impl HedgeTable {
    pub(crate) fn get(&self, name: &str) -> Option<Arc<Hedge>> {
        self.read().hedges.get(name).cloned()
    }

    pub(crate) fn register(
        &self,
        name: &str,
        config: HedgeConfig,
        events: &Sink,
    ) -> Result<Arc<Hedge>, ConfigError> {
        config.validate()?;
        if let Some(hedge) = self.get(name) {
            return Ok(hedge);
        }
        let mut tables = self.write();
        if let Some(hedge) = tables.hedges.get(name) {
            return Ok(hedge.clone());
        }
        let config = tables.configs.get(name).cloned().unwrap_or(config);
        let hedge = Arc::new(Hedge::new(name, config)?.with_events(events.clone()));
        tables.hedges.insert(name.into(), hedge.clone());
        Ok(hedge)
    }

    pub(crate) fn configure(&self, name: &str, config: HedgeConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let mut tables = self.write();
        if let Some(hedge) = tables.hedges.get(name) {
            hedge.configure(config.clone())?;
        }
        tables.configs.insert(name.into(), config);
        Ok(())
    }

    /// The configuration `configure` gave `name`, if any.
    #[cfg_attr(not(any(feature = "tower", feature = "config")), allow(dead_code))]
    pub(crate) fn configured(&self, name: &str) -> Option<HedgeConfig> {
        self.read().configs.get(name).cloned()
    }

    pub(crate) fn snapshots(&self) -> Vec<HedgeSnapshot> {
        let hedges: Vec<Arc<Hedge>> = self.read().hedges.values().cloned().collect();
        hedges.iter().map(|h| h.snapshot()).collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tables> {
        // Every write replaces whole entries, so a poisoned lock still holds valid maps.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Tables> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}
