//! [`RetryLayer`]: a [`RetryConfig`] over a service whose requests are `Clone`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use rand::rngs::SmallRng;
use rand::SeedableRng;
use tower_layer::Layer;
use tower_service::Service;

use crate::retry::{AdaptiveAttempts, GiveUp, Schedule};
use crate::{
    retry_budget, CircuitOpen, ConfigError, MarcusError, RetryBudget, RetryConfig, TimedOut,
};

/// What a [`RetryDecision`] says about one error: retry it or not, and the wait it asks
/// for (a server's `Retry-After`), which the delay never goes under.
///
/// ```
/// use resilience::tower::Advice;
/// use std::time::Duration;
/// let advice = Advice::retry().after(Some(Duration::from_secs(2)));
/// assert!(advice.retryable);
/// assert!(!Advice::stop().retryable);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Advice {
    /// Whether another attempt may succeed.
    pub retryable: bool,
    /// The least wait before it, when the error says.
    pub retry_after: Option<Duration>,
}

impl Advice {
    /// Retry, after the backoff's delay.
    ///
    /// ```
    /// assert_eq!(resilience::tower::Advice::retry().retry_after, None);
    /// ```
    pub const fn retry() -> Self {
        Advice {
            retryable: true,
            retry_after: None,
        }
    }

    /// Do not retry: the error goes back to the caller.
    ///
    /// ```
    /// assert!(!resilience::tower::Advice::stop().retryable);
    /// ```
    pub const fn stop() -> Self {
        Advice {
            retryable: false,
            retry_after: None,
        }
    }

    /// The same advice, waiting at least `retry_after`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = resilience::tower::Advice::retry().after(Some(Duration::from_secs(1)));
    /// assert_eq!(a.retry_after, Some(Duration::from_secs(1)));
    /// ```
    pub const fn after(self, retry_after: Option<Duration>) -> Self {
        Advice {
            retry_after,
            ..self
        }
    }
}

impl From<bool> for Advice {
    /// `true` retries (after the backoff's delay), `false` stops.
    ///
    /// ```
    /// use resilience::tower::Advice;
    /// assert_eq!(Advice::from(true), Advice::retry());
    /// assert_eq!(Advice::from(false), Advice::stop());
    /// ```
    #[inline]
    fn from(retry: bool) -> Advice {
        if retry {
            Advice::retry()
        } else {
            Advice::stop()
        }
    }
}

/// Whether a response that came back `Ok` asks for another attempt (an HTTP 503 or 429
/// as an `Ok(Response)`), and after how long at least: [`RetryLayer::retry_response`].
/// Implemented by every `Fn(&Response) -> A` where `A` is a `bool` or an [`Advice`].
///
/// ```
/// use resilience::tower::{Advice, NoResponseRetried, RetryResponse};
/// use std::time::Duration;
/// assert!(!NoResponseRetried.advise(&503).retryable);
/// assert!((|status: &u16| *status == 503).advise(&503).retryable);
/// let wait = |status: &u16| Advice::from(*status == 429).after(Some(Duration::from_secs(2)));
/// assert_eq!(wait.advise(&429).retry_after, Some(Duration::from_secs(2)));
/// ```
pub trait RetryResponse<Res> {
    /// The advice for `response`: [`Advice::stop`] returns it to the caller.
    fn advise(&self, response: &Res) -> Advice;
}

impl<Res, A: Into<Advice>, F: Fn(&Res) -> A> RetryResponse<Res> for F {
    #[inline]
    fn advise(&self, response: &Res) -> Advice {
        self(response).into()
    }
}

/// The default of [`RetryLayer`]: every `Ok` is returned as is; only errors are retried.
///
/// ```
/// use resilience::tower::{NoResponseRetried, RetryResponse};
/// assert!(!NoResponseRetried.advise(&"any response").retryable);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResponseRetried;

impl<Res> RetryResponse<Res> for NoResponseRetried {
    #[inline]
    fn advise(&self, _: &Res) -> Advice {
        Advice::stop()
    }
}

/// An error that says whether retrying it may help: what [`RetryLayer`] asks by default.
///
/// Implemented by every [`MarcusError`] (by `retryable()` and `retry_after()`), by
/// `std::io::Error` and by the boxed `dyn Error`s tower uses (`tower::BoxError`): those
/// are seen through [`classify`](crate::classify) (an open breaker is never retried, a
/// timeout is; a "404" or "401" is not; an error nothing is known about is). For any
/// other error type, give [`RetryLayer::retry_if`].
///
/// ```
/// use resilience::{tower::Retryable, CircuitOpen};
/// let open: tower::BoxError = Box::new(CircuitOpen::from_name("x"));
/// assert!(!open.advice().retryable);
/// let unknown: tower::BoxError = "something odd".into();
/// assert!(unknown.advice().retryable);
/// ```
pub trait Retryable {
    /// Whether to retry this error, and after how long at least.
    fn advice(&self) -> Advice;
}

impl<E: MarcusError> Retryable for E {
    fn advice(&self) -> Advice {
        Advice {
            retryable: self.retryable(),
            retry_after: MarcusError::retry_after(self),
        }
    }
}

/// A foreign error, by its type where it is one of ours, else by [`classify`](crate::classify).
fn dyn_advice(error: &(dyn std::error::Error + 'static)) -> Advice {
    if let Some(open) = error.downcast_ref::<CircuitOpen>() {
        return open.advice();
    }
    if let Some(timed_out) = error.downcast_ref::<TimedOut>() {
        return timed_out.advice();
    }
    let c = crate::classify(error);
    if c == crate::Classification::UNKNOWN {
        // As `#[retry]` does: an error nothing is known about is retried.
        return Advice::retry();
    }
    Advice {
        retryable: c.retryable,
        retry_after: c.retry_after,
    }
}

impl Retryable for Box<dyn std::error::Error + Send + Sync> {
    fn advice(&self) -> Advice {
        dyn_advice(&**self)
    }
}

impl Retryable for Box<dyn std::error::Error + Send> {
    fn advice(&self) -> Advice {
        dyn_advice(&**self)
    }
}

impl Retryable for Box<dyn std::error::Error> {
    fn advice(&self) -> Advice {
        dyn_advice(&**self)
    }
}

impl Retryable for std::io::Error {
    fn advice(&self) -> Advice {
        dyn_advice(self)
    }
}

/// How a [`RetryLayer`] judges an error.
///
/// ```
/// use resilience::tower::{Classified, RetryDecision, RetryIf};
/// use std::io;
/// let timeout = io::Error::from(io::ErrorKind::TimedOut);
/// assert!(Classified.decide(&timeout).retryable);
/// assert!(!RetryIf(|_: &io::Error| false).decide(&timeout).retryable);
/// ```
pub trait RetryDecision<E> {
    /// The advice for `error`.
    fn decide(&self, error: &E) -> Advice;
}

/// The default decision: the error's own [`Retryable`] advice.
///
/// ```
/// use resilience::tower::{Classified, RetryDecision};
/// assert!(Classified.decide(&resilience::TimedOut { function: "f", limit: Default::default() }).retryable);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Classified;

impl<E: Retryable> RetryDecision<E> for Classified {
    #[inline]
    fn decide(&self, error: &E) -> Advice {
        error.advice()
    }
}

/// A decision by a predicate ([`RetryLayer::retry_if`]): `true` retries, after the
/// backoff's delay.
///
/// ```
/// use resilience::tower::{RetryDecision, RetryIf};
/// assert!(RetryIf(|e: &u16| *e >= 500).decide(&503).retryable);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RetryIf<F>(pub F);

impl<E, F: Fn(&E) -> bool> RetryDecision<E> for RetryIf<F> {
    #[inline]
    fn decide(&self, error: &E) -> Advice {
        if (self.0)(error) {
            Advice::retry()
        } else {
            Advice::stop()
        }
    }
}

/// A configuration made ready once per layer: its budget found, its adaptive state.
#[derive(Debug)]
struct Policy {
    config: RetryConfig,
    budget: Option<RetryBudget>,
    adaptive: Option<AdaptiveAttempts>,
}

impl Policy {
    fn new(config: RetryConfig) -> Policy {
        Policy {
            budget: config.budget.as_deref().map(retry_budget),
            adaptive: config
                .adaptive
                .then(|| AdaptiveAttempts::new(config.max_attempts)),
            config,
        }
    }
}

/// Retries failed calls as a [`RetryConfig`] says (attempts, backoff, jitter,
/// `max_elapsed`, budget, adaptive), waiting at least an error's `retry_after`, on
/// tokio's timer (so paused time applies). The request must be `Clone`: each attempt
/// sends a copy. Each retry and each give-up is a `tracing` event.
///
/// Which errors are retried: by default each error's [`Retryable`] advice; with
/// [`retry_if`](Self::retry_if), a predicate's. A response that came back `Ok` is
/// returned as is, unless [`retry_response`](Self::retry_response) says to retry it.
///
/// ```
/// use resilience::{retry::Backoff, tower::RetryLayer, RetryConfig};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let calls = Arc::new(AtomicU32::new(0));
/// let counted = calls.clone();
/// let svc = RetryLayer::new(RetryConfig { max_attempts: 3, ..Default::default() })
///     .layer(service_fn(move |()| {
///         let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
///         async move { if n < 3 { Err::<u32, BoxError>("503 unavailable".into()) } else { Ok(n) } }
///     }));
/// assert_eq!(svc.oneshot(()).await.unwrap(), 3);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct RetryLayer<D = Classified, R = NoResponseRetried> {
    policy: Arc<Policy>,
    decision: D,
    response: R,
}

impl RetryLayer {
    /// A layer retrying as `config` says. An invalid `config` is logged as a `tracing`
    /// error and [`RetryConfig::default`] is used, as `#[retry]` does;
    /// [`try_new`](Self::try_new) returns the error instead.
    ///
    /// ```
    /// let layer = resilience::tower::RetryLayer::new(resilience::RetryConfig::default());
    /// assert_eq!(layer.config().max_attempts, 3);
    /// ```
    pub fn new(config: RetryConfig) -> Self {
        RetryLayer::try_new(config).unwrap_or_else(|error| {
            tracing::error!(target: "resilience::tower", %error, "invalid RetryLayer configuration; using the defaults");
            RetryLayer::try_new(RetryConfig::default()).unwrap_or_else(|_| unreachable!("the defaults are valid"))
        })
    }

    /// A layer retrying as `config` says, or the error naming its invalid field.
    ///
    /// ```
    /// use resilience::{tower::RetryLayer, RetryConfig};
    /// let err = RetryLayer::try_new(RetryConfig { max_attempts: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "max_attempts");
    /// ```
    pub fn try_new(config: RetryConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(RetryLayer {
            policy: Arc::new(Policy::new(config)),
            decision: Classified,
            response: NoResponseRetried,
        })
    }
}

impl<D, R> RetryLayer<D, R> {
    /// Retries an error when `retry_if` says so, instead of by its [`Retryable`] advice
    /// (for error types without one).
    ///
    /// ```
    /// use resilience::{tower::RetryLayer, RetryConfig};
    /// let layer = RetryLayer::new(RetryConfig::default()).retry_if(|e: &String| e.starts_with("5"));
    /// # let _ = layer;
    /// ```
    pub fn retry_if<F>(self, retry_if: F) -> RetryLayer<RetryIf<F>, R> {
        RetryLayer {
            policy: self.policy,
            decision: RetryIf(retry_if),
            response: self.response,
        }
    }

    /// Retries a response that came back `Ok` when `retry_response` says so: an HTTP 503
    /// or 429 is an answer, but one that asks for another attempt. The closure returns a
    /// `bool` (retry after the backoff's delay) or an [`Advice`], whose `retry_after` (a
    /// server's `Retry-After`, read as you like) the delay never goes under. The
    /// attempts, backoff, `max_elapsed` and budget are the configuration's, as for
    /// errors; when no attempt is left, the last response is returned as is, an `Ok`.
    ///
    /// ```
    /// use resilience::{retry::Backoff, tower::{Advice, RetryLayer}, RetryConfig};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let calls = Arc::new(AtomicU32::new(0));
    /// let counted = calls.clone();
    /// let upstream = service_fn(move |()| {
    ///     let n = counted.fetch_add(1, Ordering::SeqCst);
    ///     async move { Ok::<u16, BoxError>(if n < 2 { 503 } else { 200 }) }
    /// });
    /// let svc = RetryLayer::new(RetryConfig { max_attempts: 3, backoff: Backoff::None, ..Default::default() })
    ///     // With HTTP: `.retry_response(|res: &http::Response<_>| res.status() == 503)`,
    ///     // or an `Advice` carrying the wait its `Retry-After` header asks for.
    ///     .retry_response(|status: &u16| {
    ///         Advice::from(*status == 503).after(Some(Duration::from_secs(1)))
    ///     })
    ///     .layer(upstream);
    /// let start = tokio::time::Instant::now();
    /// assert_eq!(svc.oneshot(()).await.unwrap(), 200);
    /// assert_eq!(calls.load(Ordering::SeqCst), 3);
    /// assert_eq!(start.elapsed(), Duration::from_secs(2)); // each retry after a second
    /// # }
    /// ```
    pub fn retry_response<G>(self, retry_response: G) -> RetryLayer<D, G> {
        RetryLayer {
            policy: self.policy,
            decision: self.decision,
            response: retry_response,
        }
    }

    /// The configuration in force.
    ///
    /// ```
    /// let layer = resilience::tower::RetryLayer::new(resilience::RetryConfig::default());
    /// assert!(layer.config().budget.is_none());
    /// ```
    pub fn config(&self) -> &RetryConfig {
        &self.policy.config
    }
}

impl<S, D: Clone, R: Clone> Layer<S> for RetryLayer<D, R> {
    type Service = Retry<S, D, R>;

    fn layer(&self, inner: S) -> Retry<S, D, R> {
        Retry {
            inner,
            policy: self.policy.clone(),
            decision: self.decision.clone(),
            response: self.response.clone(),
        }
    }
}

/// The service of [`RetryLayer`].
///
/// ```
/// use tower::Layer;
/// let svc = resilience::tower::RetryLayer::new(Default::default()).layer(());
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct Retry<S, D = Classified, R = NoResponseRetried> {
    inner: S,
    policy: Arc<Policy>,
    decision: D,
    response: R,
}

impl<S, D, R, Req> Service<Req> for Retry<S, D, R>
where
    S: Service<Req> + Clone,
    Req: Clone,
    D: RetryDecision<S::Error> + Clone,
    R: RetryResponse<S::Response> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, Req, D, R>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The service polled ready makes the first call; its clone the retries (as
        // tower's own retry does).
        let clone = self.inner.clone();
        let mut service = core::mem::replace(&mut self.inner, clone);
        let max_attempts = match &self.policy.adaptive {
            Some(adaptive) => adaptive.max_attempts(),
            None => self.policy.config.max_attempts,
        };
        let request = (max_attempts > 1).then(|| req.clone());
        let future = service.call(req);
        ResponseFuture {
            state: State::Called { future },
            service,
            request,
            policy: self.policy.clone(),
            decision: self.decision.clone(),
            response: self.response.clone(),
            started: self
                .policy
                .config
                .max_elapsed
                .map(|_| tokio::time::Instant::now()),
            calls: 1,
            max_attempts,
            schedule: None,
        }
    }
}

pin_project! {
    #[project = StateProj]
    #[derive(Debug)]
    enum State<F> {
        Called { #[pin] future: F },
        Waiting { #[pin] sleep: tokio::time::Sleep },
        Readying,
    }
}

pin_project! {
    /// The response future of [`Retry`]: the attempt running, the wait before the next,
    /// or the wait for the service to be ready again.
    pub struct ResponseFuture<S, Req, D, R = NoResponseRetried>
    where
        S: Service<Req>,
    {
        #[pin]
        state: State<S::Future>,
        service: S,
        request: Option<Req>,
        policy: Arc<Policy>,
        decision: D,
        response: R,
        started: Option<tokio::time::Instant>,
        calls: u32,
        max_attempts: u32,
        schedule: Option<Schedule<SmallRng>>,
    }
}

impl<S: Service<Req>, Req, D, R> core::fmt::Debug for ResponseFuture<S, Req, D, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("calls", &self.calls)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl<S, Req, D, R> Future for ResponseFuture<S, Req, D, R>
where
    S: Service<Req>,
    Req: Clone,
    D: RetryDecision<S::Error>,
    R: RetryResponse<S::Response>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    let outcome = core::task::ready!(future.poll(cx));
                    let advice = match &outcome {
                        Ok(response) => {
                            let advice = this.response.advise(response);
                            if !advice.retryable {
                                succeeded(this.policy);
                                return Poll::Ready(outcome);
                            }
                            advice
                        }
                        Err(error) => this.decision.decide(error),
                    };
                    let decision = if *this.calls >= *this.max_attempts {
                        Err(GiveUp::AttemptsExhausted)
                    } else if !advice.retryable {
                        Err(GiveUp::NotRetryable)
                    } else {
                        plan(
                            this.policy,
                            this.schedule,
                            *this.max_attempts,
                            *this.started,
                            advice.retry_after,
                        )
                    };
                    match decision {
                        Ok(delay) => {
                            tracing::info!(
                                target: "resilience::tower",
                                attempt = *this.calls,
                                delay_ms = delay.as_millis() as u64,
                                response = outcome.is_ok(),
                                "attempt failed; retrying"
                            );
                            crate::metrics::retry("resilience::tower::RetryLayer");
                            this.state.set(State::Waiting {
                                sleep: tokio::time::sleep(delay),
                            });
                        }
                        Err(reason) => {
                            if let Some(adaptive) = &this.policy.adaptive {
                                adaptive.record_failure();
                            }
                            tracing::warn!(
                                target: "resilience::tower",
                                attempts = *this.calls,
                                reason = reason.as_str(),
                                response = outcome.is_ok(),
                                "giving up"
                            );
                            // The last error, or the last response as is (an `Ok`).
                            return Poll::Ready(outcome);
                        }
                    }
                }
                StateProj::Waiting { sleep } => {
                    core::task::ready!(sleep.poll(cx));
                    this.state.set(State::Readying);
                }
                StateProj::Readying => {
                    core::task::ready!(this.service.poll_ready(cx))?;
                    *this.calls += 1;
                    let request = if *this.calls >= *this.max_attempts {
                        this.request.take()
                    } else {
                        this.request.clone()
                    };
                    let Some(request) = request else {
                        unreachable!(
                            "a retry is planned only while attempts remain, each with its request"
                        )
                    };
                    let future = this.service.call(request);
                    this.state.set(State::Called { future });
                }
            }
        }
    }
}

/// A call succeeded: adaptive streaks and the budget hear of it.
#[inline]
fn succeeded(policy: &Policy) {
    if let Some(adaptive) = &policy.adaptive {
        adaptive.record_success();
    }
    if let Some(budget) = &policy.budget {
        budget.record_success();
    }
}

/// The delay before the next attempt, or why there is none: the schedule (made at the
/// first failure, so a call that succeeds at once draws no randomness), then the budget.
#[cold]
fn plan(
    policy: &Policy,
    schedule: &mut Option<Schedule<SmallRng>>,
    max_attempts: u32,
    started: Option<tokio::time::Instant>,
    retry_after: Option<Duration>,
) -> Result<Duration, GiveUp> {
    let schedule = schedule.get_or_insert_with(|| {
        let config = RetryConfig {
            max_attempts,
            ..policy.config.clone()
        };
        config.schedule(SmallRng::from_os_rng())
    });
    let elapsed = started.map_or(Duration::ZERO, |s| s.elapsed());
    let delay = schedule.next_delay(elapsed, retry_after)?;
    if let Some(budget) = &policy.budget {
        if !budget.try_withdraw() {
            return Err(GiveUp::BudgetEmpty);
        }
    }
    Ok(delay)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tower::{service_fn, BoxError, Layer, ServiceExt};

    use super::*;
    use crate::errors::RateLimit;
    use crate::retry::{Backoff, Jitter};

    fn fixed(attempts: u32, delay: u64) -> RetryConfig {
        RetryConfig {
            max_attempts: attempts,
            backoff: Backoff::Fixed(Duration::from_millis(delay)),
            jitter: Jitter::None,
            ..Default::default()
        }
    }

    /// A service failing its first `failures` calls with `error()`, counting calls.
    fn flaky<E: Send + 'static>(
        failures: u32,
        error: fn() -> E,
    ) -> (
        Arc<AtomicU32>,
        impl Service<(), Response = u32, Error = E, Future = impl Send> + Clone,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let svc = service_fn(move |()| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            let outcome = if n <= failures { Err(error()) } else { Ok(n) };
            async move { outcome }
        });
        (calls, svc)
    }

    #[tokio::test(start_paused = true)]
    async fn retries_with_the_backoff_until_it_succeeds() {
        let (calls, inner) = flaky(2, || -> BoxError { "connection reset".into() });
        let svc = RetryLayer::new(fixed(5, 100)).layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_after_max_attempts_with_the_last_error() {
        let (calls, inner) = flaky(10, || -> BoxError { "connection reset".into() });
        let svc = RetryLayer::new(fixed(3, 10)).layer(inner);
        assert_eq!(
            svc.oneshot(()).await.unwrap_err().to_string(),
            "connection reset"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_and_a_404_are_not_retried() {
        let (calls, inner) = flaky(10, || -> BoxError { Box::new(CircuitOpen::from_name("x")) });
        RetryLayer::new(fixed(3, 10))
            .layer(inner)
            .oneshot(())
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let (calls, inner) = flaky(10, || -> BoxError { "HTTP 404 not found".into() });
        RetryLayer::new(fixed(3, 10))
            .layer(inner)
            .oneshot(())
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_a_floor_over_the_backoff() {
        let (calls, inner) = flaky(1, || {
            RateLimit::new("slow down").with_retry_after(Duration::from_secs(3))
        });
        let svc = RetryLayer::new(fixed(3, 100)).layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 2);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_if_decides_for_any_error_type() {
        let (calls, inner) = flaky(10, || 503u16);
        let svc = RetryLayer::new(fixed(4, 10)).retry_if(|status: &u16| *status >= 500);
        assert_eq!(svc.layer(inner).oneshot(()).await, Err(503));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        let (calls, inner) = flaky(10, || 400u16);
        let svc = RetryLayer::new(fixed(4, 10)).retry_if(|status: &u16| *status >= 500);
        assert_eq!(svc.layer(inner).oneshot(()).await, Err(400));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn max_elapsed_stops_the_retries() {
        let (calls, inner) = flaky(10, || -> BoxError { "connection reset".into() });
        let config = RetryConfig {
            max_elapsed: Some(Duration::from_millis(250)),
            ..fixed(10, 100)
        };
        RetryLayer::new(config)
            .layer(inner)
            .oneshot(())
            .await
            .unwrap_err();
        // Attempts at 0, 100 and 200 ms; one at 300 ms would be past 250 ms.
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_budget_stops_the_retries() {
        let budget = retry_budget("tower.retry.budget");
        while budget.try_withdraw() {}
        let (calls, inner) = flaky(10, || -> BoxError { "connection reset".into() });
        let config = RetryConfig {
            budget: Some("tower.retry.budget".into()),
            ..fixed(5, 10)
        };
        RetryLayer::new(config)
            .layer(inner)
            .oneshot(())
            .await
            .unwrap_err();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    /// A service answering `Ok(status)`: `statuses[i]` to its i-th call, the last one
    /// after that; counting calls.
    fn answering(
        statuses: &'static [u16],
    ) -> (
        Arc<AtomicU32>,
        impl Service<(), Response = u16, Error = BoxError, Future = impl Send> + Clone,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let svc = service_fn(move |()| {
            let n = counted.fetch_add(1, Ordering::SeqCst) as usize;
            let status = statuses[n.min(statuses.len() - 1)];
            async move { Ok::<_, BoxError>(status) }
        });
        (calls, svc)
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_asking_for_a_retry_is_retried_until_it_succeeds() {
        let (calls, inner) = answering(&[503, 503, 200]);
        let svc = RetryLayer::new(fixed(5, 100))
            .retry_response(|status: &u16| *status == 503)
            .layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn out_of_attempts_the_last_response_is_returned_as_is() {
        let (calls, inner) = answering(&[503]);
        let svc = RetryLayer::new(fixed(3, 10))
            .retry_response(|status: &u16| *status == 503)
            .layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 503, "an Ok, never an error");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_the_predicate_refuses_is_not_retried() {
        let (calls, inner) = answering(&[404, 200]);
        let svc = RetryLayer::new(fixed(3, 10))
            .retry_response(|status: &u16| *status == 503)
            .layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 404);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // And without `retry_response`, no response is retried.
        let (calls, inner) = answering(&[503, 200]);
        let svc = RetryLayer::new(fixed(3, 10)).layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 503);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_response_retry_after_is_a_floor_over_the_backoff() {
        let (calls, inner) = answering(&[429, 200]);
        let svc = RetryLayer::new(fixed(3, 100))
            .retry_response(|status: &u16| {
                Advice::from(*status == 429).after(Some(Duration::from_secs(3)))
            })
            .layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 200);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test(start_paused = true)]
    async fn responses_and_errors_are_judged_apart_in_one_call() {
        // 503, then an error, then 200: both retried, by their own decisions.
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let inner = service_fn(move |()| {
            let n = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                match n {
                    0 => Ok(503),
                    1 => Err("HTTP 502".to_string()),
                    _ => Ok(200u16),
                }
            }
        });
        let svc = RetryLayer::new(fixed(4, 10))
            .retry_if(|e: &String| e.contains("502"))
            .retry_response(|status: &u16| *status == 503)
            .layer(inner);
        assert_eq!(svc.oneshot(()).await, Ok(200));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn an_empty_budget_returns_the_response_asking_for_a_retry() {
        let budget = retry_budget("tower.retry.response_budget");
        while budget.try_withdraw() {}
        let (calls, inner) = answering(&[503, 200]);
        let config = RetryConfig {
            budget: Some("tower.retry.response_budget".into()),
            ..fixed(5, 10)
        };
        let svc = RetryLayer::new(config)
            .retry_response(|status: &u16| *status == 503)
            .layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 503);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn an_invalid_config_is_an_error_naming_the_field() {
        let err = RetryLayer::try_new(fixed(0, 10)).unwrap_err();
        assert_eq!((err.field(), err.value()), ("max_attempts", "0"));
        assert_eq!(
            RetryLayer::new(fixed(0, 10)).config(),
            &RetryConfig::default()
        );
    }
}
