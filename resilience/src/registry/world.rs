//! What a registry holds besides the patterns' instances: the monitor its code records
//! errors into, its feature switches and its recovery manager. The free functions
//! [`monitor()`](fn@crate::monitor), [`degradation()`] and [`recovery()`] are the global
//! registry's (the monitor's is kept in `monitor/`, below the registry, where the
//! attributes' recording reaches it).

use super::{registry, Registry};
use crate::degradation::Degradation;
use crate::monitor::Monitor;
use crate::recovery::Recovery;

/// The feature switches of the global [`registry()`](super::registry()), which the
/// `#[feature_switch]` attributes consult.
///
/// ```
/// use resilience::degradation;
///
/// degradation().register("docs.degradation.search", 0_u32);
/// degradation().disable("docs.degradation.search");
/// assert!(!degradation().is_enabled("docs.degradation.search"));
/// assert_eq!(degradation().fallback::<u32>("docs.degradation.search"), Some(0));
/// ```
pub fn degradation() -> &'static Degradation {
    registry().degradation()
}

/// The recovery manager of the global [`registry()`](super::registry()): its slow starts
/// follow the global registry's breakers.
///
/// ```
/// use resilience::recovery;
///
/// assert!(recovery().should_route_to("docs.recovery.unknown")); // unknown: routed
/// assert_eq!(recovery().state("docs.recovery.unknown"), None);
/// ```
pub fn recovery() -> &'static Recovery {
    registry().recovery()
}

impl Registry {
    /// The monitor the attributes registered here record their errors into (the global
    /// registry's is [`monitor()`](fn@crate::monitor)); on the registry's clock.
    ///
    /// ```
    /// use resilience::registry::Registry;
    /// let reg = Registry::new();
    /// reg.monitor().record(&resilience::TimedOut { function: "app::f", limit: std::time::Duration::from_secs(1) });
    /// assert_eq!(reg.monitor().total_recorded(), 1);
    /// assert_eq!(Registry::new().monitor().total_recorded(), 0); // each has its own
    /// ```
    pub fn monitor(&self) -> &Monitor {
        match &self.monitor {
            Some(own) => own,
            None => crate::monitor::monitor(),
        }
    }

    /// This registry's feature switches (the global registry's are
    /// [`degradation()`](super::degradation())).
    ///
    /// ```
    /// use resilience::registry::Registry;
    /// let reg = Registry::new();
    /// reg.degradation().register("search", 0_u32);
    /// assert_eq!(reg.health().features.total, 1);
    /// assert_eq!(Registry::new().degradation().snapshot().total, 0);
    /// ```
    pub fn degradation(&self) -> &Degradation {
        &self.degradation
    }

    /// This registry's recovery manager (the global registry's is
    /// [`recovery()`](super::recovery())): its slow starts follow this registry's
    /// breakers, and it reads the registry's clock.
    ///
    /// ```
    /// use resilience::recovery::RampConfig;
    /// use resilience::{registry::Registry, BreakerConfig};
    /// use std::time::Duration;
    ///
    /// let reg = Registry::new();
    /// let breaker = reg.register("db", BreakerConfig { failure_threshold: 1, ..Default::default() })?;
    /// reg.recovery().slow_start_after_breaker("db", RampConfig::new([10, 100], Duration::from_secs(60))?)?;
    /// breaker.acquire().unwrap().record_failure(); // opens
    /// assert!(reg.recovery().should_route_to("db")); // the breaker refuses by itself
    /// breaker.reset(); // closed again: the ramp starts
    /// assert_eq!((0..100).filter(|_| reg.recovery().should_route_to("db")).count(), 10);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }
}
