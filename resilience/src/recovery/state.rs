//! [`RecoveryState`] and the per-service state machine that moves between the states.
//!
//! The transitions and the traffic of each state are described in the module
//! documentation of `recovery`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ramp::Ramp;
use super::RecoveryConfig;

/// Where a service is in its recovery.
///
/// ```
/// use resilience::recovery::{Recovery, RecoveryState};
///
/// let r = Recovery::new();
/// (0..3).for_each(|_| r.report_failure("db"));
/// assert_eq!(r.state("db"), Some(RecoveryState::Degraded));
/// assert_eq!(serde_json::to_value(RecoveryState::Recovering).unwrap(), "recovering");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecoveryState {
    /// Working; gets all its traffic.
    Healthy,
    /// Failing repeatedly; still served if it never lost its traffic.
    Degraded,
    /// Passing again after being cut off; traffic comes back along the ramp.
    Recovering,
    /// Down; gets no traffic until it passes `recover_after` checks in a row.
    Failed,
}

impl RecoveryState {
    /// The state's name as serialized (`"recovering"`).
    ///
    /// ```
    /// assert_eq!(resilience::recovery::RecoveryState::Failed.as_str(), "failed");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            RecoveryState::Healthy => "healthy",
            RecoveryState::Degraded => "degraded",
            RecoveryState::Recovering => "recovering",
            RecoveryState::Failed => "failed",
        }
    }
}

impl core::fmt::Display for RecoveryState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A change of state, for the caller to trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Transition {
    pub(crate) from: RecoveryState,
    pub(crate) to: RecoveryState,
}

/// One service's state machine. Pure: time comes in as arguments.
#[derive(Debug)]
pub(crate) struct Machine {
    pub(crate) config: RecoveryConfig,
    pub(crate) state: RecoveryState,
    pub(crate) successes: u32,
    pub(crate) failures: u32,
    /// The share of calls admitted outside a ramp.
    traffic: u8,
    /// Running while recovering.
    ramp: Option<Ramp>,
    pub(crate) since: Duration,
    pub(crate) last_error: Option<String>,
}

impl Machine {
    pub(crate) fn new(config: RecoveryConfig, now: Duration) -> Machine {
        Machine {
            config,
            state: RecoveryState::Healthy,
            successes: 0,
            failures: 0,
            traffic: 100,
            ramp: None,
            since: now,
            last_error: None,
        }
    }

    /// Whether every call is admitted without counting, so callers can skip the lock.
    pub(crate) fn routes_all(&self) -> bool {
        self.ramp.is_none() && self.traffic == 100
    }

    pub(crate) fn on_success(&mut self, now: Duration) -> Option<Transition> {
        self.successes = self.successes.saturating_add(1);
        self.failures = 0;
        self.last_error = None;
        match self.state {
            RecoveryState::Degraded | RecoveryState::Failed
                if self.successes >= self.config.recover_after =>
            {
                if self.state == RecoveryState::Degraded && self.traffic == 100 {
                    Some(self.go(RecoveryState::Healthy, now))
                } else {
                    self.ramp = Some(Ramp::start(self.config.ramp.clone(), now));
                    Some(self.go(RecoveryState::Recovering, now))
                }
            }
            _ => self.tick(now),
        }
    }

    pub(crate) fn on_failure(&mut self, now: Duration, error: String) -> Option<Transition> {
        self.failures = self.failures.saturating_add(1);
        self.successes = 0;
        self.last_error = Some(error);
        match self.state {
            RecoveryState::Healthy if self.failures >= self.config.degrade_after => {
                Some(self.go(RecoveryState::Degraded, now))
            }
            RecoveryState::Degraded if self.failures >= self.config.fail_after => {
                self.traffic = 0;
                Some(self.go(RecoveryState::Failed, now))
            }
            RecoveryState::Recovering => {
                self.ramp = None;
                self.traffic = 0;
                Some(self.go(RecoveryState::Degraded, now))
            }
            _ => None,
        }
    }

    /// Finishes a ramp that has reached 100 %.
    pub(crate) fn tick(&mut self, now: Duration) -> Option<Transition> {
        match &self.ramp {
            Some(ramp) if ramp.is_complete(now) => {
                self.ramp = None;
                self.traffic = 100;
                Some(self.go(RecoveryState::Healthy, now))
            }
            _ => None,
        }
    }

    pub(crate) fn percent(&self, now: Duration) -> u8 {
        match &self.ramp {
            Some(ramp) => ramp.percent(now),
            None => self.traffic,
        }
    }

    /// Whether the next call goes to the service, and the step change or transition it
    /// saw, for tracing.
    pub(crate) fn admit(&mut self, now: Duration) -> (bool, Option<Transition>, Option<u8>) {
        if let Some(t) = self.tick(now) {
            return (true, Some(t), None);
        }
        match &mut self.ramp {
            Some(ramp) => {
                let before = ramp.seen_step();
                let admitted = ramp.admit(now);
                let stepped = (ramp.seen_step() != before).then(|| ramp.percent(now));
                (admitted, None, stepped)
            }
            None => (self.traffic == 100, None, None),
        }
    }

    pub(crate) fn ramp_elapsed(&self, now: Duration) -> Option<Duration> {
        self.ramp.as_ref().map(|r| r.elapsed(now))
    }

    fn go(&mut self, to: RecoveryState, now: Duration) -> Transition {
        let from = self.state;
        self.state = to;
        self.since = now;
        if to == RecoveryState::Healthy {
            self.traffic = 100;
        }
        Transition { from, to }
    }
}
