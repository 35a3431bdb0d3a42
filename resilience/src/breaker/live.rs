//! The thresholds the state machine reads while running: one atomic per field, so
//! `configure` applies at once and readers never take a lock.
//!
//! A reader may see a mix of old and new fields while `configure` runs; each field is
//! valid on its own, and the mix lasts only for that moment.

use std::time::Duration;

use super::BreakerConfig;
use crate::clock::duration_nanos;
use crate::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering::Relaxed};

/// Which optional rules are on (bits of `Live::modes`).
pub(super) const TIME_WINDOW: u8 = 1;
pub(super) const FAILURE_RATE: u8 = 2;
pub(super) const SLOW_RATE: u8 = 4;
pub(super) const PARENT: u8 = 8;
/// The rates are over a time window (`rate_window`) instead of the count-based one.
pub(super) const RATE_WINDOW: u8 = 16;
/// A window of outcomes (count- or time-based) is in use.
pub(super) const OUTCOMES: u8 = FAILURE_RATE | SLOW_RATE;
// Bit 32 is a permit's own (`permit::TIMED`), never set in `Live::modes`.

pub(super) struct Live {
    /// Read on every call: which rules are on.
    pub(super) modes: AtomicU8,
    pub(super) failure_threshold: AtomicU32,
    pub(super) success_threshold: AtomicU32,
    pub(super) half_open_max_calls: AtomicU32,
    pub(super) recovery_timeout: AtomicU64,
    /// `recovery_factor`'s bits.
    pub(super) recovery_factor: AtomicU64,
    /// `max_recovery_timeout` in nanoseconds; `u64::MAX` when there is none.
    pub(super) max_recovery_timeout: AtomicU64,
    pub(super) window: AtomicU64,
    pub(super) failure_rate: AtomicU64,
    pub(super) slow_call: AtomicU64,
    pub(super) slow_call_rate: AtomicU64,
    pub(super) minimum_calls: AtomicU32,
}

impl Live {
    pub(super) fn new(c: &BreakerConfig) -> Live {
        let live = Live {
            modes: AtomicU8::new(0),
            failure_threshold: AtomicU32::new(0),
            success_threshold: AtomicU32::new(0),
            half_open_max_calls: AtomicU32::new(0),
            recovery_timeout: AtomicU64::new(0),
            recovery_factor: AtomicU64::new(0),
            max_recovery_timeout: AtomicU64::new(0),
            window: AtomicU64::new(0),
            failure_rate: AtomicU64::new(0),
            slow_call: AtomicU64::new(0),
            slow_call_rate: AtomicU64::new(0),
            minimum_calls: AtomicU32::new(0),
        };
        live.store(c);
        live
    }

    /// Publishes `c` (already validated). The `PARENT` bit is the registry's; kept.
    pub(super) fn store(&self, c: &BreakerConfig) {
        self.failure_threshold.store(c.failure_threshold, Relaxed);
        self.success_threshold.store(c.success_threshold, Relaxed);
        self.half_open_max_calls
            .store(c.half_open_max_calls, Relaxed);
        self.recovery_timeout
            .store(duration_nanos(c.recovery_timeout), Relaxed);
        self.recovery_factor
            .store(c.recovery_factor.to_bits(), Relaxed);
        self.max_recovery_timeout.store(
            c.max_recovery_timeout.map_or(u64::MAX, duration_nanos),
            Relaxed,
        );
        self.window
            .store(c.window.map_or(0, duration_nanos), Relaxed);
        self.failure_rate
            .store(c.failure_rate.unwrap_or(0.0).to_bits(), Relaxed);
        self.slow_call
            .store(c.slow_call.map_or(0, duration_nanos), Relaxed);
        self.slow_call_rate
            .store(c.slow_call_rate.unwrap_or(0.0).to_bits(), Relaxed);
        self.minimum_calls.store(c.minimum_calls, Relaxed);
        let mut modes = 0;
        if c.window.is_some() && c.max_failures_per_window.is_some() {
            modes |= TIME_WINDOW;
        }
        if c.failure_rate.is_some() {
            modes |= FAILURE_RATE;
        }
        if c.slow_call.is_some() && c.slow_call_rate.is_some() {
            modes |= SLOW_RATE;
        }
        if c.rate_window.is_some() && modes & OUTCOMES != 0 {
            modes |= RATE_WINDOW;
        }
        // Set the new rule bits, clear the others, keep PARENT: two RMWs, cold path.
        self.modes.fetch_or(modes, Relaxed);
        self.modes.fetch_and(modes | PARENT, Relaxed);
    }

    /// The fewest failed trials in a row whose open period lasts at least `wait`
    /// nanoseconds (or the most that still make it grow, when none does).
    pub(super) fn strikes_for(&self, wait: u64) -> u64 {
        // At most 64 steps (a cluster's opening, cold): any factor worth setting has
        // reached the cap or any wait by then.
        let mut strikes = 0;
        while strikes < 64 && self.open_period(strikes) < wait {
            let next = self.open_period(strikes + 1);
            if next <= self.open_period(strikes) {
                break; // capped, or a factor of 1
            }
            strikes += 1;
        }
        strikes
    }

    /// The open period, in nanoseconds, after `strikes` failed trials in a row.
    pub(super) fn open_period(&self, strikes: u64) -> u64 {
        super::open_period::open_period(
            self.recovery_timeout.load(Relaxed),
            f64::from_bits(self.recovery_factor.load(Relaxed)),
            self.max_recovery_timeout.load(Relaxed),
            strikes,
        )
    }

    pub(super) fn duration(field: &AtomicU64) -> Duration {
        Duration::from_nanos(field.load(Relaxed))
    }

    pub(super) fn percent(field: &AtomicU64) -> f64 {
        f64::from_bits(field.load(Relaxed))
    }
}
