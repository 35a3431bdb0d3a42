//! The three algorithms as pure arithmetic: each is told one [`Sample`] (the round-trip
//! time of a window of calls, the most calls that were in flight, whether any was
//! dropped) and answers the new limit. No clock, no atomics, no randomness but a seed
//! passed in, so each is tested against its formula and model-checked apart from the
//! limiter that feeds it (`machine.rs`), as `rate_limit/gcra.rs` is.
//!
//! They follow Netflix concurrency-limits' definitions (`VegasLimit`, `Gradient2Limit`,
//! `AIMDLimit`); where this crate departs from them (Gradient2's queue allowance, after
//! their pull request #134), the file says so.

mod aimd;
mod average;
mod gradient2;
mod vegas;

#[cfg(all(test, not(loom)))]
mod props;

pub(crate) use aimd::Aimd;
pub(crate) use average::ExpAverage;
pub(crate) use gradient2::Gradient2;
pub(crate) use vegas::Vegas;

use super::Algorithm;

/// What the limiter measured over one window of calls.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Sample {
    /// The round-trip time, in nanoseconds (at least 1).
    pub(crate) rtt: u64,
    /// The most calls in flight at once during the window.
    pub(crate) in_flight: u32,
    /// Whether a call of the window was dropped (timed out, overloaded further down).
    pub(crate) dropped: bool,
}

/// The bounds every algorithm keeps its limit within.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Bounds {
    pub(crate) min: u32,
    pub(crate) max: u32,
}

impl Bounds {
    /// `limit` within the bounds.
    pub(crate) fn clamp(self, limit: f64) -> f64 {
        limit.clamp(f64::from(self.min), f64::from(self.max))
    }
}

/// One of the three algorithms, with its state.
#[derive(Clone, Debug)]
pub(crate) enum Estimator {
    Vegas(Vegas),
    Gradient2(Gradient2),
    Aimd(Aimd),
}

impl Estimator {
    /// `algorithm` starting at `initial` (already within `bounds`); `seed` draws Vegas's
    /// probe jitter; `backoff_ratio` is AIMD's decrease.
    pub(crate) fn new(
        algorithm: Algorithm,
        initial: u32,
        bounds: Bounds,
        backoff_ratio: f64,
        seed: u64,
    ) -> Estimator {
        let initial = bounds.clamp(f64::from(initial));
        match algorithm {
            Algorithm::Vegas => Estimator::Vegas(Vegas::new(initial, bounds, seed)),
            Algorithm::Gradient2 => Estimator::Gradient2(Gradient2::new(initial, bounds)),
            Algorithm::Aimd => Estimator::Aimd(Aimd::new(initial, bounds, backoff_ratio)),
        }
    }

    /// Takes one sample; returns the new limit.
    pub(crate) fn update(&mut self, sample: Sample) -> f64 {
        match self {
            Estimator::Vegas(v) => v.update(sample),
            Estimator::Gradient2(g) => g.update(sample),
            Estimator::Aimd(a) => a.update(sample),
        }
    }

    /// The limit now (a real number: the calls allowed are its whole part).
    pub(crate) fn limit(&self) -> f64 {
        match self {
            Estimator::Vegas(v) => v.limit(),
            Estimator::Gradient2(g) => g.limit(),
            Estimator::Aimd(a) => a.limit(),
        }
    }

    /// New bounds (a new configuration), the limit moved within them.
    pub(crate) fn rebound(&mut self, bounds: Bounds) {
        match self {
            Estimator::Vegas(v) => v.rebound(bounds),
            Estimator::Gradient2(g) => g.rebound(bounds),
            Estimator::Aimd(a) => a.rebound(bounds),
        }
    }

    /// The round-trip time the algorithm takes as unloaded, in nanoseconds, once it has
    /// one: Vegas's no-load RTT, Gradient2's long-term average; AIMD keeps none.
    pub(crate) fn baseline(&self) -> Option<u64> {
        match self {
            Estimator::Vegas(v) => v.rtt_noload(),
            Estimator::Gradient2(g) => g.long_rtt(),
            Estimator::Aimd(_) => None,
        }
    }
}

/// Netflix's `Log10RootIntFunction`: `max(1, ⌊log10 limit⌋)` (used by Vegas for its
/// thresholds and steps).
pub(crate) fn log10_root(limit: u32) -> u32 {
    if limit < 10 {
        1
    } else {
        limit.ilog10()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log10_root_is_at_least_one() {
        assert_eq!(
            [0, 1, 9, 10, 99, 100, 999, 1000, 20_000].map(log10_root),
            [1, 1, 1, 1, 1, 2, 2, 3, 4]
        );
    }

    #[test]
    fn every_algorithm_starts_within_its_bounds() {
        let bounds = Bounds { min: 5, max: 50 };
        for algorithm in [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd] {
            assert_eq!(Estimator::new(algorithm, 100, bounds, 0.9, 1).limit(), 50.0);
            assert_eq!(Estimator::new(algorithm, 1, bounds, 0.9, 1).limit(), 5.0);
        }
    }
}
