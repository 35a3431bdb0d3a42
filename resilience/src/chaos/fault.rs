//! [`Fault`]: what to inject, and how often.

use std::time::Duration;

use serde::Serialize;

use crate::ConfigError;

/// A fault to inject at a site, with the share of calls it hits (`rate`, 0.0 to 1.0).
///
/// ```
/// use resilience::chaos::{Fault, FaultKind};
/// use std::time::Duration;
///
/// let slow = Fault::latency(0.05, Duration::from_millis(200));
/// assert_eq!(slow.rate(), 0.05);
/// assert_eq!(slow.kind(), FaultKind::Latency(Duration::from_millis(200)));
/// assert_eq!(Fault::error(0.1).kind(), FaultKind::Error);
/// assert_eq!(Fault::refusal(1.0).kind(), FaultKind::Refusal);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fault {
    kind: FaultKind,
    rate: f64,
}

/// What a [`Fault`] does to a call it hits.
///
/// ```
/// use resilience::chaos::FaultKind;
/// assert_eq!(FaultKind::Error.name(), "error");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The call returns [`InjectedFault`](crate::InjectedFault) (converted into its error
    /// type) without running.
    Error,
    /// The call waits this long, then runs.
    Latency(#[serde(with = "crate::duration_serde")] Duration),
    /// The call is refused as if its breaker (or bulkhead, or rate limiter) had refused it:
    /// a breaker returns its `CircuitOpen`.
    Refusal,
}

impl FaultKind {
    /// `"error"`, `"latency"` or `"refusal"`: the `fault` label of events and metrics.
    ///
    /// ```
    /// use resilience::chaos::FaultKind;
    /// assert_eq!(FaultKind::Refusal.name(), "refusal");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Error => "error",
            FaultKind::Latency(_) => "latency",
            FaultKind::Refusal => "refusal",
        }
    }

    /// The order faults of one site are drawn in (one of each kind per site).
    pub(crate) fn slot(self) -> u8 {
        match self {
            FaultKind::Refusal => 0,
            FaultKind::Error => 1,
            FaultKind::Latency(_) => 2,
        }
    }
}

impl Fault {
    /// `rate` of the calls fail with [`InjectedFault`](crate::InjectedFault).
    ///
    /// ```
    /// assert_eq!(resilience::chaos::Fault::error(0.1).rate(), 0.1);
    /// ```
    pub fn error(rate: f64) -> Fault {
        Fault {
            kind: FaultKind::Error,
            rate,
        }
    }

    /// `rate` of the calls wait `duration` before running: an async call on tokio's timer,
    /// a sync call on its own thread.
    ///
    /// ```
    /// use std::time::Duration;
    /// let f = resilience::chaos::Fault::latency(0.5, Duration::from_millis(250));
    /// assert_eq!(f.rate(), 0.5);
    /// ```
    pub fn latency(rate: f64, duration: Duration) -> Fault {
        Fault {
            kind: FaultKind::Latency(duration),
            rate,
        }
    }

    /// `rate` of the calls are refused as if the breaker (bulkhead, rate limiter) had
    /// refused them, without counting against it. Applies to those sites only, not to a
    /// decorated function's own name.
    ///
    /// ```
    /// assert_eq!(resilience::chaos::Fault::refusal(1.0).rate(), 1.0);
    /// ```
    pub fn refusal(rate: f64) -> Fault {
        Fault {
            kind: FaultKind::Refusal,
            rate,
        }
    }

    /// What the fault does.
    ///
    /// ```
    /// use resilience::chaos::{Fault, FaultKind};
    /// assert_eq!(Fault::error(0.1).kind(), FaultKind::Error);
    /// ```
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The share of calls it hits.
    ///
    /// ```
    /// assert_eq!(resilience::chaos::Fault::error(0.25).rate(), 0.25);
    /// ```
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// `Err` naming `rate` unless it is a number from 0.0 to 1.0.
    ///
    /// ```
    /// use resilience::chaos::Fault;
    /// assert!(Fault::error(1.0).validate().is_ok());
    /// assert_eq!(Fault::error(1.5).validate().unwrap_err().field(), "rate");
    /// assert!(Fault::error(f64::NAN).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if (0.0..=1.0).contains(&self.rate) {
            Ok(())
        } else {
            Err(ConfigError::new(
                "rate",
                self.rate,
                "must be a share of calls from 0.0 to 1.0",
            ))
        }
    }
}
