//! The adaptive limit as a [`Pattern`]: how the registry makes, configures and
//! snapshots one, in the same generic table as every other pattern. It takes no
//! `key = expr` (a limit per key would learn from too few calls), so its keyed store is
//! never made; what eviction would lose is still said, for the trait's sake.

use std::sync::Arc;
use std::time::Duration;

use super::{AdaptiveLimitConfig, AdaptiveLimitSnapshot, AdaptiveLimiter, Overloaded, Priority};
use crate::clock::Clock;
use crate::pattern::{Loss, Pattern, PatternConfig};
use crate::ConfigError;

impl PatternConfig for AdaptiveLimitConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        AdaptiveLimitConfig::validate(self)
    }

    /// No keys: the default bound, never used.
    fn max_keys(&self) -> usize {
        crate::keyed::DEFAULT_MAX_KEYS
    }

    fn with_max_keys(self, _max_keys: usize) -> Self {
        self
    }
}

impl Pattern for AdaptiveLimiter {
    const KIND: &'static str = "adaptive limit";
    const ATTRIBUTE: &'static str = "#[adaptive_limit]";
    const PATTERN: &'static str = "adaptive_limit";
    type Config = AdaptiveLimitConfig;
    type Snapshot = AdaptiveLimitSnapshot;
    type Refusal = Overloaded;

    fn make(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &AdaptiveLimitConfig,
        clock: &Arc<dyn Clock>,
    ) -> AdaptiveLimiter {
        AdaptiveLimiter::build(name, key, config.clone(), clock.clone())
    }

    fn configure(&self, config: &AdaptiveLimitConfig) -> Result<(), ConfigError> {
        self.apply(config.clone());
        Ok(())
    }

    fn config(&self) -> AdaptiveLimitConfig {
        AdaptiveLimiter::config(self)
    }

    /// The key is the instance's own.
    fn snapshot(&self, _key: Option<&str>) -> AdaptiveLimitSnapshot {
        AdaptiveLimiter::snapshot(self)
    }

    /// Calls in it are a limit (a new instance would admit beside them); an idle one
    /// loses what it learned, which a new one learns again.
    fn loss(&self, held: bool) -> Loss {
        if held || self.in_flight() > 0 {
            Loss::Limit(None)
        } else {
            Loss::Nothing
        }
    }

    fn no_room(
        name: &'static str,
        key: &str,
        config: &AdaptiveLimitConfig,
        free_in: Option<Duration>,
    ) -> Overloaded {
        Overloaded {
            name,
            key: Some(key.into()),
            limit: config.initial_limit,
            priority: Priority::Normal,
            waited: Duration::ZERO,
            retry_after: free_in.unwrap_or(config.max_wait),
        }
    }

    fn refused_config(name: &str, error: &ConfigError) {
        tracing::error!(
            target: "resilience::adaptive_limit",
            name,
            %error,
            "invalid #[adaptive_limit] configuration; using the defaults"
        );
    }

    fn with_events(self, events: crate::events::Sink) -> AdaptiveLimiter {
        AdaptiveLimiter::with_events(self, events)
    }
}
