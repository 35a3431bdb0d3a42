//! A new configuration applied at run time, and the windows resized to it.

use super::*;

impl Breaker {
    /// Applies a new configuration at once (validated first). Thresholds take effect
    /// from the next outcome; a window whose size changed starts empty. A breaker's
    /// parent, once linked by the registry, cannot change (it can be removed).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
    /// let b = Breaker::new("x", BreakerConfig::default()).unwrap();
    /// b.configure(BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// assert_eq!(b.state(), BreakerState::Open);
    /// assert!(b.configure(BreakerConfig { window_size: 0, ..Default::default() }).is_err());
    /// ```
    pub fn configure(&self, config: BreakerConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let linked = self.parent.get().map(|p| p.name());
        if let (Some(linked), Some(wanted)) = (linked, config.parent.as_deref()) {
            if linked != wanted {
                return Err(ConfigError::new(
                    "parent",
                    wanted,
                    format!("cannot change once linked (to `{linked}`)"),
                ));
            }
        }
        let mut current = self.lock_config();
        // Windows first: a call that sees a newly enabled rule must find its window.
        self.resize_windows(&current, &config);
        self.hot.live.store(&config);
        // Thresholds take effect from the next outcome, which checks the rates even if
        // it is a success.
        self.outcomes.current().recheck();
        if let Some(window) = self.rate_window.get() {
            window.recheck();
        }
        match (&config.parent, self.parent.get()) {
            (Some(_), Some(_)) => self.hot.live.modes.fetch_or(live::PARENT, Relaxed),
            _ => self.hot.live.modes.fetch_and(!live::PARENT, Relaxed),
        };
        *current = config;
        Ok(())
    }

    // ----- configuration (cold) ------------------------------------------------------

    pub(super) fn resize_windows(&self, old: &BreakerConfig, new: &BreakerConfig) {
        if uses_count_window(new) && (!uses_count_window(old) || old.window_size != new.window_size)
        {
            let current = self.outcomes.current();
            if new.window_size <= current.capacity() {
                current.set_len(new.window_size);
            } else {
                let room = current
                    .capacity()
                    .saturating_mul(2)
                    .min(MAX_WINDOW_LEN)
                    .max(new.window_size);
                self.outcomes.push(Outcomes::new(new.window_size, room));
            }
        }
        if let Some(window) = time_window(new) {
            let made = self
                .rate_window
                .get_or_init(|| Box::new(TimeWindow::new(window)));
            if time_window(old) != Some(window) {
                made.set_window(window);
            }
        }
        let max_failures = |c: &BreakerConfig| c.window.and(c.max_failures_per_window);
        if let Some(n) = max_failures(new) {
            if max_failures(old) != Some(n) {
                let current = self.failure_times.current();
                if n.saturating_sub(1) <= current.capacity() {
                    current.set_max_failures(n);
                } else {
                    let room = current
                        .capacity()
                        .saturating_mul(2)
                        .min(MAX_WINDOW_LEN)
                        .max(n);
                    self.failure_times.push(FailureTimes::new(n, room));
                }
            }
        }
    }
}
