//! AIMD, as Netflix's `AIMDLimit`: additive increase while the limit is used,
//! multiplicative decrease on a drop. Loss-based: latency alone never lowers it, so it
//! needs drops (a `TimedOut` inside the limit, an `Overloaded` from further down).

use super::{Bounds, Sample};

/// The AIMD state: the limit, its bounds and the decrease ratio.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Aimd {
    limit: f64,
    bounds: Bounds,
    backoff_ratio: f64,
}

impl Aimd {
    /// Starting at `initial`; `backoff_ratio` in `[0.5, 1)` (validated by the config).
    pub(crate) fn new(initial: f64, bounds: Bounds, backoff_ratio: f64) -> Aimd {
        Aimd {
            limit: bounds.clamp(initial.floor()),
            bounds,
            backoff_ratio,
        }
    }

    /// A drop: `⌊limit × backoff_ratio⌋`. Else, when at least half the limit was in
    /// flight (the limit is in use): `limit + 1`. Else unchanged. Always within bounds.
    pub(crate) fn update(&mut self, sample: Sample) -> f64 {
        let limit = self.limit;
        let next = if sample.dropped {
            (limit * self.backoff_ratio).floor()
        } else if f64::from(sample.in_flight) * 2.0 >= limit {
            limit + 1.0
        } else {
            limit
        };
        self.limit = self.bounds.clamp(next);
        self.limit
    }

    pub(crate) fn limit(&self) -> f64 {
        self.limit
    }

    pub(crate) fn rebound(&mut self, bounds: Bounds) {
        self.bounds = bounds;
        self.limit = bounds.clamp(self.limit);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn aimd(initial: u32, min: u32, max: u32) -> Aimd {
        Aimd::new(f64::from(initial), Bounds { min, max }, 0.9)
    }

    fn ok(in_flight: u32) -> Sample {
        Sample {
            rtt: MS,
            in_flight,
            dropped: false,
        }
    }

    const DROP: Sample = Sample {
        rtt: 1,
        in_flight: 0,
        dropped: true,
    };

    // Netflix's AIMDLimitTest, case by case (their default bounds are 20..=200).

    #[test]
    fn netflix_default_is_the_initial_limit() {
        assert_eq!(aimd(10, 1, 200).limit(), 10.0);
    }

    #[test]
    fn netflix_increase_on_success() {
        let mut a = aimd(20, 20, 200);
        assert_eq!(a.update(ok(10)), 21.0);
    }

    #[test]
    fn netflix_decrease_on_drops() {
        let mut a = aimd(30, 20, 200);
        assert_eq!(a.update(DROP), 27.0);
    }

    #[test]
    fn netflix_success_overflow_stays_at_the_max() {
        let mut a = aimd(21, 1, 21);
        assert_eq!(a.update(ok(10)), 21.0);
    }

    // tower-acc's and tower-resilience-adaptive's published cases.

    #[test]
    fn no_increase_when_lightly_loaded() {
        let mut a = aimd(10, 1, 200);
        assert_eq!(a.update(ok(2)), 10.0);
        assert_eq!(a.update(ok(5)), 11.0);
    }

    #[test]
    fn never_below_min_nor_above_max() {
        let mut a = aimd(5, 5, 200);
        for _ in 0..100 {
            assert_eq!(a.update(DROP), 5.0);
        }
        let mut a = aimd(10, 1, 12);
        for _ in 0..100 {
            a.update(ok(10));
        }
        assert_eq!(a.limit(), 12.0);
    }

    #[test]
    fn a_custom_ratio_halves() {
        let mut a = Aimd::new(100.0, Bounds { min: 1, max: 200 }, 0.5);
        assert_eq!(a.update(DROP), 50.0);
    }
}
