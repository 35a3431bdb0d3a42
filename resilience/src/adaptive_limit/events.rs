//! What an adaptive limit reports (target `resilience::adaptive_limit`): a change of the
//! limit (INFO, at most one a second per instance, saying the limit before and after),
//! and refusals (a WARN at most once a second per instance, with the count since the
//! last); its metrics are `metrics.rs`'. An admitted call reports nothing. Each tracing event
//! here and its stream [`Event`](crate::Event) (`limit_changed`, `overloaded`) are given
//! together, from the same values.

use super::window::Closed;
use super::Overloaded;
use crate::events::{EventKind, Sink};
use crate::sync::atomic::{AtomicU64, Ordering};

/// One second, on a limiter's timeline.
const SECOND: u64 = 1_000_000_000;

/// The limit's changes not yet reported (kept under the limiter's state lock).
#[derive(Debug)]
pub(super) struct LimitEvents {
    /// The limit the last event said (or the initial one).
    reported: u32,
    /// When it was said.
    at: Option<u64>,
}

impl LimitEvents {
    pub(super) fn new(limit: u32) -> LimitEvents {
        LimitEvents {
            reported: limit,
            at: None,
        }
    }

    /// A window closed at `now` and the limit is `limit`: an event if it changed since
    /// the last one and that was at least a second ago.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn limit(
        &mut self,
        events: &Sink,
        name: &'static str,
        key: Option<&str>,
        limit: u32,
        window: Closed,
        min_rtt: Option<u64>,
        now: u64,
    ) {
        if limit == self.reported || self.at.is_some_and(|at| now.saturating_sub(at) < SECOND) {
            return;
        }
        tracing::info!(
            target: "resilience::adaptive_limit",
            adaptive_limit = name,
            key,
            kind = "limit_changed",
            from = self.reported,
            to = limit,
            rtt_us = window.rtt / 1_000,
            min_rtt_us = min_rtt.map(|m| m / 1_000),
            in_flight = window.max_in_flight,
            dropped = window.drops,
            "adaptive limit changed"
        );
        let from = self.reported;
        events.emit("adaptive_limit", name, || EventKind::LimitChanged {
            from,
            to: limit,
        });
        self.reported = limit;
        self.at = Some(now);
    }
}

/// Refusals since the last WARN, and when that was.
#[derive(Debug, Default)]
pub(super) struct Refusals {
    unreported: AtomicU64,
    /// On the limiter's timeline; 0: never.
    warned_at: AtomicU64,
}

impl Refusals {
    #[cold]
    pub(super) fn refused(
        &self,
        events: &Sink,
        name: &'static str,
        key: Option<&str>,
        o: &Overloaded,
        now: u64,
    ) {
        self.unreported.fetch_add(1, Ordering::Relaxed);
        let last = self.warned_at.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < SECOND {
            return;
        }
        if self
            .warned_at
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return;
        }
        let refused = self.unreported.swap(0, Ordering::Relaxed).max(1);
        tracing::warn!(
            target: "resilience::adaptive_limit",
            adaptive_limit = name,
            key,
            kind = "refused",
            refused,
            limit = o.limit,
            priority = o.priority.as_str(),
            waited_ms = o.waited.as_millis() as u64,
            retry_after_us = o.retry_after.as_micros() as u64,
            "adaptive limit reached; calls refused"
        );
        events.emit("adaptive_limit", name, || EventKind::Overloaded {
            refused,
            limit: o.limit,
            priority: o.priority.as_str().into(),
        });
    }
}

/// A priority was given, but without `max_wait` no call waits, so none is ordered.
#[cold]
pub(super) fn priority_without_wait(name: &'static str) {
    tracing::warn!(
        target: "resilience::adaptive_limit",
        adaptive_limit = name,
        "calls give a priority, but max_wait is 0: no call waits, so priorities order nothing; give max_wait (a few round-trip times)"
    );
}
