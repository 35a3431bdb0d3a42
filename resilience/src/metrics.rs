//! Metrics: what the breakers, retries, fallbacks and the monitor report through the
//! [`metrics`](https://docs.rs/metrics) facade, with the `metrics` feature.
//!
//! The crate records into whatever recorder the application installed (Prometheus,
//! StatsD, OpenTelemetry, a test recorder …); it installs none itself. Without the
//! feature every report below compiles to nothing.
//!
//! | name | kind | labels | when |
//! |---|---|---|---|
//! | `resilience_breaker_state` | gauge | `breaker` (+ `key`) | a breaker is made (closed) or changes state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled |
//! | `resilience_breaker_failures_total` | counter | `breaker` (+ `key`) | a breaker counts a call's outcome as a failure |
//! | `resilience_breaker_rejections_total` | counter | `breaker` (+ `key`) | a breaker (or an open parent of it) refuses a call |
//! | `resilience_breaker_open_period_seconds` | gauge | `breaker` (+ `key`) | a breaker opens: how long it stays open this time (`recovery_timeout`, grown by `recovery_factor` after failed trials) |
//! | `resilience_retries_total` | counter | `function` | `#[retry]` is about to run another attempt |
//! | `resilience_retry_exhausted_total` | counter | `function` | `#[retry]` gives up after retrying and returns the last error |
//! | `resilience_fallbacks_total` | counter | `function`, `fallback` | `#[fallback]` calls one of its fallbacks |
//! | `resilience_errors_total` | counter | `code`, `category` | the [monitor](crate::monitor()) records an error |
//! | `resilience_bulkhead_rejections_total` | counter | `bulkhead` (+ `key`) | a bulkhead refuses a call (`BulkheadFull`) |
//! | `resilience_rate_limited_total` | counter | `rate_limiter` (+ `key`) | a rate limiter refuses a call (`RateLimited`) |
//! | `resilience_hedges_total` | counter | `hedge` | `#[hedge]` starts an extra run |
//! | `resilience_hedge_wins_total` | counter | `hedge` | an extra run answers a hedged call first |
//! | `resilience_adaptive_limit` | gauge | `adaptive_limit` (+ `key`) | an adaptive limit's window closes: the limit after it |
//! | `resilience_adaptive_limit_in_flight` | gauge | `adaptive_limit` (+ `key`) | as above: the most calls in flight during the window |
//! | `resilience_adaptive_limit_rtt_seconds` | gauge | `adaptive_limit` (+ `key`) | as above: the window's mean round-trip time |
//! | `resilience_adaptive_limit_refused_total` | counter | `adaptive_limit` (+ `key`), `priority` | an adaptive limit refuses a call (`Overloaded`) |
//! | `resilience_chaos_injected_total` | counter | `site`, `fault` | fault injection (feature `chaos`) injects a fault (`fault`: `error`, `latency`, `refusal`) |
//! | `resilience_call_duration_seconds` | histogram | `pattern`, `name`, `outcome` | a call through a pattern ends: a retried call (`pattern="retry"`, from its first attempt to its last, sleeps included), a call through an adaptive limit (`pattern="adaptive_limit"`), a call through a breaker once [`time_calls`] (or [`describe`]) said someone listens (`pattern="breaker"`); `outcome` is `success` or `failure` as the pattern counted it |
//! | `resilience_attempt_duration_seconds` | histogram | `pattern`, `name`, `outcome` | one attempt of a retried call ends (`pattern="retry"`; `outcome` `success` or `failure`) |
//!
//! Label values: `breaker` is the breaker's name, `function` the decorated function's
//! path (`my_app::board::fetch`, as in the tracing events), `fallback` the fallback as
//! written in the attribute, `code` the error's code (or type name for a
//! non-`MarcusError`), `category` its tier as serialized (`"transient"`, …). All of them
//! are names fixed in the code, never user input, so the series stay few.
//!
//! `(+ key)`: a keyed instance (`key = expr`, a layer's `.key(..)`, the reqwest
//! middleware's breaker per host) adds `key`, its key, so each key has its own series; an
//! unkeyed instance has no `key` label at all. The keys are bounded by `max_keys`: a
//! name's store never holds more live ones, and a new key a full store refuses is counted
//! on the name's series. A keyed breaker evicted to make room sets its state gauge to 0
//! (closed: what the key's next breaker starts as) and reports no more state there; the
//! counters keep their totals, the key's next instance counting on the same series.
//!
//! The names follow Prometheus's conventions (`_total` counters, base units in the name:
//! `_seconds`) and Polly's instruments: `resilience_call_duration_seconds` and
//! `resilience_attempt_duration_seconds` are Polly's `resilience.polly.pipeline.duration`
//! and `resilience.polly.strategy.attempt.duration`, with `pattern` and `name` for its
//! pipeline and strategy names. An OpenTelemetry exporter of the `metrics` facade shows
//! them as they are named here.
//!
//! Without the feature nothing is reported and nothing is timed. With it, the two
//! histograms are the only reports made on a successful call: a retried function reads
//! the clock at its start and end and records one call and one attempt duration (two
//! recorder lookups, on keys built once per site; `benches/events.rs` measures the
//! cost); an adaptive limit records the round trip it already measures. A call through a
//! closed breaker is timed only once someone listens ([`time_calls`], which
//! [`describe`] calls): until then it pays one relaxed load of that flag and reads no
//! clock. A call through a bulkhead or a rate limiter reports nothing (docs/events.md
//! says why). Every other
//! report happens off the hot path (a failure, a transition, a refusal, a retry), and
//! each breaker, bulkhead, rate limiter and adaptive limit builds its metric keys once,
//! when it is made, so a report is one recorder lookup and allocates nothing.
//!
//! ```
//! // With the feature on, after installing a recorder (an exporter's), give the
//! // series their help text. Without the feature this does nothing.
//! resilience::metrics::describe();
//! assert_eq!(resilience::metrics::BREAKER_STATE, "resilience_breaker_state");
//! ```

// Without the feature the reports' arguments go unused; they are still type-checked.
#![cfg_attr(not(feature = "metrics"), allow(unused_variables))]

use std::time::Duration;

use crate::Category;

/// Histogram: calls through a pattern, from start to end, in seconds, labelled
/// `pattern`, `name` and `outcome` (`success`, `failure`).
///
/// ```
/// assert_eq!(resilience::metrics::CALL_DURATION, "resilience_call_duration_seconds");
/// ```
pub const CALL_DURATION: &str = "resilience_call_duration_seconds";
/// Histogram: attempts of a retried call, in seconds, labelled `pattern`, `name` and
/// `outcome`.
///
/// ```
/// assert!(resilience::metrics::ATTEMPT_DURATION.ends_with("_seconds"));
/// ```
pub const ATTEMPT_DURATION: &str = "resilience_attempt_duration_seconds";

/// Gauge: each breaker's state, labelled `breaker` (and `key` when keyed); see
/// [`breaker::state_value`](crate::breaker::state_value) for the values.
///
/// ```
/// assert_eq!(resilience::metrics::BREAKER_STATE, "resilience_breaker_state");
/// ```
pub const BREAKER_STATE: &str = "resilience_breaker_state";
/// Counter: call outcomes a breaker counted as failures, labelled `breaker`.
///
/// ```
/// assert!(resilience::metrics::BREAKER_FAILURES.ends_with("_total"));
/// ```
pub const BREAKER_FAILURES: &str = "resilience_breaker_failures_total";
/// Counter: calls a breaker refused, labelled `breaker`.
///
/// ```
/// assert!(resilience::metrics::BREAKER_REJECTIONS.ends_with("_total"));
/// ```
pub const BREAKER_REJECTIONS: &str = "resilience_breaker_rejections_total";
/// Gauge: how long each breaker stays open at its latest opening, in seconds, labelled
/// `breaker` (`recovery_timeout`, grown by `recovery_factor` while trials fail).
///
/// ```
/// assert!(resilience::metrics::BREAKER_OPEN_PERIOD.ends_with("_seconds"));
/// ```
pub const BREAKER_OPEN_PERIOD: &str = "resilience_breaker_open_period_seconds";
/// Counter: attempts `#[retry]` ran after a failed one, labelled `function`.
///
/// ```
/// assert!(resilience::metrics::RETRIES.ends_with("_total"));
/// ```
pub const RETRIES: &str = "resilience_retries_total";
/// Counter: calls `#[retry]` gave up on after retrying, labelled `function`.
///
/// ```
/// assert!(resilience::metrics::RETRY_EXHAUSTED.ends_with("_total"));
/// ```
pub const RETRY_EXHAUSTED: &str = "resilience_retry_exhausted_total";
/// Counter: fallbacks taken, labelled `function` and `fallback`.
///
/// ```
/// assert!(resilience::metrics::FALLBACKS.ends_with("_total"));
/// ```
pub const FALLBACKS: &str = "resilience_fallbacks_total";
/// Counter: errors the monitor recorded, labelled `code` and `category`.
///
/// ```
/// assert!(resilience::metrics::ERRORS.ends_with("_total"));
/// ```
pub const ERRORS: &str = "resilience_errors_total";
/// Counter: calls a bulkhead refused, labelled `bulkhead` (its name) and, for a keyed
/// instance, `key`.
///
/// ```
/// assert!(resilience::metrics::BULKHEAD_REJECTIONS.ends_with("_total"));
/// ```
pub const BULKHEAD_REJECTIONS: &str = "resilience_bulkhead_rejections_total";
/// Counter: calls a rate limiter refused, labelled `rate_limiter` (its name) and, for a
/// keyed instance, `key`.
///
/// ```
/// assert!(resilience::metrics::RATE_LIMITED.ends_with("_total"));
/// ```
pub const RATE_LIMITED: &str = "resilience_rate_limited_total";
/// Counter: extra runs `#[hedge]` started, labelled `hedge` (the hedge's name).
///
/// ```
/// assert_eq!(resilience::metrics::HEDGES, "resilience_hedges_total");
/// ```
pub const HEDGES: &str = "resilience_hedges_total";
/// Counter: hedged calls answered by an extra run rather than the first, labelled `hedge`.
///
/// ```
/// assert_eq!(resilience::metrics::HEDGE_WINS, "resilience_hedge_wins_total");
/// ```
pub const HEDGE_WINS: &str = "resilience_hedge_wins_total";

/// Counter: faults injected (feature `chaos`), labelled `site` (a breaker's, bulkhead's,
/// rate limiter's, hedge's or function's name) and `fault` (`error`, `latency`, `refusal`).
///
/// ```
/// assert_eq!(resilience::metrics::CHAOS_INJECTED, "resilience_chaos_injected_total");
/// ```
pub const CHAOS_INJECTED: &str = "resilience_chaos_injected_total";

/// Gauge: an adaptive limit's limit, labelled `adaptive_limit`.
///
/// ```
/// assert_eq!(resilience::metrics::ADAPTIVE_LIMIT, "resilience_adaptive_limit");
/// ```
pub const ADAPTIVE_LIMIT: &str = "resilience_adaptive_limit";
/// Gauge: the most calls in flight through an adaptive limit during its last window,
/// labelled `adaptive_limit`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_IN_FLIGHT.ends_with("_in_flight"));
/// ```
pub const ADAPTIVE_LIMIT_IN_FLIGHT: &str = "resilience_adaptive_limit_in_flight";
/// Gauge: the mean round-trip time of an adaptive limit's last window, in seconds,
/// labelled `adaptive_limit`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_RTT.ends_with("_seconds"));
/// ```
pub const ADAPTIVE_LIMIT_RTT: &str = "resilience_adaptive_limit_rtt_seconds";
/// Counter: calls an adaptive limit refused, labelled `adaptive_limit` and `priority`.
///
/// ```
/// assert!(resilience::metrics::ADAPTIVE_LIMIT_REFUSED.ends_with("_total"));
/// ```
pub const ADAPTIVE_LIMIT_REFUSED: &str = "resilience_adaptive_limit_refused_total";

/// Gives every series its help text in the installed recorder (an exporter shows it as
/// `# HELP`), and turns on the timing of calls through breakers ([`time_calls`]): a
/// recorder listens. Call it once, after installing the recorder; a no-op without the
/// feature.
///
/// ```
/// resilience::metrics::describe();
/// ```
pub fn describe() {
    #[cfg(feature = "metrics")]
    {
        use ::metrics::{describe_counter, describe_gauge};
        time_calls(true);
        describe_gauge!(
            BREAKER_STATE,
            "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 forced open, 4 disabled."
        );
        describe_counter!(
            BREAKER_FAILURES,
            "Call outcomes a circuit breaker counted as failures."
        );
        describe_counter!(BREAKER_REJECTIONS, "Calls a circuit breaker refused.");
        describe_gauge!(
            BREAKER_OPEN_PERIOD,
            "How long a circuit breaker stays open at its latest opening, in seconds."
        );
        describe_counter!(RETRIES, "Attempts run again after a failure.");
        describe_counter!(RETRY_EXHAUSTED, "Calls that failed after retrying.");
        describe_counter!(FALLBACKS, "Fallbacks taken after a failed call.");
        describe_counter!(ERRORS, "Errors recorded by the error monitor.");
        describe_counter!(BULKHEAD_REJECTIONS, "Calls a bulkhead refused.");
        describe_counter!(RATE_LIMITED, "Calls a rate limiter refused.");
        describe_counter!(HEDGES, "Extra runs started by #[hedge].");
        describe_counter!(HEDGE_WINS, "Hedged calls answered by an extra run.");
        describe_gauge!(ADAPTIVE_LIMIT, "Calls an adaptive limit allows at once.");
        describe_gauge!(
            ADAPTIVE_LIMIT_IN_FLIGHT,
            "Most calls in flight through an adaptive limit in its last window."
        );
        describe_gauge!(
            ADAPTIVE_LIMIT_RTT,
            "Mean round-trip time of an adaptive limit's last window, in seconds."
        );
        describe_counter!(ADAPTIVE_LIMIT_REFUSED, "Calls an adaptive limit refused.");
        ::metrics::describe_histogram!(
            CALL_DURATION,
            ::metrics::Unit::Seconds,
            "Calls through a pattern, from start to end (a retried call's sleeps included)."
        );
        ::metrics::describe_histogram!(
            ATTEMPT_DURATION,
            ::metrics::Unit::Seconds,
            "Attempts of a retried call."
        );
    }
}

/// How a timed call or attempt ended: the `outcome` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    Success,
    Failure,
}

/// One instance's duration histograms, their keys built once (a report is one recorder
/// lookup, no allocation). Zero-sized and a no-op without the feature.
pub(crate) struct Durations {
    #[cfg(feature = "metrics")]
    keys: Box<[::metrics::Key; 4]>,
}

#[cfg(feature = "metrics")]
static DURATION_METADATA: ::metrics::Metadata<'static> =
    ::metrics::Metadata::new("resilience", ::metrics::Level::INFO, Some(module_path!()));

/// Whether someone asked for the call durations of the patterns whose success path reads
/// no clock of its own (breakers): [`time_calls`].
#[cfg(feature = "metrics")]
static CALLS_TIMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Times every call through a circuit breaker into `resilience_call_duration_seconds`
/// (`pattern="breaker"`) from now on, or (`false`) stops. Off until asked, because a
/// call through a closed breaker otherwise reads no clock: [`describe`], which an
/// application calls once its recorder is installed, turns it on. Retries and adaptive
/// limits are timed either way. A no-op without the `metrics` feature.
///
/// ```
/// // After installing the recorder (`describe()` does this too):
/// resilience::metrics::time_calls(true);
/// ```
pub fn time_calls(on: bool) {
    #[cfg(feature = "metrics")]
    CALLS_TIMED.store(on, std::sync::atomic::Ordering::Relaxed);
}

impl Durations {
    /// Whether durations are measured at all (the `metrics` feature).
    pub(crate) const TIMED: bool = cfg!(feature = "metrics");

    /// Whether a call through a breaker is to be timed ([`time_calls`]): one relaxed
    /// load with the feature, `false` (and the code it guards gone) without.
    #[inline(always)]
    pub(crate) fn calls_wanted() -> bool {
        #[cfg(feature = "metrics")]
        return CALLS_TIMED.load(std::sync::atomic::Ordering::Relaxed);
        #[cfg(not(feature = "metrics"))]
        false
    }

    /// The histograms of `pattern`'s instance `name`.
    pub(crate) fn new(pattern: &'static str, name: &'static str) -> Durations {
        #[cfg(feature = "metrics")]
        {
            let key = |metric: &'static str, outcome: &'static str| {
                ::metrics::Key::from_parts(
                    metric,
                    vec![
                        ::metrics::Label::new("pattern", pattern),
                        ::metrics::Label::new("name", name),
                        ::metrics::Label::new("outcome", outcome),
                    ],
                )
            };
            Durations {
                keys: Box::new([
                    key(CALL_DURATION, "success"),
                    key(CALL_DURATION, "failure"),
                    key(ATTEMPT_DURATION, "success"),
                    key(ATTEMPT_DURATION, "failure"),
                ]),
            }
        }
        #[cfg(not(feature = "metrics"))]
        Durations {}
    }

    /// A call ended with `outcome` after `took`.
    #[inline]
    pub(crate) fn call(&self, outcome: Outcome, took: Duration) {
        #[cfg(feature = "metrics")]
        self.record(outcome as usize, took);
    }

    /// An attempt ended with `outcome` after `took`.
    #[inline]
    pub(crate) fn attempt(&self, outcome: Outcome, took: Duration) {
        #[cfg(feature = "metrics")]
        self.record(2 + outcome as usize, took);
    }

    #[cfg(feature = "metrics")]
    #[inline]
    fn record(&self, key: usize, took: Duration) {
        ::metrics::with_recorder(|r| {
            r.register_histogram(&self.keys[key], &DURATION_METADATA)
                .record(took.as_secs_f64());
        });
    }
}

impl core::fmt::Debug for Durations {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Durations")
    }
}

/// The labels of one instance's series: its name under `label` (`breaker`,
/// `bulkhead`, …), and for a keyed instance (`key = expr`) its key under `key`. An
/// unkeyed instance's labels are the name's alone, as they always were. The key label's
/// values are bounded by `max_keys`: a name's keyed store never holds more live keys,
/// and a new key it refuses (a full store) is counted on the name's own series. The key
/// is shared with the store (an `Arc`), not copied.
#[cfg(feature = "metrics")]
pub(crate) fn instance_labels(
    label: &'static str,
    name: &'static str,
    key: Option<&std::sync::Arc<str>>,
) -> Vec<::metrics::Label> {
    let mut labels = vec![::metrics::Label::new(label, name)];
    if let Some(key) = key {
        labels.push(::metrics::Label::new("key", key.clone()));
    }
    labels
}

/// One instance's counter of one series (a bulkhead's or a rate limiter's refusals),
/// its key built once with [`instance_labels`]: a report is one recorder lookup and
/// allocates nothing. Zero-sized and a no-op without the feature.
pub(crate) struct InstanceCounter {
    #[cfg(feature = "metrics")]
    key: Box<::metrics::Key>,
}

impl InstanceCounter {
    /// The counter `metric` of the instance `name` (keyed by `key`), labelled as
    /// [`instance_labels`] says.
    pub(crate) fn new(
        metric: &'static str,
        label: &'static str,
        name: &'static str,
        key: Option<&std::sync::Arc<str>>,
    ) -> InstanceCounter {
        #[cfg(feature = "metrics")]
        {
            let labels = instance_labels(label, name, key);
            InstanceCounter {
                key: Box::new(::metrics::Key::from_parts(metric, labels)),
            }
        }
        #[cfg(not(feature = "metrics"))]
        InstanceCounter {}
    }

    /// One more.
    #[inline]
    pub(crate) fn increment(&self) {
        #[cfg(feature = "metrics")]
        ::metrics::with_recorder(|r| {
            r.register_counter(&self.key, &INSTANCE_METADATA)
                .increment(1);
        });
    }
}

impl core::fmt::Debug for InstanceCounter {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("InstanceCounter")
    }
}

#[cfg(feature = "metrics")]
static INSTANCE_METADATA: ::metrics::Metadata<'static> =
    ::metrics::Metadata::new("resilience", ::metrics::Level::INFO, Some(module_path!()));

/// A bulkhead's refusals (`resilience_bulkhead_rejections_total`).
pub(crate) fn bulkhead_rejections(
    name: &'static str,
    key: Option<&std::sync::Arc<str>>,
) -> InstanceCounter {
    InstanceCounter::new(BULKHEAD_REJECTIONS, "bulkhead", name, key)
}

/// A rate limiter's refusals (`resilience_rate_limited_total`).
pub(crate) fn rate_limited(
    name: &'static str,
    key: Option<&std::sync::Arc<str>>,
) -> InstanceCounter {
    InstanceCounter::new(RATE_LIMITED, "rate_limiter", name, key)
}

// The other reports happen only after a failure, off the hot path; their labels are
// `&'static str`, borrowed as they are.

/// `#[retry]` on `function` is about to run another attempt.
#[inline]
pub(crate) fn retry(function: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(RETRIES, "function" => function).increment(1);
}

/// `#[retry]` on `function` gave up after retrying.
#[inline]
pub(crate) fn retry_exhausted(function: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(RETRY_EXHAUSTED, "function" => function).increment(1);
}

/// `function` failed and `#[fallback]` calls `fallback`.
#[inline]
pub(crate) fn fallback(function: &'static str, fallback: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(FALLBACKS, "function" => function, "fallback" => fallback).increment(1);
}

/// The monitor recorded an error with `code` in `category`.
#[inline]
pub(crate) fn error_recorded(code: &'static str, category: Category) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(ERRORS, "code" => code, "category" => category.as_str()).increment(1);
}

/// Chaos injected a `fault` at `site`.
#[cfg(feature = "chaos")]
#[inline]
pub(crate) fn chaos_injected(site: &'static str, fault: &'static str) {
    #[cfg(feature = "metrics")]
    ::metrics::counter!(CHAOS_INJECTED, "site" => site, "fault" => fault).increment(1);
}

#[cfg(all(test, feature = "metrics"))]
pub(crate) mod tests {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Mutex;

    use ::metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::*;

    /// Keeps every counter and gauge by its key, rendered as `name{label=value,…}`.
    /// (The patterns' own tests use it to check what they count.)
    #[derive(Default)]
    pub(crate) struct Capture {
        series: Mutex<HashMap<String, std::sync::Arc<AtomicU64>>>,
    }

    impl Capture {
        fn cell(&self, key: &Key) -> std::sync::Arc<AtomicU64> {
            let labels: Vec<String> = key
                .labels()
                .map(|l| format!("{}={}", l.key(), l.value()))
                .collect();
            let id = format!("{}{{{}}}", key.name(), labels.join(","));
            let mut series = self
                .series
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            series.entry(id).or_default().clone()
        }

        pub(crate) fn read(&self, id: &str) -> Option<u64> {
            let series = self
                .series
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            series.get(id).map(|cell| cell.load(Ordering::Relaxed))
        }
    }

    impl Recorder for Capture {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

        fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> Counter {
            Counter::from_arc(self.cell(key))
        }

        fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> Gauge {
            // `AtomicU64` as a gauge holds the `f64`'s bits.
            Gauge::from_arc(self.cell(key))
        }

        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            Histogram::noop()
        }
    }

    #[test]
    fn every_report_names_its_series_and_labels() {
        let capture = Capture::default();
        ::metrics::with_local_recorder(&capture, || {
            retry("fetch");
            retry_exhausted("fetch");
            error_recorded("KANBAN_TIMEOUT", Category::Transient);
        });
        assert_eq!(
            capture.read("resilience_retries_total{function=fetch}"),
            Some(1)
        );
        assert_eq!(
            capture.read("resilience_retry_exhausted_total{function=fetch}"),
            Some(1)
        );
        assert_eq!(
            capture.read("resilience_errors_total{code=KANBAN_TIMEOUT,category=transient}"),
            Some(1)
        );
    }
}
