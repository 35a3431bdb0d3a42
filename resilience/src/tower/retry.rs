//! [`RetryLayer`]: a [`RetryConfig`] over a service whose requests are `Clone`, a short
//! driver of the retry engine (`retry/engine.rs`) that `#[retry]` and the reqwest
//! middleware drive too: the same decisions, budgets, adaptive attempts, events (target
//! `resilience::retry`, `via = "tower"`) and metrics.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::classification::{Classify, Verdict};
use crate::clock::{Clock, SystemClock};
use crate::registry::Registry;
use crate::retry::engine::{Attempts, Policy};
use crate::retry::nested::{AttemptMark, Nested};
use crate::retry::Via;
use crate::sites::retry::{Current, NamedPolicy};
use crate::{ConfigError, RetryConfig};

/// Whether a response that came back `Ok` asks for another attempt (an HTTP 503 or 429
/// as an `Ok(Response)`), and after how long at least: [`RetryLayer::retry_response`].
/// Implemented by every `Fn(&Response) -> V` where `V` is a `bool` (`true`: retry after
/// the backoff's delay) or a [`Verdict`] (whose `retry_after`, a server's `Retry-After`,
/// the delay never goes under).
///
/// ```
/// use resilience::classification::Verdict;
/// use resilience::tower::{NoResponseRetried, RetryResponse};
/// use std::time::Duration;
/// assert!(!NoResponseRetried.verdict(&503).retryable);
/// assert!((|status: &u16| *status == 503).verdict(&503).retryable);
/// let wait = |status: &u16| Verdict::from(*status == 429).after(Some(Duration::from_secs(2)));
/// assert_eq!(wait.verdict(&429).retry_after, Some(Duration::from_secs(2)));
/// ```
pub trait RetryResponse<Res> {
    /// The verdict on `response`: [`Verdict::SUCCESS`] returns it to the caller.
    fn verdict(&self, response: &Res) -> Verdict;
}

impl<Res, V: Into<Verdict>, F: Fn(&Res) -> V> RetryResponse<Res> for F {
    #[inline]
    fn verdict(&self, response: &Res) -> Verdict {
        self(response).into()
    }
}

/// The default of [`RetryLayer`]: every `Ok` is returned as is; only errors are retried.
///
/// ```
/// use resilience::tower::{NoResponseRetried, RetryResponse};
/// assert!(!NoResponseRetried.verdict(&"any response").failure);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResponseRetried;

impl<Res> RetryResponse<Res> for NoResponseRetried {
    #[inline]
    fn verdict(&self, _: &Res) -> Verdict {
        Verdict::SUCCESS
    }
}

/// How a [`RetryLayer`] judges an error: by default its [`Classify`] verdict
/// ([`Classified`]); with [`RetryLayer::retry_if`], a predicate's ([`RetryIf`]).
///
/// ```
/// use resilience::tower::{Classified, RetryDecision, RetryIf};
/// use std::io;
/// let timeout = io::Error::from(io::ErrorKind::TimedOut);
/// assert!(Classified.verdict(&timeout).retryable);
/// assert!(!RetryIf(|_: &io::Error| false).verdict(&timeout).retryable);
/// ```
pub trait RetryDecision<E> {
    /// The verdict on `error`.
    fn verdict(&self, error: &E) -> Verdict;
    /// `error` in words, for events.
    fn message(&self, error: &E) -> String;
}

/// The default decision: the error's own [`Classify`] verdict (an open breaker is never
/// retried, a timeout is; a "404" or "401" is not; an error nothing is known about is).
///
/// ```
/// use resilience::tower::{Classified, RetryDecision};
/// assert!(Classified.verdict(&resilience::TimedOut { function: "f", limit: Default::default() }).retryable);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Classified;

impl<E: Classify> RetryDecision<E> for Classified {
    #[inline]
    fn verdict(&self, error: &E) -> Verdict {
        error.verdict()
    }

    fn message(&self, error: &E) -> String {
        error.to_string()
    }
}

/// A decision by a predicate ([`RetryLayer::retry_if`]), for any error type: `true`
/// retries, after the backoff's delay.
///
/// ```
/// use resilience::tower::{RetryDecision, RetryIf};
/// assert!(RetryIf(|e: &u16| *e >= 500).verdict(&503).retryable);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RetryIf<F>(pub F);

impl<E, F: Fn(&E) -> bool> RetryDecision<E> for RetryIf<F> {
    #[inline]
    fn verdict(&self, error: &E) -> Verdict {
        Verdict::retry()
            .retrying((self.0)(error))
            .coded(core::any::type_name::<E>())
    }

    fn message(&self, _: &E) -> String {
        format!("a `{}`", core::any::type_name::<E>())
    }
}

/// Retries failed calls as a [`RetryConfig`] says (attempts, backoff, jitter,
/// `max_elapsed`, budget, adaptive, `max_retry_after`), waiting at least an error's
/// `retry_after`, on tokio's timer (so paused time applies). The request must be
/// `Clone`: each attempt sends a copy.
///
/// It drives the same engine as `#[retry]`: a success deposits in the budget and feeds
/// adaptive attempts; each retry and each give-up is the same `tracing` event (target
/// `resilience::retry`, with the layer's [`name`](Self::name) and `via = "tower"`) and
/// metric. Budgets and named policies come from its [`registry`](Self::registry) (the
/// global one unless told): a retry policy of the layer's name there
/// (`registry.configure_retry(name, ..)`) wins over the layer's configuration.
///
/// Which errors are retried: by default each error's [`Classify`] verdict; with
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
///     .name("upstream")
///     .layer(service_fn(move |()| {
///         let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
///         async move { if n < 3 { Err::<u32, BoxError>("503 unavailable".into()) } else { Ok(n) } }
///     }));
/// assert_eq!(svc.oneshot(()).await.unwrap(), 3);
/// # }
/// ```
#[derive(Clone)]
pub struct RetryLayer<D = Classified, R = NoResponseRetried> {
    policy: Arc<NamedPolicy>,
    decision: D,
    response: R,
}

impl<D, R> core::fmt::Debug for RetryLayer<D, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RetryLayer")
            .field("name", &self.policy.name())
            .field("config", self.policy.config())
            .finish_non_exhaustive()
    }
}

impl RetryLayer {
    /// The name of a layer not given one, in events, metrics and the registry's policies.
    pub const DEFAULT_NAME: &'static str = "tower.retry";

    /// A layer retrying as `config` says, named [`DEFAULT_NAME`](Self::DEFAULT_NAME). An invalid `config` is
    /// logged as a `tracing` error and [`RetryConfig::default`] is used, as `#[retry]`
    /// does; [`try_new`](Self::try_new) returns the error instead.
    ///
    /// ```
    /// let layer = resilience::tower::RetryLayer::new(resilience::RetryConfig::default());
    /// assert_eq!(layer.config().max_attempts, 3);
    /// assert_eq!(layer.name_in_use(), "tower.retry");
    /// ```
    pub fn new(config: RetryConfig) -> Self {
        RetryLayer::try_new(config).unwrap_or_else(|error| {
            tracing::error!(target: crate::retry::events::TARGET, name = RetryLayer::DEFAULT_NAME, via = "tower", %error, "invalid RetryLayer configuration; using the defaults");
            RetryLayer::with(RetryLayer::DEFAULT_NAME, crate::registry(), RetryConfig::default())
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
        Ok(RetryLayer::with(
            RetryLayer::DEFAULT_NAME,
            crate::registry(),
            config,
        ))
    }

    fn with(name: &'static str, registry: &'static Registry, config: RetryConfig) -> Self {
        RetryLayer {
            policy: Arc::new(NamedPolicy::new(name, Via::Tower, registry, config)),
            decision: Classified,
            response: NoResponseRetried,
        }
    }
}

impl<D, R> RetryLayer<D, R> {
    /// The layer's name, in its events (`name`), metrics and the registry's retry
    /// policies: a policy configured under it wins over the layer's configuration.
    /// Layers of one registry built with the same name and configuration (a stack built
    /// per connection) share one policy, adaptive attempts included, kept for the
    /// program's life; give layers that must adapt apart names of their own.
    ///
    /// ```
    /// use resilience::{tower::RetryLayer, RetryConfig};
    /// let layer = RetryLayer::new(RetryConfig::default()).name("kanban");
    /// assert_eq!(layer.name_in_use(), "kanban");
    /// ```
    pub fn name(self, name: impl AsRef<str>) -> Self {
        let policy = NamedPolicy::new(
            crate::names::intern(name.as_ref()),
            Via::Tower,
            self.policy.registry(),
            self.policy.config().clone(),
        );
        RetryLayer {
            policy: Arc::new(policy),
            ..self
        }
    }

    /// The registry the layer's budget and named policy come from (the global one
    /// unless told): a test's `Registry::new()`, or one on a clock of its own.
    ///
    /// ```
    /// use resilience::{registry::Registry, tower::RetryLayer, RetryConfig};
    /// use std::sync::LazyLock;
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// let layer = RetryLayer::new(RetryConfig { budget: Some("b".into()), ..Default::default() })
    ///     .registry(&REG);
    /// # let _ = layer;
    /// ```
    pub fn registry(self, registry: &'static Registry) -> Self {
        let policy = NamedPolicy::new(
            self.policy.name(),
            Via::Tower,
            registry,
            self.policy.config().clone(),
        );
        RetryLayer {
            policy: Arc::new(policy),
            ..self
        }
    }

    /// What the layer does inside another retry's attempt (a `#[retry]` around the
    /// service's caller, a `RetryLayer` further out, the reqwest middleware): by default
    /// ([`Nested::Defer`]) one attempt, leaving the retrying to the outer retry, so the
    /// attempts of the two levels do not multiply; [`Nested::Independent`] retries at
    /// both levels. [`RetryConfig::nested`] of the layer's configuration.
    ///
    /// ```
    /// use resilience::{retry::Nested, tower::RetryLayer, RetryConfig};
    /// let layer = RetryLayer::new(RetryConfig::default()).nested(Nested::Independent);
    /// assert_eq!(layer.config().nested, Nested::Independent);
    /// ```
    pub fn nested(self, nested: Nested) -> Self {
        let config = RetryConfig {
            nested,
            ..self.policy.config().clone()
        };
        let policy = NamedPolicy::new(
            self.policy.name(),
            Via::Tower,
            self.policy.registry(),
            config,
        );
        RetryLayer {
            policy: Arc::new(policy),
            ..self
        }
    }

    /// The name in use ([`name`](Self::name), or [`RetryLayer::DEFAULT_NAME`]).
    ///
    /// ```
    /// use resilience::tower::RetryLayer;
    /// let layer = RetryLayer::new(Default::default());
    /// assert_eq!(layer.name_in_use(), RetryLayer::DEFAULT_NAME);
    /// ```
    pub fn name_in_use(&self) -> &'static str {
        self.policy.name()
    }

    /// Retries an error when `retry_if` says so, instead of by its [`Classify`] verdict
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
    /// `bool` (retry after the backoff's delay) or a [`Verdict`], whose `retry_after` (a
    /// server's `Retry-After`, read as you like) the delay never goes under. The
    /// attempts, backoff, `max_elapsed`, `max_retry_after` and budget are the
    /// configuration's, as for errors; when no attempt is left, the last response is
    /// returned as is, an `Ok`.
    ///
    /// ```
    /// use resilience::{classification::Verdict, retry::Backoff, tower::RetryLayer, RetryConfig};
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
    ///     // or a `Verdict` carrying the wait its `Retry-After` header asks for.
    ///     .retry_response(|status: &u16| {
    ///         Verdict::from(*status == 503).after(Some(Duration::from_secs(1)))
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

    /// `#[retry(retry_if_ok = ..)]` for a layer: a response the predicate names (an empty
    /// page, a "pending" status) is retried like an error; out of attempts, the last one
    /// is returned as is. [`retry_response`](Self::retry_response) with a `bool`.
    ///
    /// ```
    /// use resilience::{retry::Backoff, tower::RetryLayer, RetryConfig};
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let pages = std::sync::Arc::new(std::sync::Mutex::new(vec![vec![1], vec![], vec![]]));
    /// let upstream = service_fn(move |()| {
    ///     let page = pages.lock().unwrap().pop().unwrap_or_default();
    ///     async move { Ok::<Vec<u32>, BoxError>(page) }
    /// });
    /// let svc = RetryLayer::new(RetryConfig { backoff: Backoff::None, ..Default::default() })
    ///     .retry_if_ok(|page: &Vec<u32>| page.is_empty())
    ///     .layer(upstream);
    /// assert_eq!(svc.oneshot(()).await.unwrap(), [1]);
    /// # }
    /// ```
    pub fn retry_if_ok<G>(self, retry_if_ok: G) -> RetryLayer<D, G> {
        self.retry_response(retry_if_ok)
    }

    /// The configuration given to the layer.
    ///
    /// ```
    /// let layer = resilience::tower::RetryLayer::new(resilience::RetryConfig::default());
    /// assert!(layer.config().budget.is_none());
    /// ```
    pub fn config(&self) -> &RetryConfig {
        self.policy.config()
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
#[derive(Clone)]
pub struct Retry<S, D = Classified, R = NoResponseRetried> {
    inner: S,
    policy: Arc<NamedPolicy>,
    decision: D,
    response: R,
}

impl<S: core::fmt::Debug, D, R> core::fmt::Debug for Retry<S, D, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Retry")
            .field("inner", &self.inner)
            .field("name", &self.policy.name())
            .finish_non_exhaustive()
    }
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
        let policy = self.policy.current();
        let request = (policy.max_attempts() > 1).then(|| req.clone());
        let started = policy.start();
        let future = {
            let _mark = AttemptMark::enter();
            service.call(req)
        };
        ResponseFuture {
            state: State::Called { future },
            service,
            request,
            policy,
            decision: self.decision.clone(),
            response: self.response.clone(),
            started,
            attempts: None,
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
    #[project = Projected]
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
        policy: Current<'static>,
        decision: D,
        response: R,
        started: Option<Duration>,
        attempts: Option<Attempts>,
    }
}

impl<S: Service<Req>, Req, D, R> core::fmt::Debug for ResponseFuture<S, Req, D, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("name", &self.policy.name)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// An attempt's outcome and the verdict asking for another.
type Failed<S, Req> = (
    Result<<S as Service<Req>>::Response, <S as Service<Req>>::Error>,
    Verdict,
);

impl<S, Req, D, R> Future for ResponseFuture<S, Req, D, R>
where
    S: Service<Req>,
    Req: Clone,
    D: RetryDecision<S::Error>,
    R: RetryResponse<S::Response>,
{
    type Output = Result<S::Response, S::Error>;

    /// HOT PATH: the first attempt's answer; the retrying is out of line
    /// (`retrying`), so its frame and registers stay off this path.
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let StateProj::Called { future } = this.state.as_mut().project() else {
            return Self::retrying(this, cx, None);
        };
        // The attempt runs marked: a retry inside it leaves the retrying to this one
        // (`retry/nested.rs`). The decision is not marked.
        let outcome = {
            let _mark = AttemptMark::enter();
            core::task::ready!(future.poll(cx))
        };
        match Self::judge(&mut this, outcome) {
            Ok(done) => Poll::Ready(done),
            Err(failed) => Self::retrying(this, cx, Some(failed)),
        }
    }
}

impl<S, Req, D, R> ResponseFuture<S, Req, D, R>
where
    S: Service<Req>,
    Req: Clone,
    D: RetryDecision<S::Error>,
    R: RetryResponse<S::Response>,
{
    /// An attempt's outcome: `Ok` to return it (a success, counted), or `Err` with the
    /// verdict asking for another attempt. A success returns before a verdict is kept
    /// (no `Verdict` written on the way out).
    #[inline(always)]
    #[allow(clippy::type_complexity)]
    fn judge(
        this: &mut Projected<'_, S, Req, D, R>,
        outcome: Result<S::Response, S::Error>,
    ) -> Result<Result<S::Response, S::Error>, Failed<S, Req>> {
        let verdict = match &outcome {
            Ok(response) => {
                let verdict = this.response.verdict(response);
                if !verdict.failure {
                    this.policy
                        .succeeded_at(*this.started, this.attempts.as_ref());
                    return Ok(outcome);
                }
                verdict
            }
            Err(error) => this.decision.verdict(error),
        };
        Err((outcome, verdict))
    }

    /// The attempts after a failed one (`failed`, judged by `poll`), and every poll once
    /// the first attempt has failed.
    #[inline(never)]
    fn retrying(
        mut this: Projected<'_, S, Req, D, R>,
        cx: &mut Context<'_>,
        mut failed: Option<Failed<S, Req>>,
    ) -> Poll<Result<S::Response, S::Error>> {
        loop {
            if let Some((outcome, verdict)) = failed.take() {
                let policy: &Policy = this.policy;
                let attempts = this
                    .attempts
                    .get_or_insert_with(|| Attempts::starting(policy));
                let elapsed = this
                    .started
                    .map(|started| SystemClock.now().saturating_sub(started));
                let decision = &*this.decision;
                let message = || match &outcome {
                    Ok(_) => "a response asking for a retry".to_owned(),
                    Err(error) => decision.message(error),
                };
                match attempts.failed(policy, &verdict, elapsed, &message) {
                    Ok(delay) => this.state.set(State::Waiting {
                        sleep: tokio::time::sleep(delay),
                    }),
                    // The last error, or the last response as is (an `Ok`).
                    Err(_) => return Poll::Ready(outcome),
                }
            }
            match this.state.as_mut().project() {
                StateProj::Called { future } => {
                    let outcome = {
                        let _mark = AttemptMark::enter();
                        core::task::ready!(future.poll(cx))
                    };
                    match Self::judge(&mut this, outcome) {
                        Ok(done) => return Poll::Ready(done),
                        Err(again) => failed = Some(again),
                    }
                }
                StateProj::Waiting { sleep } => {
                    core::task::ready!(sleep.poll(cx));
                    this.state.set(State::Readying);
                }
                StateProj::Readying => {
                    core::task::ready!(this.service.poll_ready(cx))?;
                    let last = this
                        .attempts
                        .as_ref()
                        .is_some_and(|a| a.calls().saturating_add(1) >= a.max_attempts());
                    let request = if last {
                        this.request.take()
                    } else {
                        this.request.clone()
                    };
                    let Some(request) = request else {
                        unreachable!(
                            "a retry is planned only while attempts remain, each with its request"
                        )
                    };
                    let future = {
                        let _mark = AttemptMark::enter();
                        this.service.call(request)
                    };
                    this.state.set(State::Called { future });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use tower::{service_fn, BoxError, Layer, ServiceExt};

    use super::*;
    use crate::errors::RateLimit;
    use crate::retry::{Backoff, Jitter};
    use crate::retry_budget;
    use crate::CircuitOpen;

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
                Verdict::from(*status == 429).after(Some(Duration::from_secs(3)))
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
