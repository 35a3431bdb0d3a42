//! [`AdaptiveAttempts`]: attempts that follow a call site's recent streaks, as the
//! reference's adaptive retry does.

use crate::sync::atomic::{AtomicU32, Ordering};

/// A call site's current number of attempts, adapted to its recent outcomes.
///
/// After [`SUCCESS_STREAK`](Self::SUCCESS_STREAK) calls in a row succeed it allows one
/// more attempt, up to twice the configured number; after
/// [`FAILURE_STREAK`](Self::FAILURE_STREAK) calls in a row fail (every attempt spent or
/// given up) one fewer, down to 1. A healthy dependency earns patience; a dead one stops
/// being hammered. `#[retry(adaptive = true)]` keeps one per call site.
///
/// Lock-free: three atomics, updated with relaxed ordering (the streaks are statistics;
/// a lost increment under a race delays an adjustment by one call at most).
///
/// ```
/// use resilience::retry::AdaptiveAttempts;
///
/// let adaptive = AdaptiveAttempts::new(3);
/// for _ in 0..AdaptiveAttempts::FAILURE_STREAK { adaptive.record_failure(); }
/// assert_eq!(adaptive.max_attempts(), 2);
/// for _ in 0..AdaptiveAttempts::SUCCESS_STREAK { adaptive.record_success(); }
/// assert_eq!(adaptive.max_attempts(), 3);
/// assert_eq!(adaptive.bounds(), (1, 6));
/// ```
#[derive(Debug)]
pub struct AdaptiveAttempts {
    current: AtomicU32,
    successes: AtomicU32,
    failures: AtomicU32,
    ceiling: u32,
}

impl AdaptiveAttempts {
    /// Successful calls in a row that earn one more attempt.
    pub const SUCCESS_STREAK: u32 = 10;
    /// Failed calls in a row that cost one attempt.
    pub const FAILURE_STREAK: u32 = 5;

    /// Starts at `configured` attempts (at least 1), adapting within `1 ..= 2 × configured`.
    ///
    /// ```
    /// let adaptive = resilience::retry::AdaptiveAttempts::new(4);
    /// assert_eq!(adaptive.max_attempts(), 4);
    /// ```
    pub fn new(configured: u32) -> Self {
        let configured = configured.max(1);
        AdaptiveAttempts {
            current: AtomicU32::new(configured),
            successes: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            ceiling: configured.saturating_mul(2),
        }
    }

    /// The attempts a call starting now may make.
    ///
    /// ```
    /// assert_eq!(resilience::retry::AdaptiveAttempts::new(0).max_attempts(), 1);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.current.load(Ordering::Relaxed)
    }

    /// The lowest and highest values [`max_attempts`](Self::max_attempts) can take.
    ///
    /// ```
    /// assert_eq!(resilience::retry::AdaptiveAttempts::new(5).bounds(), (1, 10));
    /// ```
    pub fn bounds(&self) -> (u32, u32) {
        (1, self.ceiling)
    }

    /// Records a call that succeeded; returns the new attempts if they changed.
    ///
    /// ```
    /// let adaptive = resilience::retry::AdaptiveAttempts::new(1);
    /// let changes: Vec<_> = (0..10).filter_map(|_| adaptive.record_success()).collect();
    /// assert_eq!(changes, [2]);
    /// ```
    pub fn record_success(&self) -> Option<u32> {
        self.failures.store(0, Ordering::Relaxed);
        let streak = self
            .successes
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if streak < Self::SUCCESS_STREAK || !self.end_streak(&self.successes, streak) {
            return None;
        }
        self.step(|n| (n < self.ceiling).then(|| n + 1))
    }

    /// Records a call that failed; returns the new attempts if they changed.
    ///
    /// ```
    /// let adaptive = resilience::retry::AdaptiveAttempts::new(2);
    /// let changes: Vec<_> = (0..10).filter_map(|_| adaptive.record_failure()).collect();
    /// assert_eq!(changes, [1]); // never below 1
    /// ```
    pub fn record_failure(&self) -> Option<u32> {
        self.successes.store(0, Ordering::Relaxed);
        let streak = self
            .failures
            .fetch_add(1, Ordering::Relaxed)
            .saturating_add(1);
        if streak < Self::FAILURE_STREAK || !self.end_streak(&self.failures, streak) {
            return None;
        }
        self.step(|n| (n > 1).then(|| n - 1))
    }

    /// Resets the streak that reached its threshold; only one racing caller wins it.
    fn end_streak(&self, counter: &AtomicU32, seen: u32) -> bool {
        counter
            .compare_exchange(seen, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    fn step(&self, f: impl Fn(u32) -> Option<u32>) -> Option<u32> {
        self.current
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, &f)
            .ok()
            .and_then(&f)
    }
}
