//! The circuit breaker's tower layers: [`CircuitBreakerLayer`], a breaker of the global
//! registry in front of a service, and its keyed variant; the builder and the keyed
//! lookup are the shared ones of [`pattern`](super::pattern), this file holds what is
//! the breaker's own (its registry calls, `failure_if`, what a call does).

use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_service::Service;

use super::pattern::{KeyedLayer, KeyedService, PatternLayer, PatternService, TowerPattern};
use crate::breaker::Breaker;
use crate::breaker::OwnedPermit;
use crate::classification::{Classify, Verdict};
use crate::sites::faults::Gated;
use crate::{CircuitOpen, Permit};

/// Whether a successful response counts as a failure of the breaker
/// ([`CircuitBreakerLayer::failure_if`]). Implemented by every `Fn(&Response) -> bool`.
///
/// ```
/// use resilience::tower::{FailureIf, NoResponseFails};
/// assert!(!NoResponseFails.is_failure(&500));
/// assert!((|status: &u16| *status >= 500).is_failure(&503));
/// ```
pub trait FailureIf<Res> {
    /// True when `response`, though an `Ok`, means the dependency is failing.
    fn is_failure(&self, response: &Res) -> bool;
}

impl<Res, F: Fn(&Res) -> bool> FailureIf<Res> for F {
    #[inline]
    fn is_failure(&self, response: &Res) -> bool {
        self(response)
    }
}

/// The default of [`CircuitBreakerLayer`]: every `Ok` is a success (errors count by their
/// verdict).
///
/// ```
/// use resilience::tower::{FailureIf, NoResponseFails};
/// assert!(!NoResponseFails.is_failure(&"any response"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResponseFails;

impl<Res> FailureIf<Res> for NoResponseFails {
    #[inline]
    fn is_failure(&self, _: &Res) -> bool {
        false
    }
}

impl TowerPattern for Breaker {
    const LAYER: &'static str = "CircuitBreakerLayer";
    type Extra = NoResponseFails;
}

/// Puts a service behind the circuit breaker `name` of the global
/// [`registry`](crate::registry()): the breaker a `#[circuit_breaker(name = "...")]` of
/// the same name uses.
///
/// An `Err` of the inner service counts as its error's
/// [`Verdict`](crate::classification::Verdict) says ([`Classify`], which the error type
/// implements: every `MarcusError`, `tower::BoxError`, `std::io::Error`): a dependency's
/// fault (transient, integration and system tiers, timeouts, an error nothing is known
/// about) is a failure, the caller's mistake (business logic, configuration, security) a
/// success, and a refusal of this crate's from a layer inside (`RateLimited`,
/// `BulkheadFull`, `Overloaded`, an inner breaker's `CircuitOpen`) neither. An `Ok`
/// counts as a failure when [`failure_if`](PatternLayer::failure_if) says so (an HTTP 5xx). While the breaker is
/// open, `call` answers `Err(E::from(CircuitOpen { .. }))` at once without calling the
/// inner service; `poll_ready` stays the inner service's. The builder
/// ([`new`](PatternLayer::new), [`config`](PatternLayer::config),
/// [`try_config`](PatternLayer::try_config), [`key`](PatternLayer::key)) is the one every
/// pattern's layer shares, [`PatternLayer`].
///
/// ```
/// use resilience::tower::CircuitBreakerLayer;
/// use resilience::{registry, BreakerConfig, BreakerState, CircuitOpen};
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = CircuitBreakerLayer::new("docs.layer")
///     .config(BreakerConfig { failure_threshold: 1, ..Default::default() })
///     .failure_if(|status: &u16| *status >= 500);
/// let svc = layer.layer(service_fn(|status: u16| async move { Ok::<_, BoxError>(status) }));
///
/// assert_eq!(svc.clone().oneshot(503).await.unwrap(), 503); // counted as a failure
/// assert_eq!(registry().breaker("docs.layer").unwrap().state(), BreakerState::Open);
/// let refused = svc.oneshot(200).await.unwrap_err();
/// assert!(refused.downcast_ref::<CircuitOpen>().is_some());
/// # }
/// ```
pub type CircuitBreakerLayer<F = NoResponseFails> = PatternLayer<Breaker, F>;

/// The service of [`CircuitBreakerLayer`].
///
/// ```
/// use resilience::tower::CircuitBreakerLayer;
/// use tower::{service_fn, BoxError, Layer};
/// let svc = CircuitBreakerLayer::new("docs.service")
///     .layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// assert_eq!(svc.breaker().name(), "docs.service");
/// ```
pub type CircuitBreaker<S, F = NoResponseFails> = PatternService<Breaker, S, F>;

/// The layer of [`CircuitBreakerLayer::key`](PatternLayer::key): one breaker per key.
///
/// ```
/// use resilience::tower::CircuitBreakerLayer;
/// let layer = CircuitBreakerLayer::new("docs.keyed").key(|host: &String| host.clone());
/// assert_eq!(layer.name(), "docs.keyed");
/// ```
pub type KeyedCircuitBreakerLayer<F, K> = KeyedLayer<Breaker, K, F>;

/// The service of [`KeyedCircuitBreakerLayer`]: finds the request's breaker in the
/// registry's keyed store (a read lock and a hash of the key's text for a known key),
/// then calls through it as [`CircuitBreaker`] does.
///
/// ```
/// use resilience::tower::CircuitBreakerLayer;
/// use tower::{service_fn, BoxError, Layer};
/// let svc = CircuitBreakerLayer::new("docs.keyed_service")
///     .key(|x: &u8| *x)
///     .layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// # let _ = svc;
/// ```
pub type KeyedCircuitBreaker<S, F, K> = KeyedService<Breaker, S, K, F>;

impl PatternLayer<Breaker, NoResponseFails> {
    /// The layer of a breaker you made yourself (a [`Registry::new`](crate::registry::Registry::new)
    /// of your own, a `Breaker` on a manual clock).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, tower::CircuitBreakerLayer};
    /// let b = std::sync::Arc::new(Breaker::new("docs.own", Default::default()).unwrap());
    /// assert_eq!(CircuitBreakerLayer::with_breaker(b).name(), "docs.own");
    /// ```
    pub fn with_breaker(breaker: Arc<Breaker>) -> Self {
        let mut layer = CircuitBreakerLayer::new(breaker.name());
        layer.given = Some(Breaker::config(&breaker));
        layer.instance = Some(super::pin(breaker));
        layer
    }
}

impl<F> PatternLayer<Breaker, F> {
    /// Counts an `Ok` response as a failure when `failure_if` says so (an HTTP 5xx is an
    /// answer, but from a failing dependency).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// // With HTTP: `.failure_if(|res: &http::Response<_>| res.status().is_server_error())`
    /// let layer = CircuitBreakerLayer::new("docs.failure_if").failure_if(|status: &u16| *status >= 500);
    /// # let _ = layer;
    /// ```
    pub fn failure_if<G>(self, failure_if: G) -> CircuitBreakerLayer<G> {
        self.with_extra(failure_if)
    }
}

impl<F, K> KeyedLayer<Breaker, K, F> {
    /// Counts an `Ok` response as a failure when `failure_if` says so
    /// ([`CircuitBreakerLayer::failure_if`](PatternLayer::failure_if)).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// let layer = CircuitBreakerLayer::new("docs.keyed_failure_if")
    ///     .key(|k: &u16| *k)
    ///     .failure_if(|status: &u16| *status >= 500);
    /// # let _ = layer;
    /// ```
    pub fn failure_if<G>(self, failure_if: G) -> KeyedCircuitBreakerLayer<G, K> {
        self.with_extra(failure_if)
    }
}

impl<S, F> PatternService<Breaker, S, F> {
    /// The breaker this service calls through.
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// use tower::Layer;
    /// let svc = CircuitBreakerLayer::new("docs.breaker").layer(());
    /// assert_eq!(svc.breaker().name(), "docs.breaker");
    /// ```
    pub fn breaker(&self) -> &'static Breaker {
        self.instance
    }
}

impl<S, F, Req> Service<Req> for PatternService<Breaker, S, F>
where
    S: Service<Req>,
    S::Error: From<CircuitOpen> + Classify + 'static,
    F: FailureIf<S::Response> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, F>;

    /// The inner service's readiness: an open breaker never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// HOT PATH: through a closed breaker, `acquire` reads two atomics; nothing is
    /// allocated and no reference count moves. Faults named as the breaker (feature
    /// `chaos`) are drawn inside its permit, as the attribute draws them.
    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let admitted = self
            .instance
            .acquire()
            .and_then(|permit| Ok((permit, self.faults.draw::<S::Error, _>(self.instance)?)));
        match admitted {
            Ok((permit, fault)) => ResponseFuture::running(
                fault.gate(|| self.inner.call(req)),
                Held::Borrowed(permit),
                self.extra.clone(),
            ),
            Err(open) => {
                tracing::debug!(target: "resilience::tower", name = open.name, "call refused by an open breaker");
                ResponseFuture::refused(open)
            }
        }
    }
}

impl<S, F, K, T, Req> Service<Req> for KeyedService<Breaker, S, K, F>
where
    S: Service<Req>,
    S::Error: From<CircuitOpen> + Classify + 'static,
    F: FailureIf<S::Response> + Clone,
    K: Fn(&Req) -> T,
    T: core::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, F>;

    /// The inner service's readiness: an open breaker never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let (breaker, key) = match self.instance_for(&req) {
            Ok(found) => found,
            Err(refused) => return ResponseFuture::refused(refused),
        };
        let admitted = breaker
            .acquire_owned()
            .and_then(|permit| Ok((permit, self.faults.draw::<S::Error, _>(&*breaker)?)));
        match admitted {
            Ok((permit, fault)) => ResponseFuture::running(
                fault.gate(|| self.inner.call(req)),
                Held::Owned(permit),
                self.extra.clone(),
            ),
            Err(open) => {
                tracing::debug!(target: "resilience::tower", name = open.name, key = key.as_str(), "call refused by an open breaker");
                ResponseFuture::refused(open)
            }
        }
    }
}

/// The permit a [`ResponseFuture`] holds: borrowed from a breaker kept for the life of
/// the program, or owning a reference count on a keyed instance (which may be evicted).
#[derive(Debug)]
enum Held {
    Borrowed(Permit<'static>),
    Owned(OwnedPermit),
}

impl Held {
    #[inline]
    fn record_success(self) {
        match self {
            Held::Borrowed(p) => p.record_success(),
            Held::Owned(p) => p.record_success(),
        }
    }

    fn record_failure(self) {
        match self {
            Held::Borrowed(p) => p.record_failure(),
            Held::Owned(p) => p.record_failure(),
        }
    }

    /// An error by its verdict: a refusal of this crate's from a layer inside is neither
    /// success nor failure (dropped unrecorded, a trial place given back), a dependency's
    /// fault a failure, anything else a success (as `sites::breaker::record`).
    fn record(self, verdict: &Verdict) {
        if verdict.refusal.is_some() {
            drop(self);
        } else if verdict.failure {
            self.record_failure();
        } else {
            self.record_success();
        }
    }
}

pin_project! {
    /// The response future of [`CircuitBreaker`]: the inner call with its permit, or the
    /// refusal. Dropped before it ends, a half-open trial gives its place back.
    pub struct ResponseFuture<Fut, F> {
        // Dropped by hand (`PinnedDrop` below): an ended future's drop, the usual one, is
        // then a test of its state inlined at the caller, not a call of the drop glue.
        #[pin]
        state: ManuallyDrop<State<Fut, F>>,
    }
    impl<Fut, F> PinnedDrop for ResponseFuture<Fut, F> {
        fn drop(this: Pin<&mut Self>) {
            let state = this.project().state;
            if !matches!(**state, State::Done) {
                // SAFETY: dropped in place, once (this is the future's drop), never moved.
                drop_state(unsafe { state.get_unchecked_mut() });
            }
        }
    }
}

/// A [`ResponseFuture`]'s state dropped before it ended (the call abandoned, or a refusal
/// not polled).
#[cold]
#[inline(never)]
fn drop_state<Fut, F>(state: &mut ManuallyDrop<State<Fut, F>>) {
    // SAFETY: called once, from the future's drop; the state is not used after.
    unsafe { ManuallyDrop::drop(state) }
}

pin_project! {
    /// What a [`ResponseFuture`] holds. Ended, it is `Done`: the permit recorded and the
    /// inner future dropped as the outcome comes back, so the future's own drop (the
    /// caller's, at once after) has nothing left to look at.
    #[project = StateProj]
    #[project_replace = StateTaken]
    enum State<Fut, F> {
        Running {
            #[pin]
            inner: Gated<Fut>,
            permit: Held,
            failure_if: F,
        },
        Refused {
            open: CircuitOpen,
        },
        Done,
    }
}

impl<Fut, F> ResponseFuture<Fut, F> {
    #[inline]
    fn running(inner: Gated<Fut>, permit: Held, failure_if: F) -> Self {
        ResponseFuture {
            state: ManuallyDrop::new(State::Running {
                inner,
                permit,
                failure_if,
            }),
        }
    }

    fn refused(open: CircuitOpen) -> Self {
        ResponseFuture {
            state: ManuallyDrop::new(State::Refused { open }),
        }
    }
}

impl<Fut, F> core::fmt::Debug for ResponseFuture<Fut, F> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let refused = match &*self.state {
            State::Refused { open } => Some(open),
            _ => None,
        };
        f.debug_struct("ResponseFuture")
            .field("refused", &refused)
            .finish_non_exhaustive()
    }
}

impl<Fut, F, T, E> Future for ResponseFuture<Fut, F>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<CircuitOpen> + Classify + 'static,
    F: FailureIf<T>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the state is pinned as the future is (`ManuallyDrop` only wraps it).
        let mut state = unsafe { self.project().state.map_unchecked_mut(|s| &mut **s) };
        let outcome = match state.as_mut().project() {
            StateProj::Running { inner, .. } => core::task::ready!(inner.poll(cx)),
            StateProj::Refused { .. } | StateProj::Done => {
                return match state.project_replace(State::Done) {
                    StateTaken::Refused { open } => Poll::Ready(Err(E::from(open))),
                    _ => panic!("a breaker's response future polled after it completed"),
                };
            }
        };
        if let StateTaken::Running {
            permit, failure_if, ..
        } = state.project_replace(State::Done)
        {
            match &outcome {
                Ok(response) if !failure_if.is_failure(response) => permit.record_success(),
                Ok(_) => permit.record_failure(),
                Err(error) => permit.record(&error.verdict()),
            }
        }
        Poll::Ready(outcome)
    }
}

#[cfg(test)]
mod tests {
    use crate::BreakerConfig;
    use std::time::Duration;

    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    use super::*;
    use crate::clock::ManualClock;
    use crate::registry::Registry;
    use crate::BreakerState;

    fn config(threshold: u32) -> BreakerConfig {
        BreakerConfig {
            failure_threshold: threshold,
            success_threshold: 1,
            recovery_timeout: Duration::from_secs(10),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn errors_open_it_and_an_open_breaker_refuses_without_calling() {
        let calls = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = calls.clone();
        let svc = CircuitBreakerLayer::new("tower.breaker.errors")
            .config(config(2))
            .layer(service_fn(move |fail: bool| {
                counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    if fail {
                        Err::<u8, BoxError>("down".into())
                    } else {
                        Ok(1)
                    }
                }
            }));
        assert_eq!(svc.clone().oneshot(false).await.unwrap(), 1);
        for _ in 0..2 {
            svc.clone().oneshot(true).await.unwrap_err();
        }
        assert_eq!(svc.breaker().state(), BreakerState::Open);
        let refused = svc.clone().oneshot(false).await.unwrap_err();
        let open = refused
            .downcast_ref::<CircuitOpen>()
            .expect("a CircuitOpen");
        assert_eq!(open.name, "tower.breaker.errors");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn failure_if_counts_a_response_as_a_failure() {
        let svc = CircuitBreakerLayer::new("tower.breaker.failure_if")
            .config(config(1))
            .failure_if(|status: &u16| *status >= 500)
            .layer(service_fn(|status: u16| async move {
                Ok::<_, BoxError>(status)
            }));
        assert_eq!(svc.clone().oneshot(404).await.unwrap(), 404);
        assert_eq!(svc.breaker().state(), BreakerState::Closed);
        assert_eq!(svc.clone().oneshot(503).await.unwrap(), 503);
        assert_eq!(svc.breaker().state(), BreakerState::Open);
    }

    #[tokio::test]
    async fn poll_ready_stays_ready_while_open() {
        let mut svc = CircuitBreakerLayer::new("tower.breaker.ready")
            .config(config(1))
            .layer(service_fn(|()| async {
                Err::<(), BoxError>("down".into())
            }));
        svc.ready().await.unwrap().call(()).await.unwrap_err();
        assert_eq!(svc.breaker().state(), BreakerState::Open);
        for _ in 0..3 {
            // Ready every time; the refusal comes from `call`.
            let ready = svc.ready().await;
            assert!(ready.is_ok());
            let err = ready.unwrap().call(()).await.unwrap_err();
            assert!(err.is::<CircuitOpen>());
        }
    }

    #[tokio::test]
    async fn an_own_breaker_on_a_manual_clock_closes_after_recovery() {
        let clock = ManualClock::new();
        let registry = Registry::with_clock(Arc::new(clock.clone()));
        let breaker = registry.register("tower.breaker.own", config(1)).unwrap();
        let svc = CircuitBreakerLayer::with_breaker(breaker.clone()).layer(service_fn(
            |fail: bool| async move {
                if fail {
                    Err::<(), BoxError>("down".into())
                } else {
                    Ok(())
                }
            },
        ));
        svc.clone().oneshot(true).await.unwrap_err();
        assert!(svc
            .clone()
            .oneshot(false)
            .await
            .unwrap_err()
            .is::<CircuitOpen>());
        clock.advance(Duration::from_secs(10));
        svc.clone().oneshot(false).await.unwrap();
        assert_eq!(breaker.state(), BreakerState::Closed);
    }

    #[tokio::test]
    async fn a_dropped_trial_gives_its_place_back() {
        let clock = ManualClock::new();
        let breaker = Arc::new(
            Breaker::new("tower.breaker.dropped", config(1))
                .unwrap()
                .with_clock(Arc::new(clock.clone())),
        );
        let mut svc = CircuitBreakerLayer::with_breaker(breaker.clone()).layer(service_fn(
            |wait: bool| async move {
                if wait {
                    std::future::pending::<()>().await;
                }
                Err::<(), BoxError>("down".into())
            },
        ));
        svc.ready().await.unwrap().call(false).await.unwrap_err();
        clock.advance(Duration::from_secs(10));
        let trial = svc.ready().await.unwrap().call(true);
        assert_eq!(breaker.state(), BreakerState::HalfOpen);
        // The only trial place is taken.
        assert!(svc
            .ready()
            .await
            .unwrap()
            .call(false)
            .await
            .unwrap_err()
            .is::<CircuitOpen>());
        drop(trial);
        // Given back: the next call is a trial (and fails, re-opening).
        let err = svc.ready().await.unwrap().call(false).await.unwrap_err();
        assert!(!err.is::<CircuitOpen>());
        assert_eq!(breaker.state(), BreakerState::Open);
    }

    #[test]
    fn the_layer_has_the_inner_error_type() {
        #[derive(Debug)]
        enum MyError {
            Open(CircuitOpen),
        }
        impl From<CircuitOpen> for MyError {
            fn from(o: CircuitOpen) -> Self {
                MyError::Open(o)
            }
        }
        // An error type that is no `MarcusError` says what its errors mean itself.
        impl core::fmt::Display for MyError {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str("my error")
            }
        }
        impl Classify for MyError {
            fn verdict(&self) -> Verdict {
                match self {
                    MyError::Open(open) => open.verdict(),
                }
            }
        }
        fn assert_error<S: Service<(), Error = MyError>>(_: &S) {}
        let svc = CircuitBreakerLayer::new("tower.breaker.typed")
            .layer(service_fn(|()| async { Ok::<(), MyError>(()) }));
        assert_error(&svc);
        let MyError::Open(open) = MyError::from(CircuitOpen::from_name("x"));
        assert_eq!(open.name, "x");
    }

    #[tokio::test]
    async fn key_gives_one_breaker_per_key() {
        let svc = CircuitBreakerLayer::new("tower.breaker.keyed")
            .config(config(1))
            .key(|(host, _): &(&'static str, bool)| *host)
            .layer(service_fn(|(_, fail): (&'static str, bool)| async move {
                if fail {
                    Err::<(), BoxError>("down".into())
                } else {
                    Ok(())
                }
            }));
        svc.clone().oneshot(("a", true)).await.unwrap_err();
        let a = crate::registry()
            .breaker_for("tower.breaker.keyed", "a")
            .expect("a's breaker");
        assert_eq!(a.state(), BreakerState::Open);
        let refused = svc.clone().oneshot(("a", false)).await.unwrap_err();
        assert!(refused.is::<CircuitOpen>());
        // Another key has its own breaker, closed.
        svc.clone().oneshot(("b", false)).await.unwrap();
        let b = crate::registry()
            .breaker_for("tower.breaker.keyed", "b")
            .expect("b's breaker");
        assert_eq!(b.state(), BreakerState::Closed);
        assert!(!Arc::ptr_eq(&a, &b));
    }

    #[tokio::test]
    async fn evicted_keys_are_freed() {
        let svc = CircuitBreakerLayer::new("tower.breaker.evicted")
            .key(|k: &u32| *k)
            .max_keys(4)
            .layer(service_fn(|k: u32| async move { Ok::<_, BoxError>(k) }));
        svc.clone().oneshot(0).await.unwrap();
        let first = Arc::downgrade(
            &crate::registry()
                .breaker_for("tower.breaker.evicted", "0")
                .unwrap(),
        );
        for k in 1..64 {
            svc.clone().oneshot(k).await.unwrap();
        }
        assert!(crate::registry()
            .breaker_for("tower.breaker.evicted", "0")
            .is_none());
        assert!(first.upgrade().is_none(), "an evicted breaker is freed");
    }

    #[tokio::test]
    async fn open_breakers_of_failing_keys_are_bounded_by_max_keys() {
        let name = "tower.breaker.failing_keys";
        let svc = CircuitBreakerLayer::new(name)
            .config(config(1))
            .key(|k: &u32| *k)
            .max_keys(100)
            .layer(service_fn(|_: u32| async {
                Err::<(), BoxError>("down".into())
            }));
        for k in 0..3_000 {
            let err = svc.clone().oneshot(k).await.unwrap_err();
            assert!(!err.is::<CircuitOpen>(), "a new key's breaker is closed");
        }
        let live = crate::registry()
            .breakers()
            .iter()
            .filter(|s| s.name == name)
            .count();
        assert!(live <= 100, "{live} live breakers for max_keys = 100");
        let last = crate::registry().breaker_for(name, "2999").unwrap();
        assert_eq!(last.state(), BreakerState::Open);
    }
}
