//! The registry's hedges, by name: the [`Registry`] methods over its hedge table
//! (`hedge/table.rs`).

use std::sync::Arc;

use super::Registry;
use crate::hedge::{Hedge, HedgeConfig, HedgeSnapshot};
use crate::ConfigError;

impl Registry {
    /// The hedge named `name`, if a call site or [`register_hedge`](Registry::register_hedge)
    /// made it.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().hedge("nope").is_none());
    /// ```
    pub fn hedge(&self, name: &str) -> Option<Arc<Hedge>> {
        self.hedge_table.get(name)
    }

    /// The hedge named `name`, made with `config` if it does not exist yet. A
    /// configuration given earlier with [`configure_hedge`](Registry::configure_hedge)
    /// wins over `config`; an existing hedge is returned as it is.
    ///
    /// ```
    /// use resilience::{registry::Registry, HedgeConfig};
    /// let reg = Registry::new();
    /// let a = reg.register_hedge("search", HedgeConfig::default())?;
    /// let b = reg.register_hedge("search", HedgeConfig { max_hedges: 3, ..Default::default() })?;
    /// assert!(std::sync::Arc::ptr_eq(&a, &b));
    /// assert_eq!(b.config().max_hedges, 1);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn register_hedge(
        &self,
        name: &str,
        config: HedgeConfig,
    ) -> Result<Arc<Hedge>, ConfigError> {
        self.hedge_table.register(name, config, &self.event_sink())
    }

    /// Sets `name`'s hedge configuration: applied at once to a live hedge, and kept for
    /// one made later, winning over the attribute's values either way. An invalid one is
    /// an `Err` naming the field and the value, and changes nothing.
    ///
    /// ```
    /// use resilience::{registry::Registry, HedgeConfig};
    /// use std::time::Duration;
    ///
    /// let reg = Registry::new();
    /// reg.configure_hedge("search", HedgeConfig { delay: Duration::from_millis(5), max_hedges: 2 })?;
    /// let h = reg.register_hedge("search", HedgeConfig::default())?;
    /// assert_eq!(h.config().max_hedges, 2);
    /// let err = reg.configure_hedge("search", HedgeConfig { max_hedges: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("max_hedges", "0"));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure_hedge(&self, name: &str, config: HedgeConfig) -> Result<(), ConfigError> {
        crate::names::validate(name)?;
        self.hedge_table.configure(name, config)
    }

    /// The configuration [`configure_hedge`](Registry::configure_hedge) gave `name`, if
    /// any.
    #[cfg_attr(not(any(feature = "tower", feature = "config")), allow(dead_code))]
    pub(crate) fn configured_hedge(&self, name: &str) -> Option<HedgeConfig> {
        self.hedge_table.configured(name)
    }

    /// Every hedge's snapshot, by name.
    ///
    /// ```
    /// use resilience::{registry::Registry, HedgeConfig};
    /// let reg = Registry::new();
    /// reg.register_hedge("b", HedgeConfig::default())?;
    /// reg.register_hedge("a", HedgeConfig::default())?;
    /// let names: Vec<_> = reg.hedges().into_iter().map(|s| s.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn hedges(&self) -> Vec<HedgeSnapshot> {
        self.hedge_table.snapshots()
    }
}
