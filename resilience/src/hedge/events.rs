//! The tracing events and metrics of hedging, in one place so their fields stay
//! consistent.
//!
//! Target `resilience::hedge`, all `DEBUG` but the last: an extra run starts (`hedge`
//! name, `function`, `run` — 2 for the first hedge —, `reason`: `"delay"` when no answer
//! came in time, `"retryable_error"` when a run failed with a retryable error); a call
//! is answered by an extra run (`run`, `runs` started); a call fails after every run
//! failed, when it started more than one (`WARN`, `runs`, `error`, `code`). Every event
//! has `via`: `"attribute"` (`#[hedge]`, `function` its path) or `"tower"`
//! (`HedgeLayer`, `function` the layer's name).
//!
//! Metrics (feature `metrics`), labelled `hedge`:
//! [`HEDGES`](crate::metrics::HEDGES) counts extra runs started,
//! [`HEDGE_WINS`](crate::metrics::HEDGE_WINS) calls answered by one. Nothing is reported
//! by a call answered by its first run before `delay`.

use crate::events::{EventKind, Sink};
#[cfg(feature = "metrics")]
use crate::metrics::{HEDGES, HEDGE_WINS};
use crate::view::View;

pub(crate) const TARGET: &str = "resilience::hedge";

/// What a hedged call's events name besides its hedge: the decorated function (a layer's
/// name, for `HedgeLayer`) and the front end.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    pub(crate) function: &'static str,
    pub(crate) via: Via,
}

/// The front end a hedged call came through: the `via` field of its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Via {
    /// `#[hedge]`.
    Attribute,
    /// `HedgeLayer`.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    Tower,
}

impl Via {
    fn as_str(self) -> &'static str {
        match self {
            Via::Attribute => "attribute",
            Via::Tower => "tower",
        }
    }
}

/// Why an extra run started.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reason {
    /// No run answered within `delay`.
    Delay,
    /// A run failed with a retryable error.
    RetryableError,
}

impl Reason {
    fn as_str(self) -> &'static str {
        match self {
            Reason::Delay => "delay",
            Reason::RetryableError => "retryable_error",
        }
    }
}

/// A hedged run starts: its tracing event and the stream's, from the same values.
pub(crate) fn started(
    events: &Sink,
    hedge: &'static str,
    caller: Caller,
    run: u32,
    reason: Reason,
) {
    tracing::debug!(
        target: TARGET,
        hedge,
        function = caller.function,
        run,
        reason = reason.as_str(),
        via = caller.via.as_str(),
        "starting a hedged run"
    );
    events.emit("hedge", hedge, || EventKind::Hedged {
        run,
        reason: reason.as_str().into(),
    });
    #[cfg(feature = "metrics")]
    ::metrics::counter!(HEDGES, "hedge" => hedge).increment(1);
}

pub(crate) fn won(hedge: &'static str, caller: Caller, run: u32, runs: u32) {
    tracing::debug!(
        target: TARGET,
        hedge,
        function = caller.function,
        run,
        runs,
        via = caller.via.as_str(),
        "a hedged run answered first"
    );
    #[cfg(feature = "metrics")]
    ::metrics::counter!(HEDGE_WINS, "hedge" => hedge).increment(1);
}

pub(crate) fn all_failed(hedge: &'static str, caller: Caller, runs: u32, view: &View<'_>) {
    if !tracing::enabled!(target: TARGET, tracing::Level::WARN) {
        return;
    }
    let error = match view {
        View::Marcus(e) => e.to_string(),
        View::Error(e) => e.to_string(),
        View::Dyn(e) => e.to_string(),
        View::Opaque(name) => format!("a `{name}`"),
    };
    tracing::warn!(
        target: TARGET,
        hedge,
        function = caller.function,
        runs,
        error,
        code = view.kind(),
        via = caller.via.as_str(),
        "every hedged run failed"
    );
}
