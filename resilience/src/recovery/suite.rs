//! Running several checks at once, and the [`SuiteReport`] of a run.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::health_check::{Guarded, Outcome};
use super::RecoveryState;
use crate::duration_serde;

/// Polls every run until all have finished, each result at its index. Every wake-up
/// polls every unfinished run: checks are few, and this keeps us free of an executor
/// crate.
pub(crate) struct JoinAll {
    runs: Vec<Option<Pin<Box<Guarded>>>>,
    results: Vec<Option<Outcome>>,
}

impl JoinAll {
    pub(crate) fn new(runs: Vec<Guarded>) -> JoinAll {
        let results = runs.iter().map(|_| None).collect();
        JoinAll {
            runs: runs.into_iter().map(|r| Some(Box::pin(r))).collect(),
            results,
        }
    }
}

impl Future for JoinAll {
    type Output = Vec<Outcome>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let mut pending = false;
        for (run, result) in this.runs.iter_mut().zip(this.results.iter_mut()) {
            if let Some(fut) = run {
                match fut.as_mut().poll(cx) {
                    Poll::Ready(r) => {
                        *result = Some(r);
                        *run = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(
            this.results
                .iter_mut()
                .map(|r| {
                    r.take().unwrap_or_else(|| Outcome {
                        result: Err("no result".to_owned()),
                        latency: Duration::ZERO,
                    })
                })
                .collect(),
        )
    }
}

/// One check's latest result, as a [`SuiteReport`] shows it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), resilience::ConfigError> {
/// use resilience::recovery::{Recovery, RecoveryState};
/// use std::time::Duration;
///
/// let r = Recovery::new();
/// r.register_check("cache", Duration::from_secs(5), || async { Err::<(), _>("connection refused") })?;
/// let report = r.check_all().await;
/// let cache = report.check("cache").unwrap();
/// assert!(!cache.ok);
/// assert_eq!(cache.error.as_deref(), Some("connection refused"));
/// assert_eq!(cache.state, RecoveryState::Healthy); // one failure is not three
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CheckReport {
    /// The check's (and its service's) name.
    pub name: String,
    /// Whether the run passed.
    pub ok: bool,
    /// Why it failed: the check's error, `"timed out after …"` or `"health check
    /// panicked: …"`.
    pub error: Option<String>,
    /// How long the run took, on the manager's clock.
    #[serde(with = "duration_serde")]
    pub latency: Duration,
    /// The service's state after the run.
    pub state: RecoveryState,
    /// The share of calls the service gets after the run, in percent.
    pub traffic_percent: u8,
}

/// The results of one run of the health checks.
///
/// ```
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() -> Result<(), resilience::ConfigError> {
/// use resilience::recovery::Recovery;
/// use std::time::Duration;
///
/// let r = Recovery::new();
/// r.register_check("db", Duration::from_secs(5), || async { Ok::<(), String>(()) })?;
/// r.register_check("queue", Duration::from_secs(5), || async { Err::<(), _>("full") })?;
/// let report = r.check_all().await;
/// assert!(!report.healthy);
/// assert_eq!((report.passed, report.failed), (1, 1));
/// let json = serde_json::to_value(&report).unwrap();
/// assert_eq!(json["checks"][1]["error"], "full");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SuiteReport {
    /// True when every check of the run passed (and for a run of no checks).
    pub healthy: bool,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Each check's result, by name.
    pub checks: Vec<CheckReport>,
}

impl SuiteReport {
    pub(crate) fn new(checks: Vec<CheckReport>) -> SuiteReport {
        let passed = checks.iter().filter(|c| c.ok).count();
        SuiteReport {
            healthy: passed == checks.len(),
            passed,
            failed: checks.len() - passed,
            checks,
        }
    }

    /// The report of the check `name`, if it ran.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let report = resilience::recovery::Recovery::new().check_all().await;
    /// assert!(report.check("none").is_none());
    /// assert!(report.healthy);
    /// # }
    /// ```
    pub fn check(&self, name: &str) -> Option<&CheckReport> {
        self.checks.iter().find(|c| c.name == name)
    }
}
