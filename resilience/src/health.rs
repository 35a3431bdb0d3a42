//! A registry's health: every breaker of it, with its retry budgets, bulkheads, rate
//! limiters, hedges, feature switches and recovery states beside them, in one serde
//! value ([`Registry::health`]). It sits above the patterns and the registry, so none
//! of them depends on another to report.

use serde::Serialize;

use crate::registry::{BreakerSnapshot, Registry};
use crate::BreakerState;

impl Registry {
    /// Every breaker's snapshot and the number in each state, with everything else this
    /// registry holds, as one serde value. Nothing of another registry shows in it.
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig, BreakerState};
    /// let reg = Registry::new();
    /// reg.register("a", BreakerConfig::default()).unwrap().force_open();
    /// reg.register("b", BreakerConfig::default()).unwrap();
    /// let health = reg.health();
    /// assert_eq!((health.total, health.count(BreakerState::ForcedOpen)), (2, 1));
    /// assert!(!health.is_healthy());
    /// let json = serde_json::to_value(&health).unwrap();
    /// assert_eq!(json["forced_open"], 1);
    /// assert_eq!(json["breakers"][0]["name"], "a");
    /// ```
    pub fn health(&self) -> RegistryHealth {
        let breakers = self.breakers();
        let count = |s: BreakerState| breakers.iter().filter(|b| b.state == s).count();
        RegistryHealth {
            total: breakers.len(),
            closed: count(BreakerState::Closed),
            open: count(BreakerState::Open),
            half_open: count(BreakerState::HalfOpen),
            forced_open: count(BreakerState::ForcedOpen),
            disabled: count(BreakerState::Disabled),
            breakers,
            retry_budgets: self.retry_budgets(),
            features: self.degradation().snapshot(),
            recovery: self.recovery().snapshot(),
            bulkheads: self.bulkheads(),
            rate_limiters: self.rate_limiters(),
            hedges: self.hedges(),
            adaptive_limits: self.adaptive_limits(),
            cluster: crate::ClusterStatus::current(),
            #[cfg(feature = "chaos")]
            chaos: self.chaos().snapshot(),
        }
    }
}

/// Every breaker's snapshot and how many are in each state.
///
/// ```
/// let health = resilience::registry::Registry::new().health();
/// assert_eq!(health.total, 0);
/// assert!(health.is_healthy());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct RegistryHealth {
    /// Breakers registered.
    pub total: usize,
    /// Of those, closed.
    pub closed: usize,
    /// Open.
    pub open: usize,
    /// Half-open.
    pub half_open: usize,
    /// Forced open.
    pub forced_open: usize,
    /// Disabled.
    pub disabled: usize,
    /// Every breaker's snapshot, by name.
    pub breakers: Vec<BreakerSnapshot>,
    /// The registry's named retry budgets.
    pub retry_budgets: Vec<crate::retry::BudgetSnapshot>,
    /// The registry's feature switches ([`Registry::degradation`]; the global
    /// registry's are [`degradation()`](fn@crate::degradation)).
    pub features: crate::degradation::DegradationSnapshot,
    /// The registry's services and health checks ([`Registry::recovery`]; the global
    /// registry's are [`recovery()`](fn@crate::recovery)).
    pub recovery: crate::recovery::RecoverySnapshot,
    /// Every bulkhead's snapshot (keyed ones with their key).
    pub bulkheads: Vec<crate::bulkhead::BulkheadSnapshot>,
    /// Every rate limiter's snapshot (keyed ones with their key).
    pub rate_limiters: Vec<crate::rate_limit::RateLimiterSnapshot>,
    /// Every hedge's snapshot.
    pub hedges: Vec<crate::hedge::HedgeSnapshot>,
    /// Every adaptive limit's snapshot (`limit`, `in_flight`, `min_rtt`, `rejections`, ...).
    pub adaptive_limits: Vec<crate::adaptive_limit::AdaptiveLimitSnapshot>,
    /// Whether this process shares state through a cluster (feature `redis`), and how.
    pub cluster: crate::ClusterStatus,
    /// The faults this registry's [`chaos`](Registry::chaos) table injects (feature `chaos`).
    #[cfg(feature = "chaos")]
    pub chaos: crate::chaos::ChaosSnapshot,
}

impl RegistryHealth {
    /// How many breakers are in `state`.
    ///
    /// ```
    /// use resilience::BreakerState;
    /// assert_eq!(resilience::registry::Registry::new().health().count(BreakerState::Open), 0);
    /// ```
    pub fn count(&self, state: BreakerState) -> usize {
        match state {
            BreakerState::Closed => self.closed,
            BreakerState::Open => self.open,
            BreakerState::HalfOpen => self.half_open,
            BreakerState::ForcedOpen => self.forced_open,
            BreakerState::Disabled => self.disabled,
        }
    }

    /// True when no breaker is open or forced open.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().health().is_healthy());
    /// ```
    pub fn is_healthy(&self) -> bool {
        self.open == 0 && self.forced_open == 0
    }
}
