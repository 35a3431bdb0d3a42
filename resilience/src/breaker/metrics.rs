//! A breaker's metrics: its state gauge, failure and rejection counters (the series
//! are listed in [`crate::metrics`]), with the keys built once per breaker.

// Without the feature the reports' arguments go unused; they are still type-checked.
#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use std::sync::Arc;
use std::time::Duration;

use super::BreakerState;
#[cfg(feature = "metrics")]
use crate::metrics::{BREAKER_FAILURES, BREAKER_OPEN_PERIOD, BREAKER_REJECTIONS, BREAKER_STATE};

/// The value [`BREAKER_STATE`](crate::metrics::BREAKER_STATE) reports for `state`: 0 closed, 1 open, 2 half-open,
/// 3 forced open, 4 disabled. Alerting on "not 0 and not 4" catches every refusing state.
///
/// ```
/// use resilience::{breaker::state_value, BreakerState};
/// assert_eq!(state_value(BreakerState::Closed), 0.0);
/// assert_eq!(state_value(BreakerState::ForcedOpen), 3.0);
/// ```
pub const fn state_value(state: BreakerState) -> f64 {
    match state {
        BreakerState::Closed => 0.0,
        BreakerState::Open => 1.0,
        BreakerState::HalfOpen => 2.0,
        BreakerState::ForcedOpen => 3.0,
        BreakerState::Disabled => 4.0,
    }
}

/// One breaker's reports, with its metric keys built once when the breaker is made.
///
/// A report must not allocate: a key with a dynamic label (`counter!(.., "breaker" =>
/// name)`) would build a label vector each time, so the keys live here and a report is
/// one recorder lookup. Without the feature this is a
/// zero-sized no-op; with it, one pointer.
pub(crate) struct BreakerMetrics {
    #[cfg(feature = "metrics")]
    keys: Box<BreakerKeys>,
}

#[cfg(feature = "metrics")]
struct BreakerKeys {
    state: ::metrics::Key,
    failures: ::metrics::Key,
    rejections: ::metrics::Key,
    open_period: ::metrics::Key,
    /// Set when a keyed breaker leaves its store: its state gauge is left closed.
    evicted: std::sync::atomic::AtomicBool,
}

#[cfg(feature = "metrics")]
static BREAKER_METADATA: ::metrics::Metadata<'static> = ::metrics::Metadata::new(
    "resilience::breaker",
    ::metrics::Level::INFO,
    Some(module_path!()),
);

impl BreakerMetrics {
    /// The reports of the breaker `name` (for `key`, when keyed), which has just been
    /// made (closed): its state gauge is set at once, so the series exists before the
    /// first transition. A keyed breaker's series carry `key` beside `breaker`.
    pub(crate) fn new(name: &'static str, key: Option<&Arc<str>>) -> BreakerMetrics {
        #[cfg(feature = "metrics")]
        {
            // The labels borrow the breaker's interned name and share the store's key
            // instead of copying them.
            let labels = crate::metrics::instance_labels("breaker", name, key);
            let key = |metric: &'static str| ::metrics::Key::from_parts(metric, labels.clone());
            let metrics = BreakerMetrics {
                keys: Box::new(BreakerKeys {
                    state: key(BREAKER_STATE),
                    failures: key(BREAKER_FAILURES),
                    rejections: key(BREAKER_REJECTIONS),
                    open_period: key(BREAKER_OPEN_PERIOD),
                    evicted: std::sync::atomic::AtomicBool::new(false),
                }),
            };
            metrics.state(BreakerState::Closed);
            metrics
        }
        #[cfg(not(feature = "metrics"))]
        BreakerMetrics {}
    }

    /// The breaker moved to `state`. Once [`evicted`](Self::evicted), the gauge is no
    /// longer this breaker's: a call still holding it changes nothing there.
    #[inline]
    pub(crate) fn state(&self, state: BreakerState) {
        #[cfg(feature = "metrics")]
        if !self.keys.evicted.load(std::sync::atomic::Ordering::Relaxed) {
            self.set_state(state);
        }
    }

    #[cfg(feature = "metrics")]
    fn set_state(&self, state: BreakerState) {
        ::metrics::with_recorder(|r| {
            r.register_gauge(&self.keys.state, &BREAKER_METADATA)
                .set(state_value(state));
        });
    }

    /// The keyed breaker left its store (`max_keys`): its key's next call makes a new,
    /// closed breaker, so the state gauge says closed (0) from now on, whatever this one
    /// does while a running call still holds it. The counters keep their totals (the
    /// key's next breaker counts on the same series).
    #[cold]
    pub(crate) fn evicted(&self) {
        #[cfg(feature = "metrics")]
        {
            self.keys
                .evicted
                .store(true, std::sync::atomic::Ordering::Relaxed);
            self.set_state(BreakerState::Closed);
        }
    }

    /// The breaker counted a call's outcome as a failure.
    #[inline]
    pub(crate) fn failure(&self) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            r.register_counter(&self.keys.failures, &BREAKER_METADATA)
                .increment(1);
        });
    }

    /// The breaker opened for `period` (its open period: `recovery_timeout`, grown by
    /// `recovery_factor` after failed trials).
    #[inline]
    pub(crate) fn open_period(&self, period: Duration) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            r.register_gauge(&self.keys.open_period, &BREAKER_METADATA)
                .set(period.as_secs_f64());
        });
    }

    /// The breaker refused a call.
    #[inline]
    pub(crate) fn rejection(&self) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            r.register_counter(&self.keys.rejections, &BREAKER_METADATA)
                .increment(1);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_values_are_distinct_and_in_declaration_order() {
        let values: Vec<f64> = BreakerState::ALL.iter().map(|s| state_value(*s)).collect();
        assert_eq!(values, [0.0, 1.0, 2.0, 3.0, 4.0]);
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn a_breakers_reports_name_its_series_and_label() {
        let capture = crate::metrics::tests::Capture::default();
        ::metrics::with_local_recorder(&capture, || {
            let breaker = BreakerMetrics::new("kanban", None);
            let made = capture.read("resilience_breaker_state{breaker=kanban}");
            assert_eq!(made.map(f64::from_bits), Some(0.0), "closed when made");
            breaker.state(BreakerState::HalfOpen);
            breaker.failure();
            breaker.failure();
            breaker.rejection();
            breaker.open_period(Duration::from_millis(2500));
        });
        let period = capture
            .read("resilience_breaker_open_period_seconds{breaker=kanban}")
            .map(f64::from_bits);
        assert_eq!(period, Some(2.5));
        let gauge = capture
            .read("resilience_breaker_state{breaker=kanban}")
            .map(f64::from_bits);
        assert_eq!(gauge, Some(2.0));
        assert_eq!(
            capture.read("resilience_breaker_failures_total{breaker=kanban}"),
            Some(2)
        );
        assert_eq!(
            capture.read("resilience_breaker_rejections_total{breaker=kanban}"),
            Some(1)
        );
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn a_keyed_breakers_series_carry_its_key_and_an_unkeyed_ones_none() {
        let capture = crate::metrics::tests::Capture::default();
        let key: Arc<str> = "api.example:443".into();
        ::metrics::with_local_recorder(&capture, || {
            let keyed = BreakerMetrics::new("hosts", Some(&key));
            keyed.state(BreakerState::Open);
            keyed.rejection();
            BreakerMetrics::new("hosts", None).failure();
        });
        let keyed = "breaker=hosts,key=api.example:443";
        let state = capture.read(&format!("resilience_breaker_state{{{keyed}}}"));
        assert_eq!(state.map(f64::from_bits), Some(1.0));
        assert_eq!(
            capture.read(&format!("resilience_breaker_rejections_total{{{keyed}}}")),
            Some(1)
        );
        assert_eq!(
            capture.read("resilience_breaker_failures_total{breaker=hosts}"),
            Some(1)
        );
        assert_eq!(
            capture.read(&format!("resilience_breaker_failures_total{{{keyed}}}")),
            None
        );
    }

    #[cfg(feature = "metrics")]
    #[test]
    fn an_evicted_keyed_breakers_gauge_says_closed_whatever_it_does_after() {
        use crate::keyed::Keyed;
        use crate::BreakerConfig;

        let capture = crate::metrics::tests::Capture::default();
        let clock: Arc<dyn crate::clock::Clock> = Arc::new(crate::clock::ManualClock::new());
        let config = BreakerConfig {
            max_keys: 1,
            ..Default::default()
        };
        let state = |key: &str| {
            capture
                .read(&format!(
                    "resilience_breaker_state{{breaker=evicted,key={key}}}"
                ))
                .map(f64::from_bits)
        };
        ::metrics::with_local_recorder(&capture, || {
            let store: Keyed<super::super::Breaker> = Keyed::new("evicted", config, clock);
            let a = store.get("a").unwrap();
            a.force_open();
            assert_eq!(state("a"), Some(3.0), "forced open while live");
            // `b` takes the only place: `a` goes, held still by a running call.
            let _b = store.get("b").unwrap();
            assert!(store.find("a").is_none());
            assert_eq!(state("a"), Some(0.0), "an evicted key's gauge says closed");
            a.force_open();
            assert_eq!(
                state("a"),
                Some(0.0),
                "the evicted breaker no longer reports"
            );
            assert_eq!(state("b"), Some(0.0));
        });
    }
}
