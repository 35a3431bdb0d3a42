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
        // The store gives the WARN (once a second); the metric counts each refusal, on
        // the name's series: a key that never lived gets no series of its own.
        super::events::refused(
            &crate::events::Sink::NONE,
            &crate::metrics::bulkhead_rejections(name, None),
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

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;
    use crate::keyed::Keyed;
    use crate::metrics::tests::Capture;

    #[test]
    fn a_keyed_bulkheads_refusals_carry_its_key_and_a_refused_new_key_none() {
        let capture = Capture::default();
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::ManualClock::new());
        ::metrics::with_local_recorder(&capture, || {
            let config = BulkheadConfig {
                max_concurrent: 1,
                max_keys: 1,
                ..Default::default()
            };
            let bulkheads: Keyed<Bulkhead> = Keyed::new("db", config, clock);
            let eu = bulkheads.get("eu").unwrap();
            let _running = eu.try_acquire().unwrap();
            assert!(eu.acquire_blocking().is_err());
            // The store is full of a held limit: the new key is refused on the name's series.
            assert!(bulkheads.get("us").is_err());
        });
        assert_eq!(
            capture.read("resilience_bulkhead_rejections_total{bulkhead=db,key=eu}"),
            Some(1)
        );
        assert_eq!(
            capture.read("resilience_bulkhead_rejections_total{bulkhead=db}"),
            Some(1)
        );
        assert_eq!(
            capture.read("resilience_bulkhead_rejections_total{bulkhead=db,key=us}"),
            None,
            "a key that never lived has no series"
        );
    }
}
