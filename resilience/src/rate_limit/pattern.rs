//! The rate limiter as a [`Pattern`]: how the registry makes, configures and snapshots
//! one, and what evicting a keyed one would lose.

use std::sync::Arc;
use std::time::Duration;

use super::{RateLimitConfig, RateLimited, RateLimiter, RateLimiterSnapshot};
use crate::clock::Clock;
use crate::pattern::{Loss, Pattern, PatternConfig};
use crate::ConfigError;

impl PatternConfig for RateLimitConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        RateLimitConfig::validate(self)
    }

    fn max_keys(&self) -> usize {
        self.max_keys
    }

    fn with_max_keys(self, max_keys: usize) -> Self {
        RateLimitConfig { max_keys, ..self }
    }
}

impl Pattern for RateLimiter {
    const KIND: &'static str = "rate limit";
    const ATTRIBUTE: &'static str = "#[rate_limit]";
    const PATTERN: &'static str = "rate_limit";
    type Config = RateLimitConfig;
    type Snapshot = RateLimiterSnapshot;
    type Refusal = RateLimited;

    fn make(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &RateLimitConfig,
        clock: &Arc<dyn Clock>,
    ) -> RateLimiter {
        RateLimiter::build(name, key, config, clock.clone())
    }

    fn configure(&self, config: &RateLimitConfig) -> Result<(), ConfigError> {
        self.apply(config);
        Ok(())
    }

    fn config(&self) -> RateLimitConfig {
        RateLimiter::config(self)
    }

    /// The key is the instance's own.
    fn snapshot(&self, _key: Option<&str>) -> RateLimiterSnapshot {
        RateLimiter::snapshot(self)
    }

    /// A limiter back at its full burst loses nothing; one with spent tokens is a limit
    /// (forgetting it would give its key a full burst again), free once its burst is
    /// whole. Held by a call about to be admitted: a limit too.
    fn loss(&self, held: bool) -> Loss {
        match self.until_full() {
            wait if !wait.is_zero() => Loss::Limit(Some(wait)),
            _ if held => Loss::Limit(None),
            _ => Loss::Nothing,
        }
    }

    /// Every live key has spent tokens: the new key's call is refused as a spent
    /// limiter's is, `retry_after` the time until the store has room (one interval when
    /// not known).
    fn no_room(
        name: &'static str,
        key: &str,
        config: &RateLimitConfig,
        free_in: Option<Duration>,
    ) -> RateLimited {
        let retry_after = free_in.unwrap_or_else(|| config.interval());
        // The store gives the WARN (once a second); the metric counts each refusal, on
        // the name's series: a key that never lived gets no series of its own.
        let limited = RateLimited::new(name, Some(key.into()), retry_after);
        let counter = crate::metrics::rate_limited(name, None);
        super::events::refused(&crate::events::Sink::NONE, &counter, &limited, None);
        limited
    }

    fn refused_config(name: &str, error: &ConfigError) {
        tracing::error!(
            target: "resilience::rate_limit",
            name,
            %error,
            "invalid #[rate_limit] configuration; using the defaults"
        );
    }

    fn with_events(self, events: crate::events::Sink) -> RateLimiter {
        RateLimiter::with_events(self, events)
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;
    use crate::keyed::Keyed;
    use crate::metrics::tests::Capture;

    #[test]
    fn a_keyed_limiters_refusals_carry_its_key() {
        let capture = Capture::default();
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::ManualClock::new());
        ::metrics::with_local_recorder(&capture, || {
            let config = RateLimitConfig {
                limit: 1,
                max_keys: 4,
                ..Default::default()
            };
            let limiters: Keyed<RateLimiter> = Keyed::new("api", config, clock);
            let eu = limiters.get("eu").unwrap();
            eu.check().unwrap();
            assert!(eu.check().is_err());
            assert!(eu.check().is_err());
        });
        assert_eq!(
            capture.read("resilience_rate_limited_total{rate_limiter=api,key=eu}"),
            Some(2)
        );
        assert_eq!(
            capture.read("resilience_rate_limited_total{rate_limiter=api}"),
            None
        );
    }
}
