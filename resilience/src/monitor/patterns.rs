//! Pattern detection over the retained history: frequency, burst, agent-specific and
//! cascade patterns, evaluated at the moment they are asked for.
//!
//! Nothing is kept between calls: a pattern is active while its condition holds over
//! its window, and the only state is the bounded history, so memory stays flat however
//! many errors, agents or types pass by.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::record::ErrorRecord;
use super::{secs, MonitorConfig};
use crate::error::rfc3339;

/// Tolerance of similarity comparisons, so that 0.4 + 0.3 counts as 0.7.
pub(crate) const EPSILON: f64 = 1e-9;

/// The four kinds of pattern of the reference's detection engine.
///
/// ```
/// use resilience::monitor::PatternKind;
/// assert_eq!(serde_json::to_value(PatternKind::AgentSpecific).unwrap(), "agent_specific");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// One error type, over and over: `frequency_threshold` in `frequency_window`.
    Frequency,
    /// Many errors of any type: `burst_threshold` in `burst_window`.
    Burst,
    /// Many errors from one agent: `agent_threshold` in `agent_window`.
    AgentSpecific,
    /// Related errors in sequence: `cascade_threshold` errors at least
    /// `cascade_similarity` similar to one of them, in `cascade_window`.
    Cascade,
}

/// An active pattern: which kind, about what, how many errors, over which window.
///
/// ```
/// use resilience::clock::ManualClock;
/// use resilience::monitor::{Monitor, MonitorConfig, PatternKind};
/// use resilience::{Category, MarcusError};
/// use std::{sync::Arc, time::Duration};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("timeout")]
/// struct Timeout;
/// impl MarcusError for Timeout {
///     fn code(&self) -> &'static str { "TIMEOUT" }
///     fn category(&self) -> Category { Category::Transient }
/// }
///
/// let clock = ManualClock::new();
/// let monitor = Monitor::new(MonitorConfig::default()).unwrap().with_clock(Arc::new(clock.clone()));
/// for _ in 0..5 {
///     monitor.record(&Timeout);
///     clock.advance(Duration::from_secs(60));
/// }
/// let frequency = monitor
///     .patterns()
///     .into_iter()
///     .find(|p| p.kind == PatternKind::Frequency)
///     .unwrap();
/// assert_eq!((frequency.key.as_str(), frequency.count), ("TIMEOUT", 5));
/// let spread = frequency.last_seen.duration_since(frequency.first_seen).unwrap();
/// assert_eq!(spread, Duration::from_secs(240));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// Which kind.
    pub kind: PatternKind,
    /// What it is about: the error code (`Frequency`, `Cascade`), the agent id
    /// (`AgentSpecific`), or `"*"` (`Burst`).
    pub key: String,
    /// How many errors make it, in its window now.
    pub count: usize,
    /// The window it was detected over (serialized as seconds).
    #[serde(with = "secs")]
    pub window: Duration,
    /// The earliest of its errors.
    #[serde(with = "rfc3339")]
    pub first_seen: SystemTime,
    /// The latest of its errors.
    #[serde(with = "rfc3339")]
    pub last_seen: SystemTime,
    /// For a `Cascade`: the operation of the error the others resemble.
    pub operation: Option<String>,
    /// For a `Cascade`: the integration of the error the others resemble.
    pub integration: Option<String>,
}

/// A count with the earliest and latest time (on the monitor's clock) it covers.
#[derive(Clone, Copy)]
struct Tally {
    count: usize,
    first: Duration,
    last: Duration,
}

impl Tally {
    fn new(at: Duration) -> Tally {
        Tally {
            count: 1,
            first: at,
            last: at,
        }
    }

    fn add(&mut self, at: Duration) {
        self.count += 1;
        self.first = self.first.min(at);
        self.last = self.last.max(at);
    }

    fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
    }
}

/// The patterns active at `now` among `history`; `wall` turns clock time into wall time.
///
/// Cost: one pass per window, plus, for cascades, a comparison of each pair of distinct
/// (type, operation, integration) groups that can be similar at all, and a binary
/// search per error of a group whose similarity depends on time.
pub(crate) fn detect<'h>(
    history: impl Iterator<Item = &'h ErrorRecord> + Clone,
    config: &MonitorConfig,
    now: Duration,
    wall: impl Fn(Duration) -> SystemTime,
) -> Vec<Pattern> {
    // A record from "the future" (a clock set back) counts as just now.
    let within = |r: &ErrorRecord, window: Duration| now.saturating_sub(r.at) < window;
    let mut out = Vec::new();
    let mut pattern =
        |kind, key: &str, tally: Tally, window, cascade: Option<(Option<&str>, Option<&str>)>| {
            out.push(Pattern {
                kind,
                key: key.to_owned(),
                count: tally.count,
                window,
                first_seen: wall(tally.first),
                last_seen: wall(tally.last),
                operation: cascade.and_then(|c| c.0.map(str::to_owned)),
                integration: cascade.and_then(|c| c.1.map(str::to_owned)),
            })
        };

    let mut by_code: HashMap<&str, Tally> = HashMap::new();
    for r in history
        .clone()
        .filter(|r| within(r, config.frequency_window))
    {
        by_code
            .entry(r.code)
            .and_modify(|t| t.add(r.at))
            .or_insert_with(|| Tally::new(r.at));
    }
    for (code, tally) in sorted(by_code) {
        if tally.count >= config.frequency_threshold {
            pattern(
                PatternKind::Frequency,
                code,
                tally,
                config.frequency_window,
                None,
            );
        }
    }

    let burst = history
        .clone()
        .filter(|r| within(r, config.burst_window))
        .fold(None, |t: Option<Tally>, r| {
            Some(t.map_or_else(
                || Tally::new(r.at),
                |mut t| {
                    t.add(r.at);
                    t
                },
            ))
        });
    if let Some(tally) = burst.filter(|t| t.count >= config.burst_threshold) {
        pattern(PatternKind::Burst, "*", tally, config.burst_window, None);
    }

    let mut by_agent: HashMap<&str, Tally> = HashMap::new();
    for r in history.clone().filter(|r| within(r, config.agent_window)) {
        if let Some(agent) = r.agent_id.as_deref() {
            by_agent
                .entry(agent)
                .and_modify(|t| t.add(r.at))
                .or_insert_with(|| Tally::new(r.at));
        }
    }
    for (agent, tally) in sorted(by_agent) {
        if tally.count >= config.agent_threshold {
            pattern(
                PatternKind::AgentSpecific,
                agent,
                tally,
                config.agent_window,
                None,
            );
        }
    }

    let cascade = history.filter(|r| within(r, config.cascade_window));
    for (key, tally) in cascades(cascade, config) {
        pattern(
            PatternKind::Cascade,
            key.code,
            tally,
            config.cascade_window,
            Some((key.operation, key.integration)),
        );
    }
    out
}

fn sorted<V>(map: HashMap<&str, V>) -> Vec<(&str, V)> {
    let mut v: Vec<_> = map.into_iter().collect();
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    v
}

/// What similarity compares, apart from time.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Key<'h> {
    code: &'h str,
    operation: Option<&'h str>,
    integration: Option<&'h str>,
}

/// The traits a group must share with another to be compared with it at all.
type BucketKey<'h> = (Option<&'h str>, Option<Option<&'h str>>, Option<Option<&'h str>>);

/// Errors sharing one [`Key`], their times sorted.
struct Group<'h> {
    key: Key<'h>,
    times: Vec<Duration>,
}

/// For each error code, the largest cascade seeded by an error of that code: the seed
/// and every error in the window at least `cascade_similarity` similar to it (the seed
/// included, as in the reference), if there are `cascade_threshold` of them.
fn cascades<'h>(
    window: impl Iterator<Item = &'h ErrorRecord>,
    config: &MonitorConfig,
) -> Vec<(Key<'h>, Tally)> {
    let w = config.similarity_weights;
    let threshold = config.cascade_similarity - EPSILON;
    let mut groups: HashMap<Key<'h>, Vec<Duration>> = HashMap::new();
    for r in window {
        let key = Key {
            code: r.code,
            operation: r.operation.as_deref(),
            integration: r.integration.as_deref(),
        };
        groups.entry(key).or_default().push(r.at);
    }
    let mut groups: Vec<Group<'h>> = groups
        .into_iter()
        .map(|(key, mut times)| {
            times.sort_unstable();
            Group { key, times }
        })
        .collect();
    groups.sort_unstable_by(|a, b| a.key.cmp(&b.key));

    // A trait whose absence cannot be made up by all the others is required for any
    // similarity: only groups agreeing on it are compared (with the reference weights,
    // the error type).
    let required = |weight: f64| w.total() - weight < threshold;
    let (need_code, need_op, need_int) = (
        required(w.error_type),
        required(w.operation),
        required(w.integration),
    );
    let mut buckets: HashMap<BucketKey<'h>, Vec<usize>> = HashMap::new();
    for (i, g) in groups.iter().enumerate() {
        let k = g.key;
        let bucket = (
            need_code.then_some(k.code),
            need_op.then_some(k.operation),
            need_int.then_some(k.integration),
        );
        buckets.entry(bucket).or_default().push(i);
    }

    let mut best: HashMap<&'h str, (Key<'h>, Tally)> = HashMap::new();
    for members in buckets.values() {
        for &g in members {
            let seed = &groups[g];
            let mut always: Option<Tally> = None;
            let mut timed: Vec<Duration> = Vec::new();
            for &h in members {
                let other = &groups[h];
                let sim = similarity(&w, seed.key, other.key);
                if sim >= threshold {
                    let t = Tally {
                        count: other.times.len(),
                        first: other.times[0],
                        last: other.times[other.times.len() - 1],
                    };
                    match &mut always {
                        Some(a) => a.merge(t),
                        None => always = Some(t),
                    }
                } else if sim + w.time >= threshold {
                    timed.extend_from_slice(&other.times);
                }
            }
            timed.sort_unstable();
            let mut top: Option<Tally> = None;
            for &at in &seed.times {
                let mut tally = always;
                if !timed.is_empty() {
                    let lo = timed.partition_point(|&t| t + config.similarity_time <= at);
                    let hi = timed.partition_point(|&t| t < at + config.similarity_time);
                    if hi > lo {
                        let near = Tally {
                            count: hi - lo,
                            first: timed[lo],
                            last: timed[hi - 1],
                        };
                        match &mut tally {
                            Some(t) => t.merge(near),
                            None => tally = Some(near),
                        }
                    }
                }
                if let Some(t) = tally {
                    if top.is_none_or(|b| t.count > b.count) {
                        top = Some(t);
                    }
                }
                if timed.is_empty() {
                    break; // every seed of this group sees the same cluster
                }
            }
            if let Some(t) = top.filter(|t| t.count >= config.cascade_threshold) {
                let slot = best.entry(seed.key.code).or_insert((seed.key, t));
                if t.count > slot.1.count {
                    *slot = (seed.key, t);
                }
            }
        }
    }
    let mut out: Vec<_> = best.into_values().collect();
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The similarity of two errors apart from time: the weights of what they share.
fn similarity(w: &super::SimilarityWeights, a: Key<'_>, b: Key<'_>) -> f64 {
    let mut sim = 0.0;
    if a.code == b.code {
        sim += w.error_type;
    }
    if a.operation == b.operation {
        sim += w.operation;
    }
    if a.integration == b.integration {
        sim += w.integration;
    }
    sim
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key<'a>(code: &'a str, op: Option<&'a str>, int: Option<&'a str>) -> Key<'a> {
        Key {
            code,
            operation: op,
            integration: int,
        }
    }

    #[test]
    fn similarity_follows_the_reference_weights() {
        let w = super::super::SimilarityWeights::default();
        let s = |a, b| similarity(&w, a, b);
        assert!((s(key("A", Some("x"), None), key("A", Some("x"), None)) - 0.9).abs() < EPSILON);
        assert!(
            (s(
                key("A", Some("x"), Some("p")),
                key("A", Some("y"), Some("p"))
            ) - 0.6)
                .abs()
                < EPSILON
        );
        assert!(
            (s(
                key("A", Some("x"), Some("p")),
                key("B", Some("x"), Some("q"))
            ) - 0.3)
                .abs()
                < EPSILON
        );
    }
}
