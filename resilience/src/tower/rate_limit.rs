//! The rate limiter's tower layers: [`RateLimitLayer`], a rate limiter of the global
//! registry in front of a service, and its keyed variant; the builder and the keyed
//! lookup are the shared ones of [`pattern`](super::pattern), this file holds what is
//! the rate limiter's own (its registry calls, what a call does).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_service::Service;

use super::pattern::{KeyedLayer, KeyedService, PatternLayer, PatternService, TowerPattern};
use super::wait_then_call::WaitThenCall;
use crate::rate_limit::{Place, RateLimiter, Wait};
use crate::sites::faults::{Fault, Faults};
use crate::RateLimited;

impl TowerPattern for RateLimiter {
    const LAYER: &'static str = "RateLimitLayer";
    type Extra = ();
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
/// pattern's layer shares, [`PatternLayer`].
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
pub type RateLimitLayer = PatternLayer<RateLimiter>;

/// The service of [`RateLimitLayer`].
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// use tower::Layer;
/// let svc = RateLimitLayer::new("docs.rate_limit_service").layer(());
/// assert_eq!(svc.limiter().name(), "docs.rate_limit_service");
/// ```
pub type RateLimitService<S> = PatternService<RateLimiter, S>;

/// The layer of [`RateLimitLayer::key`](PatternLayer::key): one rate limiter per key.
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// let layer = RateLimitLayer::new("docs.keyed_rate_limit_layer").key(|client: &String| client.clone());
/// assert_eq!(layer.name(), "docs.keyed_rate_limit_layer");
/// ```
pub type KeyedRateLimitLayer<K> = KeyedLayer<RateLimiter, K>;

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
pub type KeyedRateLimitService<S, K> = KeyedService<RateLimiter, S, K>;

impl<S> PatternService<RateLimiter, S> {
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

impl<S, Req> Service<Req> for PatternService<RateLimiter, S>
where
    S: Service<Req> + Clone,
    S::Error: From<RateLimited> + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, Req>;

    /// The inner service's readiness: a spent rate never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// HOT PATH: an admitted call costs one clock read and one CAS; nothing is allocated.
    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        admit(
            Limiter::Named(self.instance),
            &self.faults,
            &mut self.inner,
            req,
        )
    }
}

impl<S, K, T, Req> Service<Req> for KeyedService<RateLimiter, S, K>
where
    S: Service<Req> + Clone,
    S::Error: From<RateLimited> + 'static,
    K: Fn(&Req) -> T,
    T: core::fmt::Display,
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
        match self.instance_for(&req) {
            Ok((limiter, _)) => admit(Limiter::Keyed(limiter), &self.faults, &mut self.inner, req),
            Err(limited) => ResponseFuture {
                state: WaitThenCall::refused(limited),
            },
        }
    }
}

/// A call through `limiter`: run at once, delayed, or refused.
#[inline]
fn admit<S, Req>(
    limiter: Limiter,
    faults: &Faults,
    inner: &mut S,
    req: Req,
) -> ResponseFuture<S::Future, S, Req>
where
    S: Service<Req> + Clone,
    S::Error: 'static,
{
    // Faults named as the limiter (feature `chaos`) are drawn once the call is admitted,
    // as the attribute draws them.
    let admitted = limiter
        .reserve()
        .and_then(|place| Ok((place, faults.draw::<S::Error, _>(&*limiter)?)));
    match admitted {
        Ok((place, fault)) if place.is_now() => ResponseFuture {
            state: WaitThenCall::running(fault.gate(|| inner.call(req)), ()),
        },
        Ok((place, fault)) => delay_call(limiter, place, inner, req, fault),
        Err(limited) => {
            tracing::debug!(target: "resilience::tower", name = limited.name, key = limited.key.as_deref(), "call refused by a rate limiter");
            ResponseFuture {
                state: WaitThenCall::refused(limited),
            }
        }
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
        state: WaitThenCall::waiting(Delay(Wait::new(limiter, place)), service, req, fault),
    }
}

/// The limiter a call goes through: the layer's, or its key's (held while it waits).
enum Limiter {
    Named(&'static RateLimiter),
    Keyed(Arc<RateLimiter>),
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

/// A call's delay: never refused once admitted; dropped before it has passed, it
/// gives the call's place back.
struct Delay(Wait<Limiter>);

impl Future for Delay {
    type Output = Result<(), RateLimited>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Wait` is `Unpin`.
        Pin::new(&mut self.get_mut().0).poll(cx).map(Ok)
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
        let MyError::Limited(l) = MyError::from(RateLimited {
            name: "x",
            key: None,
            retry_after: Duration::ZERO,
        });
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
}
