//! Vegas, as Netflix's `VegasLimit` (after TCP Vegas): the queue the limit builds is
//! estimated as `limit × (1 − rtt_noload / rtt)`, where `rtt_noload` is the lowest
//! round-trip time seen; a queue below `alpha` grows the limit, one above `beta` shrinks
//! it. Every `probe_multiplier × limit` samples or so (jittered), the no-load time is
//! measured again from the next sample, so a dependency that became slower for good is
//! not judged against a time it can no longer meet.

use super::{log10_root, Bounds, Sample};

/// The functions of the limit Vegas is tuned by; [`Params::NETFLIX`] are Netflix's
/// defaults (the tests swap some, as Netflix's own tests do).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Params {
    /// Below this queue, grow by `increase`: `3 × log10(limit)`.
    pub(crate) alpha: fn(u32) -> u32,
    /// Above this queue, shrink by `decrease`: `6 × log10(limit)`.
    pub(crate) beta: fn(u32) -> u32,
    /// At or below this queue (no queue at all), grow by `beta`: `log10(limit)`.
    pub(crate) threshold: fn(u32) -> u32,
    /// `limit + log10(limit)`.
    pub(crate) increase: fn(f64) -> f64,
    /// `limit − log10(limit)`; also what a drop does.
    pub(crate) decrease: fn(f64) -> f64,
    /// The new limit's weight against the old one (1: no smoothing).
    pub(crate) smoothing: f64,
    /// Samples between probes of the no-load time, per unit of limit.
    pub(crate) probe_multiplier: u32,
}

impl Params {
    /// Netflix's defaults.
    pub(crate) const NETFLIX: Params = Params {
        alpha: |limit| 3 * log10_root(limit),
        beta: |limit| 6 * log10_root(limit),
        threshold: log10_root,
        increase: |limit| limit + f64::from(log10_root(limit as u32)),
        decrease: |limit| limit - f64::from(log10_root(limit as u32)),
        smoothing: 1.0,
        probe_multiplier: 30,
    };
}

/// The Vegas state.
#[derive(Clone, Debug)]
pub(crate) struct Vegas {
    limit: f64,
    bounds: Bounds,
    params: Params,
    /// The lowest round-trip time since the last probe; 0 until the first sample.
    rtt_noload: u64,
    probe_count: u64,
    /// In `[0.5, 1)`: the probes of one limiter are not in step with another's.
    probe_jitter: f64,
    seed: u64,
}

impl Vegas {
    /// Netflix's Vegas starting at `initial`; `seed` draws the probe jitter.
    pub(crate) fn new(initial: f64, bounds: Bounds, seed: u64) -> Vegas {
        Vegas::with_params(initial, bounds, Params::NETFLIX, seed)
    }

    pub(crate) fn with_params(initial: f64, bounds: Bounds, params: Params, seed: u64) -> Vegas {
        let mut vegas = Vegas {
            limit: bounds.clamp(initial),
            bounds,
            params,
            rtt_noload: 0,
            probe_count: 0,
            probe_jitter: 0.5,
            seed,
        };
        vegas.probe_jitter = vegas.next_jitter();
        vegas
    }

    /// splitmix64 over the seed: the next jitter, in `[0.5, 1)`.
    fn next_jitter(&mut self) -> f64 {
        self.seed = self.seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.seed;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        0.5 + (z >> 11) as f64 / (1u64 << 53) as f64 * 0.5
    }

    fn should_probe(&self) -> bool {
        self.probe_jitter * f64::from(self.params.probe_multiplier) * self.limit
            <= self.probe_count as f64
    }

    /// One sample: a probe (the no-load time taken from this sample), a new lowest
    /// time, or the limit moved by the queue this sample shows.
    ///
    /// A sample without a round-trip time (`rtt == 0`: no call of the window was timed)
    /// only counts if it dropped a call.
    pub(crate) fn update(&mut self, sample: Sample) -> f64 {
        let rtt = sample.rtt;
        if rtt == 0 {
            if sample.dropped {
                let next = self.bounds.clamp((self.params.decrease)(self.limit));
                self.limit =
                    (1.0 - self.params.smoothing) * self.limit + self.params.smoothing * next;
            }
            return self.limit;
        }
        self.probe_count += 1;
        if self.should_probe() {
            self.probe_jitter = self.next_jitter();
            self.probe_count = 0;
            self.rtt_noload = rtt;
            return self.limit;
        }
        if self.rtt_noload == 0 || rtt < self.rtt_noload {
            self.rtt_noload = rtt;
            return self.limit;
        }
        self.update_limit(rtt, sample)
    }

    fn update_limit(&mut self, rtt: u64, sample: Sample) -> f64 {
        let limit = self.limit;
        let queue = (limit * (1.0 - self.rtt_noload as f64 / rtt as f64)).ceil();
        let p = &self.params;
        let next = if sample.dropped {
            (p.decrease)(limit)
        } else if f64::from(sample.in_flight) * 2.0 < limit {
            // The limit is not in use: latency says nothing about it.
            return limit;
        } else {
            let whole = limit as u32;
            if queue <= f64::from((p.threshold)(whole)) {
                limit + f64::from((p.beta)(whole))
            } else if queue < f64::from((p.alpha)(whole)) {
                (p.increase)(limit)
            } else if queue > f64::from((p.beta)(whole)) {
                (p.decrease)(limit)
            } else {
                return limit;
            }
        };
        let next = self.bounds.clamp(next);
        self.limit = (1.0 - p.smoothing) * limit + p.smoothing * next;
        self.limit
    }

    pub(crate) fn limit(&self) -> f64 {
        self.limit
    }

    /// The no-load round-trip time, once a sample gave one.
    pub(crate) fn rtt_noload(&self) -> Option<u64> {
        (self.rtt_noload != 0).then_some(self.rtt_noload)
    }

    /// Samples since the last probe.
    #[cfg(test)]
    pub(crate) fn probe_count(&self) -> u64 {
        self.probe_count
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
    const SEC: u64 = 1_000_000_000;

    fn sample(rtt: u64, in_flight: u32) -> Sample {
        Sample {
            rtt,
            in_flight,
            dropped: false,
        }
    }

    /// Netflix's `VegasLimitTest.create()`: alpha 3, beta 6, no smoothing, 10 of at most 20.
    fn netflix() -> Vegas {
        let params = Params {
            alpha: |_| 3,
            beta: |_| 6,
            ..Params::NETFLIX
        };
        Vegas::with_params(10.0, Bounds { min: 1, max: 20 }, params, 7)
    }

    #[test]
    fn netflix_increase_limit() {
        let mut v = netflix();
        assert_eq!(v.update(sample(10 * MS, 10)), 10.0);
        // No queue: grow by beta.
        assert_eq!(v.update(sample(10 * MS, 11)), 16.0);
    }

    #[test]
    fn netflix_decrease_limit() {
        let mut v = netflix();
        assert_eq!(v.update(sample(10 * MS, 10)), 10.0);
        // Queue ⌈10 × (1 − 10/50)⌉ = 8 > beta: 10 − log10(10).
        assert_eq!(v.update(sample(50 * MS, 11)), 9.0);
    }

    #[test]
    fn netflix_no_change_if_within_thresholds() {
        let mut v = netflix();
        assert_eq!(v.update(sample(10 * MS, 10)), 10.0);
        // Queue ⌈10 × (1 − 10/14)⌉ = 3, in [alpha, beta].
        assert_eq!(v.update(sample(14 * MS, 14)), 10.0);
    }

    #[test]
    fn netflix_large_limit_increase() {
        let mut v = Vegas::new(
            10_000.0,
            Bounds {
                min: 1,
                max: 20_000,
            },
            7,
        );
        assert_eq!(v.update(sample(10 * SEC, 5000)), 10_000.0);
        // Beta at 10 000 is 6 × 4.
        assert_eq!(v.update(sample(10 * SEC, 6000)), 10_024.0);
    }

    fn halving(smoothing: f64) -> Vegas {
        let params = Params {
            decrease: |limit| limit / 2.0,
            smoothing,
            ..Params::NETFLIX
        };
        Vegas::with_params(100.0, Bounds { min: 1, max: 200 }, params, 7)
    }

    #[test]
    fn netflix_decrease_smoothing() {
        let mut v = halving(0.5);
        assert_eq!(v.update(sample(10 * MS, 100)), 100.0);
        assert_eq!(v.update(sample(20 * MS, 100)) as u32, 75);
        assert_eq!(v.update(sample(20 * MS, 100)) as u32, 56);
    }

    #[test]
    fn netflix_decrease_without_smoothing() {
        let mut v = halving(1.0);
        assert_eq!(v.update(sample(10 * MS, 100)), 100.0);
        assert_eq!(v.update(sample(20 * MS, 100)), 50.0);
        assert_eq!(v.update(sample(20 * MS, 100)), 25.0);
    }

    // tower-acc's cases.

    fn with_noload(initial: f64) -> Vegas {
        let mut v = Vegas::new(initial, Bounds { min: 1, max: 1000 }, 7);
        v.update(sample(10 * MS, 0));
        v
    }

    #[test]
    fn a_drop_decreases_whatever_the_rtt() {
        let mut v = with_noload(10.0);
        let dropped = Sample {
            rtt: 10 * MS,
            in_flight: 10,
            dropped: true,
        };
        assert_eq!(v.update(dropped), 9.0);
    }

    #[test]
    fn no_change_while_the_limit_is_not_in_use() {
        let mut v = with_noload(10.0);
        assert_eq!(v.update(sample(50 * MS, 4)), 10.0);
    }

    #[test]
    fn never_below_min() {
        let mut v = Vegas::new(1.0, Bounds { min: 1, max: 10 }, 7);
        v.update(sample(10 * MS, 1));
        for _ in 0..100 {
            let dropped = Sample {
                rtt: 10 * MS,
                in_flight: 1,
                dropped: true,
            };
            assert!(v.update(dropped) >= 1.0);
        }
    }

    #[test]
    fn the_probe_takes_the_no_load_time_from_a_later_sample() {
        let mut v = Vegas::new(2.0, Bounds { min: 1, max: 2 }, 7);
        v.update(sample(10 * MS, 2));
        assert_eq!(v.rtt_noload(), Some(10 * MS));
        // Jitter × 30 × 2 is at most 60 samples: a probe comes within them.
        let probed = (0..61).any(|_| {
            v.update(sample(40 * MS, 2));
            v.rtt_noload() == Some(40 * MS)
        });
        assert!(probed, "no probe in 61 samples");
    }
}
