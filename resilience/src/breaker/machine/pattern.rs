//! The breaker as a [`Pattern`]: how the registry makes, configures and snapshots one,
//! and what evicting a keyed one would lose.

use super::*;
use crate::pattern::{Loss, Pattern, PatternConfig};

impl PatternConfig for BreakerConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        BreakerConfig::validate(self)
    }

    fn max_keys(&self) -> usize {
        self.max_keys
    }

    fn with_max_keys(self, max_keys: usize) -> Self {
        BreakerConfig { max_keys, ..self }
    }
}

impl Pattern for Breaker {
    const KIND: &'static str = "circuit breaker";
    const ATTRIBUTE: &'static str = "#[circuit_breaker]";
    const PATTERN: &'static str = "breaker";
    type Config = BreakerConfig;
    type Snapshot = BreakerSnapshot;
    type Refusal = CircuitOpen;

    /// Keyed breakers share the name's interned `&'static str`; the key is the store's
    /// (its metrics' `key` label shares it).
    fn make(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &BreakerConfig,
        clock: &Arc<dyn Clock>,
    ) -> Breaker {
        Breaker::build(name, key.as_ref(), config.clone()).with_clock(clock.clone())
    }

    fn evicted(&self) {
        self.metrics.evicted();
    }

    fn configure(&self, config: &BreakerConfig) -> Result<(), ConfigError> {
        Breaker::configure(self, config.clone())
    }

    fn config(&self) -> BreakerConfig {
        Breaker::config(self)
    }

    fn snapshot(&self, key: Option<&str>) -> BreakerSnapshot {
        let mut snapshot = Breaker::snapshot(self);
        snapshot.key = key.map(str::to_owned);
        snapshot
    }

    /// Any breaker may go, so a keyed breaker never refuses a key: first a closed one
    /// with nothing counted, then (`State(0)`) one with failures counted or a call
    /// running, then (`State(1)`) an open or half-open one, last (`State(2)`) one
    /// forced open or disabled by hand.
    fn loss(&self, held: bool) -> Loss {
        let word = self.load_relaxed();
        match word.state() {
            BreakerState::ForcedOpen | BreakerState::Disabled => Loss::State(2),
            BreakerState::Open | BreakerState::HalfOpen => Loss::State(1),
            BreakerState::Closed if held || word.count() > 0 || self.failures_in_windows() => {
                Loss::State(0)
            }
            BreakerState::Closed => Loss::Nothing,
        }
    }

    /// Never called: a breaker is never a [`Loss::Limit`], so its store always has room.
    fn no_room(
        name: &'static str,
        _key: &str,
        _config: &BreakerConfig,
        free_in: Option<Duration>,
    ) -> CircuitOpen {
        CircuitOpen {
            name,
            state: BreakerState::Open,
            retry_after: free_in,
        }
    }

    fn refused_config(name: &str, error: &ConfigError) {
        tracing::error!(
            target: "resilience::breaker",
            name,
            %error,
            "invalid #[circuit_breaker] configuration; using the defaults"
        );
    }

    fn parent(config: &BreakerConfig) -> Option<&str> {
        config.parent.as_deref()
    }

    fn linked_parent(&self) -> Option<&'static str> {
        Breaker::linked_parent(self).map(|parent| parent.name())
    }

    fn link_parent(&self, parent: Arc<Breaker>) {
        Breaker::link_parent(self, parent);
    }

    fn with_events(self, events: crate::events::Sink) -> Breaker {
        Breaker::with_events(self, events)
    }
}

impl Breaker {
    /// Whether a failure sits in the count window or the time window.
    fn failures_in_windows(&self) -> bool {
        let config = self.lock_config();
        let counted = uses_count_window(&config) && self.outcomes.current().counts().failures > 0;
        counted
            || config
                .window
                .filter(|_| config.max_failures_per_window.is_some())
                .is_some_and(|w| self.failure_times.current().recent(self.clock.now(), w) > 0)
    }
}
