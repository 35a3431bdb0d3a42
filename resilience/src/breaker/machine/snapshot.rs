//! [`Breaker::snapshot`]: counts, state and configuration.

use super::*;
use crate::breaker::WindowKind;

impl Breaker {
    /// Counts, state and configuration, for dashboards and the registry.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// let s = b.snapshot();
    /// assert_eq!((s.name.as_str(), s.consecutive_failures), ("x", 1));
    /// ```
    pub fn snapshot(&self) -> BreakerSnapshot {
        let config = self.config();
        let word = self.load();
        let now = self.clock.now();
        let state = word.state();
        let counts = match (time_window(&config), self.rate_window.get()) {
            (Some(_), Some(window)) => window.counts(duration_nanos(self.now_coarse())),
            _ if uses_count_window(&config) => self.outcomes.current().counts(),
            _ => Counts::default(),
        };
        let window_kind = match (uses_rates(&config), config.rate_window) {
            (false, _) => None,
            (true, None) => Some(WindowKind::Count),
            (true, Some(_)) => Some(WindowKind::Time),
        };
        let open_period = self.open_period_in(word);
        let failures_in_window = config
            .window
            .filter(|_| config.max_failures_per_window.is_some())
            .map_or(0, |w| self.failure_times.current().recent(now, w));
        BreakerSnapshot {
            name: self.name.to_string(),
            key: None,
            state,
            consecutive_failures: if state == BreakerState::Closed {
                word.count()
            } else {
                0
            },
            failures_in_window,
            window_kind,
            window_calls: counts.calls,
            window_failures: counts.failures,
            window_slow_calls: counts.slow,
            failure_rate_percent: percent(counts.failures, counts.calls),
            slow_call_rate_percent: percent(counts.slow, counts.calls),
            half_open_in_flight: if state == BreakerState::HalfOpen {
                word.in_flight()
            } else {
                0
            },
            half_open_successes: if state == BreakerState::HalfOpen {
                word.count()
            } else {
                0
            },
            rejections: self.stats.rejections.total(),
            times_opened: self.stats.opened.load(Relaxed),
            retry_after: match state {
                BreakerState::Open => Some(
                    self.due(word, self.now_coarse())
                        .err()
                        .flatten()
                        .unwrap_or_default(),
                ),
                _ => None,
            },
            open_period,
            parent: config.parent.as_deref().map(str::to_owned),
            config,
        }
    }

    /// The open period of the snapshot: this opening's while open, the next one if the
    /// trial fails while half-open, `recovery_timeout` otherwise.
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn open_period(&self) -> Duration {
        self.open_period_in(self.load())
    }

    fn open_period_in(&self, word: Word) -> Duration {
        let live = &self.hot.live;
        Duration::from_nanos(match word.state() {
            BreakerState::Open => live.open_period(self.strikes(word)),
            BreakerState::HalfOpen => {
                live.open_period((self.strikes(word) + 1).min(super::MAX_STRIKES))
            }
            _ => live.recovery_timeout.load(Relaxed),
        })
    }
}

/// `part` as a percentage of `whole`; `None` when `whole` is zero.
fn percent(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
}
