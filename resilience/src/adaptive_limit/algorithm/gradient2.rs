//! Gradient2, as Netflix's `Gradient2Limit`: the ratio of a long-term average of the
//! round-trip time to the short-term one (this window's), times a tolerance, is the
//! gradient in `[0.5, 1]` the limit is multiplied by; a queue allowance is added so the
//! limit can grow; the result is smoothed.
//!
//! Two changes from Netflix's, against its drift (their pull request #134, failsafe-go's
//! finding that under a modest overload the limit creeps up without end):
//! - the allowance is added only while the gradient is 1 (no queueing seen), and a
//!   dropped call counts as the lowest gradient, 0.5, instead of being ignored;
//! - a sample above the long-term average (calls may queue) moves it a tenth as much as
//!   one below, so the baseline does not climb with the queue it measures
//!   (unless the limit is at its minimum: then the queue is not ours, the dependency
//!   became slower, and the baseline learns it at the usual pace).

use super::{Bounds, ExpAverage, Sample};

/// Netflix's defaults.
const SMOOTHING: f64 = 0.2;
const QUEUE_ALLOWANCE: f64 = 4.0;
const LONG_WINDOW: u32 = 600;
const WARMUP: u32 = 10;
const TOLERANCE: f64 = 1.5;
/// How much of a queueing sample the long-term time takes: a tenth of the usual.
const SLOW: f64 = 2.0 / 6001.0;

/// The Gradient2 state.
#[derive(Clone, Debug)]
pub(crate) struct Gradient2 {
    limit: f64,
    bounds: Bounds,
    long_rtt: ExpAverage,
    pub(crate) tolerance: f64,
    pub(crate) smoothing: f64,
    pub(crate) queue_allowance: f64,
    /// The share of a sample above the long-term time that it takes (Netflix: the
    /// usual `2 / (600 + 1)`).
    pub(crate) slow: f64,
}

impl Gradient2 {
    /// Netflix's Gradient2 (with the change above) starting at `initial`.
    pub(crate) fn new(initial: f64, bounds: Bounds) -> Gradient2 {
        Gradient2 {
            limit: bounds.clamp(initial),
            bounds,
            long_rtt: ExpAverage::new(LONG_WINDOW, WARMUP),
            tolerance: TOLERANCE,
            smoothing: SMOOTHING,
            queue_allowance: QUEUE_ALLOWANCE,
            slow: SLOW,
        }
    }

    /// One sample: the long-term average takes it; then, if the limit is in use, the
    /// limit moves by the gradient.
    ///
    /// A sample without a round-trip time (`rtt == 0`: no call of the window was timed)
    /// only counts if it dropped a call.
    pub(crate) fn update(&mut self, sample: Sample) -> f64 {
        let short = sample.rtt as f64;
        let long = if sample.rtt == 0 {
            if !sample.dropped {
                return self.limit;
            }
            self.long_rtt.get()
        } else if self.queueing(short) && self.limit > f64::from(self.bounds.min) {
            // The calls queue: the long-term time learns this sample slowly, or it would
            // climb with the queue and the limit with it (Netflix's drift). At the
            // minimum limit the queue is not ours: the dependency got slower, learn it.
            let slow = self.slow;
            self.long_rtt.update(|long| long + (short - long) * slow);
            self.long_rtt.get()
        } else {
            self.long_rtt.add(short)
        };
        // Back to normal after a long overload: pull the long average down faster than
        // its window would.
        if sample.rtt != 0 && long / short > 2.0 {
            self.long_rtt.update(|long| long * 0.95);
        }
        let limit = self.limit;
        if !sample.dropped && f64::from(sample.in_flight) < limit / 2.0 {
            return limit;
        }
        let gradient = if sample.dropped {
            0.5
        } else {
            (self.tolerance * long / short).clamp(0.5, 1.0)
        };
        let allowance = if gradient >= 1.0 {
            self.queue_allowance
        } else {
            0.0
        };
        let target = limit * gradient + allowance;
        let next = limit * (1.0 - self.smoothing) + target * self.smoothing;
        self.limit = self.bounds.clamp(next);
        self.limit
    }

    /// Whether `short` is above the long-term time (after warmup): calls may queue.
    fn queueing(&self, short: f64) -> bool {
        self.long_rtt.warm() && short > self.long_rtt.get()
    }

    pub(crate) fn limit(&self) -> f64 {
        self.limit
    }

    /// The long-term average, once there is one.
    pub(crate) fn long_rtt(&self) -> Option<u64> {
        let long = self.long_rtt.get();
        (long > 0.0).then_some(long as u64)
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

    fn g2(initial: u32, min: u32, max: u32) -> Gradient2 {
        Gradient2::new(f64::from(initial), Bounds { min, max })
    }

    fn feed(g: &mut Gradient2, rtt_ms: u64, in_flight: u32, times: usize) -> f64 {
        for _ in 0..times {
            g.update(Sample {
                rtt: rtt_ms * MS,
                in_flight,
                dropped: false,
            });
        }
        g.limit()
    }

    // tower-acc's cases (its defaults: 20 of 20..=200).

    #[test]
    fn stable_rtt_allows_growth() {
        let mut g = g2(20, 20, 200);
        let before = feed(&mut g, 50, 20, 10);
        assert!(feed(&mut g, 50, 20, 20) > before);
    }

    #[test]
    fn high_rtt_reduces_limit() {
        let mut g = g2(100, 20, 200);
        let before = feed(&mut g, 50, 100, 10);
        assert!(feed(&mut g, 500, 100, 20) < before);
    }

    #[test]
    fn the_limit_respects_max_and_min() {
        let mut g = g2(200, 1, 200);
        feed(&mut g, 50, 200, 10);
        for _ in 0..100 {
            assert!(feed(&mut g, 50, 200, 1) <= 200.0);
        }
        let mut g = g2(20, 10, 200);
        feed(&mut g, 50, 20, 10);
        assert!(feed(&mut g, 500, 20, 200) >= 10.0);
    }

    #[test]
    fn tolerance_allows_a_moderate_rtt_increase() {
        let mut g = g2(50, 20, 200);
        g.tolerance = 2.0;
        let before = feed(&mut g, 50, 50, 10);
        // 2 × 50 / 75 > 1: still no queueing.
        assert!(feed(&mut g, 75, 50, 10) >= before);
    }

    // What this crate changed.

    #[test]
    fn no_allowance_while_queueing_so_a_modest_overload_never_creeps_up() {
        let mut g = g2(100, 1, 1000);
        feed(&mut g, 10, 100, 10);
        // 1.5 × 10 / 16 = 0.94: queueing. Netflix's would add 4 each time and settle
        // above 100; this one only goes down.
        let mut last = g.limit();
        // (The long average reaches 16 / 1.5 after about 36 samples: growth resumes.)
        for _ in 0..30 {
            let now = feed(&mut g, 16, 100, 1);
            assert!(now <= last, "{now} > {last}");
            last = now;
        }
    }

    #[test]
    fn a_drop_is_the_lowest_gradient() {
        let mut g = g2(100, 1, 1000);
        feed(&mut g, 10, 100, 10);
        let before = g.limit();
        let after = g.update(Sample {
            rtt: 10 * MS,
            in_flight: 0,
            dropped: true,
        });
        // 100 × 0.8 + (100 × 0.5) × 0.2
        assert!((after - before * 0.9).abs() < 1e-9, "{after}");
    }

    /// Minutes of a server of capacity 20 at 10 ms (past 20 calls, latency grows with
    /// them): the baseline and the limit after 3000 windows.
    fn overloaded(mut g: Gradient2) -> (u64, f64) {
        for _ in 0..3000 {
            let limit = g.limit();
            let rtt = (10.0 * (limit / 20.0).max(1.0) * MS as f64) as u64;
            g.update(Sample {
                rtt,
                in_flight: limit as u32,
                dropped: false,
            });
        }
        (g.long_rtt().unwrap(), g.limit())
    }

    #[test]
    fn a_sustained_queue_raises_the_baseline_far_less_than_netflix_does() {
        let (ours, ours_limit) = overloaded(g2(20, 1, 1000));
        let mut netflix = g2(20, 1, 1000);
        netflix.slow = 2.0 / 601.0;
        let (theirs, theirs_limit) = overloaded(netflix);
        // Theirs follows the queue it causes, and the limit the baseline.
        assert!(
            theirs > 40 * MS && theirs_limit > 100.0,
            "{theirs} {theirs_limit}"
        );
        assert!(ours < 25 * MS && ours_limit < 60.0, "{ours} {ours_limit}");
    }

    #[test]
    fn a_dependency_slower_for_good_is_learnt_at_the_minimum_limit() {
        let mut g = g2(40, 2, 1000);
        feed(&mut g, 10, 40, 10);
        // Four times slower, whatever the load: down to the minimum, then the baseline
        // learns the new time and the limit grows again.
        for _ in 0..3000 {
            let limit = g.limit() as u32;
            g.update(Sample {
                rtt: 40 * MS,
                in_flight: limit,
                dropped: false,
            });
        }
        assert!(g.long_rtt().unwrap() > 30 * MS, "{:?}", g.long_rtt());
        assert!(g.limit() > 10.0, "{}", g.limit());
    }

    #[test]
    fn an_idle_limiter_only_learns_the_rtt() {
        let mut g = g2(100, 1, 1000);
        assert_eq!(feed(&mut g, 10, 10, 30), 100.0);
        assert_eq!(g.long_rtt(), Some(10 * MS));
    }
}
