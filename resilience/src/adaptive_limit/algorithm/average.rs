//! [`ExpAverage`]: Netflix's `ExpAvgMeasurement`, the exponential moving average
//! Gradient2 keeps its long-term round-trip time in.

/// An exponential moving average over about `window` samples, whose first `warmup`
/// samples are averaged plainly (so it does not start from zero).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ExpAverage {
    value: f64,
    sum: f64,
    count: u32,
    warmup: u32,
    factor: f64,
}

impl ExpAverage {
    /// An average over about `window` samples (at least 1), the first `warmup` plain.
    pub(crate) fn new(window: u32, warmup: u32) -> ExpAverage {
        ExpAverage {
            value: 0.0,
            sum: 0.0,
            count: 0,
            warmup,
            factor: 2.0 / (f64::from(window.max(1)) + 1.0),
        }
    }

    /// Adds `sample`; returns the new average.
    pub(crate) fn add(&mut self, sample: f64) -> f64 {
        if self.count < self.warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            self.value = self.value * (1.0 - self.factor) + sample * self.factor;
        }
        self.value
    }

    /// The average (0 before the first sample).
    pub(crate) fn get(&self) -> f64 {
        self.value
    }

    /// Whether the warmup is over.
    pub(crate) fn warm(&self) -> bool {
        self.count >= self.warmup
    }

    /// Replaces the average by `f(average)`.
    pub(crate) fn update(&mut self, f: impl FnOnce(f64) -> f64) {
        self.value = f(self.value);
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Netflix's `ExpAvgMeasurementTest.testWarmup`.
    #[test]
    fn the_warmup_is_a_plain_mean_then_it_moves_by_two_over_window_plus_one() {
        let mut avg = ExpAverage::new(100, 10);
        let expected = [10.0, 10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5];
        for (i, want) in expected.into_iter().enumerate() {
            avg.add(10.0 + i as f64);
            assert!((avg.get() - want).abs() < 0.01, "{} after {i}", avg.get());
        }
        avg.add(100.0);
        assert!((avg.get() - 16.2).abs() < 0.1, "{}", avg.get());
    }
}
