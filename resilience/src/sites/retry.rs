//! The call site of `#[retry]`: what its generated code holds and calls (through
//! `__private`), and the decision made at each failure. Not a public API.
//!
//! The generated code owns the control flow: a loop in the function's own body that runs
//! one attempt and matches its outcome. `Ok` goes to [`RetrySite::succeeded`] and is
//! returned; `Err` goes to [`RetrySite::failed`] (told what to do by a [`RetryArm`]), out of line, which makes the call's
//! retry state ([`Attempts`]) at the first failure and either gives the error back to
//! return (`ControlFlow::Break`) or says how long to sleep before going round again
//! (`ControlFlow::Continue`). The decision itself is the retry engine's
//! (`retry/engine.rs`), which `RetryLayer` and the reqwest middleware drive too; this
//! file supplies it the error's [`Verdict`] (from its [`View`], or `retry_if`), the time
//! since the call began, the error's context (its `attempt` and one correlation id for
//! the whole call), and calls `on_retry`.
//!
//! It also resolves a policy in a registry for every front end ([`policy_in`],
//! [`NamedPolicy`]): the engine never looks at a registry.

use crate::sites::registry::SiteRegistry;
use core::ops::ControlFlow;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use crate::classification::Verdict;
use crate::clock::{Clock, SystemClock};
use crate::monitor::observe::Observe;
use crate::registry::Registry;
pub use crate::retry::engine::Attempts;
use crate::retry::engine::Policy;
use crate::retry::Via;
use crate::retry::{events, RetryConfig};
use crate::view::View;

/// What [`RetrySite::failed`] is told by the call site. (The error's view is an
/// argument of its own: a closure in a struct field would not be inferred as taking a
/// reference of any lifetime.)
pub struct RetryArm<I, R> {
    /// Whether this layer records the error in the monitor.
    pub observe: Observe,
    /// `retry_if`: `Some(decision)` when the attribute names one, `None` to ask the view.
    pub retry_if: I,
    /// `on_retry`: called with the error, the attempt that failed and the delay.
    pub on_retry: R,
}

/// One `#[retry]` call site: its function's name and its configuration, resolved once.
///
/// Usable in a `static`: the generated code declares one per decorated function.
///
/// ```
/// use resilience::__private::RetrySite;
/// use resilience::RetryConfig;
///
/// static SITE: RetrySite = RetrySite::new("fetch", || RetryConfig { max_attempts: 5, ..Default::default() });
/// assert_eq!(SITE.config().max_attempts, 5);
/// assert_eq!(SITE.function(), "fetch");
/// ```
pub struct RetrySite {
    function: &'static str,
    init: fn() -> RetryConfig,
    /// Filled on first use, and only for a site without a policy name: a filled one is
    /// the whole fast path.
    resolved: OnceLock<Policy>,
    /// `#[retry(policy = "name")]`: the registry's configuration of that name wins.
    policy: Option<&'static str>,
    /// A named site's resolution, remade when the named policies change; for a site
    /// without a name, the policy of its function's path if one is configured (`None`:
    /// there is none, the fixed resolution stands).
    named: Mutex<Option<(u64, Option<Arc<Policy>>)>>,
    /// A method's default name (`function` with its `Self` type), made on the first
    /// call's cold path (see [`started_in`](Self::started_in)); unset for other sites.
    method: bool,
    method_name: OnceLock<&'static str>,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
}

impl RetrySite {
    /// A site for `function`, whose configuration `init` makes on first use.
    ///
    /// `init`'s result is validated once; an invalid one (the macro checks literals, so
    /// only a `Duration` expression could do it) is logged with `tracing::error!` and
    /// replaced by [`RetryConfig::default`], since a retry loop must not panic.
    ///
    /// ```
    /// use resilience::__private::RetrySite;
    /// use resilience::RetryConfig;
    ///
    /// static BAD: RetrySite = RetrySite::new("bad", || RetryConfig { max_attempts: 0, ..Default::default() });
    /// assert_eq!(BAD.config(), RetryConfig::default());
    /// ```
    pub const fn new(function: &'static str, init: fn() -> RetryConfig) -> Self {
        RetrySite {
            function,
            init,
            registry: SiteRegistry::GLOBAL,
            resolved: OnceLock::new(),
            policy: None,
            named: Mutex::new(None),
            method: false,
            method_name: OnceLock::new(),
        }
    }

    /// A site whose configuration is the registry's policy `policy`
    /// (`registry().configure_retry(policy, ..)`), or `init`'s while there is none.
    /// A policy configured later, or changed, applies from the next call on, and to a call
    /// already retrying from its next failure (its attempt limit stays as it started).
    ///
    /// ```
    /// use resilience::__private::RetrySite;
    /// use resilience::{registry, RetryConfig};
    ///
    /// static SITE: RetrySite = RetrySite::with_policy("f", "doc-policy", Default::default);
    /// assert_eq!(SITE.config().max_attempts, 3);
    /// registry().configure_retry("doc-policy", RetryConfig { max_attempts: 7, ..Default::default() })?;
    /// assert_eq!(SITE.config().max_attempts, 7);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub const fn with_policy(
        function: &'static str,
        policy: &'static str,
        init: fn() -> RetryConfig,
    ) -> Self {
        RetrySite {
            function,
            init,
            registry: SiteRegistry::GLOBAL,
            resolved: OnceLock::new(),
            policy: Some(policy),
            named: Mutex::new(None),
            method: false,
            method_name: OnceLock::new(),
        }
    }

    /// The site of a method: its `function` (`module::function`) gets the method's
    /// `Self` type, which [`started_in`](Self::started_in) is given on the first call.
    ///
    /// ```
    /// use resilience::__private::RetrySite;
    ///
    /// struct Payments;
    /// static SITE: RetrySite = RetrySite::new("app::fetch", Default::default).in_method();
    /// assert_eq!(SITE.function(), "app::fetch"); // not called yet
    /// SITE.started_in(|| std::any::type_name::<Payments>());
    /// assert_eq!(SITE.function(), "app::Payments::fetch");
    /// ```
    pub const fn in_method(mut self) -> Self {
        self.method = true;
        self
    }

    /// The decorated function's name, as given to [`new`](RetrySite::new) (for a
    /// method's site, with its `Self` type once called).
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite =
    ///     resilience::__private::RetrySite::new("sync_board", Default::default);
    /// assert_eq!(SITE.function(), "sync_board");
    /// ```
    pub fn function(&self) -> &'static str {
        if self.method {
            if let Some(name) = self.method_name.get() {
                return name;
            }
        }
        self.function
    }

    /// [`started`](Self::started) for a site made [`in_method`](Self::in_method):
    /// `self_type` (a closure calling `type_name::<Self>()`) names the site on the cold
    /// path, before its configuration is resolved; the hot path is the same one load.
    #[inline]
    pub fn started_in(&self, self_type: fn() -> &'static str) -> Option<Duration> {
        match self.resolved.get() {
            Some(policy) => started(policy),
            None => self.started_slow_in(self_type),
        }
    }

    #[cold]
    #[inline(never)]
    fn started_slow_in(&self, self_type: fn() -> &'static str) -> Option<Duration> {
        if self.method {
            self.method_name
                .get_or_init(|| crate::site_name::method_name(self.function, self_type()));
        }
        self.started_slow()
    }

    /// The configuration in force (validated; the default if `init`'s was invalid).
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite =
    ///     resilience::__private::RetrySite::new("f", Default::default);
    /// assert_eq!(SITE.config().max_attempts, 3);
    /// ```
    pub fn config(&self) -> RetryConfig {
        self.current().config.clone()
    }

    /// The attempts a call starting now may make: `max_attempts`, or with `adaptive` the
    /// site's current adapted value.
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite = resilience::__private::RetrySite::new(
    ///     "f",
    ///     || resilience::RetryConfig { adaptive: true, ..Default::default() },
    /// );
    /// assert_eq!(SITE.max_attempts(), 3);
    /// ```
    pub fn max_attempts(&self) -> u32 {
        self.current().max_attempts()
    }

    /// The clock reading a call starts from, if `max_elapsed` needs one or calls are
    /// timed (feature `metrics`); a branch otherwise.
    ///
    /// ```
    /// use resilience::__private::RetrySite;
    /// use resilience::RetryConfig;
    /// use std::time::Duration;
    ///
    /// fn bounded() -> RetryConfig {
    ///     RetryConfig { max_elapsed: Some(Duration::from_secs(5)), ..Default::default() }
    /// }
    /// static BOUNDED: RetrySite = RetrySite::new("bounded", bounded);
    /// assert!(BOUNDED.started().is_some());
    /// // Without `max_elapsed`: `None`, unless the `metrics` feature times every call.
    /// static PLAIN: RetrySite = RetrySite::new("plain", Default::default);
    /// let _ = PLAIN.started();
    /// ```
    #[inline]
    pub fn started(&self) -> Option<Duration> {
        match self.resolved.get() {
            Some(policy) => started(policy),
            None => self.started_slow(),
        }
    }

    /// The `Ok` arm of `#[retry]`'s loop: the attempt just made succeeded. `attempts` is
    /// the call's retry state, set once an attempt failed: then the failed attempts'
    /// monitor records are marked recovered (see
    /// [`Monitor::mark_recovered`](crate::Monitor::mark_recovered)). The hot path, a first
    /// attempt that succeeds: two branches, unless the site keeps adaptive streaks or a
    /// budget (then a call off the fast path).
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite =
    ///     resilience::__private::RetrySite::new("f", Default::default);
    /// SITE.succeeded(&None, SITE.started());
    /// ```
    #[inline]
    pub fn succeeded(&self, attempts: &Option<Attempts>, started: Option<Duration>) {
        // One branch to one cold call: with a single call off the path, the decorated
        // function keeps no register across a call on its way to the return.
        match self.resolved.get() {
            Some(policy) if attempts.is_none() && policy.quiet_success(started) => {}
            // A copy: the state's own address must not leave the function (see `failed`).
            _ => self.succeeded_cold(attempts.clone(), started),
        }
    }

    /// A success that must be told somewhere (adaptive streaks, a budget, the durations),
    /// after failed attempts (their monitor records are marked recovered), or on a site
    /// not resolved once for all.
    #[cold]
    #[inline(never)]
    fn succeeded_cold(&self, attempts: Option<Attempts>, started: Option<Duration>) {
        match self.resolved.get() {
            Some(policy) => policy.succeeded_at(started, attempts.as_ref()),
            None => self.succeeded_slow(started, attempts.as_ref()),
        }
        if let Some(attempts) = attempts {
            crate::monitor().mark_recovered(self.function(), attempts.calls());
        }
    }

    /// The `Err` arm of `#[retry]`'s loop: the attempt just made failed with `error`.
    ///
    /// Records the error in the monitor if this layer is the one that does (`arm.observe`),
    /// makes the call's retry state on its first failure (into `attempts`, which the
    /// generated code keeps across attempts; `started` is what [`started`](Self::started)
    /// returned before the first one), then decides as [`Retrying::failed`] does:
    /// `Break(error)` to return it, `Continue(delay)` to sleep and go again.
    ///
    /// Out of line and by value, so the decorated function's success path is only
    /// [`started`](Self::started) and [`succeeded`](Self::succeeded), and its `Result`
    /// never has its address taken there.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use resilience::__private::{Attempts, Observe, RetryArm, RetrySite, View};
    /// use resilience::RetryConfig;
    ///
    /// static SITE: RetrySite = RetrySite::new("docs.failed", || RetryConfig { max_attempts: 2, ..Default::default() });
    /// let started = SITE.started();
    /// let mut attempts: Option<Attempts> = None;
    /// fn view<'a>(_: &'a mut &'static str) -> View<'a> {
    ///     View::Opaque("&str")
    /// }
    /// let arm = || RetryArm { observe: Observe::Skip, retry_if: |_: &_| None, on_retry: |_: &_, _, _| {} };
    /// let first = SITE.failed(&mut attempts, started, "down", view, arm());
    /// assert!(matches!(first, ControlFlow::Continue(_)));
    /// let second = SITE.failed(&mut attempts, started, "down", view, arm());
    /// assert_eq!(second, ControlFlow::Break("down"));
    /// ```
    #[inline(always)]
    pub fn failed<E, I, R>(
        &'static self,
        attempts: &mut Option<Attempts>,
        started: Option<Duration>,
        error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: RetryArm<I, R>,
    ) -> ControlFlow<E, Duration>
    where
        I: FnOnce(&E) -> Option<bool>,
        R: FnOnce(&E, u32, Duration),
    {
        // The state goes to the cold call by value and comes back, so the address of the
        // generated code's `attempts` never leaves the function: on the success path it
        // is a register, not a stack slot written on every call and read on success.
        let (state, flow) = self.failed_cold(attempts.take(), started, error, view, arm);
        *attempts = Some(state);
        flow
    }

    #[cold]
    #[inline(never)]
    fn failed_cold<E, I, R>(
        &'static self,
        attempts: Option<Attempts>,
        started: Option<Duration>,
        mut error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: RetryArm<I, R>,
    ) -> (Attempts, ControlFlow<E, Duration>)
    where
        I: FnOnce(&E) -> Option<bool>,
        R: FnOnce(&E, u32, Duration),
    {
        arm.observe.error(&mut error, &view);
        // One lookup serves both the new state's attempt limit and the decision.
        let policy = self.current();
        let mut attempts = attempts.unwrap_or_else(|| Attempts::starting(&policy));
        let flow = decide(
            &mut attempts,
            &policy,
            started,
            error,
            view,
            arm.retry_if,
            arm.on_retry,
        );
        (attempts, flow)
    }

    /// The `Ok` arm of `#[retry(retry_if_ok = ..)]` when the predicate asked for another
    /// attempt: the engine decides as for an error (attempts, `max_elapsed`, the budget),
    /// `Continue(delay)` to sleep and go again, `Break(())` to return the value (out of
    /// attempts, the last `Ok` is the answer). `on_retry` is not called: it takes an error.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use resilience::__private::{Attempts, RetrySite};
    /// use resilience::RetryConfig;
    ///
    /// static SITE: RetrySite = RetrySite::new("docs.ok_retried", || RetryConfig { max_attempts: 2, ..Default::default() });
    /// let mut attempts: Option<Attempts> = None;
    /// assert!(matches!(SITE.ok_retried(&mut attempts, SITE.started()), ControlFlow::Continue(_)));
    /// assert_eq!(SITE.ok_retried(&mut attempts, None), ControlFlow::Break(()));
    /// ```
    #[inline(always)]
    pub fn ok_retried(
        &'static self,
        attempts: &mut Option<Attempts>,
        started: Option<Duration>,
    ) -> ControlFlow<(), Duration> {
        // By value, as `failed`: `attempts` stays out of memory on the success path.
        let (state, flow) = self.ok_retried_cold(attempts.take(), started);
        *attempts = Some(state);
        flow
    }

    #[cold]
    #[inline(never)]
    fn ok_retried_cold(
        &'static self,
        attempts: Option<Attempts>,
        started: Option<Duration>,
    ) -> (Attempts, ControlFlow<(), Duration>) {
        let policy = self.current();
        let mut attempts = attempts.unwrap_or_else(|| Attempts::starting(&policy));
        let verdict = Verdict::retry().failing(false).coded("RETRY_IF_OK");
        let elapsed = started.map(|started| SystemClock.now().saturating_sub(started));
        let message = || "an `Ok` that `retry_if_ok` asked to retry".to_owned();
        let flow = match attempts.failed(&policy, &verdict, elapsed, &message) {
            Ok(delay) => ControlFlow::Continue(delay),
            Err(_) => ControlFlow::Break(()),
        };
        (attempts, flow)
    }

    /// The resolution in force: made once for an unnamed site (one load afterwards);
    /// for a named one, remade whenever the named policies changed. Only an unnamed
    /// site ever fills `resolved`, so a filled one is the whole fast path.
    ///
    /// Once any policy has been configured, an unnamed site also answers to a policy
    /// named by its function's path (`registry().configure_retry("app::client::fetch",
    /// ..)`, or `[retry."app::client::fetch"]` in a configuration file). Only failures
    /// (and `config`, `max_attempts`) come through here: a first attempt that succeeds
    /// reads `resolved` alone, as before.
    #[inline]
    fn current(&self) -> Current<'_> {
        match self.resolved.get() {
            Some(resolved) if self.registry.retry_policies().generation() == 0 => {
                Current::Fixed(resolved)
            }
            _ => self.current_slow(),
        }
    }

    /// The fixed resolution of a site without a policy name, made on first use.
    #[cold]
    #[inline(never)]
    fn resolve_fixed(&self) -> &Policy {
        self.resolved.get_or_init(|| self.resolve((self.init)()))
    }

    #[cold]
    #[inline(never)]
    fn started_slow(&self) -> Option<Duration> {
        started(&self.current_slow())
    }

    #[cold]
    #[inline(never)]
    fn succeeded_slow(&self, started: Option<Duration>, attempts: Option<&Attempts>) {
        self.current_slow().succeeded_at(started, attempts);
    }

    #[cold]
    #[inline(never)]
    fn current_slow(&self) -> Current<'_> {
        let policies = self.registry.retry_policies();
        let generation = policies.generation();
        let (key, fixed) = match self.policy {
            Some(policy) => (policy, None),
            None => {
                let fixed = self.resolve_fixed();
                if generation == 0 {
                    return Current::Fixed(fixed);
                }
                (self.function, Some(fixed))
            }
        };
        let mut named = self.named.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, resolved)) = named.as_ref() {
            if *seen == generation {
                match (resolved, fixed) {
                    (Some(resolved), _) => return Current::Shared(Arc::clone(resolved)),
                    (None, Some(fixed)) => return Current::Fixed(fixed),
                    // A named site always caches a resolution; resolve again if not.
                    (None, None) => {}
                }
            }
        }
        let resolved = match (policies.get(key), fixed) {
            (None, Some(fixed)) => {
                *named = Some((generation, None));
                return Current::Fixed(fixed);
            }
            (Some(config), Some(fixed)) => {
                warn_by_path(self.function, &fixed.config, &config);
                Arc::new(self.resolve(config))
            }
            (config, None) => Arc::new(self.resolve(config.unwrap_or_else(|| (self.init)()))),
        };
        *named = Some((generation, Some(Arc::clone(&resolved))));
        Current::Shared(resolved)
    }

    fn resolve(&self, config: RetryConfig) -> Policy {
        policy_in(self.registry.get(), self.function(), Via::Attribute, config)
    }
}

/// A site without a policy name found by its function's path: its success path keeps
/// the attribute's own resolution (it looks nothing up), so what only that path does
/// follows the attribute. Said once per change of the policies, when it matters.
fn warn_by_path(function: &'static str, attribute: &RetryConfig, configured: &RetryConfig) {
    let unheard = (configured.max_elapsed.is_some() && attribute.max_elapsed.is_none())
        || configured.adaptive != attribute.adaptive
        || configured.budget != attribute.budget;
    if unheard {
        tracing::warn!(
            target: events::TARGET,
            function,
            "retry policy found by the function's path: its `max_elapsed`, `adaptive` and \
             the budget's deposits on success follow the attribute's own keys; name the site \
             with `#[retry(policy = \"..\")]` for them to follow the configuration"
        );
    }
}

/// The clock reading a call with `max_elapsed` starts from; out of line, so
/// [`RetrySite::started`] stays small enough to inline.
#[cold]
#[inline(never)]
fn start_time() -> Duration {
    SystemClock.now()
}

/// The clock reading a call starts from, if `max_elapsed` needs one or calls are timed.
/// HOT PATH: a branch, and no clock read without `max_elapsed` or the `metrics` feature.
#[inline]
fn started(policy: &Policy) -> Option<Duration> {
    if policy.timed() {
        Some(start_time())
    } else {
        None
    }
}

/// A site's resolution: borrowed from an unnamed site, shared with a named one. For a
/// layer or the middleware, `Current<'static>`: its own policy, kept for the program's
/// life, or a configured one, shared.
pub(crate) enum Current<'s> {
    Fixed(&'s Policy),
    Shared(Arc<Policy>),
}

impl core::ops::Deref for Current<'_> {
    type Target = Policy;

    #[inline]
    fn deref(&self) -> &Policy {
        match self {
            Current::Fixed(r) => r,
            Current::Shared(r) => r,
        }
    }
}

/// The state of one call through a [`RetrySite`]: attempts made, the last delay drawn,
/// when it started.
///
/// ```
/// use core::ops::ControlFlow;
/// use resilience::__private::{RetrySite, Retrying, View};
/// use resilience::retry::Backoff;
/// use resilience::RetryConfig;
///
/// static SITE: RetrySite =
///     RetrySite::new("parse", || RetryConfig { backoff: Backoff::None, ..Default::default() });
///
/// let mut calls = 0;
/// let mut retrying = Retrying::new(&SITE);
/// let result: Result<u32, String> = loop {
///     calls += 1;
///     let outcome = if calls < 3 { Err(format!("failure {calls}")) } else { Ok(calls) };
///     match retrying.next(outcome, |_| View::Opaque("String"), |_| None, |_, _, _| {}) {
///         ControlFlow::Break(result) => break result,
///         ControlFlow::Continue(delay) => resilience::__private::sleep_blocking(delay),
///     }
/// };
/// assert_eq!(result, Ok(3));
/// ```
///
/// The generated code keeps only the [`Attempts`] part across attempts (it has the site
/// and the start time at hand); this is the whole state, for a loop written by hand.
pub struct Retrying<'s> {
    site: &'s RetrySite,
    /// The clock reading at the first call, only when `max_elapsed` or timing needs it.
    started: Option<Duration>,
    attempts: Attempts,
}

impl<'s> Retrying<'s> {
    /// Starts a call. Cheap: no allocation, and no clock read unless `max_elapsed` is set
    /// or calls are timed (feature `metrics`).
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite =
    ///     resilience::__private::RetrySite::new("f", Default::default);
    /// let _retrying = resilience::__private::Retrying::new(&SITE);
    /// ```
    #[inline]
    pub fn new(site: &'s RetrySite) -> Self {
        Retrying::resume(site, site.started())
    }

    /// A call whose first attempt, begun at `started` (from [`RetrySite::started`]),
    /// has just failed. [`RetrySite::failed`] makes the retry state only then, so a first
    /// attempt that succeeds stores none of it.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use resilience::__private::{RetrySite, Retrying, View};
    ///
    /// static SITE: RetrySite = RetrySite::new("f", Default::default);
    /// let started = SITE.started();
    /// let mut retrying = Retrying::resume(&SITE, started);
    /// let flow = retrying.failed("down", |_| View::Opaque("&str"), |_| None, |_, _, _| {});
    /// assert!(matches!(flow, ControlFlow::Continue(_)));
    /// ```
    #[inline]
    pub fn resume(site: &'s RetrySite, started: Option<Duration>) -> Self {
        Retrying {
            site,
            started,
            attempts: Attempts::starting(&site.current()),
        }
    }

    /// Takes the outcome of the attempt just made: `Break(result)` to return it,
    /// `Continue(delay)` to sleep `delay` and run the body again. The generated code does
    /// the same with [`RetrySite::succeeded`] and [`RetrySite::failed`], one per arm, so
    /// the value is never moved through here.
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use resilience::__private::{RetrySite, Retrying, View};
    ///
    /// static SITE: RetrySite = RetrySite::new("f", Default::default);
    /// let mut retrying = Retrying::new(&SITE);
    /// let ok: Result<u8, ()> = Ok(7);
    /// let flow = retrying.next(ok, |_| View::Opaque("()"), |_| None, |_, _, _| {});
    /// assert_eq!(flow, ControlFlow::Break(Ok(7)));
    ///
    /// // `retry_if` said no: the error comes back after one call.
    /// let err: Result<u8, ()> = Err(());
    /// let flow = retrying.next(err, |_| View::Opaque("()"), |_| Some(false), |_, _, _| {});
    /// assert_eq!(flow, ControlFlow::Break(Err(())));
    /// ```
    #[inline]
    pub fn next<T, E>(
        &mut self,
        outcome: Result<T, E>,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        retry_if: impl FnOnce(&E) -> Option<bool>,
        on_retry: impl FnOnce(&E, u32, Duration),
    ) -> ControlFlow<Result<T, E>, Duration> {
        match outcome {
            Ok(value) => {
                self.succeeded();
                ControlFlow::Break(Ok(value))
            }
            Err(error) => match self.failed(error, view, retry_if, on_retry) {
                ControlFlow::Break(error) => ControlFlow::Break(Err(error)),
                ControlFlow::Continue(delay) => ControlFlow::Continue(delay),
            },
        }
    }

    /// The attempt just made succeeded. The hot path: one branch, unless the site keeps
    /// adaptive streaks or a budget (then a call off the fast path).
    ///
    /// ```
    /// static SITE: resilience::__private::RetrySite =
    ///     resilience::__private::RetrySite::new("f", Default::default);
    /// resilience::__private::Retrying::new(&SITE).succeeded();
    /// ```
    #[inline]
    pub fn succeeded(&self) {
        // No monitor records to mark recovered: `failed` here records none.
        match self.site.resolved.get() {
            Some(policy) => policy.succeeded_at(self.started, Some(&self.attempts)),
            None => self.site.succeeded(&None, self.started),
        }
    }

    /// The attempt just made failed with `error`: `Break(error)` to return it,
    /// `Continue(delay)` to sleep `delay` and run the body again.
    ///
    /// It sets the error context's `attempt` to the calls made so far, then retries only
    /// if every check passes, in this order: attempts left; the error is retryable
    /// (`retry_if` when given — `Some(decision)` — else `view`'s `retryable()`); the delay
    /// (jittered backoff, at least the error's `retry_after`, which must not exceed
    /// `max_retry_after`) ends before `max_elapsed`;
    /// the budget, if any, grants a token. `on_retry` is called with the error, the
    /// attempt that failed (1-based) and the delay, before the sleep; it may panic without
    /// harm to any shared state (nothing is locked or half-updated while it runs).
    ///
    /// ```
    /// use core::ops::ControlFlow;
    /// use resilience::__private::{RetrySite, Retrying, View};
    ///
    /// static SITE: RetrySite = RetrySite::new("f", Default::default);
    /// let mut retrying = Retrying::new(&SITE);
    /// let flow = retrying.failed("down", |_| View::Opaque("&str"), |_| None, |_, _, _| {});
    /// assert!(matches!(flow, ControlFlow::Continue(_)));
    /// let flow = retrying.failed("bad input", |_| View::Opaque("&str"), |_| Some(false), |_, _, _| {});
    /// assert_eq!(flow, ControlFlow::Break("bad input"));
    /// ```
    pub fn failed<E>(
        &mut self,
        error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        retry_if: impl FnOnce(&E) -> Option<bool>,
        on_retry: impl FnOnce(&E, u32, Duration),
    ) -> ControlFlow<E, Duration> {
        let policy = self.site.current();
        decide(
            &mut self.attempts,
            &policy,
            self.started,
            error,
            view,
            retry_if,
            on_retry,
        )
    }
}

/// The attribute's failure: the error's context gets the call's attempt count and its
/// one correlation id, `retry_if` (when given) overrides the view's retryable, the engine
/// decides, and `on_retry` hears of a retry before its sleep (it may panic without harm:
/// nothing is locked or half-updated while it runs).
fn decide<E>(
    attempts: &mut Attempts,
    policy: &Policy,
    started: Option<Duration>,
    mut error: E,
    view: impl for<'a> Fn(&'a mut E) -> View<'a>,
    retry_if: impl FnOnce(&E) -> Option<bool>,
    on_retry: impl FnOnce(&E, u32, Duration),
) -> ControlFlow<E, Duration> {
    let (verdict, message) = {
        let mut view = view(&mut error);
        if let Some(context) = view.context_mut() {
            context.attempt = attempts.calls().saturating_add(1);
            attempts.keep_correlation(&mut context.correlation_id);
        }
        (
            view.verdict(),
            events::listening(&policy.events).then(|| view.message()),
        )
    };
    let verdict = match retry_if(&error) {
        Some(retryable) => verdict.retrying(retryable),
        None => verdict,
    };
    let elapsed = started.map(|started| SystemClock.now().saturating_sub(started));
    let message = || message.clone().unwrap_or_default();
    match attempts.failed(policy, &verdict, elapsed, &message) {
        Ok(delay) => {
            on_retry(&error, attempts.calls(), delay);
            ControlFlow::Continue(delay)
        }
        Err(_) => ControlFlow::Break(error),
    }
}

/// A policy of `config` for the instance `name` driven `via` a front end, its budget
/// found in `registry`. An invalid `config` (the macro checks literals, so only a
/// `Duration` expression, or a layer's configuration, could be one) is logged and
/// replaced by the defaults, since a retry loop must not panic.
pub(crate) fn policy_in(
    registry: &Registry,
    name: &'static str,
    via: Via,
    mut config: RetryConfig,
) -> Policy {
    config =
        crate::config_error::valid_fields(config, RetryConfig::validate, via.front_end(), name);
    let budget = config
        .budget
        .as_deref()
        .map(|budget| registry.retry_budget(budget));
    Policy::new(name, via, config, budget).with_events(registry.event_sink())
}

/// A layer's or the middleware's policy: its name, configuration and registry. The
/// registry's retry policy of that name (`registry.configure_retry(name, ..)`, or a
/// `[retry.NAME]` table) wins while one is configured, as `#[retry(policy = ..)]` does.
// Used by the tower and reqwest front ends only.
#[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
pub(crate) struct NamedPolicy {
    name: &'static str,
    via: Via,
    registry: &'static Registry,
    config: RetryConfig,
    /// The layer's own configuration made ready, on the first call.
    fixed: OnceLock<&'static Policy>,
    /// The registry's policy of the name, remade when the policies change.
    named: Mutex<Option<(u64, Option<Arc<Policy>>)>>,
}

#[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
impl NamedPolicy {
    pub(crate) fn new(
        name: &'static str,
        via: Via,
        registry: &'static Registry,
        config: RetryConfig,
    ) -> NamedPolicy {
        NamedPolicy {
            name,
            via,
            registry,
            config,
            fixed: OnceLock::new(),
            named: Mutex::new(None),
        }
    }

    /// The instance's name.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// The registry its budget and named policy come from.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn registry(&self) -> &'static Registry {
        self.registry
    }

    /// The configuration given to the layer.
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    pub(crate) fn config(&self) -> &RetryConfig {
        &self.config
    }

    /// The policy in force for a call starting now. HOT PATH: a load and a branch while
    /// no policy was ever configured in the registry (the layer's own policy is kept for
    /// the program's life, so a call takes no reference count: two locked instructions
    /// on a line every thread calling the layer shares).
    #[inline]
    pub(crate) fn current(&self) -> Current<'static> {
        match self.fixed.get() {
            Some(fixed) if self.registry.retry_policies().generation() == 0 => {
                Current::Fixed(fixed)
            }
            _ => self.current_slow(),
        }
    }

    #[cold]
    #[inline(never)]
    fn current_slow(&self) -> Current<'static> {
        let fixed = *self
            .fixed
            .get_or_init(|| fixed_policy(self.registry, self.name, self.via, &self.config));
        let policies = self.registry.retry_policies();
        let generation = policies.generation();
        if generation == 0 {
            return Current::Fixed(fixed);
        }
        let mut named = self.named.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((seen, policy)) = named.as_ref() {
            if *seen == generation {
                return match policy {
                    Some(policy) => Current::Shared(Arc::clone(policy)),
                    None => Current::Fixed(fixed),
                };
            }
        }
        let policy = policies
            .get(self.name)
            .map(|config| Arc::new(policy_in(self.registry, self.name, self.via, config)));
        let current = match &policy {
            Some(policy) => Current::Shared(Arc::clone(policy)),
            None => Current::Fixed(fixed),
        };
        *named = Some((generation, policy));
        current
    }
}

/// The policies layers and middlewares were built with, one per registry, name, front
/// end and configuration, each kept for the program's life (as interned names are): a
/// call borrows its layer's for `'static` instead of counting references. Layers built
/// again with the same name and configuration (a stack built per connection) share one,
/// adaptive attempts included, as the registry's named instances are shared; the table
/// grows only with distinct configurations.
#[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
type Kept = (usize, &'static str, Via, RetryConfig, &'static Policy);

#[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
fn fixed_policy(
    registry: &'static Registry,
    name: &'static str,
    via: Via,
    config: &RetryConfig,
) -> &'static Policy {
    static KEPT: Mutex<Vec<Kept>> = Mutex::new(Vec::new());
    let at = core::ptr::from_ref(registry) as usize;
    let mut kept = KEPT.lock().unwrap_or_else(PoisonError::into_inner);
    let found = kept
        .iter()
        .find(|(r, n, v, c, _)| *r == at && *n == name && *v == via && c == config);
    if let Some(&(.., policy)) = found {
        return policy;
    }
    let policy: &'static Policy =
        Box::leak(Box::new(policy_in(registry, name, via, config.clone())));
    kept.push((at, name, via, config.clone(), policy));
    policy
}

impl RetrySite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::RetrySite;
    /// use resilience::registry::Registry;
    /// use resilience::RetryConfig;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: RetrySite = RetrySite::with_policy("docs::f", "docs.policy", Default::default)
    ///     .in_registry(|| &REG);
    /// REG.configure_retry("docs.policy", RetryConfig { max_attempts: 7, ..Default::default() })?;
    /// assert!(SITE.max_attempts() == 7);
    /// assert!(resilience::registry().retry_policy("docs.policy").is_none());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layers_policy_is_kept_once_per_registry_name_and_configuration() {
        let registry = crate::registry();
        let config = RetryConfig {
            max_attempts: 4,
            ..Default::default()
        };
        let kept = |name, config: &RetryConfig| {
            core::ptr::from_ref(fixed_policy(registry, name, Via::Tower, config))
        };
        let first = kept("sites.retry.kept", &config);
        assert_eq!(
            first,
            kept("sites.retry.kept", &config),
            "built again: the same policy"
        );
        assert_ne!(
            first,
            kept("sites.retry.kept.other", &config),
            "another name"
        );
        let changed = RetryConfig {
            max_attempts: 5,
            ..config.clone()
        };
        assert_ne!(
            first,
            kept("sites.retry.kept", &changed),
            "another configuration"
        );
        assert_eq!(
            fixed_policy(registry, "sites.retry.kept", Via::Tower, &changed)
                .config
                .max_attempts,
            5
        );
    }
}
