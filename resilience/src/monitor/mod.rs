//! The error monitor: a bounded history of the errors that pass the attributes (or are
//! recorded by hand), the patterns they form, and a health score.
//!
//! [`monitor()`](fn@crate::monitor) is the global registry's monitor, which the attributes record
//! into (a [`Registry`](crate::registry::Registry) has one of its own); tests build
//! their own with [`Monitor::new`] and a [`ManualClock`](crate::clock::ManualClock).
//! [`ErrorAggregator`] collects the outcome of a batch operation.
//!
//! ```
//! use resilience::{monitor, Category, MarcusError};
//!
//! #[derive(Debug, thiserror::Error)]
//! #[error("the board is unreachable")]
//! struct BoardDown;
//! impl MarcusError for BoardDown {
//!     fn code(&self) -> &'static str { "BOARD_DOWN" }
//!     fn category(&self) -> Category { Category::Integration }
//! }
//!
//! let before = monitor().total_recorded();
//! monitor().record(&BoardDown);
//! assert!(monitor().total_recorded() > before);
//! let health = monitor().health();
//! assert!(health.score <= 100);
//! ```

mod aggregator;
mod config;
mod health;
pub(crate) mod observe;
mod patterns;
mod record;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use serde::Serialize;

pub use aggregator::{BatchFailed, BatchSummary, ErrorAggregator, ErrorExample, ErrorTypeSummary};
pub use config::{MonitorConfig, SimilarityWeights, MAX_HISTORY};
pub use health::{HealthScore, HealthStatus};
pub use patterns::{Pattern, PatternKind};
pub use record::ErrorRecord;

use crate::clock::{Clock, SystemClock};
use crate::view::View;
use crate::{Category, ConfigError, MarcusError, Severity};
use record::Facts;

/// The monitor of the global [`registry()`](fn@crate::registry): every error that passes
/// an attribute of the global registry is recorded in it (a
/// [`Registry::new()`](crate::registry::Registry::new) has one of its own). It lives
/// here, not in the registry, so the attributes' recording (`observe.rs`) reaches it
/// from below the registry.
///
/// ```
/// let a: *const _ = resilience::monitor();
/// assert_eq!(a, resilience::registry().monitor() as *const _);
/// ```
pub fn monitor() -> &'static Monitor {
    static MONITOR: OnceLock<Monitor> = OnceLock::new();
    MONITOR.get_or_init(Monitor::default)
}

/// A bounded error history with pattern detection and a health score.
///
/// Recording takes one short lock (a push into a ring buffer) and copies only the
/// context's strings; [`patterns`](Monitor::patterns) and [`health`](Monitor::health)
/// scan the retained history under that lock, `O(history)`.
///
/// ```
/// use resilience::clock::ManualClock;
/// use resilience::monitor::{HealthStatus, Monitor, MonitorConfig};
/// use resilience::{Category, MarcusError};
/// use std::sync::Arc;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("corrupted")]
/// struct Corrupted;
/// impl MarcusError for Corrupted {
///     fn code(&self) -> &'static str { "CORRUPTED" }
///     fn category(&self) -> Category { Category::System } // critical by default
/// }
///
/// let monitor = Monitor::new(MonitorConfig::default())?.with_clock(Arc::new(ManualClock::new()));
/// monitor.record(&Corrupted);
/// let health = monitor.health();
/// assert_eq!((health.score, health.status), (75, HealthStatus::Good)); // −25: critical
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Monitor {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    /// Wall time at `clock_base` on the clock: records get wall times that agree with
    /// the clock (and cost no system call).
    wall_base: SystemTime,
    clock_base: Duration,
    total: AtomicU64,
}

#[derive(Debug)]
struct State {
    config: MonitorConfig,
    history: VecDeque<ErrorRecord>,
}

impl Default for Monitor {
    /// A monitor with the default configuration on the system clock.
    fn default() -> Self {
        Monitor::with_valid(MonitorConfig::default())
    }
}

impl Monitor {
    /// A monitor with `config`, on the system clock, or the error naming the refused
    /// field.
    ///
    /// ```
    /// use resilience::monitor::{Monitor, MonitorConfig};
    ///
    /// let m = Monitor::new(MonitorConfig { history_capacity: 100, ..Default::default() })?;
    /// assert_eq!(m.config().history_capacity, 100);
    /// assert!(Monitor::new(MonitorConfig { burst_threshold: 0, ..Default::default() }).is_err());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn new(config: MonitorConfig) -> Result<Monitor, ConfigError> {
        config.validate()?;
        Ok(Monitor::with_valid(config))
    }

    fn with_valid(config: MonitorConfig) -> Monitor {
        Monitor {
            state: Mutex::new(State {
                config,
                history: VecDeque::new(),
            }),
            clock: Arc::new(SystemClock),
            wall_base: SystemTime::now(),
            clock_base: SystemClock.now(),
            total: AtomicU64::new(0),
        }
    }

    /// The same monitor reading time from `clock` (a
    /// [`ManualClock`](crate::clock::ManualClock) in tests).
    ///
    /// ```
    /// use resilience::clock::ManualClock;
    /// use resilience::monitor::Monitor;
    /// use std::sync::Arc;
    ///
    /// let monitor = Monitor::default().with_clock(Arc::new(ManualClock::new()));
    /// assert_eq!(monitor.health().score, 100);
    /// ```
    pub fn with_clock(mut self, clock: impl Clock + 'static) -> Monitor {
        let clock = crate::clock::shared(clock);
        self.clock_base = clock.now();
        self.wall_base = SystemTime::now();
        self.clock = clock;
        self
    }

    /// Records a [`MarcusError`]: its code, type, tier, severity and context.
    ///
    /// ```
    /// use resilience::monitor::Monitor;
    /// use resilience::{Category, MarcusError};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("denied")]
    /// struct Denied;
    /// impl MarcusError for Denied {
    ///     fn code(&self) -> &'static str { "DENIED" }
    ///     fn category(&self) -> Category { Category::Security }
    /// }
    ///
    /// let monitor = Monitor::default();
    /// monitor.record(&Denied);
    /// assert_eq!(monitor.history()[0].category, Category::Security);
    /// ```
    pub fn record<E: MarcusError + ?Sized>(&self, error: &E) {
        self.push(Facts::of_marcus(error, None));
    }

    /// Records an error of any type, as the attributes see it, raised by `function`
    /// (the operation when its context names none). A plain `std::error::Error` is
    /// classified by its message and sources; anything else is known by its type name.
    /// For generated code and the crate's tests (its argument is not a public type).
    #[doc(hidden)]
    pub fn record_view(&self, view: &View<'_>, function: &'static str) {
        self.push(Facts::of_view(view, function, None));
    }

    /// As [`record_view`](Monitor::record_view), knowing the error's type name.
    pub(crate) fn record_typed(
        &self,
        view: &View<'_>,
        function: &'static str,
        type_name: &'static str,
    ) {
        self.push(Facts::of_view(view, function, Some(type_name)));
    }

    /// [`record_typed`](Self::record_typed) of an error without a context slot, with
    /// an `#[error_context]` scope's context in place of its own.
    pub(crate) fn record_in(
        &self,
        view: &View<'_>,
        function: &'static str,
        type_name: &'static str,
        ctx: &crate::ErrorContext,
    ) {
        let mut facts = Facts::of_view(view, function, Some(type_name));
        facts.fill_missing(ctx);
        self.push(facts);
    }

    /// Marks the newest `count` unrecovered records of `function` as recovered: the
    /// call that raised them still answered (its retry succeeded, or a fallback
    /// answered). Called by the attributes; a record's call is not tracked exactly, so
    /// concurrent calls of one function may share the marks, never more than were made.
    ///
    /// ```
    /// use resilience::{monitor, retry};
    ///
    /// #[retry(max_attempts = 1)]
    /// fn fetch() -> Result<(), std::io::Error> {
    ///     Err(std::io::Error::other("down"))
    /// }
    ///
    /// let _ = fetch();
    /// let _ = fetch(); // two records, by the attribute, naming the function
    /// let function = monitor().history()[0].function.expect("recorded by #[retry]");
    /// monitor().mark_recovered(function, 1);
    /// let flags: Vec<bool> = monitor().history().iter().map(|r| r.recovered).collect();
    /// assert_eq!(flags, [false, true]);
    /// ```
    pub fn mark_recovered(&self, function: &str, count: u32) {
        let mut left = count;
        let mut state = self.lock();
        for record in state.history.iter_mut().rev() {
            if left == 0 {
                break;
            }
            if !record.recovered && record.function == Some(function) {
                record.recovered = true;
                left -= 1;
            }
        }
    }

    fn push(&self, facts: Facts) {
        crate::metrics::error_recorded(facts.code, facts.category);
        let at = self.clock.now();
        let record = facts.stamp(at, self.wall(at));
        self.total.fetch_add(1, Ordering::Relaxed);
        let evicted = {
            let mut state = self.lock();
            let evicted = if state.history.len() >= state.config.history_capacity {
                state.history.pop_front()
            } else {
                None
            };
            state.history.push_back(record);
            evicted
        };
        // Freed after the lock is released.
        drop(evicted);
    }

    fn wall(&self, at: Duration) -> SystemTime {
        let wall = if at >= self.clock_base {
            self.wall_base.checked_add(at - self.clock_base)
        } else {
            self.wall_base.checked_sub(self.clock_base - at)
        };
        wall.unwrap_or(self.wall_base)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; if something ever did, the history is
        // still a valid ring buffer.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The patterns active now, ordered by kind and key.
    ///
    /// ```
    /// use resilience::monitor::Monitor;
    /// assert!(Monitor::default().patterns().is_empty());
    /// ```
    pub fn patterns(&self) -> Vec<Pattern> {
        let state = self.lock();
        self.patterns_locked(&state, self.clock.now())
    }

    fn patterns_locked(&self, state: &State, now: Duration) -> Vec<Pattern> {
        patterns::detect(state.history.iter(), &state.config, now, |at| self.wall(at))
    }

    /// The health score now (see [`HealthScore`] for the formula).
    ///
    /// ```
    /// use resilience::monitor::{HealthStatus, Monitor};
    /// let health = Monitor::default().health();
    /// assert_eq!((health.score, health.status), (100, HealthStatus::Excellent));
    /// ```
    pub fn health(&self) -> HealthScore {
        let state = self.lock();
        self.health_locked(&state, self.clock.now())
    }

    fn health_locked(&self, state: &State, now: Duration) -> HealthScore {
        let window = state.config.health_window;
        let (errors, critical) = state
            .history
            .iter()
            .filter(|r| now.saturating_sub(r.at) < window)
            .fold((0usize, 0usize), |(n, c), r| {
                // The rate counts only errors the caller saw; a recovered one (retried to
                // success, answered by a fallback) still counts as critical if it was.
                (
                    n + usize::from(!r.recovered),
                    c + usize::from(r.severity == Severity::Critical),
                )
            });
        let rate = errors as f64 / (window.as_secs_f64() / 60.0);
        // A pattern costs health while it goes on: made of errors the callers saw (not
        // recovered), the latest within the window. Patterns of recovered errors, or
        // quiet for a window, are still listed by `patterns()`, and cost nothing here:
        // the health recovers as calls succeed again.
        let wall_now = self.wall(now);
        let patterns = patterns::detect(
            state.history.iter().filter(|r| !r.recovered),
            &state.config,
            now,
            |at| self.wall(at),
        )
        .into_iter()
        .filter(|p| {
            p.last_seen
                .checked_add(window)
                .is_none_or(|end| end > wall_now)
        })
        .count();
        HealthScore {
            window,
            ..HealthScore::from_counts(rate, critical, patterns)
        }
    }

    /// Replaces the configuration, if valid; a smaller `history_capacity` drops the
    /// oldest records at once.
    ///
    /// ```
    /// use resilience::monitor::{Monitor, MonitorConfig};
    ///
    /// let monitor = Monitor::default();
    /// monitor.configure(MonitorConfig { history_capacity: 5, ..Default::default() })?;
    /// let err = monitor
    ///     .configure(MonitorConfig { cascade_similarity: 1.5, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "cascade_similarity");
    /// assert_eq!(monitor.config().history_capacity, 5); // unchanged by the refused one
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: MonitorConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let mut state = self.lock();
        let excess = state.history.len().saturating_sub(config.history_capacity);
        state.history.drain(..excess);
        state.config = config;
        Ok(())
    }

    /// The configuration in force.
    ///
    /// ```
    /// let config = resilience::monitor::Monitor::default().config();
    /// assert_eq!(config.history_capacity, 10_000);
    /// ```
    pub fn config(&self) -> MonitorConfig {
        self.lock().config.clone()
    }

    /// Forgets every record (the total count stays).
    ///
    /// ```
    /// use resilience::monitor::Monitor;
    /// let monitor = Monitor::default();
    /// monitor.clear();
    /// assert_eq!(monitor.history_len(), 0);
    /// ```
    pub fn clear(&self) {
        let old = std::mem::take(&mut self.lock().history);
        drop(old);
    }

    /// The retained records, oldest first.
    ///
    /// ```
    /// assert!(resilience::monitor::Monitor::default().history().is_empty());
    /// ```
    pub fn history(&self) -> Vec<ErrorRecord> {
        self.lock().history.iter().cloned().collect()
    }

    /// How many records are retained (at most `history_capacity`).
    ///
    /// ```
    /// assert_eq!(resilience::monitor::Monitor::default().history_len(), 0);
    /// ```
    pub fn history_len(&self) -> usize {
        self.lock().history.len()
    }

    /// How many errors were ever recorded, retained or not.
    ///
    /// ```
    /// assert_eq!(resilience::monitor::Monitor::default().total_recorded(), 0);
    /// ```
    pub fn total_recorded(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }

    /// Everything at once, consistent, ready to serve as JSON.
    ///
    /// ```
    /// let snapshot = resilience::monitor::Monitor::default().snapshot();
    /// let json = serde_json::to_value(&snapshot).unwrap();
    /// assert_eq!(json["health"]["score"], 100);
    /// assert_eq!(json["retained"], 0);
    /// ```
    pub fn snapshot(&self) -> MonitorSnapshot {
        let state = self.lock();
        let now = self.clock.now();
        let mut by_code = BTreeMap::new();
        let mut by_category = BTreeMap::new();
        let mut by_severity = BTreeMap::new();
        for r in &state.history {
            *by_code.entry(r.code).or_insert(0) += 1;
            *by_category.entry(r.category).or_insert(0) += 1;
            *by_severity.entry(r.severity).or_insert(0) += 1;
        }
        let skip = state.history.len().saturating_sub(MonitorSnapshot::RECENT);
        MonitorSnapshot {
            total_recorded: self.total_recorded(),
            retained: state.history.len(),
            health: self.health_locked(&state, now),
            patterns: self.patterns_locked(&state, now),
            by_code,
            by_category,
            by_severity,
            recent: state.history.iter().skip(skip).cloned().collect(),
            config: state.config.clone(),
        }
    }
}

/// The monitor at one moment: health, patterns, counts over the retained history, the
/// latest records and the configuration.
///
/// ```
/// let snapshot = resilience::monitor::Monitor::default().snapshot();
/// assert_eq!(snapshot.total_recorded, 0);
/// assert!(snapshot.recent.is_empty());
/// ```
#[derive(Clone, Debug, Serialize)]
pub struct MonitorSnapshot {
    /// Errors ever recorded.
    pub total_recorded: u64,
    /// Records retained now.
    pub retained: usize,
    /// The health score.
    pub health: HealthScore,
    /// The active patterns.
    pub patterns: Vec<Pattern>,
    /// Retained records by error code.
    pub by_code: BTreeMap<&'static str, usize>,
    /// Retained records by tier.
    pub by_category: BTreeMap<Category, usize>,
    /// Retained records by severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// The latest records, oldest first (at most [`MonitorSnapshot::RECENT`]).
    pub recent: Vec<ErrorRecord>,
    /// The configuration in force.
    pub config: MonitorConfig,
}

impl MonitorSnapshot {
    /// How many of the latest records a snapshot carries.
    pub const RECENT: usize = 20;
}
