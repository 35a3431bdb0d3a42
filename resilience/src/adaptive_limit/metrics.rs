//! An adaptive limit's metrics (feature `metrics`), reported as each window closes and
//! at each refusal; never on an admitted call. Named in `crate::metrics`' table.

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use super::window::Closed;
use super::Priority;

#[cfg(feature = "metrics")]
use crate::metrics::{
    ADAPTIVE_LIMIT as LIMIT, ADAPTIVE_LIMIT_IN_FLIGHT as IN_FLIGHT,
    ADAPTIVE_LIMIT_REFUSED as REFUSED, ADAPTIVE_LIMIT_RTT as RTT,
};

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
