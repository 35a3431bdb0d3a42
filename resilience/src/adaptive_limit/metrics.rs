//! An adaptive limit's metrics (feature `metrics`), reported as each window closes and
//! at each refusal; never on an admitted call. Named in `crate::metrics`' table. The keys
//! are built once per limiter (its name, and its key when keyed), so a report is one
//! recorder lookup and allocates nothing.

#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use std::sync::Arc;

use super::window::Closed;
use super::Priority;

#[cfg(feature = "metrics")]
use crate::metrics::{
    ADAPTIVE_LIMIT as LIMIT, ADAPTIVE_LIMIT_IN_FLIGHT as IN_FLIGHT,
    ADAPTIVE_LIMIT_REFUSED as REFUSED, ADAPTIVE_LIMIT_RTT as RTT,
};

/// One limiter's series. Zero-sized and a no-op without the feature.
pub(super) struct LimitMetrics {
    #[cfg(feature = "metrics")]
    keys: Box<Keys>,
}

#[cfg(feature = "metrics")]
struct Keys {
    limit: ::metrics::Key,
    in_flight: ::metrics::Key,
    rtt: ::metrics::Key,
    /// By [`Priority`], in declaration order.
    refused: [::metrics::Key; 4],
}

#[cfg(feature = "metrics")]
static METADATA: ::metrics::Metadata<'static> = ::metrics::Metadata::new(
    "resilience::adaptive_limit",
    ::metrics::Level::INFO,
    Some(module_path!()),
);

impl LimitMetrics {
    /// The series of the limiter `name` (for `key`, when keyed).
    pub(super) fn new(name: &'static str, key: Option<&Arc<str>>) -> LimitMetrics {
        #[cfg(feature = "metrics")]
        {
            let labels = crate::metrics::instance_labels("adaptive_limit", name, key);
            let key = |metric: &'static str| ::metrics::Key::from_parts(metric, labels.clone());
            let refused = |priority: Priority| {
                let mut labels = labels.clone();
                labels.push(::metrics::Label::new("priority", priority.as_str()));
                ::metrics::Key::from_parts(REFUSED, labels)
            };
            LimitMetrics {
                keys: Box::new(Keys {
                    limit: key(LIMIT),
                    in_flight: key(IN_FLIGHT),
                    rtt: key(RTT),
                    refused: [
                        refused(Priority::Low),
                        refused(Priority::Normal),
                        refused(Priority::High),
                        refused(Priority::Critical),
                    ],
                }),
            }
        }
        #[cfg(not(feature = "metrics"))]
        LimitMetrics {}
    }

    /// A window closed with `limit` in force after it.
    pub(super) fn window(&self, limit: u32, window: Closed) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            let keys = &self.keys;
            r.register_gauge(&keys.limit, &METADATA)
                .set(f64::from(limit));
            r.register_gauge(&keys.in_flight, &METADATA)
                .set(f64::from(window.max_in_flight));
            if window.rtt != 0 {
                r.register_gauge(&keys.rtt, &METADATA)
                    .set(window.rtt as f64 / 1e9);
            }
        });
    }

    /// A call of `priority` was refused.
    pub(super) fn refused(&self, priority: Priority) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            r.register_counter(&self.keys.refused[priority as usize], &METADATA)
                .increment(1);
        });
    }
}

impl core::fmt::Debug for LimitMetrics {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("LimitMetrics")
    }
}

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_counted_by_priority_in_declaration_order() {
        let capture = crate::metrics::tests::Capture::default();
        let key: Arc<str> = "eu".into();
        ::metrics::with_local_recorder(&capture, || {
            let metrics = LimitMetrics::new("search", Some(&key));
            metrics.refused(Priority::High);
            metrics.refused(Priority::Low);
            metrics.refused(Priority::Low);
        });
        let read = |priority: &str| {
            capture.read(&format!(
                "resilience_adaptive_limit_refused_total{{adaptive_limit=search,key=eu,priority={priority}}}"
            ))
        };
        assert_eq!(
            (read("low"), read("high"), read("normal")),
            (Some(2), Some(1), None)
        );
    }
}
