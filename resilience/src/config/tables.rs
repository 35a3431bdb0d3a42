//! The tables of a configuration file, one [`Table`] entry each: its name, how a value
//! is validated and applied, and how the value in force is read back.
//!
//! Adding a pattern is one `static` of [`Table`] and one line in [`TABLES`]; nothing
//! else in the loader knows the patterns.

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Config;
use crate::breaker::BreakerConfig;
use crate::chaos::{chaos, ChaosError, FaultConfig, FaultKind};
use crate::degradation::FeatureConfig;
use crate::monitor::MonitorConfig;
use crate::recovery::RecoveryConfig;
use crate::retry::{retry_budget, retry_budgets, BudgetConfig};
use crate::{degradation, monitor, recovery, registry, ConfigError, RetryConfig};
use crate::{BulkheadConfig, RateLimitConfig};

/// Every table a file may hold, in the order they are applied.
#[cfg(not(feature = "redis"))]
pub(crate) static TABLES: &[&dyn Kind] = &[
    &BREAKER,
    &RETRY,
    &BUDGET,
    &FEATURE,
    &RECOVERY,
    &MONITOR,
    &BULKHEAD,
    &RATE_LIMIT,
    &CHAOS,
];
/// Every table a file may hold, in the order they are applied.
#[cfg(feature = "redis")]
pub(crate) static TABLES: &[&dyn Kind] = &[
    &BREAKER,
    &RETRY,
    &BUDGET,
    &FEATURE,
    &RECOVERY,
    &MONITOR,
    &BULKHEAD,
    &RATE_LIMIT,
    &CHAOS,
    &super::cluster::CLUSTER,
];

/// Finds another value of the same table in the same file, by name.
pub(crate) type Sibling<'a, C> = &'a dyn Fn(&str) -> Option<C>;

/// One table: `[NAME.<name>]` (keyed) or `[NAME]` (one value), and what to do with it.
pub(crate) struct Table<C> {
    /// The table's name in the file and in `RESILIENCE__<TABLE>__…`.
    pub(crate) name: &'static str,
    /// `[breaker.kanban]` (true) or `[monitor]` (false).
    pub(crate) keyed: bool,
    /// Every rule of the value named `name`; `sibling` finds another value of the same
    /// table in the same file (for rules across names, such as a breaker's parent).
    pub(crate) validate: fn(&str, &C, Sibling<'_, C>) -> Result<(), ConfigError>,
    /// Gives `name` its value at run time.
    pub(crate) apply: fn(&str, &C) -> Result<(), ConfigError>,
    /// The value in force for `name`, if the runtime can say.
    pub(crate) effective: fn(&str) -> Option<C>,
    /// The names the runtime knows (an environment variable may name one of them).
    pub(crate) names: fn() -> Vec<String>,
}

/// A [`Table`] without its value type.
pub(crate) trait Kind: Sync {
    fn name(&self) -> &'static str;
    fn keyed(&self) -> bool;
    fn parse(
        &'static self,
        de: toml::de::ValueDeserializer<'_>,
    ) -> Result<Box<dyn Item>, toml::de::Error>;
    fn read_value(&'static self, value: toml::Value) -> Result<Box<dyn Item>, toml::de::Error>;
    fn default_item(&'static self) -> Box<dyn Item>;
    fn effective(&'static self, name: &str) -> Option<Box<dyn Item>>;
    fn names(&self) -> Vec<String>;
}

/// One value of a table, typed inside.
pub(crate) trait Item: Send + Sync + fmt::Debug {
    fn kind(&self) -> &'static dyn Kind;
    fn validate(&self, name: &str, config: &Config) -> Result<(), ConfigError>;
    fn apply(&self, name: &str) -> Result<(), ConfigError>;
    fn to_value(&self) -> Result<toml::Value, String>;
    fn clone_box(&self) -> Box<dyn Item>;
    fn as_any(&self) -> &dyn Any;
}

/// What a table's value type must be.
pub(crate) trait Value:
    Serialize + DeserializeOwned + Clone + Default + fmt::Debug + Send + Sync + 'static
{
}
impl<C: Serialize + DeserializeOwned + Clone + Default + fmt::Debug + Send + Sync + 'static> Value
    for C
{
}

struct Typed<C: Value> {
    table: &'static Table<C>,
    config: C,
}

impl<C: Value> fmt::Debug for Typed<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl<C: Value> Kind for Table<C> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn keyed(&self) -> bool {
        self.keyed
    }

    fn parse(
        &'static self,
        de: toml::de::ValueDeserializer<'_>,
    ) -> Result<Box<dyn Item>, toml::de::Error> {
        let config = C::deserialize(de)?;
        Ok(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn read_value(&'static self, value: toml::Value) -> Result<Box<dyn Item>, toml::de::Error> {
        let config: C = value.try_into()?;
        Ok(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn default_item(&'static self) -> Box<dyn Item> {
        Box::new(Typed {
            table: self,
            config: C::default(),
        })
    }

    fn effective(&'static self, name: &str) -> Option<Box<dyn Item>> {
        let config = (self.effective)(name)?;
        Some(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn names(&self) -> Vec<String> {
        (self.names)()
    }
}

impl<C: Value> Item for Typed<C> {
    fn kind(&self) -> &'static dyn Kind {
        self.table
    }

    fn validate(&self, name: &str, config: &Config) -> Result<(), ConfigError> {
        let sibling = |other: &str| config.get::<C>(self.table.name, other).cloned();
        (self.table.validate)(name, &self.config, &sibling)
    }

    fn apply(&self, name: &str) -> Result<(), ConfigError> {
        (self.table.apply)(name, &self.config)
    }

    fn to_value(&self) -> Result<toml::Value, String> {
        toml::Value::try_from(&self.config).map_err(|e| e.to_string())
    }

    fn clone_box(&self) -> Box<dyn Item> {
        Box::new(Typed {
            table: self.table,
            config: self.config.clone(),
        })
    }

    fn as_any(&self) -> &dyn Any {
        &self.config
    }
}

/// `[breaker.NAME]`: [`BreakerConfig`], by `registry().configure`.
static BREAKER: Table<BreakerConfig> = Table {
    name: "breaker",
    keyed: true,
    validate: validate_breaker,
    apply: |name, c| registry().configure(name, c.clone()),
    effective: |name| registry().breaker(name).map(|b| b.config()),
    names: || registry().breakers().into_iter().map(|b| b.name).collect(),
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
};

/// `[monitor]`: the one [`MonitorConfig`] of `monitor()`.
static MONITOR: Table<MonitorConfig> = Table {
    name: "monitor",
    keyed: false,
    validate: |_, c, _| c.validate(),
    apply: |_, c| monitor().configure(c.clone()),
    effective: |_| Some(monitor().config()),
    names: Vec::new,
};

/// `[bulkhead.NAME]`: [`BulkheadConfig`], by `registry().configure_bulkhead`.
static BULKHEAD: Table<BulkheadConfig> = Table {
    name: "bulkhead",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_bulkhead(name, c.clone()),
    effective: |name| registry().bulkhead_config(name),
    names: || dedup(registry().bulkheads().into_iter().map(|b| b.name)),
};

/// `[rate_limit.NAME]`: [`RateLimitConfig`], by `registry().configure_rate_limit`.
static RATE_LIMIT: Table<RateLimitConfig> = Table {
    name: "rate_limit",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| registry().configure_rate_limit(name, c.clone()),
    effective: |name| registry().rate_limit_config(name),
    names: || dedup(registry().rate_limiters().into_iter().map(|l| l.name)),
};

/// `[chaos.NAME]`: [`FaultConfig`], by `chaos().configure`: the faults of the breaker
/// or function named `NAME`.
static CHAOS: Table<FaultConfig> = Table {
    name: "chaos",
    keyed: true,
    validate: |_, c, _| c.validate(),
    apply: |name, c| chaos().configure(name, c).map_err(|e| chaos_error(c, e)),
    // Always known: a site without faults reads back as every rate 0 (so a rolled-back
    // apply clears the faults it set).
    effective: |name| {
        let snapshot = chaos().snapshot();
        let mut config = FaultConfig::default();
        for fault in snapshot.faults.iter().filter(|f| f.site == name) {
            match fault.fault {
                FaultKind::Error => config.error_rate = fault.rate,
                FaultKind::Latency(d) => {
                    config.latency_rate = fault.rate;
                    config.latency = d;
                }
                FaultKind::Refusal => config.refusal_rate = fault.rate,
            }
        }
        Some(config)
    },
    names: || dedup(chaos().snapshot().faults.into_iter().map(|f| f.site)),
};

/// A site refusing a fault, as the field of the table that set it.
fn chaos_error(config: &FaultConfig, e: ChaosError) -> ConfigError {
    match e {
        ChaosError::Invalid(e) => e,
        ChaosError::Refused { fault, reason, .. } => {
            let (field, rate) = match fault {
                "error" => ("error_rate", config.error_rate),
                "latency" => ("latency_rate", config.latency_rate),
                _ => ("refusal_rate", config.refusal_rate),
            };
            ConfigError::new(field, rate, reason)
        }
    }
}

/// Names in order, each once (keyed instances share their name).
fn dedup(names: impl Iterator<Item = String>) -> Vec<String> {
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
