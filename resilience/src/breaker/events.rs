//! What a breaker reports besides its metrics (`metrics.rs`): its state changes and its
//! refusals, each as a `tracing` event (target `resilience::breaker`) and a stream
//! [`Event`](crate::Event), given here together from the same values.

use super::BreakerState;
use crate::events::{EventKind, Sink};

const TARGET: &str = "resilience::breaker";

/// The breaker `name` moved from `from` to `to`: a WARN when it starts refusing calls
/// (open, forced open), INFO otherwise.
#[cold]
pub(super) fn state_changed(
    events: &Sink,
    name: &'static str,
    from: BreakerState,
    to: BreakerState,
) {
    let (from, to) = (from.as_str(), to.as_str());
    if matches!(to, "open" | "forced_open") {
        tracing::warn!(target: TARGET, name, from, to, "circuit breaker state changed");
    } else {
        tracing::info!(target: TARGET, name, from, to, "circuit breaker state changed");
    }
    events.emit("breaker", name, || EventKind::StateChange {
        from: from.into(),
        to: to.into(),
    });
}

/// The breaker `name` refused `refused` calls since the last such report (itself, or for
/// an open parent): a WARN and a stream event, at most once a second.
#[cold]
#[inline(never)]
pub(super) fn refused(events: &Sink, name: &'static str, state: BreakerState, refused: u64) {
    tracing::warn!(
        target: TARGET,
        name,
        state = state.as_str(),
        refused,
        "circuit breaker refusing calls (`refused`: since the last such warning, at most one a second)"
    );
    events.emit("breaker", name, || EventKind::Refused {
        refused,
        retry_after_ms: None,
    });
}
