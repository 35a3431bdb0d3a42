//! Recovery: named async health checks, the healthy → degraded → recovering → failed
//! states of each service, and a gradual traffic ramp for a service coming back, also
//! after a circuit breaker closes (slow start).
//!
//! A service's state is fed by its health check ([`Recovery::register_check`], run by
//! [`Recovery::run_checks`] or [`Recovery::spawn`]) or by hand
//! ([`Recovery::report_success`], [`Recovery::report_failure`]). The thresholds are the
//! reference recovery manager's ([`RecoveryConfig`]). Callers ask
//! [`Recovery::should_route_to`] before each call.
//!
//! | from | to | when |
//! |---|---|---|
//! | healthy | degraded | `degrade_after` (3) failures in a row |
//! | degraded | failed | `fail_after` (10) failures in a row, counting those that degraded it |
//! | degraded, still served | healthy | `recover_after` (3) successes in a row |
//! | degraded after a failed recovery, or failed | recovering | `recover_after` (3) successes in a row; the ramp starts |
//! | recovering | degraded, cut off | any failure |
//! | recovering | healthy | the ramp reaches 100 % ([`RampConfig`]: 20, 40, 60, 80, 100 %, 30 s apart) |
//!
//! Traffic: healthy 100 %; degraded keeps what it had (100 % coming from healthy, as in
//! the reference, where a degraded service is still served; 0 % after a failed
//! recovery); failed 0 %; recovering follows its ramp. One deliberate difference from
//! the reference: there, a degraded service that never lost its traffic also goes
//! through recovering, which cuts it from 100 % to the ramp's start just as it gets
//! better; here it goes straight back to healthy, and only a service that was cut off
//! ramps back. And where the reference enters recovering at the first passing check but
//! sends no traffic until the third, here the third passing check starts the ramp, so
//! the state never says "recovering" of a service that gets nothing.
//!
//! The state changes lazily: a ramp that has reached 100 % is seen (and traced) by the
//! next call that reads the service.
//!
//! ```
//! use resilience::clock::ManualClock;
//! use resilience::recovery::{RampConfig, Recovery, RecoveryConfig, RecoveryState};
//! use std::{sync::Arc, time::Duration};
//!
//! let clock = ManualClock::new();
//! let r = Recovery::with_clock(Arc::new(clock.clone()));
//! r.configure("db", RecoveryConfig {
//!     ramp: RampConfig::new([25, 50, 100], Duration::from_secs(30))?,
//!     ..Default::default()
//! })?;
//!
//! (0..10).for_each(|_| r.report_failure("db"));
//! assert_eq!(r.state("db"), Some(RecoveryState::Failed));
//! assert!(!r.should_route_to("db"));
//!
//! (0..3).for_each(|_| r.report_success("db"));
//! assert_eq!(r.state("db"), Some(RecoveryState::Recovering));
//! let admitted = (0..100).filter(|_| r.should_route_to("db")).count();
//! assert_eq!(admitted, 25);
//!
//! clock.advance(Duration::from_secs(60));
//! assert_eq!(r.state("db"), Some(RecoveryState::Healthy));
//! # Ok::<(), resilience::ConfigError>(())
//! ```

mod config;
mod health_check;
mod ramp;
mod service;
mod slow_start;
mod snapshot;
mod state;
mod suite;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

pub use config::{CheckConfig, RampConfig, RecoveryConfig};
pub use snapshot::{RecoverySnapshot, ServiceSnapshot, SlowStartSnapshot};
pub use state::RecoveryState;
pub use suite::{CheckReport, SuiteReport};

use health_check::{Check, Claim, Outcome};
use service::Service;
use suite::JoinAll;

use crate::breaker::Breaker;
use crate::clock::{Clock, SystemClock};
use crate::ConfigError;

/// How a recovery finds a breaker by name: in the registry it belongs to, which gives
/// it this when it makes it (the registry sits above the recovery, so it is not named).
pub(crate) type Breakers = Arc<dyn Fn(&str) -> Option<Arc<Breaker>> + Send + Sync>;

/// Services, their health checks and their traffic. Clones share one state. Use the
/// global registry's, [`recovery()`](fn@crate::recovery), or a
/// [`Registry`](crate::registry::Registry)'s own; make one alone for isolated tests of
/// what needs no breaker.
///
/// ```
/// use resilience::recovery::{Recovery, RecoveryState};
///
/// let r = Recovery::new();
/// let shared = r.clone();
/// (0..3).for_each(|_| r.report_failure("mail"));
/// assert_eq!(shared.state("mail"), Some(RecoveryState::Degraded));
/// ```
#[derive(Clone)]
pub struct Recovery {
    inner: Arc<Shared>,
}

struct Shared {
    clock: Arc<dyn Clock>,
    /// The breakers slow starts follow: its registry's (`None` for one made alone).
    breakers: Option<Breakers>,
    services: RwLock<BTreeMap<Arc<str>, Arc<Service>>>,
    checks: RwLock<BTreeMap<Arc<str>, Arc<Check>>>,
}

impl Default for Recovery {
    fn default() -> Self {
        Recovery::new()
    }
}

impl core::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Recovery")
            .field("services", &read(&self.inner.services).len())
            .field("checks", &read(&self.inner.checks).len())
            .finish_non_exhaustive()
    }
}

impl Recovery {
    /// An empty manager on the system clock (tokio's, so paused time applies).
    ///
    /// ```
    /// assert!(resilience::recovery::Recovery::new().snapshot().services.is_empty());
    /// ```
    pub fn new() -> Recovery {
        Recovery::with_clock(Arc::new(SystemClock))
    }

    /// An empty manager on `clock`: ramps, intervals and latencies read it. (A check's
    /// timeout is a timer, on tokio's clock when a runtime runs.)
    ///
    /// ```
    /// use resilience::{clock::ManualClock, recovery::Recovery};
    /// let r = Recovery::with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert_eq!(r.ramp_percent("x"), 100);
    /// ```
    pub fn with_clock(clock: impl Clock + 'static) -> Recovery {
        Recovery {
            inner: Arc::new(Shared {
                clock: crate::clock::shared(clock),
                breakers: None,
                services: RwLock::new(BTreeMap::new()),
                checks: RwLock::new(BTreeMap::new()),
            }),
        }
    }

    /// The recovery manager of a registry: on its clock, its slow starts following
    /// the breakers `breakers` finds.
    pub(crate) fn following(clock: Arc<dyn Clock>, breakers: Breakers) -> Recovery {
        Recovery {
            inner: Arc::new(Shared {
                clock,
                breakers: Some(breakers),
                services: RwLock::new(BTreeMap::new()),
                checks: RwLock::new(BTreeMap::new()),
            }),
        }
    }

    /// Sets `name`'s thresholds and ramp (the service is made if unknown). A ramp
    /// already running keeps the configuration it started with.
    ///
    /// ```
    /// use resilience::recovery::{Recovery, RecoveryConfig, RecoveryState};
    ///
    /// let r = Recovery::new();
    /// r.configure("api", RecoveryConfig { degrade_after: 1, ..Default::default() })?;
    /// r.report_failure("api");
    /// assert_eq!(r.state("api"), Some(RecoveryState::Degraded));
    /// let err = r.configure("api", RecoveryConfig { degrade_after: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("degrade_after", "0"));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, name: &str, config: RecoveryConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.service(name).configure(config);
        Ok(())
    }

    /// Registers the health check of the service `name`, run every `interval` (timing
    /// out after `interval`). `check` returns a future; `Ok(())` is a pass, an `Err` a
    /// failure whose message is kept. Registering a name again replaces its check.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::recovery::Recovery;
    /// use std::time::Duration;
    ///
    /// let r = Recovery::new();
    /// r.register_check("db", Duration::from_secs(10), || async {
    ///     // e.g. `SELECT 1` against the pool
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// assert!(r.run_checks().await.healthy);
    /// assert!(r.register_check("db", Duration::ZERO, || async { Ok::<(), String>(()) }).is_err());
    /// # Ok(()) }
    /// ```
    pub fn register_check<F, Fut, E>(
        &self,
        name: &str,
        interval: Duration,
        check: F,
    ) -> Result<(), ConfigError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: core::fmt::Display + 'static,
    {
        self.register_check_with(name, CheckConfig::every(interval), check)
    }

    /// [`register_check`](Recovery::register_check) with its own timeout.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::recovery::{CheckConfig, Recovery};
    /// use std::time::Duration;
    ///
    /// let r = Recovery::new();
    /// let config = CheckConfig { interval: Duration::from_secs(10), timeout: Duration::from_secs(1) };
    /// r.register_check_with("slow", config, || async {
    ///     tokio::time::sleep(Duration::from_secs(5)).await;
    ///     Ok::<(), String>(())
    /// })?;
    /// let report = r.check_all().await;
    /// assert_eq!(report.checks[0].error.as_deref(), Some("timed out after 1s"));
    /// # Ok(()) }
    /// ```
    pub fn register_check_with<F, Fut, E>(
        &self,
        name: &str,
        config: CheckConfig,
        check: F,
    ) -> Result<(), ConfigError>
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: core::fmt::Display + 'static,
    {
        config.validate()?;
        self.service(name);
        let check = Arc::new(Check::new(config, health_check::boxed(check)));
        write(&self.inner.checks).insert(Arc::from(name), check);
        Ok(())
    }

    /// Runs every check that is due (never run, or started at least its interval ago),
    /// all at once, and feeds their results to their services. A check still running
    /// from an earlier call is skipped. The report holds the checks that ran.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::recovery::Recovery;
    /// use std::time::Duration;
    ///
    /// let r = Recovery::new();
    /// r.register_check("db", Duration::from_secs(10), || async { Ok::<(), String>(()) })?;
    /// assert_eq!(r.run_checks().await.checks.len(), 1);
    /// assert_eq!(r.run_checks().await.checks.len(), 0); // not due yet
    /// tokio::time::advance(Duration::from_secs(10)).await;
    /// assert_eq!(r.run_checks().await.checks.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn run_checks(&self) -> SuiteReport {
        self.run(true).await
    }

    /// The health-check suite: runs every check now, due or not, all at once, and
    /// reports each result, latency and service state.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::recovery::Recovery;
    /// use std::time::Duration;
    ///
    /// let r = Recovery::new();
    /// r.register_check("db", Duration::from_secs(60), || async {
    ///     tokio::time::sleep(Duration::from_millis(40)).await;
    ///     Ok::<(), String>(())
    /// })?;
    /// let report = r.check_all().await;
    /// assert!(report.healthy);
    /// assert_eq!(report.checks[0].latency, Duration::from_millis(40));
    /// # Ok(()) }
    /// ```
    pub async fn check_all(&self) -> SuiteReport {
        self.run(false).await
    }

    /// Runs the due checks on a tokio task, every `tick`, until the returned handle is
    /// aborted (or the runtime shuts down). Each check still keeps its own interval;
    /// `tick` is how often they are looked at. Needs a running tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::recovery::{Recovery, RecoveryState};
    /// use std::time::Duration;
    ///
    /// let r = Recovery::new();
    /// r.register_check("db", Duration::from_secs(10), || async { Err::<(), _>("down") })?;
    /// let task = r.spawn(Duration::from_secs(1))?;
    /// tokio::time::sleep(Duration::from_secs(25)).await; // checks at 0, 10 and 20 s
    /// assert_eq!(r.state("db"), Some(RecoveryState::Degraded));
    /// task.abort();
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tokio")]
    pub fn spawn(&self, tick: Duration) -> Result<tokio::task::JoinHandle<()>, ConfigError> {
        if tick.is_zero() {
            return Err(ConfigError::new("tick", tick, "must be more than zero"));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            ConfigError::new(
                "runtime",
                "none",
                "`spawn` needs a running tokio runtime; call it from within one",
            )
        })?;
        let this = self.clone();
        Ok(handle.spawn(async move {
            let mut ticks = tokio::time::interval(tick);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                ticks.tick().await;
                this.run_checks().await;
            }
        }))
    }

    /// `name`'s state, `None` for a name never reported, checked or configured. A ramp
    /// that has reached 100 % makes the service healthy here.
    ///
    /// ```
    /// use resilience::recovery::{Recovery, RecoveryState};
    /// let r = Recovery::new();
    /// r.report_success("x");
    /// assert_eq!(r.state("x"), Some(RecoveryState::Healthy));
    /// ```
    pub fn state(&self, name: &str) -> Option<RecoveryState> {
        self.get(name).map(|s| s.state(self.now()))
    }

    /// Counts a success of `name` (the service is made if unknown).
    ///
    /// ```
    /// use resilience::recovery::{Recovery, RecoveryState};
    /// let r = Recovery::new();
    /// (0..3).for_each(|_| r.report_failure("x"));
    /// (0..3).for_each(|_| r.report_success("x"));
    /// assert_eq!(r.state("x"), Some(RecoveryState::Healthy)); // it never lost its traffic
    /// ```
    pub fn report_success(&self, name: &str) {
        self.service(name).report_success(self.now());
    }

    /// Counts a failure of `name` (the service is made if unknown).
    ///
    /// ```
    /// use resilience::recovery::{Recovery, RecoveryState};
    /// let r = Recovery::new();
    /// (0..10).for_each(|_| r.report_failure("x"));
    /// assert_eq!(r.state("x"), Some(RecoveryState::Failed));
    /// ```
    pub fn report_failure(&self, name: &str) {
        self.service(name)
            .report_failure(self.now(), "failure reported".to_owned());
    }

    /// Whether this call should go to `name`, counting it. Healthy (or degraded but
    /// still served): yes, after one atomic load. Failed, or degraded after a failed
    /// recovery: no. Recovering, or slow-starting after its breaker closed: exactly
    /// the ramp's percentage of calls, spread evenly (at 25 %, one call in four). A name
    /// never seen: yes.
    ///
    /// ```
    /// use resilience::recovery::Recovery;
    /// let r = Recovery::new();
    /// assert!(r.should_route_to("anything"));
    /// (0..10).for_each(|_| r.report_failure("down"));
    /// assert!(!r.should_route_to("down"));
    /// ```
    pub fn should_route_to(&self, name: &str) -> bool {
        self.get(name).is_none_or(|s| s.should_route(self.now()))
    }

    /// The share of calls `name` gets now, in percent (100 for an unknown name). With a
    /// slow start running too, the product of both shares.
    ///
    /// ```
    /// use resilience::recovery::Recovery;
    /// let r = Recovery::new();
    /// (0..10).for_each(|_| r.report_failure("x"));
    /// assert_eq!(r.ramp_percent("x"), 0);
    /// (0..3).for_each(|_| r.report_success("x"));
    /// assert_eq!(r.ramp_percent("x"), 20); // the default ramp's first step
    /// ```
    pub fn ramp_percent(&self, name: &str) -> u8 {
        self.get(name).map_or(100, |s| s.percent(self.now()))
    }

    /// Slow start: when the breaker `breaker_name` of the registry this recovery belongs
    /// to ([`recovery()`](fn@crate::recovery): the global [`registry()`](fn@crate::registry);
    /// [`Registry::recovery`](crate::registry::Registry::recovery): that registry) is
    /// seen closed after being open, half-open or forced open, calls to the service of
    /// the same name are ramped along `ramp`. The breaker is read whenever
    /// [`should_route_to`](Recovery::should_route_to) (or
    /// [`ramp_percent`](Recovery::ramp_percent), [`snapshot`](Recovery::snapshot)) is
    /// asked about that name; it may be registered later. While it is not closed the
    /// ramp is cancelled (the breaker refuses calls itself). Asking again replaces the
    /// ramp. A `Recovery` made alone belongs to no registry and sees no breaker: asking
    /// it is an `Err` (field `breaker`).
    ///
    /// ```
    /// use resilience::recovery::{RampConfig, Recovery};
    /// use resilience::{recovery, registry, BreakerConfig};
    /// use std::time::Duration;
    ///
    /// let breaker = registry().register("docs.slow_start", BreakerConfig { failure_threshold: 1, ..Default::default() })?;
    /// let r = recovery();
    /// r.slow_start_after_breaker("docs.slow_start", RampConfig::new([10, 100], Duration::from_secs(60))?)?;
    ///
    /// breaker.acquire().unwrap().record_failure(); // opens
    /// assert!(r.should_route_to("docs.slow_start")); // the breaker refuses by itself
    /// breaker.reset(); // closed again
    /// assert_eq!((0..100).filter(|_| r.should_route_to("docs.slow_start")).count(), 10);
    ///
    /// let alone = Recovery::new();
    /// let err = alone.slow_start_after_breaker("docs.slow_start", RampConfig::default()).unwrap_err();
    /// assert_eq!(err.field(), "breaker");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn slow_start_after_breaker(
        &self,
        breaker_name: &str,
        ramp: RampConfig,
    ) -> Result<(), ConfigError> {
        ramp.validate()?;
        let Some(breakers) = &self.inner.breakers else {
            return Err(ConfigError::new(
                "breaker",
                breaker_name,
                "this Recovery belongs to no registry, so it sees no breaker: use `resilience::recovery()` or a `Registry`'s `recovery()`",
            ));
        };
        let service = self.service(breaker_name);
        service.slow_start(ramp, breakers);
        // The first poll records the breaker's present state, so a breaker open right
        // now counts as "was open" when it closes.
        service.percent(self.now());
        Ok(())
    }

    /// Every service's state and counts, and every check's last result.
    ///
    /// ```
    /// use resilience::recovery::{Recovery, RecoveryState};
    /// let r = Recovery::new();
    /// (0..3).for_each(|_| r.report_failure("db"));
    /// let snap = r.snapshot();
    /// assert_eq!(snap.service("db").map(|s| s.state), Some(RecoveryState::Degraded));
    /// let json = serde_json::to_value(&snap).unwrap();
    /// assert_eq!(json["services"][0]["last_error"], "failure reported");
    /// ```
    pub fn snapshot(&self) -> RecoverySnapshot {
        let now = self.now();
        let services: Vec<Arc<Service>> = read(&self.inner.services).values().cloned().collect();
        let checks: Vec<(Arc<str>, Arc<Check>)> = read(&self.inner.checks)
            .iter()
            .map(|(n, c)| (n.clone(), c.clone()))
            .collect();
        RecoverySnapshot {
            services: services.iter().map(|s| s.snapshot(now)).collect(),
            checks: checks
                .iter()
                .filter_map(|(name, check)| check.last().map(|o| self.report_of(name, &o)))
                .collect(),
        }
    }

    async fn run(&self, due_only: bool) -> SuiteReport {
        let now = self.now();
        let claims: Vec<(Arc<str>, Claim)> = {
            let checks = read(&self.inner.checks);
            checks
                .iter()
                .filter(|(_, check)| !due_only || check.is_due(now))
                .filter_map(|(name, check)| check.claim(now).map(|claim| (name.clone(), claim)))
                .collect()
        };
        // No lock is held from here on: checks are user code and may take long.
        let runs = claims
            .iter()
            .map(|(_, claim)| claim.run(self.inner.clock.clone()))
            .collect();
        let outcomes = JoinAll::new(runs).await;
        let end = self.now();
        let mut reports = Vec::with_capacity(claims.len());
        for ((name, claim), outcome) in claims.iter().zip(outcomes) {
            let service = self.service(name);
            match &outcome.result {
                Ok(()) => service.report_success(end),
                Err(error) => service.report_failure(end, error.clone()),
            }
            *claim
                .check
                .last
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(outcome.clone());
            reports.push(self.report_of(name, &outcome));
        }
        SuiteReport::new(reports)
    }

    fn report_of(&self, name: &str, outcome: &Outcome) -> CheckReport {
        let service = self.get(name);
        let now = self.now();
        CheckReport {
            name: name.to_owned(),
            ok: outcome.result.is_ok(),
            error: outcome.result.as_ref().err().cloned(),
            latency: outcome.latency,
            state: service
                .as_ref()
                .map_or(RecoveryState::Healthy, |s| s.state(now)),
            traffic_percent: service.as_ref().map_or(100, |s| s.percent(now)),
        }
    }

    fn now(&self) -> Duration {
        self.inner.clock.now()
    }

    fn get(&self, name: &str) -> Option<Arc<Service>> {
        read(&self.inner.services).get(name).cloned()
    }

    fn service(&self, name: &str) -> Arc<Service> {
        if let Some(s) = self.get(name) {
            return s;
        }
        let now = self.now();
        write(&self.inner.services)
            .entry(Arc::from(name))
            .or_insert_with_key(|name| Arc::new(Service::new(name.clone(), now)))
            .clone()
    }
}

// Every write inserts or replaces a whole entry, so a poisoned map is still valid.
fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}
