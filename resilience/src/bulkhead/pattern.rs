//! The bulkhead as a [`Pattern`]: how the registry makes, configures and snapshots one,
//! and what evicting a keyed one would lose.

use std::sync::Arc;
use std::time::Duration;

use super::{Bulkhead, BulkheadConfig, BulkheadFull, BulkheadSnapshot};
use crate::clock::Clock;
use crate::pattern::{Loss, Pattern, PatternConfig};
use crate::ConfigError;

impl PatternConfig for BulkheadConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        BulkheadConfig::validate(self)
    }

    fn max_keys(&self) -> usize {
        self.max_keys
    }

    fn with_max_keys(self, max_keys: usize) -> Self {
        BulkheadConfig { max_keys, ..self }
    }
}

impl Pattern for Bulkhead {
    const KIND: &'static str = "bulkhead";
    const ATTRIBUTE: &'static str = "#[bulkhead]";
    const PATTERN: &'static str = "bulkhead";
    type Config = BulkheadConfig;
    type Snapshot = BulkheadSnapshot;
    type Refusal = BulkheadFull;

    fn make(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &BulkheadConfig,
        _: &Arc<dyn Clock>,
    ) -> Bulkhead {
        Bulkhead::build(name, key, config)
    }

    fn configure(&self, config: &BulkheadConfig) -> Result<(), ConfigError> {
        self.apply(config);
        Ok(())
    }

    fn config(&self) -> BulkheadConfig {
        Bulkhead::config(self)
    }

    /// The key is the instance's own.
    fn snapshot(&self, _key: Option<&str>) -> BulkheadSnapshot {
        Bulkhead::snapshot(self)
    }

    /// An empty bulkhead loses nothing; one with a call in it (running, waiting, or
    /// about to take a place) is a limit: a new one for its key would let its calls run
    /// beside those already in.
    fn loss(&self, held: bool) -> Loss {
        if held || !self.is_empty() {
            Loss::Limit(None)
        } else {
            Loss::Nothing
        }
    }

    /// Every live key has calls in it: the new key's call is refused as a full
    /// bulkhead's is, at once.
    fn no_room(
        name: &'static str,
        key: &str,
        config: &BulkheadConfig,
        _free_in: Option<Duration>,
    ) -> BulkheadFull {
        // The store gives the WARN (once a second); the metric counts each refusal.
        super::events::refused(
            &crate::events::Sink::NONE,
            name,
            Some(key),
            Duration::ZERO,
            None,
        );
        BulkheadFull {
            name,
            key: Some(key.into()),
            max_concurrent: config.max_concurrent,
            waited: Duration::ZERO,
        }
    }

    fn refused_config(name: &str, error: &ConfigError) {
        tracing::error!(
            target: "resilience::bulkhead",
            name,
            %error,
            "invalid #[bulkhead] configuration; using the defaults"
        );
    }

    fn with_events(self, events: crate::events::Sink) -> Bulkhead {
        Bulkhead::with_events(self, events)
    }
}
