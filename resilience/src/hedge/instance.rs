//! [`Hedge`]: one named hedge of the registry, its configuration in force and its counts.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use super::{HedgeConfig, HedgeSnapshot};
use crate::clock::duration_nanos;
use crate::events::Sink;
use crate::ConfigError;

/// One named hedge: the configuration every call site of that name uses, changeable at
/// run time, and what its calls did.
///
/// A call reads the configuration with two atomic loads and writes nothing unless it
/// starts a hedge, so a call answered before `delay` touches no shared counter.
///
/// ```
/// use resilience::hedge::Hedge;
/// use resilience::HedgeConfig;
/// use std::time::Duration;
///
/// let hedge = Hedge::new("docs.hedge", HedgeConfig::default())?;
/// hedge.configure(HedgeConfig { delay: Duration::from_millis(5), max_hedges: 2 })?;
/// assert_eq!(hedge.config().max_hedges, 2);
/// assert_eq!(hedge.snapshot().hedges_started, 0);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct Hedge {
    name: Box<str>,
    delay_nanos: AtomicU64,
    max_hedges: AtomicU32,
    /// Calls that started at least one hedge.
    hedged_calls: AtomicU64,
    /// Extra runs started.
    hedges_started: AtomicU64,
    /// Calls answered by a hedge rather than the first run.
    hedge_wins: AtomicU64,
    /// Its registry's event stream (none outside a registry).
    pub(crate) events: Sink,
}

impl Hedge {
    /// A hedge named `name` with `config`; an invalid `config` is an `Err` naming the
    /// field.
    ///
    /// ```
    /// use resilience::{hedge::Hedge, HedgeConfig};
    /// let err = Hedge::new("x", HedgeConfig { max_hedges: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "max_hedges");
    /// ```
    pub fn new(name: &str, config: HedgeConfig) -> Result<Hedge, ConfigError> {
        config.validate()?;
        Ok(Hedge {
            name: name.into(),
            delay_nanos: AtomicU64::new(duration_nanos(config.delay)),
            max_hedges: AtomicU32::new(config.max_hedges),
            hedged_calls: AtomicU64::new(0),
            hedges_started: AtomicU64::new(0),
            hedge_wins: AtomicU64::new(0),
            events: Sink::NONE,
        })
    }

    /// The same hedge, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> Hedge {
        self.events = events;
        self
    }

    /// A hedge with the default configuration, made without validation (the defaults
    /// are valid): what a call site uses if the registry refuses its configuration.
    pub(crate) fn fallback(name: &str) -> Hedge {
        let config = HedgeConfig::default();
        Hedge {
            name: name.into(),
            delay_nanos: AtomicU64::new(duration_nanos(config.delay)),
            max_hedges: AtomicU32::new(config.max_hedges),
            hedged_calls: AtomicU64::new(0),
            hedges_started: AtomicU64::new(0),
            hedge_wins: AtomicU64::new(0),
            events: Sink::NONE,
        }
    }

    /// The hedge's name.
    ///
    /// ```
    /// let h = resilience::hedge::Hedge::new("kanban", Default::default()).unwrap();
    /// assert_eq!(h.name(), "kanban");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The configuration in force.
    ///
    /// ```
    /// let h = resilience::hedge::Hedge::new("x", Default::default()).unwrap();
    /// assert_eq!(h.config(), resilience::HedgeConfig::default());
    /// ```
    pub fn config(&self) -> HedgeConfig {
        let (delay, max_hedges) = self.current();
        HedgeConfig { delay, max_hedges }
    }

    /// Replaces the configuration; calls starting afterwards use it. An invalid one is
    /// refused and the old one stays.
    ///
    /// ```
    /// use resilience::{hedge::Hedge, HedgeConfig};
    /// let h = Hedge::new("x", HedgeConfig::default())?;
    /// assert!(h.configure(HedgeConfig { max_hedges: 0, ..Default::default() }).is_err());
    /// assert_eq!(h.config().max_hedges, 1);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: HedgeConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.delay_nanos
            .store(duration_nanos(config.delay), Ordering::Relaxed);
        self.max_hedges.store(config.max_hedges, Ordering::Relaxed);
        Ok(())
    }

    /// Its configuration and counts, serializable.
    ///
    /// ```
    /// let h = resilience::hedge::Hedge::new("kanban", Default::default()).unwrap();
    /// let json = serde_json::to_value(h.snapshot()).unwrap();
    /// assert_eq!(json["name"], "kanban");
    /// assert_eq!(json["config"]["delay"], "50ms");
    /// ```
    pub fn snapshot(&self) -> HedgeSnapshot {
        HedgeSnapshot {
            name: self.name.to_string(),
            hedged_calls: self.hedged_calls.load(Ordering::Relaxed),
            hedges_started: self.hedges_started.load(Ordering::Relaxed),
            hedge_wins: self.hedge_wins.load(Ordering::Relaxed),
            config: self.config(),
        }
    }

    /// The delay and the extra runs allowed, for a call starting now. The two are read
    /// apart, so a call racing a `configure` may see one old value and one new: both
    /// are valid on their own.
    #[inline]
    pub(crate) fn current(&self) -> (Duration, u32) {
        (
            Duration::from_nanos(self.delay_nanos.load(Ordering::Relaxed)),
            self.max_hedges.load(Ordering::Relaxed),
        )
    }

    /// A call started its `nth` extra run (1-based).
    pub(crate) fn record_hedge(&self, nth: u32) {
        if nth == 1 {
            self.hedged_calls.fetch_add(1, Ordering::Relaxed);
        }
        self.hedges_started.fetch_add(1, Ordering::Relaxed);
    }

    /// A call was answered by one of its extra runs.
    pub(crate) fn record_win(&self) {
        self.hedge_wins.fetch_add(1, Ordering::Relaxed);
    }
}
