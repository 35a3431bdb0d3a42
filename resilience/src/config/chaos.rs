//! `[chaos.NAME]`: the faults of a site, applied to the global registry's fault table
//! (feature `chaos`). Without the feature the table still parses, so that a file or a
//! `RESILIENCE__CHAOS__…` variable naming it is an `Err` that names the feature, not an
//! "unknown table": no configuration can switch a fault on in a build without it.

use super::table::Table;

#[cfg(feature = "chaos")]
pub(super) use with_feature::CHAOS;
#[cfg(not(feature = "chaos"))]
pub(super) use without_feature::CHAOS;

#[cfg(feature = "chaos")]
mod with_feature {
    use super::Table;
    use crate::chaos::{chaos, ChaosError, FaultConfig, FaultKind};
    use crate::ConfigError;

    /// `[chaos.NAME]`: [`FaultConfig`], by `chaos().configure`: the faults of the breaker,
    /// bulkhead, rate limiter, hedge or function named `NAME`.
    pub(in crate::config) static CHAOS: Table<FaultConfig> = Table {
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
        names: || {
            crate::config::tables::dedup(chaos().snapshot().faults.into_iter().map(|f| f.site))
        },
        layers: None,
        every_name_known: false,
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
}

#[cfg(not(feature = "chaos"))]
mod without_feature {
    use super::Table;
    use crate::ConfigError;

    /// `[chaos.NAME]` without the feature: any value is refused, naming the feature.
    pub(in crate::config) static CHAOS: Table<toml::Table> = Table {
        name: "chaos",
        keyed: true,
        validate: |_, table, _| Err(needs_the_feature(table)),
        apply: |_, table| Err(needs_the_feature(table)),
        effective: |_| None,
        names: Vec::new,
        layers: None,
        every_name_known: false,
    };

    /// The fields of a `[chaos.NAME]` table (`FaultConfig`'s, with the feature).
    const FIELDS: [&str; 4] = ["error_rate", "latency_rate", "latency", "refusal_rate"];

    const REASON: &str = "fault injection is not in this build: enable the cargo feature `chaos` of `resilience` (`features = [\"chaos\"]`, for tests in `[dev-dependencies]`) to set faults from a file or the environment";

    /// The refusal, naming the first fault field the table sets (so the error points at
    /// its line) and the feature.
    fn needs_the_feature(table: &toml::Table) -> ConfigError {
        let field = FIELDS
            .into_iter()
            .find(|f| table.contains_key(*f))
            .unwrap_or("error_rate");
        match table.get(field) {
            Some(toml::Value::Float(rate)) => ConfigError::new(field, rate, REASON),
            Some(value) => ConfigError::new(field, value.to_string(), REASON),
            None => ConfigError::new(field, "(none)", REASON),
        }
    }
}
