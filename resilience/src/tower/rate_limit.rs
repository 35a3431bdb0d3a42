//! The rate limiter's tower layers: [`RateLimitLayer`], a rate limiter of the global
//! registry in front of a service, and its keyed variant; the builder and the keyed
//! lookup are the shared ones of [`pattern`](super::pattern), this file holds what is
//! the rate limiter's own (its options, [`cost`](PatternLayer::cost) and the way to the
//! cluster, its registry calls, what a call does).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_service::Service;

use super::pattern::{KeyedLayer, KeyedService, PatternLayer, PatternService, TowerPattern};
use super::wait_then_call::WaitThenCall;
use crate::rate_limit::{Place, RateLimiter, Wait};
use crate::sites::cluster_rate_limit::ClusterSlot;
use crate::sites::faults::{Fault, Faults};
use crate::RateLimited;

impl TowerPattern for RateLimiter {
    const LAYER: &'static str = "RateLimitLayer";
    type Extra = RateLimitOptions;
}

/// What a request costs: the units of the limit it takes. [`PerCall`] (every request
/// costs 1) unless [`RateLimitLayer::cost`](PatternLayer::cost) says.
///
/// ```
/// use resilience::tower::{CostOf, PerCall};
/// assert_eq!(PerCall.cost_of(&"any request"), 1);
/// ```
pub trait CostOf<Req> {
    /// The units `req` takes.
    fn cost_of(&self, req: &Req) -> u32;
}

/// Every request costs one unit of the limit (a `RateLimitLayer` without
/// [`cost`](PatternLayer::cost)).
///
/// ```
/// use resilience::tower::{CostOf, PerCall};
/// assert_eq!(PerCall.cost_of(&()), 1);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PerCall;

impl<Req> CostOf<Req> for PerCall {
    #[inline(always)]
    fn cost_of(&self, _: &Req) -> u32 {
        1
    }
}

/// A request's cost as a function says ([`RateLimitLayer::cost`](PatternLayer::cost)).
///
/// ```
/// use resilience::tower::{CostFn, CostOf};
/// let tokens = CostFn(|prompt: &String| prompt.len() as u32);
/// assert_eq!(tokens.cost_of(&"four".to_string()), 4);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CostFn<F>(pub F);

impl<F: Fn(&Req) -> u32, Req> CostOf<Req> for CostFn<F> {
    #[inline]
    fn cost_of(&self, req: &Req) -> u32 {
        (self.0)(req)
    }
}

/// The rate-limit layer's own options: what a request costs (`C`: [`PerCall`], or a
/// [`CostFn`]), and its way to the cluster's limiter for a name whose configuration
/// says `scope = cluster` (one per layer, shared by the services it makes).
///
/// ```
/// use resilience::tower::{RateLimitLayer, RateLimitOptions};
/// let layer = RateLimitLayer::new("docs.rate_limit_options");
/// let _: &RateLimitOptions = layer.options();
/// ```
#[derive(Clone, Default)]
pub struct RateLimitOptions<C = PerCall> {
    cost: C,
    cluster: Arc<ClusterSlot>,
}

impl<C> core::fmt::Debug for RateLimitOptions<C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RateLimitOptions")
            .field("cost", &core::any::type_name::<C>())
            .finish_non_exhaustive()
    }
}

impl<C> PatternLayer<RateLimiter, RateLimitOptions<C>> {
    /// Each request takes `cost(&req)` units of the limit instead of one (tokens of a
    /// tokens-per-minute quota, the rows of a batch), as `#[rate_limit(cost = expr)]`
    /// and [`RateLimiter::check_n`] do: it waits (within `max_delay`) or is refused until
    /// that many units are free. A cost above the burst is refused at once with a
    /// [`RateLimited`] whose [`over_burst`](RateLimited::over_burst) is set (not
    /// retryable); a cost of 0 passes without taking anything. With `scope = cluster`,
    /// the cluster's limiter takes the cost.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use resilience::{RateLimitConfig, RateLimited};
    /// use std::time::Duration;
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // 100 tokens a minute; a prompt costs its length.
    /// let svc = RateLimitLayer::new("docs.rate_limit_cost")
    ///     .config(RateLimitConfig { limit: 100, per: Duration::from_secs(60), ..Default::default() })
    ///     .cost(|prompt: &String| prompt.len() as u32)
    ///     .layer(service_fn(|prompt: String| async move { Ok::<_, BoxError>(prompt.len()) }));
    ///
    /// assert_eq!(svc.clone().oneshot("x".repeat(60)).await.unwrap(), 60);
    /// let refused = svc.clone().oneshot("x".repeat(50)).await.unwrap_err();
    /// let limited = refused.downcast_ref::<RateLimited>().unwrap();
    /// // 10 units missing: 6 s, less the few microseconds since the first call (the
    /// // layer reads the system clock).
    /// assert_eq!(limited.cost, 50);
    /// assert!(limited.retry_after <= Duration::from_secs(6));
    /// assert!(limited.retry_after > Duration::from_millis(5_900));
    /// let never = svc.oneshot("x".repeat(101)).await.unwrap_err();
    /// assert_eq!(never.downcast_ref::<RateLimited>().unwrap().over_burst, Some(100));
    /// # }
    /// ```
    pub fn cost<F>(self, cost: F) -> PatternLayer<RateLimiter, RateLimitOptions<CostFn<F>>> {
        let cluster = self.extra.cluster.clone();
        self.with_extra(RateLimitOptions {
            cost: CostFn(cost),
            cluster,
        })
    }

    /// The layer's options.
    ///
    /// ```
    /// let layer = resilience::tower::RateLimitLayer::new("docs.rate_limit_layer_options");
    /// let _ = layer.options();
    /// ```
    pub fn options(&self) -> &RateLimitOptions<C> {
        &self.extra
    }
}

/// Puts a service behind the rate limiter `name` of the global
/// [`registry`](crate::registry()): the limiter a `#[rate_limit(name = "...")]` of the
/// same name uses, so the two spend one budget.
///
/// A call over the rate is delayed, inside the response future, when the wait fits in
/// [`max_delay`](crate::RateLimitConfig::max_delay), then the inner service is called;
/// otherwise `call` answers `Err(E::from(RateLimited { .. }))` without calling the
/// inner service, with [`retry_after`](RateLimited::retry_after) the wait until a call
/// would be admitted. `poll_ready` stays the inner service's. The builder
/// ([`new`](PatternLayer::new), [`config`](PatternLayer::config),
/// [`try_config`](PatternLayer::try_config), [`key`](PatternLayer::key)) is the one every
/// pattern's layer shares, [`PatternLayer`]; [`cost`](PatternLayer::cost) is its own.
///
/// When the configuration in force for the name says `scope = cluster` (the layer's
/// [`config`](PatternLayer::config), the registry's, a `[rate_limit.NAME]` table), the
/// layer admits through the name's cluster limiter, as `#[rate_limit(scope = cluster)]`
/// does: one limit across every process connected to the cluster's Redis, the local
/// share (`limit / expected_instances`) while Redis is unreachable. Before
/// `cluster::connect`, or without the `redis` feature, it limits locally and says so once
/// (a WARN naming the limiter and why); so does a keyed layer (a cluster limit is one per
/// name, never per key).
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// use resilience::{RateLimitConfig, RateLimited};
/// use std::time::Duration;
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = RateLimitLayer::new("docs.rate_limit_layer")
///     .config(RateLimitConfig { limit: 1, per: Duration::from_secs(60), ..Default::default() });
/// let svc = layer.layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
///
/// assert_eq!(svc.clone().oneshot(1).await.unwrap(), 1);
/// let refused = svc.oneshot(2).await.unwrap_err();
/// assert!(refused.downcast_ref::<RateLimited>().unwrap().retry_after > Duration::from_secs(59));
/// # }
/// ```
pub type RateLimitLayer = PatternLayer<RateLimiter, RateLimitOptions>;

/// The service of [`RateLimitLayer`].
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// use tower::Layer;
/// let svc = RateLimitLayer::new("docs.rate_limit_service").layer(());
/// assert_eq!(svc.limiter().name(), "docs.rate_limit_service");
/// ```
pub type RateLimitService<S, C = PerCall> = PatternService<RateLimiter, S, RateLimitOptions<C>>;

/// The layer of [`RateLimitLayer::key`](PatternLayer::key): one rate limiter per key.
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// let layer = RateLimitLayer::new("docs.keyed_rate_limit_layer").key(|client: &String| client.clone());
/// assert_eq!(layer.name(), "docs.keyed_rate_limit_layer");
/// ```
pub type KeyedRateLimitLayer<K, C = PerCall> = KeyedLayer<RateLimiter, K, RateLimitOptions<C>>;

/// The service of [`KeyedRateLimitLayer`]: finds the request's rate limiter in the
/// registry's keyed store (a read lock and a hash of the key's text for a known key),
/// then calls through it as [`RateLimitService`] does.
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// use tower::{service_fn, BoxError, Layer};
/// let svc = RateLimitLayer::new("docs.keyed_rate_limit_service")
///     .key(|x: &u8| *x)
///     .layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// # let _ = svc;
/// ```
pub type KeyedRateLimitService<S, K, C = PerCall> =
    KeyedService<RateLimiter, S, K, RateLimitOptions<C>>;

impl<S, C> PatternService<RateLimiter, S, RateLimitOptions<C>> {
    /// The rate limiter this service calls through.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use tower::Layer;
    /// let svc = RateLimitLayer::new("docs.rate_limit_of").layer(());
    /// assert_eq!(svc.limiter().snapshot().rejections, 0);
    /// ```
    pub fn limiter(&self) -> &'static RateLimiter {
        self.instance
    }
}

impl<S, C, Req> Service<Req> for PatternService<RateLimiter, S, RateLimitOptions<C>>
where
    S: Service<Req> + Clone,
    S::Error: From<RateLimited> + 'static,
    C: CostOf<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, Req>;

    /// The inner service's readiness: a spent rate never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// HOT PATH: an admitted call costs one clock read and one CAS (and a load that
    /// says the limit is not the cluster's); nothing is allocated.
    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let cost = self.extra.cost.cost_of(&req);
        if self.instance.is_cluster() {
            return through_cluster(
                self.instance,
                &self.extra.cluster,
                cost,
                &self.faults,
                &mut self.inner,
                req,
            );
        }
        admit(self.instance, cost, &self.faults, &mut self.inner, req)
    }
}

impl<S, K, T, C, Req> Service<Req> for KeyedService<RateLimiter, S, K, RateLimitOptions<C>>
where
    S: Service<Req> + Clone,
    S::Error: From<RateLimited> + 'static,
    K: Fn(&Req) -> T,
    T: core::fmt::Display,
    C: CostOf<Req>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, Req>;

    /// The inner service's readiness: a spent rate never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let cost = self.extra.cost.cost_of(&req);
        match self.instance_for(&req) {
            Ok((limiter, _)) => {
                if limiter.is_cluster() {
                    self.extra.cluster.warn_keyed(limiter.name());
                }
                admit(limiter, cost, &self.faults, &mut self.inner, req)
            }
            Err(limited) => ResponseFuture {
                state: WaitThenCall::refused(limited),
            },
        }
    }
}

/// A call of `cost` units through `limiter`: run at once, delayed, or refused.
/// `L` is `&'static RateLimiter` for a named layer (nothing to drop on the way out) or
/// the key's `Arc` for a keyed one.
#[inline]
fn admit<L, S, Req>(
    limiter: L,
    cost: u32,
    faults: &Faults,
    inner: &mut S,
    req: Req,
) -> ResponseFuture<S::Future, S, Req>
where
    L: core::ops::Deref<Target = RateLimiter> + Into<Limiter>,
    S: Service<Req> + Clone,
    S::Error: 'static,
{
    // A cost of one (every layer without `cost`) is the unweighted path itself.
    let place = if cost == 1 {
        limiter.reserve()
    } else {
        limiter.reserve_n(cost)
    };
    let place = match place {
        Ok(place) => place,
        Err(limited) => return refused(limited),
    };
    // Faults named as the limiter (feature `chaos`) are drawn once the call is admitted,
    // as the attribute draws them.
    let fault = match faults.draw::<S::Error, _>(&*limiter) {
        Ok(fault) => fault,
        Err(limited) => return refused(limited),
    };
    if place.is_now() {
        return ResponseFuture {
            state: WaitThenCall::running(fault.gate(|| inner.call(req)), ()),
        };
    }
    delay_call(limiter.into(), place, inner, req, fault)
}

#[cold]
fn refused<Fut, S, Req>(limited: RateLimited) -> ResponseFuture<Fut, S, Req> {
    tracing::debug!(target: "resilience::tower", name = limited.name, key = limited.key.as_deref(), cost = limited.cost, "call refused by a rate limiter");
    ResponseFuture {
        state: WaitThenCall::refused(limited),
    }
}

/// A call through a limiter whose configuration says `scope = cluster`: admitted by the
/// name's cluster limiter (a Redis round trip, in the response future; the local share
/// while Redis is down), then the readied service is called. Before `connect`, or
/// without the `redis` feature, the local limiter decides (and the slot says so once).
#[cold]
#[inline(never)]
fn through_cluster<S, Req>(
    limiter: &'static RateLimiter,
    cluster: &Arc<ClusterSlot>,
    cost: u32,
    faults: &Faults,
    inner: &mut S,
    req: Req,
) -> ResponseFuture<S::Future, S, Req>
where
    S: Service<Req> + Clone,
    S::Error: 'static,
{
    let fault = match faults.draw::<S::Error, _>(limiter) {
        Ok(fault) => fault,
        Err(limited) => return refused(limited),
    };
    let cluster = cluster.clone();
    let admission = Box::pin(async move {
        let delay = cluster.admit(limiter, cost).await?;
        // Only a configuration gone back to `scope = local` meanwhile delays a call.
        if !delay.is_zero() {
            crate::clock::sleep::sleep(delay).await;
        }
        Ok(())
    });
    let clone = inner.clone();
    let service = core::mem::replace(inner, clone);
    ResponseFuture {
        state: WaitThenCall::waiting(Delay::Cluster(admission), service, req, fault),
    }
}

/// Admitted at `place`, later: moves the readied service into the future (a clone is
/// left in its place) to call it once the delay has passed.
#[cold]
fn delay_call<S, Req>(
    limiter: Limiter,
    place: Place,
    inner: &mut S,
    req: Req,
    fault: Fault,
) -> ResponseFuture<S::Future, S, Req>
where
    S: Service<Req> + Clone,
{
    let clone = inner.clone();
    let service = core::mem::replace(inner, clone);
    ResponseFuture {
        state: WaitThenCall::waiting(Delay::Local(Wait::new(limiter, place)), service, req, fault),
    }
}

/// The limiter a call goes through: the layer's, or its key's (held while it waits).
enum Limiter {
    Named(&'static RateLimiter),
    Keyed(Arc<RateLimiter>),
}

impl From<&'static RateLimiter> for Limiter {
    #[inline]
    fn from(limiter: &'static RateLimiter) -> Limiter {
        Limiter::Named(limiter)
    }
}

impl From<Arc<RateLimiter>> for Limiter {
    #[inline]
    fn from(limiter: Arc<RateLimiter>) -> Limiter {
        Limiter::Keyed(limiter)
    }
}

impl core::ops::Deref for Limiter {
    type Target = RateLimiter;

    #[inline]
    fn deref(&self) -> &RateLimiter {
        match self {
            Limiter::Named(limiter) => limiter,
            Limiter::Keyed(limiter) => limiter,
        }
    }
}

/// A cluster admission: the round trip to Redis (or the local share), as a future the
/// response future keeps.
type ClusterAdmission = Pin<Box<dyn Future<Output = Result<(), RateLimited>> + Send>>;

/// What a call waits for before it runs: its delay (never refused once admitted;
/// dropped before it has passed, it gives the call's place back), or the cluster's
/// answer.
enum Delay {
    Local(Wait<Limiter>),
    Cluster(ClusterAdmission),
}

impl Future for Delay {
    type Output = Result<(), RateLimited>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Wait` is `Unpin`, and so is a box.
        match self.get_mut() {
            Delay::Local(wait) => Pin::new(wait).poll(cx).map(Ok),
            Delay::Cluster(admission) => admission.as_mut().poll(cx),
        }
    }
}

pin_project! {
    /// The response future of [`RateLimitService`] and [`KeyedRateLimitService`]: the
    /// inner call, a call waiting out its delay, or the refusal. Dropped while delayed,
    /// the inner service is not called and the call's place in the rate is given back
    /// (the next delayed call takes it).
    pub struct ResponseFuture<Fut, S, Req> {
        #[pin]
        state: WaitThenCall<Delay, (), RateLimited, S, Req, Fut>,
    }
}

impl<Fut, S, Req> core::fmt::Debug for ResponseFuture<Fut, S, Req> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("state", &self.state)
            .finish()
    }
}

impl<Fut, S, Req, T, E> Future for ResponseFuture<Fut, S, Req>
where
    S: Service<Req, Future = Fut>,
    Fut: Future<Output = Result<T, E>>,
    E: From<RateLimited> + 'static,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().state.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::RateLimitConfig;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    use super::*;
    use crate::__private::RateLimitSite;

    fn config(limit: u32, per: Duration, burst: u32, max_delay: Duration) -> RateLimitConfig {
        RateLimitConfig {
            limit,
            per,
            burst: Some(burst),
            max_delay,
            ..Default::default()
        }
    }

    fn counting(
        calls: &Arc<AtomicU32>,
    ) -> impl Service<u32, Response = u32, Error = BoxError> + Clone {
        let calls = calls.clone();
        service_fn(move |x: u32| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, BoxError>(x) }
        })
    }

    #[tokio::test(start_paused = true)]
    async fn admits_the_burst_then_refuses_with_retry_after() {
        let calls = Arc::new(AtomicU32::new(0));
        let svc = RateLimitLayer::new("tower.rate_limit.burst")
            .config(config(10, Duration::from_secs(1), 3, Duration::ZERO))
            .layer(counting(&calls));
        for i in 0..3 {
            assert_eq!(svc.clone().oneshot(i).await.unwrap(), i);
        }
        let err = svc.clone().oneshot(3).await.unwrap_err();
        let limited = err.downcast_ref::<RateLimited>().expect("a RateLimited");
        assert_eq!(limited.name, "tower.rate_limit.burst");
        assert_eq!(limited.retry_after, Duration::from_millis(100));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "a refused call never reaches the service"
        );
        tokio::time::advance(limited.retry_after).await;
        assert_eq!(svc.oneshot(4).await.unwrap(), 4);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_within_max_delay_waits_then_runs() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = RateLimitLayer::new("tower.rate_limit.delay")
            .config(config(
                10,
                Duration::from_secs(1),
                1,
                Duration::from_millis(500),
            ))
            .layer(counting(&calls));
        svc.ready().await.unwrap().call(0).await.unwrap();
        let start = tokio::time::Instant::now();
        let mut delayed = Box::pin(svc.ready().await.unwrap().call(1));
        assert!(super::super::is_pending(&mut delayed).await);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "not called before its delay"
        );
        assert_eq!(delayed.await.unwrap(), 1);
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn a_delayed_call_dropped_while_it_waits_gives_its_place_back() {
        // 10 a second, burst 1, up to 2 s of delay: 15 calls delayed, then dropped after
        // 1 ms, none run. The next call waits at most one interval (1.57 s before).
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = RateLimitLayer::new("tower.rate_limit.cancelled")
            .config(config(
                10,
                Duration::from_secs(1),
                1,
                Duration::from_secs(2),
            ))
            .layer(counting(&calls));
        svc.ready().await.unwrap().call(0).await.unwrap();
        let mut delayed = Vec::new();
        for i in 1..=15 {
            let mut call = Box::pin(svc.ready().await.unwrap().call(i));
            assert!(super::super::is_pending(&mut call).await);
            delayed.push(call);
        }
        tokio::time::advance(Duration::from_millis(1)).await;
        drop(delayed);
        assert_eq!(calls.load(Ordering::SeqCst), 1, "none of them ran");
        let start = tokio::time::Instant::now();
        svc.ready().await.unwrap().call(16).await.unwrap();
        assert!(
            start.elapsed() <= Duration::from_millis(100),
            "waited {:?}",
            start.elapsed()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_keyed_delayed_call_dropped_while_it_waits_gives_its_place_back() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = RateLimitLayer::new("tower.rate_limit.keyed_cancelled")
            .config(config(
                10,
                Duration::from_secs(1),
                1,
                Duration::from_secs(2),
            ))
            .key(|_: &u32| "tenant")
            .layer(counting(&calls));
        svc.ready().await.unwrap().call(0).await.unwrap();
        let mut delayed = Vec::new();
        for i in 1..=15 {
            let mut call = Box::pin(svc.ready().await.unwrap().call(i));
            assert!(super::super::is_pending(&mut call).await);
            delayed.push(call);
        }
        tokio::time::advance(Duration::from_millis(1)).await;
        // Dropped in reverse: the order does not matter.
        while let Some(call) = delayed.pop() {
            drop(call);
        }
        let start = tokio::time::Instant::now();
        svc.ready().await.unwrap().call(16).await.unwrap();
        assert!(
            start.elapsed() <= Duration::from_millis(100),
            "waited {:?}",
            start.elapsed()
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_layer_and_an_attribute_of_one_name_share_the_limiter() {
        fn init() -> RateLimitConfig {
            config(1, Duration::from_secs(3600), 1, Duration::ZERO)
        }
        static SITE: RateLimitSite = RateLimitSite::new("tower.rate_limit.shared", init);
        let attribute = SITE.instance();
        let svc = RateLimitLayer::new("tower.rate_limit.shared").layer(());
        assert!(std::ptr::eq(attribute, svc.limiter()));
        attribute.check().unwrap(); // the attribute spends the one call
        assert!(svc.limiter().check().is_err());
    }

    #[test]
    fn the_layer_has_the_inner_error_type() {
        #[derive(Debug)]
        enum MyError {
            Limited(RateLimited),
        }
        impl From<RateLimited> for MyError {
            fn from(l: RateLimited) -> Self {
                MyError::Limited(l)
            }
        }
        fn assert_error<S: Service<(), Error = MyError>>(_: &S) {}
        let svc = RateLimitLayer::new("tower.rate_limit.typed")
            .layer(service_fn(|()| async { Ok::<(), MyError>(()) }));
        assert_error(&svc);
        let MyError::Limited(l) = MyError::from(RateLimited::new("x", None, Duration::ZERO));
        assert_eq!(l.name, "x");
    }

    fn keyed_counting(
        name: &str,
        config: RateLimitConfig,
        calls: &Arc<AtomicU32>,
    ) -> impl Service<(&'static str, u32), Response = u32, Error = BoxError> + Clone {
        let calls = calls.clone();
        RateLimitLayer::new(name)
            .config(config)
            .key(|(key, _): &(&'static str, u32)| *key)
            .layer(service_fn(move |(_, x): (&'static str, u32)| {
                calls.fetch_add(1, Ordering::SeqCst);
                async move { Ok::<_, BoxError>(x) }
            }))
    }

    #[tokio::test(start_paused = true)]
    async fn key_gives_each_key_its_own_budget() {
        let name = "tower.rate_limit.keyed";
        let calls = Arc::new(AtomicU32::new(0));
        let svc = keyed_counting(
            name,
            config(10, Duration::from_secs(1), 2, Duration::ZERO),
            &calls,
        );
        for i in 0..2 {
            assert_eq!(svc.clone().oneshot(("a", i)).await.unwrap(), i);
        }
        // The same key shares a's spent budget.
        let err = svc.clone().oneshot(("a", 2)).await.unwrap_err();
        let limited = err.downcast_ref::<RateLimited>().expect("a RateLimited");
        assert_eq!((limited.name, limited.key.as_deref()), (name, Some("a")));
        assert_eq!(limited.retry_after, Duration::from_millis(100));
        // Another key has its own, full.
        for i in 0..2 {
            assert_eq!(svc.clone().oneshot(("b", i)).await.unwrap(), i);
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            4,
            "a refused call never reaches the service"
        );
        let a = crate::registry()
            .rate_limiter_for(name, "a")
            .expect("a's limiter");
        let b = crate::registry()
            .rate_limiter_for(name, "b")
            .expect("b's limiter");
        assert!(!Arc::ptr_eq(&a, &b));
        assert_eq!((a.snapshot().rejections, b.snapshot().rejections), (1, 0));
        assert_eq!(a.key(), Some("a"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_keyed_call_within_max_delay_waits_then_runs() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = keyed_counting(
            "tower.rate_limit.keyed_delay",
            config(10, Duration::from_secs(1), 1, Duration::from_millis(500)),
            &calls,
        );
        svc.ready().await.unwrap().call(("a", 0)).await.unwrap();
        let start = tokio::time::Instant::now();
        let mut delayed = Box::pin(svc.ready().await.unwrap().call(("a", 1)));
        assert!(super::super::is_pending(&mut delayed).await);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "not called before its delay"
        );
        // Another key is not delayed.
        svc.ready().await.unwrap().call(("b", 2)).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(delayed.await.unwrap(), 1);
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn a_layer_key_and_an_attribute_key_of_one_name_share_the_instances() {
        fn init() -> RateLimitConfig {
            config(1, Duration::from_secs(3600), 1, Duration::ZERO)
        }
        static SITE: RateLimitSite = RateLimitSite::new("tower.rate_limit.keyed_shared", init);
        let attribute = SITE.keyed("eu").unwrap();
        attribute.check().unwrap(); // the attribute spends eu's one call
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = keyed_counting(
            "tower.rate_limit.keyed_shared",
            config(100, Duration::from_secs(1), 100, Duration::ZERO),
            &calls,
        );
        let refused = svc.call(("eu", 0));
        let found = crate::registry()
            .rate_limiter_for("tower.rate_limit.keyed_shared", "eu")
            .unwrap();
        assert!(Arc::ptr_eq(&attribute, &found));
        assert_eq!(
            found.snapshot().rejections,
            1,
            "the layer's call was refused"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 0);
        drop(refused);
    }

    #[tokio::test]
    async fn max_keys_bounds_the_live_limiters_and_a_spent_one_is_never_forgotten() {
        let name = "tower.rate_limit.keyed_bounded";
        let clock = crate::clock::ManualClock::new();
        let registry: &'static crate::registry::Registry = Box::leak(Box::new(
            crate::registry::Registry::with_clock(Arc::new(clock.clone())),
        ));
        let svc = RateLimitLayer::new(name)
            .config(config(1, Duration::from_secs(1), 1, Duration::ZERO))
            .key(|k: &u32| *k)
            .max_keys(4)
            .registry(registry)
            .layer(service_fn(|k: u32| async move { Ok::<_, BoxError>(k) }));
        for k in 0..4 {
            svc.clone().oneshot(k).await.unwrap();
        }
        // Every live limiter is spent: the new key is refused, none is forgotten.
        let refused = svc.clone().oneshot(4).await.unwrap_err();
        let limited = refused.downcast_ref::<RateLimited>().expect("RateLimited");
        assert_eq!(limited.key.as_deref(), Some("4"));
        assert_eq!(limited.retry_after, Duration::from_secs(1));
        assert!(svc.clone().oneshot(0).await.is_err(), "0 is still spent");
        assert_eq!(registry.rate_limiters().len(), 4);
        // Whole again, the least recently used makes room (0 was used last).
        let first = Arc::downgrade(&registry.rate_limiter_for(name, "1").unwrap());
        clock.advance(Duration::from_secs(1));
        svc.clone().oneshot(4).await.unwrap();
        assert!(registry.rate_limiter_for(name, "1").is_none());
        assert!(first.upgrade().is_none(), "an evicted limiter is freed");
        assert!(registry.rate_limiter_for(name, "0").is_some());
        assert_eq!(registry.rate_limiters().len(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_takes_its_cost_and_one_above_the_burst_is_refused_at_once() {
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let mut svc = RateLimitLayer::new("tower.rate_limit.cost")
            .config(config(
                100,
                Duration::from_secs(1),
                100,
                Duration::from_secs(1),
            ))
            .cost(|units: &u32| *units)
            .layer(service_fn(move |x: u32| {
                counted.fetch_add(1, Ordering::SeqCst);
                async move { Ok::<_, BoxError>(x) }
            }));
        assert_eq!(svc.ready().await.unwrap().call(60).await.unwrap(), 60);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.ready().await.unwrap().call(50).await.unwrap(), 50);
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "the 10 units missing"
        );
        let err = svc.ready().await.unwrap().call(101).await.unwrap_err();
        let limited = err.downcast_ref::<RateLimited>().expect("a RateLimited");
        assert_eq!((limited.cost, limited.over_burst), (101, Some(100)));
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(100),
            "refused at once"
        );
        assert_eq!(svc.ready().await.unwrap().call(0).await.unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_keyed_layer_takes_costs_per_key() {
        let mut svc = RateLimitLayer::new("tower.rate_limit.keyed_cost")
            .config(config(10, Duration::from_secs(1), 10, Duration::ZERO))
            .cost(|(_, units): &(&'static str, u32)| *units)
            .key(|(key, _): &(&'static str, u32)| *key)
            .layer(service_fn(|(_, x): (&'static str, u32)| async move {
                Ok::<_, BoxError>(x)
            }));
        svc.ready().await.unwrap().call(("a", 8)).await.unwrap();
        let err = svc.ready().await.unwrap().call(("a", 3)).await.unwrap_err();
        let limited = err.downcast_ref::<RateLimited>().expect("a RateLimited");
        assert_eq!(limited.retry_after, Duration::from_millis(100));
        svc.ready().await.unwrap().call(("b", 10)).await.unwrap();
    }

    /// Without a connected cluster (no test of this crate connects), a layer whose
    /// configuration says `scope = cluster` goes through the cluster's slot, which
    /// limits locally (and says so once): its calls are counted on the name's limiter.
    #[tokio::test]
    async fn a_cluster_scoped_layer_before_connect_is_the_local_limiter() {
        let calls = Arc::new(AtomicU32::new(0));
        let svc = RateLimitLayer::new("tower.rate_limit.cluster_local")
            .config(RateLimitConfig {
                limit: 3,
                per: Duration::from_secs(60),
                scope: crate::Scope::Cluster,
                expected_instances: 3,
                ..Default::default()
            })
            .layer(counting(&calls));
        assert!(svc.limiter().is_cluster());
        let mut admitted = 0;
        for i in 0..10 {
            if svc.clone().oneshot(i).await.is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 3);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(svc.limiter().snapshot().rejections, 7);
    }
}
