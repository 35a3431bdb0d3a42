//! An adaptive limit's metrics (feature `metrics`), reported as each window closes and
//! at each refusal; never on an admitted call. Named in `crate::metrics`' table.

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use super::window::Closed;
use super::Priority;

/// Gauge: the limit, labelled `adaptive_limit`.
///
/// ```
/// assert_eq!(resilience::metrics::ADAPTIVE_LIMIT, "resilience_adaptive_limit");
/// ```
pub const LIMIT: &str = "resilience_adaptive_limit";
/// Gauge: the most calls in flight during the last window, labelled `adaptive_limit`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_IN_FLIGHT.ends_with("_in_flight"));
/// ```
pub const IN_FLIGHT: &str = "resilience_adaptive_limit_in_flight";
/// Gauge: the mean round-trip time of the last window, in seconds, labelled `adaptive_limit`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_RTT.ends_with("_seconds"));
/// ```
pub const RTT: &str = "resilience_adaptive_limit_rtt_seconds";
/// Counter: calls refused, labelled `adaptive_limit` and `priority`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_REFUSED.ends_with("_total"));
/// ```
pub const REFUSED: &str = "resilience_adaptive_limit_refused_total";

/// A window closed with `limit` in force after it.
pub(super) fn window(name: &'static str, limit: u32, window: Closed) {
    #[cfg(feature = "metrics")]
    {
        ::metrics::gauge!(LIMIT, "adaptive_limit" => name).set(f64::from(limit));
        ::metrics::gauge!(IN_FLIGHT, "adaptive_limit" => name).set(f64::from(window.max_in_flight));
        if window.rtt != 0 {
            ::metrics::gauge!(RTT, "adaptive_limit" => name).set(window.rtt as f64 / 1e9);
        }
    }
}

/// A call of `priority` was refused.
pub(super) fn refused(name: &'static str, priority: Priority) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(REFUSED, "adaptive_limit" => name, "priority" => priority.as_str())
        .increment(1);
}

/// Gives the series their help text.
#[cfg(feature = "metrics")]
pub(crate) fn describe() {
    use ::metrics::{describe_counter, describe_gauge};
    describe_gauge!(LIMIT, "Calls an adaptive limit allows at once.");
    describe_gauge!(
        IN_FLIGHT,
        "Most calls in flight through an adaptive limit in its last window."
    );
    describe_gauge!(
        RTT,
        "Mean round-trip time of an adaptive limit's last window, in seconds."
    );
    describe_counter!(REFUSED, "Calls an adaptive limit refused.");
}
