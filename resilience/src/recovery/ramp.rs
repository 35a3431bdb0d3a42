//! A running traffic ramp: which step it is on at a given time, and which calls it
//! admits.
//!
//! Admission is counted, not drawn: at `p` percent, the `n`-th call of a step is
//! admitted when `n * p mod 100 < p`. Any 100 consecutive calls of a step hold exactly
//! `p` admitted ones, spread evenly (at 25 %: calls 0, 4, 8, …), so tests can assert
//! exact fractions and production traffic has no random clumps.

use std::time::Duration;

use super::RampConfig;

#[derive(Clone, Debug)]
pub(crate) struct Ramp {
    config: RampConfig,
    started: Duration,
    step: usize,
    /// Calls asked since this step began, modulo 100.
    calls: u32,
}

impl Ramp {
    pub(crate) fn start(config: RampConfig, now: Duration) -> Ramp {
        Ramp {
            config,
            started: now,
            step: 0,
            calls: 0,
        }
    }

    /// The step in force at `now`. A clock that went back before the start reads as
    /// the first step.
    fn step_at(&self, now: Duration) -> usize {
        let elapsed = now.saturating_sub(self.started).as_nanos();
        let interval = self.config.step_interval.as_nanos().max(1);
        let last = self.config.steps.len().saturating_sub(1);
        usize::try_from(elapsed / interval).map_or(last, |s| s.min(last))
    }

    pub(crate) fn percent(&self, now: Duration) -> u8 {
        self.config
            .steps
            .get(self.step_at(now))
            .copied()
            .unwrap_or(100)
    }

    /// Whether the ramp has reached its last step (100 %).
    pub(crate) fn is_complete(&self, now: Duration) -> bool {
        self.percent(now) >= 100
    }

    /// The step last seen by [`admit`](Ramp::admit), to tell when a step changed.
    pub(crate) fn seen_step(&self) -> usize {
        self.step
    }

    /// Whether the next call is admitted, counting it.
    pub(crate) fn admit(&mut self, now: Duration) -> bool {
        let step = self.step_at(now);
        if step != self.step {
            self.step = step;
            self.calls = 0;
        }
        let p = u32::from(self.config.steps.get(step).copied().unwrap_or(100).min(100));
        let n = self.calls;
        self.calls = (self.calls + 1) % 100;
        n * p % 100 < p
    }

    pub(crate) fn elapsed(&self, now: Duration) -> Duration {
        now.saturating_sub(self.started)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(steps: &[u8]) -> Ramp {
        Ramp::start(
            RampConfig {
                steps: steps.to_vec(),
                step_interval: Duration::from_secs(10),
            },
            Duration::ZERO,
        )
    }

    #[test]
    fn every_percentage_admits_exactly_that_many_of_any_hundred_calls() {
        for p in 1..=100u8 {
            let mut r = ramp(&[p]);
            let admitted: Vec<bool> = (0..300).map(|_| r.admit(Duration::ZERO)).collect();
            for start in 0..200 {
                let n = admitted[start..start + 100].iter().filter(|a| **a).count();
                assert_eq!(n, usize::from(p), "p = {p}, window from {start}");
            }
        }
    }

    #[test]
    fn steps_follow_time_and_a_clock_going_back_reads_the_first_step() {
        let r = Ramp::start(
            RampConfig {
                steps: vec![10, 50, 100],
                step_interval: Duration::from_secs(10),
            },
            Duration::from_secs(100),
        );
        assert_eq!(r.percent(Duration::from_secs(50)), 10);
        assert_eq!(r.percent(Duration::from_secs(109)), 10);
        assert_eq!(r.percent(Duration::from_secs(110)), 50);
        assert!(!r.is_complete(Duration::from_secs(119)));
        assert!(r.is_complete(Duration::from_secs(120)));
        assert_eq!(r.percent(Duration::MAX), 100);
    }
}
