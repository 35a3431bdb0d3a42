//! The tables of a configuration file, one [`Table`] each (`table.rs` says what a
//! table is): the patterns' tables and [`TABLES`], the list of them all.
//!
//! Adding a pattern is one `static` of [`Table`] and one line in [`TABLES`]; nothing
//! else in the loader knows the patterns.

use super::table::{Layers, Make, Sibling, Table};
use crate::breaker::Breaker;
use crate::breaker::BreakerConfig;
use crate::bulkhead::Bulkhead;
use crate::degradation::FeatureConfig;
use crate::monitor::MonitorConfig;
use crate::rate_limit::RateLimiter;
use crate::recovery::RecoveryConfig;
use crate::registry::{retry_budget, retry_budgets};
use crate::retry::BudgetConfig;
use crate::{degradation, monitor, recovery, registry, ConfigError, RetryConfig};
use crate::{AdaptiveLimitConfig, BulkheadConfig, HedgeConfig, RateLimitConfig};

/// Every table a file may hold, in the order they are applied.
#[cfg(not(feature = "redis"))]
pub(crate) static TABLES: &[&dyn super::table::Kind] = &[
    &BREAKER,
    &RETRY,
    &BUDGET,
    &FEATURE,
    &RECOVERY,
    &MONITOR,
    &BULKHEAD,
    &RATE_LIMIT,
    &HEDGE,
    &ADAPTIVE_LIMIT,
    &super::chaos::CHAOS,
];
/// Every table a file may hold, in the order they are applied.
#[cfg(feature = "redis")]
pub(crate) static TABLES: &[&dyn super::table::Kind] = &[
    &BREAKER,
    &RETRY,
    &BUDGET,
    &FEATURE,
    &RECOVERY,
    &MONITOR,
    &BULKHEAD,
    &RATE_LIMIT,
    &HEDGE,
    &ADAPTIVE_LIMIT,
    &super::chaos::CHAOS,
    &super::cluster::CLUSTER,
];

/// `[breaker.NAME]`: [`BreakerConfig`], by `registry().configure`.
static BREAKER: Table<BreakerConfig> = Table {
    name: "breaker",
    keyed: true,
    validate: validate_breaker,
    apply: |name, c| registry().configure(name, c.clone()),
    effective: |name| registry().table::<Breaker>().config(name),
    names: || registry().table::<Breaker>().names(),
    layers: Some(Layers::of::<Breaker>(Make::Later)),
    every_name_known: true,
};

/// `[retry.NAME]`: [`RetryConfig`], by `registry().configure_retry`: a
/// `#[retry(policy = "NAME")]` site, or a site whose function's path is `NAME`.
static RETRY: Table<RetryConfig> = Table {
    name: "retry",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_retry(name, c.clone()),
    effective: |name| registry().retry_policy(name),
    names: Vec::new,
    layers: None,
    every_name_known: false,
};

/// `[budget.NAME]`: [`BudgetConfig`] of `retry_budget(NAME)`.
static BUDGET: Table<BudgetConfig> = Table {
    name: "budget",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| retry_budget(name).configure(*c),
    // From the snapshots, so reading one back never creates a budget.
    effective: |name| {
        retry_budgets()
            .into_iter()
            .find(|b| b.name.as_deref() == Some(name))
            .map(|b| BudgetConfig {
                capacity: b.capacity,
                refill_per_second: b.refill_per_second,
                deposit_per_success: b.deposit_per_success,
                scope: b.scope,
                expected_instances: b.expected_instances,
            })
    },
    names: || retry_budgets().into_iter().filter_map(|b| b.name).collect(),
    layers: None,
    every_name_known: false,
};

/// `[feature.NAME]`: [`FeatureConfig`] of `degradation()`'s feature `NAME`.
static FEATURE: Table<FeatureConfig> = Table {
    name: "feature",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| degradation().configure(name, *c),
    effective: |name| {
        let snapshot = degradation().snapshot();
        let feature = snapshot.feature(name)?;
        Some(FeatureConfig {
            failure_threshold: feature.failure_threshold,
        })
    },
    names: || {
        let snapshot = degradation().snapshot();
        snapshot.features.into_iter().map(|f| f.name).collect()
    },
    layers: None,
    every_name_known: false,
};

/// `[recovery.NAME]`: [`RecoveryConfig`] of `recovery()`'s service `NAME`.
static RECOVERY: Table<RecoveryConfig> = Table {
    name: "recovery",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| recovery().configure(name, c.clone()),
    effective: |name| {
        let snapshot = recovery().snapshot();
        snapshot.service(name).map(|s| s.config.clone())
    },
    names: || {
        let snapshot = recovery().snapshot();
        snapshot.services.into_iter().map(|s| s.name).collect()
    },
    layers: None,
    every_name_known: false,
};

/// `[monitor]`: the one [`MonitorConfig`] of `monitor()`.
static MONITOR: Table<MonitorConfig> = Table {
    name: "monitor",
    keyed: false,
    validate: |_, c, _| c.validate(),
    apply: |_, c| monitor().configure(c.clone()),
    effective: |_| Some(monitor().config()),
    names: Vec::new,
    layers: None,
    every_name_known: false,
};

/// `[bulkhead.NAME]`: [`BulkheadConfig`], by `registry().configure_bulkhead`.
static BULKHEAD: Table<BulkheadConfig> = Table {
    name: "bulkhead",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_bulkhead(name, c.clone()),
    effective: |name| registry().bulkhead_config(name),
    names: || registry().table::<Bulkhead>().names(),
    layers: Some(Layers::of::<Bulkhead>(Make::Instance)),
    every_name_known: true,
};

/// `[rate_limit.NAME]`: [`RateLimitConfig`], by `registry().configure_rate_limit`.
static RATE_LIMIT: Table<RateLimitConfig> = Table {
    name: "rate_limit",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_rate_limit(name, c.clone()),
    effective: |name| registry().rate_limit_config(name),
    names: || registry().table::<RateLimiter>().names(),
    layers: Some(Layers::of::<RateLimiter>(Make::Instance)),
    every_name_known: true,
};

/// `[adaptive_limit.NAME]`: [`AdaptiveLimitConfig`], by
/// `registry().configure_adaptive_limit`.
static ADAPTIVE_LIMIT: Table<AdaptiveLimitConfig> = Table {
    name: "adaptive_limit",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_adaptive_limit(name, c.clone()),
    effective: |name| registry().adaptive_limit(name).map(|l| l.config()),
    names: || {
        registry()
            .adaptive_limits()
            .into_iter()
            .map(|l| l.name)
            .collect()
    },
    layers: None,
    every_name_known: true,
};

/// `[hedge.NAME]`: [`HedgeConfig`], by `registry().configure_hedge`: a `#[hedge]` or a
/// `HedgeLayer` of that name.
static HEDGE: Table<HedgeConfig> = Table {
    name: "hedge",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_hedge(name, c.clone()),
    effective: |name| {
        let live = registry().hedge(name).map(|h| h.config());
        live.or_else(|| registry().configured_hedge(name))
    },
    names: || registry().hedges().into_iter().map(|h| h.name).collect(),
    layers: None,
    every_name_known: true,
};

/// Names in order, each once (faults of keyed instances share their name).
#[cfg(feature = "chaos")]
pub(super) fn dedup(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut names: Vec<String> = names.collect();
    names.sort();
    names.dedup();
    names
}

/// How long a chain of parents may be (as the registry's).
const MAX_PARENT_DEPTH: usize = 32;

/// The breaker's own rules, then its parent: not itself, no cycle through this file's
/// breakers or the live ones, and not a change of a parent already linked (the registry
/// refuses both at apply time; checked here so nothing is applied).
fn validate_breaker(
    name: &str,
    config: &BreakerConfig,
    sibling: Sibling<'_, BreakerConfig>,
) -> Result<(), ConfigError> {
    config.validate()?;
    let Some(parent) = config.parent.as_deref() else {
        return Ok(());
    };
    if let Some(live) = registry().breaker(name) {
        if let Some(linked) = live.linked_parent() {
            if linked.name() != parent {
                return Err(ConfigError::new(
                    "parent",
                    parent,
                    format!("cannot change once linked (to `{}`)", linked.name()),
                ));
            }
        }
    }
    let mut at = parent.to_owned();
    for _ in 0..MAX_PARENT_DEPTH {
        if at == name {
            return Err(ConfigError::new(
                "parent",
                parent,
                format!("would make `{name}` its own ancestor"),
            ));
        }
        let next = match sibling(&at) {
            Some(c) => c.parent.map(|p| p.into_owned()),
            None => registry()
                .breaker(&at)
                .and_then(|b| b.config().parent.map(|p| p.into_owned())),
        };
        match next {
            Some(next) => at = next,
            None => return Ok(()),
        }
    }
    Err(ConfigError::new(
        "parent",
        parent,
        format!("the chain of parents is longer than {MAX_PARENT_DEPTH}"),
    ))
}
