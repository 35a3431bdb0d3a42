//! Pattern detection over the retained history: frequency, burst, agent-specific and
//! cascade patterns, evaluated at the moment they are asked for.
//!
//! Nothing is kept between calls: a pattern is active while its condition holds over
//! its window, and the only state is the bounded history, so memory stays flat however
//! many errors, agents or types pass by.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::config::EPSILON;
use super::record::ErrorRecord;
use super::MonitorConfig;
use crate::error::rfc3339;

/// The four kinds of pattern of the reference's detection engine.
///
/// ```
/// use resilience::monitor::PatternKind;
/// assert_eq!(serde_json::to_value(PatternKind::AgentSpecific).unwrap(), "agent_specific");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternKind {
    /// One error type (one code: a type of the ready-made hierarchy, a variant of a
    /// derived enum, or a foreign error's type name), over and over:
    /// `frequency_threshold` in `frequency_window`.
    Frequency,
    /// Many errors of any type: `burst_threshold` in `burst_window`.
    Burst,
    /// Many errors from one agent: `agent_threshold` in `agent_window`.
    AgentSpecific,
    /// Related errors in sequence: `cascade_threshold` errors at least
    /// `cascade_similarity` similar to one of them (itself included, as in the
    /// reference), in `cascade_window`. One pattern per error code at most: the largest
    /// such group seeded by an error of that code.
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
    /// The window it was detected over (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
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
}

/// The patterns active at `now` among `history`; `wall` turns clock time into wall time.
///
/// Cost: one pass per window; for cascades, `O(n log n)` in the errors of the window.
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

/// The traits of a [`Key`] kept by a subset of them (the others `None`).
type Projection<'h> = (
    Option<&'h str>,
    Option<Option<&'h str>>,
    Option<Option<&'h str>>,
);

/// The three traits, as bits of a subset.
const TYPE: u8 = 1;
const OPERATION: u8 = 2;
const INTEGRATION: u8 = 4;

fn project(key: Key<'_>, subset: u8) -> Projection<'_> {
    (
        (subset & TYPE != 0).then_some(key.code),
        (subset & OPERATION != 0).then_some(key.operation),
        (subset & INTEGRATION != 0).then_some(key.integration),
    )
}

/// For each error code, the largest cascade seeded by an error of that code: the seed
/// and every error in the window at least `cascade_similarity` similar to it (the seed
/// included, as in the reference), if there are `cascade_threshold` of them.
///
/// Two errors' similarity depends only on which traits they share (a subset `P` of
/// type, operation, integration) and whether they are close in time. The errors
/// sharing *exactly* `P` with a seed are counted by inclusion–exclusion over the
/// errors sharing *at least* `T ⊇ P`, read from one index per subset `T` (times
/// sorted, so "close in time" is two binary searches). So each seed costs a few
/// lookups, `O(n log n)` in all, however many distinct operations there are.
fn cascades<'h>(
    window: impl Iterator<Item = &'h ErrorRecord>,
    config: &MonitorConfig,
) -> Vec<(Key<'h>, Tally)> {
    let w = config.similarity_weights;
    let tau = config.similarity_time;
    let threshold = config.cascade_similarity - EPSILON;
    let records: Vec<(Key<'h>, Duration)> = window
        .map(|r| {
            let key = Key {
                code: r.code,
                operation: r.operation.as_deref(),
                integration: r.integration.as_deref(),
            };
            (key, r.at)
        })
        .collect();

    // Coefficients of each "at least T" count in the sum over the exact subsets P ⊆ T
    // that are similar always, or only when close in time.
    let weight = |p: u8| {
        let mut sum = 0.0;
        for (bit, w) in [
            (TYPE, w.error_type),
            (OPERATION, w.operation),
            (INTEGRATION, w.integration),
        ] {
            if p & bit != 0 {
                sum += w;
            }
        }
        sum
    };
    let mut always = [0i64; 8];
    let mut timed = [0i64; 8];
    for t in 0..8u8 {
        for p in (0..8u8).filter(|p| p & !t == 0) {
            let sign = if (t & !p).count_ones() % 2 == 0 {
                1
            } else {
                -1
            };
            if weight(p) >= threshold {
                always[usize::from(t)] += sign;
            } else if weight(p) + w.time >= threshold {
                timed[usize::from(t)] += sign;
            }
        }
    }
    let needed: Vec<u8> = (0..8u8)
        .filter(|&t| always[usize::from(t)] != 0 || timed[usize::from(t)] != 0)
        .collect();
    let mut index: HashMap<(u8, Projection<'h>), Vec<Duration>> = HashMap::new();
    for &(key, at) in &records {
        for &t in &needed {
            index.entry((t, project(key, t))).or_default().push(at);
        }
    }
    for times in index.values_mut() {
        times.sort_unstable();
    }

    let mut best: HashMap<&'h str, (Key<'h>, Duration, i64)> = HashMap::new();
    for &(key, at) in &records {
        let mut count = 0i64;
        for &t in &needed {
            let Some(times) = index.get(&(t, project(key, t))) else {
                continue;
            };
            let (a, c) = (always[usize::from(t)], timed[usize::from(t)]);
            if a != 0 {
                count += a * times.len() as i64;
            }
            if c != 0 {
                let lo = times.partition_point(|&x| x.saturating_add(tau) <= at);
                let hi = times.partition_point(|&x| x < at.saturating_add(tau));
                count += c * hi.saturating_sub(lo) as i64;
            }
        }
        let slot = best.entry(key.code).or_insert((key, at, count));
        if count > slot.2 {
            *slot = (key, at, count);
        }
    }

    // The winning seed's cluster, counted directly: its times, and a check of the sum.
    let mut out = Vec::new();
    for (seed, seed_at, count) in best.into_values() {
        if count < config.cascade_threshold as i64 {
            continue;
        }
        let mut tally: Option<Tally> = None;
        for &(key, at) in &records {
            let close = at.abs_diff(seed_at) < tau;
            let sim = similarity(&w, seed, key) + if close { w.time } else { 0.0 };
            if sim >= threshold {
                match &mut tally {
                    Some(t) => t.add(at),
                    None => tally = Some(Tally::new(at)),
                }
            }
        }
        if let Some(t) = tally.filter(|t| t.count >= config.cascade_threshold) {
            out.push((seed, t));
        }
    }
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

    /// The indexed count agrees with comparing every pair, for the reference weights
    /// and for others, on pseudo-random histories.
    #[test]
    fn cascades_match_a_brute_force_count() {
        use std::borrow::Cow;

        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let weights = [
            super::super::SimilarityWeights::default(),
            super::super::SimilarityWeights {
                error_type: 0.25,
                operation: 0.25,
                integration: 0.25,
                time: 0.25,
            },
        ];
        for round in 0..40 {
            let w = weights[round % 2];
            let config = MonitorConfig {
                similarity_weights: w,
                cascade_similarity: [0.7, 0.5, 0.75][round % 3],
                cascade_threshold: 2,
                ..MonitorConfig::default()
            };
            let records: Vec<ErrorRecord> = (0..60)
                .map(|_| ErrorRecord {
                    code: ["A", "B", "C"][next(3) as usize],
                    error_type: "T",
                    category: crate::Category::Transient,
                    severity: crate::Severity::Low,
                    operation: [None, Some(Cow::Borrowed("x")), Some(Cow::Borrowed("y"))]
                        [next(3) as usize]
                        .clone(),
                    agent_id: None,
                    integration: [None, Some("p".to_owned())][next(2) as usize].clone(),
                    correlation_id: None,
                    at: Duration::from_secs(next(200)),
                    wall: SystemTime::UNIX_EPOCH,
                    function: None,
                    recovered: false,
                })
                .collect();
            let sim = |a: &ErrorRecord, b: &ErrorRecord| {
                fn key(r: &ErrorRecord) -> Key<'_> {
                    Key {
                        code: r.code,
                        operation: r.operation.as_deref(),
                        integration: r.integration.as_deref(),
                    }
                }
                let close = a.at.abs_diff(b.at) < config.similarity_time;
                similarity(&w, key(a), key(b)) + if close { w.time } else { 0.0 }
            };
            let mut expected: Vec<(&str, usize)> = Vec::new();
            for code in ["A", "B", "C"] {
                let top = records
                    .iter()
                    .filter(|s| s.code == code)
                    .map(|s| {
                        records
                            .iter()
                            .filter(|r| sim(s, r) >= config.cascade_similarity - EPSILON)
                            .count()
                    })
                    .max()
                    .unwrap_or(0);
                if top >= config.cascade_threshold {
                    expected.push((code, top));
                }
            }
            let found: Vec<(&str, usize)> = cascades(records.iter(), &config)
                .into_iter()
                .map(|(k, t)| (k.code, t.count))
                .collect();
            assert_eq!(found, expected, "round {round}");
        }
    }
}
