//! [`HedgeLayer`]: when an answer is late, a copy of the request runs beside the first:
//! the hedge runner of `#[hedge]` (`hedge/runner.rs`), driven by a tower service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::hedge::events::{Caller, Via};
use crate::hedge::runner::{self, Race, StartRun};
use crate::hedge::{Hedge as HedgeInstance, HedgeConfig};
use crate::monitor::observe::Observe;
use crate::registry::Registry;
use crate::sites::faults::{Faults, Gated};
use crate::view::View;
use crate::ConfigError;

/// The name of a [`HedgeLayer`] not given one.
const DEFAULT_NAME: &str = "tower.hedge";

/// Hedged requests, as `#[hedge]` makes them, through the same runner: if no answer has
/// come `delay` after the call started, a copy of the request is sent beside it (and
/// another `delay` later, up to `max_hedges` copies); the first `Ok` wins and the others
/// are dropped. A run that fails with a retryable error starts the next copy at once, one
/// that fails with an error that is not retryable ends the call with it; when every run
/// has failed, the last error returns.
///
/// The layer is the hedge `name` of a registry (the global one unless
/// [`registry`](Self::registry) says; `"tower.hedge"` unless [`name`](Self::name) says),
/// shared with a `#[hedge(name = "...")]` of the same name: its configuration is the
/// registry's for the name when it has one (`registry().configure_hedge`), the layer's
/// otherwise, changeable at run time; its counts show in `registry().hedges()`; its
/// events (target `resilience::hedge`, `via = "tower"`, `function` the layer's name) and
/// metrics are the attribute's. Faults named as the hedge (feature `chaos`) apply to
/// each run.
///
/// An error is read as the attribute reads it: a `tower::BoxError` (or
/// `Box<dyn Error + Send + Sync>`) by what it holds (one of this crate's errors decides,
/// others are classified); any other type is retryable.
///
/// The request must be `Clone`, and so must the service: each copy is sent through a
/// clone of it, polled ready first. Only a call that runs late pays for this: the first
/// run is held inline, and copies are boxed only when they start.
///
/// ```
/// use resilience::tower::HedgeLayer;
/// use std::time::Duration;
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let calls = Arc::new(AtomicU32::new(0));
/// let counted = calls.clone();
/// let svc = HedgeLayer::new(Duration::from_millis(50)).name("docs.hedge_layer").layer(service_fn(move |()| {
///     let n = counted.fetch_add(1, Ordering::SeqCst);
///     async move {
///         // The first run stalls; the hedge answers in 10 ms.
///         tokio::time::sleep(Duration::from_millis(if n == 0 { 1_000 } else { 10 })).await;
///         Ok::<_, BoxError>(n)
///     }
/// }));
/// let start = tokio::time::Instant::now();
/// assert_eq!(svc.oneshot(()).await.unwrap(), 1);
/// assert_eq!(start.elapsed(), Duration::from_millis(60));
/// let hedge = resilience::registry().hedge("docs.hedge_layer").unwrap().snapshot();
/// assert_eq!((hedge.hedges_started, hedge.hedge_wins), (1, 1));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct HedgeLayer {
    name: Arc<str>,
    config: HedgeConfig,
    registry: &'static Registry,
}

impl HedgeLayer {
    /// Hedges a call after `delay` without an answer, with one copy at most (see
    /// [`max_hedges`](Self::max_hedges)).
    ///
    /// ```
    /// use tower::Layer;
    /// let layer = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(50));
    /// assert_eq!(layer.delay(), std::time::Duration::from_millis(50));
    /// assert_eq!(layer.layer(()).hedge().name(), "tower.hedge");
    /// ```
    pub fn new(delay: Duration) -> Self {
        HedgeLayer {
            name: DEFAULT_NAME.into(),
            config: HedgeConfig {
                delay,
                ..HedgeConfig::default()
            },
            registry: crate::registry(),
        }
    }

    /// The hedge's name in the registry (`"tower.hedge"` by default): a layer and a
    /// `#[hedge(name = ..)]` of one name share one hedge, its configuration and counts.
    ///
    /// ```
    /// use tower::Layer;
    /// let layer = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(5)).name("docs.search");
    /// assert_eq!(layer.layer(()).hedge().name(), "docs.search");
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = name.as_ref().into();
        self
    }

    /// The registry the hedge lives in (and whose faults it draws): the global
    /// [`registry()`](crate::registry()) unless this says.
    ///
    /// ```
    /// use resilience::{registry::Registry, tower::HedgeLayer};
    /// use std::sync::LazyLock;
    /// use tower::Layer;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// let svc = HedgeLayer::new(std::time::Duration::from_millis(5)).name("docs.hedge_registry").registry(&REG).layer(());
    /// assert!(REG.hedge("docs.hedge_registry").is_some());
    /// assert!(resilience::registry().hedge("docs.hedge_registry").is_none());
    /// # let _ = svc;
    /// ```
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    /// At most `max_hedges` copies beside the first run, 1 to
    /// [`MAX_HEDGES`](crate::hedge::MAX_HEDGES); another value is refused when the
    /// layer makes its service (see [`config`](Self::config)).
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = resilience::tower::HedgeLayer::new(Duration::from_millis(50)).max_hedges(2);
    /// assert_eq!(layer.hedge_config().max_hedges, 2);
    /// ```
    pub fn max_hedges(mut self, max_hedges: u32) -> Self {
        self.config.max_hedges = max_hedges;
        self
    }

    /// The whole configuration at once, as `#[hedge(delay = .., max_hedges = ..)]` gives
    /// it. It is the hedge's when the layer makes its service, unless the registry was
    /// given one for the name (which wins) or the hedge already lives there with another
    /// (which stays: a WARN names both). An invalid one is an ERROR event naming the
    /// field and the value, and the defaults are used; [`try_config`](Self::try_config)
    /// returns the error instead.
    ///
    /// ```
    /// use resilience::{tower::HedgeLayer, HedgeConfig};
    /// use std::time::Duration;
    /// let config = HedgeConfig { delay: Duration::from_millis(20), max_hedges: 3 };
    /// let layer = HedgeLayer::new(Duration::ZERO).config(config.clone());
    /// assert_eq!(layer.hedge_config(), config);
    /// ```
    pub fn config(mut self, config: HedgeConfig) -> Self {
        self.config = config;
        self
    }

    /// [`config`](Self::config), or the error naming the invalid field.
    ///
    /// ```
    /// use resilience::{tower::HedgeLayer, HedgeConfig};
    /// use std::time::Duration;
    /// let bad = HedgeConfig { max_hedges: 0, ..Default::default() };
    /// let err = HedgeLayer::new(Duration::ZERO).try_config(bad).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("max_hedges", "0"));
    /// ```
    pub fn try_config(self, config: HedgeConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(self.config(config))
    }

    /// The delay before each copy, as given to the layer.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(resilience::tower::HedgeLayer::new(Duration::ZERO).delay(), Duration::ZERO);
    /// ```
    pub fn delay(&self) -> Duration {
        self.config.delay
    }

    /// The configuration as given to the layer (the registry's for the name wins when
    /// the layer makes its service).
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = resilience::tower::HedgeLayer::new(Duration::from_millis(7));
    /// assert_eq!(layer.hedge_config().max_hedges, 1);
    /// ```
    pub fn hedge_config(&self) -> HedgeConfig {
        self.config.clone()
    }

    /// The hedge of the name in the registry: registered with the layer's configuration
    /// if new. Every way the configuration cannot apply is said.
    fn instance(&self) -> &'static HedgeInstance {
        let config = match self.config.validate() {
            Ok(()) => self.config.clone(),
            Err(error) => {
                tracing::error!(
                    target: crate::hedge::events::TARGET,
                    name = &*self.name,
                    %error,
                    "invalid HedgeLayer configuration; using the defaults"
                );
                HedgeConfig::default()
            }
        };
        let hedge = self
            .registry
            .register_hedge(&self.name, config.clone())
            // Unreachable: the configuration is valid. A hedge of its own still works.
            .unwrap_or_else(|_| Arc::new(HedgeInstance::fallback(&self.name)));
        let kept = hedge.config();
        if kept != config && self.registry.configured_hedge(&self.name).is_none() {
            tracing::warn!(
                target: crate::hedge::events::TARGET,
                name = &*self.name,
                kept = ?kept,
                given = ?config,
                "the hedge already lives in the registry with another configuration; this HedgeLayer's does not apply (give it another name, or configure the name in the registry)"
            );
        }
        super::pin(hedge)
    }
}

impl<S> Layer<S> for HedgeLayer {
    type Service = Hedge<S>;

    fn layer(&self, inner: S) -> Hedge<S> {
        let hedge = self.instance();
        Hedge {
            inner,
            hedge,
            caller: Caller {
                function: hedge.name(),
                via: Via::Tower,
            },
            faults: Faults::new(&self.name, self.registry),
        }
    }
}

/// The service of [`HedgeLayer`].
///
/// ```
/// use tower::Layer;
/// let svc = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(5)).layer(());
/// assert_eq!(svc.hedge().name(), "tower.hedge");
/// ```
#[derive(Clone)]
pub struct Hedge<S> {
    inner: S,
    hedge: &'static HedgeInstance,
    caller: Caller,
    faults: Faults,
}

impl<S> core::fmt::Debug for Hedge<S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Hedge")
            .field("hedge", &self.hedge.name())
            .finish_non_exhaustive()
    }
}

impl<S> Hedge<S> {
    /// The registry's hedge this service runs through (its configuration and counts).
    ///
    /// ```
    /// use tower::Layer;
    /// let svc = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(5)).name("docs.hedge_svc").layer(());
    /// assert_eq!(svc.hedge().snapshot().hedged_calls, 0);
    /// ```
    pub fn hedge(&self) -> &'static HedgeInstance {
        self.hedge
    }
}

impl<S, Req> Service<Req> for Hedge<S>
where
    S: Service<Req> + Clone,
    S::Error: 'static,
    Req: Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, Req>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The first run through the service made ready; each copy through a clone.
        let first = self.faults.draw_run::<S::Error>().gate(|| Run::Calling {
            call: self.inner.call(req.clone()),
        });
        let copies = Copies {
            service: self.inner.clone(),
            req,
            faults: self.faults,
        };
        ResponseFuture {
            race: runner::race(
                self.hedge,
                self.caller,
                Observe::Skip,
                first,
                copies,
                view_of::<S::Error>,
            ),
        }
    }
}

/// How an error of a generic service reads: a boxed error by what it holds, anything
/// else only by its type's name (and so retryable).
fn view_of<E: 'static>(error: &mut E) -> View<'_> {
    let any: &mut dyn core::any::Any = error;
    if let Some(boxed) = any.downcast_mut::<tower_boxed::BoxError>() {
        return View::Dyn(&**boxed);
    }
    View::Opaque(core::any::type_name::<E>())
}

mod tower_boxed {
    /// `tower::BoxError`.
    pub(super) type BoxError = Box<dyn std::error::Error + Send + Sync>;
}

/// How `HedgeLayer` starts a copy: a clone of the service, called with a clone of the
/// request once ready, through the copy's faults.
struct Copies<S, Req> {
    service: S,
    req: Req,
    faults: Faults,
}

impl<S, Req> StartRun for Copies<S, Req>
where
    S: Service<Req> + Clone,
    S::Error: 'static,
    Req: Clone,
{
    type Run = Gated<Run<S, Req>>;

    fn start(&self) -> Self::Run {
        self.faults.draw_run::<S::Error>().gate(|| Run::Ready {
            service: self.service.clone(),
            req: Some(self.req.clone()),
        })
    }
}

pin_project! {
    /// One run: a clone of the service waiting to be ready, then its call.
    #[project = RunProj]
    enum Run<S, Req>
    where
        S: Service<Req>,
    {
        Ready { service: S, req: Option<Req> },
        Calling { #[pin] call: S::Future },
    }
}

impl<S, Req> Future for Run<S, Req>
where
    S: Service<Req>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project() {
                RunProj::Calling { call } => return call.poll(cx),
                RunProj::Ready { service, req } => {
                    // A service that cannot take the copy fails this run.
                    core::task::ready!(service.poll_ready(cx))?;
                    let Some(req) = req.take() else {
                        panic!("a hedged run polled after it completed");
                    };
                    let call = service.call(req);
                    self.set(Run::Calling { call });
                }
            }
        }
    }
}

/// The type of [`view_of`] for the error type `E`.
type ViewOf<E> = for<'a> fn(&'a mut E) -> View<'a>;

pin_project! {
    /// The response future of [`Hedge`]: the hedge runner's race of the first run and
    /// the copies started.
    pub struct ResponseFuture<S, Req>
    where
        S: Service<Req>,
    {
        #[pin]
        race: Race<Copies<S, Req>, Gated<Run<S, Req>>, S::Error, ViewOf<S::Error>>,
    }
}

impl<S: Service<Req>, Req> core::fmt::Debug for ResponseFuture<S, Req> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("race", &self.race)
            .finish()
    }
}

impl<S, Req> Future for ResponseFuture<S, Req>
where
    S: Service<Req> + Clone,
    S::Error: 'static,
    Req: Clone,
{
    type Output = Result<S::Response, S::Error>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().race.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::{Arc, LazyLock};

    use tower::{service_fn, BoxError, Layer, ServiceExt};

    use super::*;

    static REG: LazyLock<Registry> = LazyLock::new(Registry::new);

    fn layer(name: &str, delay: u64) -> HedgeLayer {
        HedgeLayer::new(Duration::from_millis(delay))
            .name(name)
            .registry(&REG)
    }

    /// Run `n` (0-based) waits `waits[n]` ms, then fails if `fails[n]`.
    fn runs(
        waits: &'static [u64],
        fails: &'static [bool],
    ) -> (
        Arc<AtomicU32>,
        impl Service<(), Response = u32, Error = BoxError, Future = impl Send> + Clone,
    ) {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let svc = service_fn(move |()| {
            let n = counted.fetch_add(1, Ordering::SeqCst) as usize;
            async move {
                tokio::time::sleep(Duration::from_millis(waits[n])).await;
                if fails[n] {
                    Err::<u32, BoxError>(format!("run {n} failed").into())
                } else {
                    Ok(n as u32)
                }
            }
        });
        (calls, svc)
    }

    #[tokio::test(start_paused = true)]
    async fn a_fast_first_run_starts_no_hedge() {
        let (calls, inner) = runs(&[10, 10], &[false, false]);
        let svc = layer("tower.hedge.fast", 50).layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            REG.hedge("tower.hedge.fast")
                .unwrap()
                .snapshot()
                .hedged_calls,
            0
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_first_run_is_hedged_and_the_first_ok_wins() {
        let (calls, inner) = runs(&[500, 100, 10], &[false, false, false]);
        let svc = layer("tower.hedge.late", 50).max_hedges(2).layer(inner);
        let start = tokio::time::Instant::now();
        // Hedge 1 at 50 ms (answers at 150), hedge 2 at 100 ms (answers at 110).
        assert_eq!(svc.oneshot(()).await.unwrap(), 2);
        assert_eq!(start.elapsed(), Duration::from_millis(110));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        let snapshot = REG.hedge("tower.hedge.late").unwrap().snapshot();
        assert_eq!(
            (
                snapshot.hedged_calls,
                snapshot.hedges_started,
                snapshot.hedge_wins
            ),
            (1, 2, 1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_starts_the_next_run_at_once() {
        let (calls, inner) = runs(&[5, 20], &[true, false]);
        let svc = layer("tower.hedge.failure", 50).layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 1);
        assert_eq!(start.elapsed(), Duration::from_millis(25));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_run_fails_the_last_error_returns() {
        let (calls, inner) = runs(&[100, 10], &[true, true]);
        let svc = layer("tower.hedge.all_fail", 50).layer(inner);
        let err = svc.oneshot(()).await.unwrap_err();
        // Hedge at 50 ms fails at 60; the first fails at 100, last.
        assert_eq!(err.to_string(), "run 0 failed");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_that_is_not_retryable_ends_the_call() {
        // A boxed error is read as the attribute reads it: an open breaker is final.
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let inner = service_fn(move |()| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { Err::<(), BoxError>(Box::new(crate::CircuitOpen::from_name("down"))) }
        });
        let svc = layer("tower.hedge.final", 50).max_hedges(3).layer(inner);
        let err = svc.oneshot(()).await.unwrap_err();
        assert!(err.is::<crate::CircuitOpen>());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn the_registrys_configuration_wins_and_changes_apply_to_the_next_call() {
        REG.configure_hedge(
            "tower.hedge.configured",
            HedgeConfig {
                delay: Duration::from_millis(20),
                max_hedges: 1,
            },
        )
        .unwrap();
        let (_, inner) = runs(&[500, 10, 500, 10], &[false; 4]);
        let svc = layer("tower.hedge.configured", 300).layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.clone().oneshot(()).await.unwrap(), 1);
        assert_eq!(start.elapsed(), Duration::from_millis(30));
        REG.configure_hedge(
            "tower.hedge.configured",
            HedgeConfig {
                delay: Duration::from_millis(40),
                max_hedges: 1,
            },
        )
        .unwrap();
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 3);
        assert_eq!(start.elapsed(), Duration::from_millis(50));
    }

    #[test]
    fn an_invalid_configuration_is_refused_naming_the_field() {
        let err = HedgeLayer::new(Duration::ZERO)
            .try_config(HedgeConfig {
                max_hedges: 99,
                ..Default::default()
            })
            .unwrap_err();
        assert_eq!((err.field(), err.value()), ("max_hedges", "99"));
        // Given by `max_hedges`, it is refused when the service is made: the defaults.
        let svc = layer("tower.hedge.invalid", 5).max_hedges(0).layer(());
        assert_eq!(svc.hedge().config(), HedgeConfig::default());
    }
}
