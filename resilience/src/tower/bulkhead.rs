//! The bulkhead's tower layers: [`BulkheadLayer`], a bulkhead of the global registry in
//! front of a service, and its keyed variant; the builder and the keyed lookup are the
//! shared ones of [`pattern`](super::pattern), this file holds what is the bulkhead's own
//! (its registry calls, what a call does).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_service::Service;

use super::pattern::{KeyedLayer, KeyedService, PatternLayer, PatternService, TowerPattern};
use super::wait_then_call::WaitThenCall;
use crate::bulkhead::{Bulkhead, BulkheadPermit, OwnedBulkheadPermit, Wait};
use crate::sites::faults::{Fault, Gated};
use crate::BulkheadFull;

impl TowerPattern for Bulkhead {
    const LAYER: &'static str = "BulkheadLayer";
    type Extra = ();
}

/// Puts a service behind the bulkhead `name` of the global
/// [`registry`](crate::registry()): the bulkhead a `#[bulkhead(name = "...")]` of the
/// same name uses, so the two count their calls together.
///
/// A call takes a place before the inner service is called and holds it until its
/// response future completes or is dropped. With no place free, `call` answers
/// `Err(E::from(BulkheadFull { .. }))` without calling the inner service, at once, or
/// after waiting up to [`max_wait`](crate::BulkheadConfig::max_wait) for a place inside the
/// response future; `poll_ready` stays the inner service's. The builder
/// ([`new`](PatternLayer::new), [`config`](PatternLayer::config),
/// [`try_config`](PatternLayer::try_config), [`key`](PatternLayer::key)) is the one every
/// pattern's layer shares, [`PatternLayer`].
///
/// ```
/// use resilience::tower::BulkheadLayer;
/// use resilience::{BulkheadConfig, BulkheadFull};
/// use tower::{service_fn, BoxError, Layer, Service, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = BulkheadLayer::new("docs.bulkhead_layer")
///     .config(BulkheadConfig { max_concurrent: 1, ..Default::default() });
/// let mut svc = layer.layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
///
/// let running = svc.ready().await.unwrap().call(1); // holds the only place
/// let refused = svc.ready().await.unwrap().call(2).await.unwrap_err();
/// assert!(refused.downcast_ref::<BulkheadFull>().is_some());
/// assert_eq!(running.await.unwrap(), 1); // and gives it back
/// assert_eq!(svc.oneshot(3).await.unwrap(), 3);
/// # }
/// ```
pub type BulkheadLayer = PatternLayer<Bulkhead>;

/// The service of [`BulkheadLayer`].
///
/// ```
/// use resilience::tower::BulkheadLayer;
/// use tower::Layer;
/// let svc = BulkheadLayer::new("docs.bulkhead_service").layer(());
/// assert_eq!(svc.bulkhead().name(), "docs.bulkhead_service");
/// ```
pub type BulkheadService<S> = PatternService<Bulkhead, S>;

/// The layer of [`BulkheadLayer::key`](PatternLayer::key): one bulkhead per key.
///
/// ```
/// use resilience::tower::BulkheadLayer;
/// let layer = BulkheadLayer::new("docs.keyed_bulkhead_layer").key(|host: &String| host.clone());
/// assert_eq!(layer.name(), "docs.keyed_bulkhead_layer");
/// ```
pub type KeyedBulkheadLayer<K> = KeyedLayer<Bulkhead, K>;

/// The service of [`KeyedBulkheadLayer`]: finds the request's bulkhead in the registry's
/// keyed store (a read lock and a hash of the key's text for a known key), then calls
/// through it as [`BulkheadService`] does.
///
/// ```
/// use resilience::tower::BulkheadLayer;
/// use tower::{service_fn, BoxError, Layer};
/// let svc = BulkheadLayer::new("docs.keyed_bulkhead_service")
///     .key(|x: &u8| *x)
///     .layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// # let _ = svc;
/// ```
pub type KeyedBulkheadService<S, K> = KeyedService<Bulkhead, S, K>;

impl<S> PatternService<Bulkhead, S> {
    /// The bulkhead this service calls through.
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use tower::Layer;
    /// let svc = BulkheadLayer::new("docs.bulkhead_of").layer(());
    /// assert_eq!(svc.bulkhead().in_flight(), 0);
    /// ```
    pub fn bulkhead(&self) -> &'static Bulkhead {
        self.instance
    }
}

impl<S, Req> Service<Req> for PatternService<Bulkhead, S>
where
    S: Service<Req> + Clone,
    S::Error: From<BulkheadFull> + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, Req>;

    /// The inner service's readiness: a full bulkhead never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// HOT PATH: with a place free, one CAS; nothing is allocated.
    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let fault = match self.faults.draw::<S::Error, _>(self.instance) {
            Ok(fault) => fault,
            Err(full) => return ResponseFuture::refused(full),
        };
        if let Some(permit) = self.instance.try_acquire() {
            let call = fault.gate(|| self.inner.call(req));
            return ResponseFuture::running(call, Held::Borrowed(permit));
        }
        wait(&mut self.inner, self.instance, req, fault, |b| {
            PlaceWait::Borrowed(b.wait())
        })
    }
}

impl<S, K, T, Req> Service<Req> for KeyedService<Bulkhead, S, K>
where
    S: Service<Req> + Clone,
    S::Error: From<BulkheadFull> + 'static,
    K: Fn(&Req) -> T,
    T: core::fmt::Display,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S, Req>;

    /// The inner service's readiness: a full bulkhead never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let bulkhead = match self.instance_for(&req) {
            Ok((bulkhead, _)) => bulkhead,
            Err(refused) => return ResponseFuture::refused(refused),
        };
        let fault = match self.faults.draw::<S::Error, _>(&*bulkhead) {
            Ok(fault) => fault,
            Err(full) => return ResponseFuture::refused(full),
        };
        if let Some(permit) = bulkhead.try_acquire_owned() {
            let call = fault.gate(|| self.inner.call(req));
            return ResponseFuture::running(call, Held::Owned(permit));
        }
        wait(&mut self.inner, bulkhead, req, fault, |b| {
            PlaceWait::Owned(b.wait_owned())
        })
    }
}

/// No place free: refuse at once, or move the readied service into the future (a clone
/// is left in its place) to call it once a place frees.
#[cold]
fn wait<S, Req, B: core::ops::Deref<Target = Bulkhead>>(
    inner: &mut S,
    bulkhead: B,
    req: Req,
    fault: Fault,
    wait: impl FnOnce(B) -> PlaceWait,
) -> ResponseFuture<S::Future, S, Req>
where
    S: Service<Req> + Clone,
{
    if bulkhead.config().max_wait.is_zero() {
        tracing::debug!(target: "resilience::tower", name = bulkhead.name(), key = bulkhead.key(), "call refused by a full bulkhead");
        return ResponseFuture::refused(bulkhead.refuse(Duration::ZERO));
    }
    let clone = inner.clone();
    let service = core::mem::replace(inner, clone);
    ResponseFuture::waiting(wait(bulkhead), service, req, fault)
}

/// The place a call holds: borrowed from a bulkhead kept for the life of the program, or
/// owning a reference count on a keyed instance (which may be evicted once idle). Given
/// back when dropped.
#[derive(Debug)]
enum Held {
    Borrowed(#[allow(dead_code)] BulkheadPermit<'static>),
    Owned(#[allow(dead_code)] OwnedBulkheadPermit),
}

/// A call's wait for a place, in the bulkhead it holds as [`Held`] does.
enum PlaceWait {
    Borrowed(Wait<&'static Bulkhead>),
    Owned(Wait<Arc<Bulkhead>>),
}

impl Future for PlaceWait {
    type Output = Result<Held, BulkheadFull>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // Both waits are `Unpin` (their timer is boxed).
        Poll::Ready(match self.get_mut() {
            PlaceWait::Borrowed(wait) => {
                core::task::ready!(Pin::new(wait).poll(cx)).map(Held::Borrowed)
            }
            PlaceWait::Owned(wait) => core::task::ready!(Pin::new(wait).poll(cx)).map(Held::Owned),
        })
    }
}

pin_project! {
    /// The response future of [`BulkheadService`] and [`KeyedBulkheadService`]: the inner
    /// call with its place, a call waiting for one, or the refusal. The place is given
    /// back when the inner call completes or the future is dropped; dropped while
    /// waiting, it gives up its turn.
    pub struct ResponseFuture<Fut, S, Req> {
        #[pin]
        state: WaitThenCall<PlaceWait, Held, BulkheadFull, S, Req, Fut>,
    }
}

impl<Fut, S, Req> ResponseFuture<Fut, S, Req> {
    #[inline]
    fn running(call: Gated<Fut>, place: Held) -> Self {
        ResponseFuture {
            state: WaitThenCall::running(call, place),
        }
    }

    fn waiting(wait: PlaceWait, service: S, req: Req, fault: Fault) -> Self {
        ResponseFuture {
            state: WaitThenCall::waiting(wait, service, req, fault),
        }
    }

    fn refused(full: BulkheadFull) -> Self {
        ResponseFuture {
            state: WaitThenCall::refused(full),
        }
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
    E: From<BulkheadFull> + 'static,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().state.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use crate::BulkheadConfig;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    use super::*;
    use crate::__private::BulkheadSite;

    fn config(max: u32, wait: Duration) -> BulkheadConfig {
        BulkheadConfig {
            max_concurrent: max,
            max_wait: wait,
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_max_concurrent_calls_run_at_once() {
        let running = Arc::new(AtomicU32::new(0));
        let high_water = Arc::new(AtomicU32::new(0));
        let (r, h) = (running.clone(), high_water.clone());
        let svc = BulkheadLayer::new("tower.bulkhead.high_water")
            .config(config(3, Duration::from_secs(60)))
            .layer(service_fn(move |i: u32| {
                let (r, h) = (r.clone(), h.clone());
                async move {
                    let now = r.fetch_add(1, Ordering::SeqCst) + 1;
                    h.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    r.fetch_sub(1, Ordering::SeqCst);
                    Ok::<_, BoxError>(i)
                }
            }));
        let calls: Vec<_> = (0..20)
            .map(|i| tokio::spawn(svc.clone().oneshot(i)))
            .collect();
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap().unwrap(), i as u32);
        }
        assert_eq!(high_water.load(Ordering::SeqCst), 3);
        assert_eq!(svc.bulkhead().in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bulkhead_refuses_after_max_wait() {
        let mut svc = BulkheadLayer::new("tower.bulkhead.refuses")
            .config(config(1, Duration::from_millis(50)))
            .layer(service_fn(|wait: bool| async move {
                if wait {
                    std::future::pending::<()>().await;
                }
                Ok::<_, BoxError>(())
            }));
        let held = svc.ready().await.unwrap().call(true);
        let start = tokio::time::Instant::now();
        let err = svc.ready().await.unwrap().call(false).await.unwrap_err();
        let full = err.downcast_ref::<BulkheadFull>().expect("a BulkheadFull");
        assert_eq!(
            (full.name, full.waited),
            ("tower.bulkhead.refuses", Duration::from_millis(50))
        );
        assert_eq!(start.elapsed(), Duration::from_millis(50));
        drop(held);
        svc.oneshot(false).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn dropped_calls_give_their_places_back() {
        let mut svc = BulkheadLayer::new("tower.bulkhead.dropped")
            .config(config(1, Duration::from_secs(60)))
            .layer(service_fn(|wait: bool| async move {
                if wait {
                    std::future::pending::<()>().await;
                }
                Ok::<_, BoxError>(())
            }));
        let b = svc.bulkhead();
        let mut running = Box::pin(svc.ready().await.unwrap().call(true));
        assert!(super::super::is_pending(&mut running).await);
        assert_eq!(b.in_flight(), 1);
        let mut waiting = Box::pin(svc.ready().await.unwrap().call(false));
        assert!(super::super::is_pending(&mut waiting).await);
        assert_eq!(b.snapshot().waiting, 1);
        drop(waiting);
        assert_eq!(b.snapshot().waiting, 0);
        drop(running);
        assert_eq!(b.in_flight(), 0);
        // The place is free: a call runs at once, with no wait.
        let start = tokio::time::Instant::now();
        svc.oneshot(false).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(b.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_runs_when_a_place_frees() {
        let mut svc = BulkheadLayer::new("tower.bulkhead.waits")
            .config(config(1, Duration::from_secs(60)))
            .layer(service_fn(|ms: u64| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, BoxError>(ms)
            }));
        let first = svc.ready().await.unwrap().call(30);
        let second = svc.ready().await.unwrap().call(5);
        let start = tokio::time::Instant::now();
        let (a, b) = tokio::join!(first, second);
        assert_eq!((a.unwrap(), b.unwrap()), (30, 5));
        assert_eq!(start.elapsed(), Duration::from_millis(35));
    }

    #[test]
    fn a_layer_and_an_attribute_of_one_name_share_the_bulkhead() {
        fn init() -> BulkheadConfig {
            config(7, Duration::ZERO)
        }
        static SITE: BulkheadSite = BulkheadSite::new("tower.bulkhead.shared", init);
        let attribute = SITE.instance();
        let svc = BulkheadLayer::new("tower.bulkhead.shared").layer(());
        assert!(std::ptr::eq(attribute, svc.bulkhead()));
        let _place = attribute.try_acquire().unwrap();
        assert_eq!(svc.bulkhead().in_flight(), 1);
        assert_eq!(svc.bulkhead().config().max_concurrent, 7);
    }

    #[test]
    fn the_layer_has_the_inner_error_type() {
        #[derive(Debug)]
        enum MyError {
            Full(BulkheadFull),
        }
        impl From<BulkheadFull> for MyError {
            fn from(f: BulkheadFull) -> Self {
                MyError::Full(f)
            }
        }
        fn assert_error<S: Service<(), Error = MyError>>(_: &S) {}
        let svc = BulkheadLayer::new("tower.bulkhead.typed")
            .layer(service_fn(|()| async { Ok::<(), MyError>(()) }));
        assert_error(&svc);
        let MyError::Full(full) = MyError::from(BulkheadFull {
            name: "x",
            key: None,
            max_concurrent: 1,
            waited: Duration::ZERO,
        });
        assert_eq!(full.name, "x");
    }

    /// A call through `svc` that holds its place until the test lets it go.
    fn held<S: Service<(&'static str, bool)>>(svc: &mut S, key: &'static str) -> S::Future {
        svc.call((key, true))
    }

    fn keyed_service(
        name: &str,
        max: u32,
        wait: Duration,
    ) -> impl Service<(&'static str, bool), Response = (), Error = BoxError> + Clone {
        BulkheadLayer::new(name)
            .config(config(max, wait))
            .key(|(key, _): &(&'static str, bool)| *key)
            .layer(service_fn(|(_, hold): (&'static str, bool)| async move {
                if hold {
                    std::future::pending::<()>().await;
                }
                Ok::<_, BoxError>(())
            }))
    }

    #[tokio::test(start_paused = true)]
    async fn key_gives_each_key_its_own_places() {
        let name = "tower.bulkhead.keyed";
        let mut svc = keyed_service(name, 1, Duration::ZERO);
        let mut a = Box::pin(held(svc.ready().await.unwrap(), "a"));
        assert!(super::super::is_pending(&mut a).await);
        let bulkhead_a = crate::registry()
            .bulkhead_for(name, "a")
            .expect("a's bulkhead");
        assert_eq!((bulkhead_a.in_flight(), bulkhead_a.key()), (1, Some("a")));
        // The same key shares a's one place: refused.
        let err = svc
            .ready()
            .await
            .unwrap()
            .call(("a", false))
            .await
            .unwrap_err();
        let full = err.downcast_ref::<BulkheadFull>().expect("a BulkheadFull");
        assert_eq!((full.name, full.key.as_deref()), (name, Some("a")));
        // Another key has its own place.
        svc.ready().await.unwrap().call(("b", false)).await.unwrap();
        let bulkhead_b = crate::registry()
            .bulkhead_for(name, "b")
            .expect("b's bulkhead");
        assert!(!Arc::ptr_eq(&bulkhead_a, &bulkhead_b));
        assert_eq!((bulkhead_a.in_flight(), bulkhead_b.in_flight()), (1, 0));
        drop(a);
        assert_eq!(bulkhead_a.in_flight(), 0, "a's place is given back");
        svc.oneshot(("a", false)).await.unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_keyed_call_waits_for_a_place_of_its_key() {
        let name = "tower.bulkhead.keyed_wait";
        let mut svc = BulkheadLayer::new(name)
            .config(config(1, Duration::from_secs(60)))
            .key(|(key, _): &(&'static str, u64)| *key)
            .layer(service_fn(|(_, ms): (&'static str, u64)| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, BoxError>(ms)
            }));
        let first = svc.ready().await.unwrap().call(("a", 30));
        let second = svc.ready().await.unwrap().call(("a", 5));
        let other = svc.ready().await.unwrap().call(("b", 5));
        let start = tokio::time::Instant::now();
        let mut other = Box::pin(other);
        let (a, b) = tokio::join!(first, second);
        assert_eq!((a.unwrap(), b.unwrap()), (30, 5));
        assert_eq!(
            start.elapsed(),
            Duration::from_millis(35),
            "a's second call waited"
        );
        assert_eq!(other.as_mut().await.unwrap(), 5);
        // Dropped while waiting, a call gives up its turn.
        let holding = svc.ready().await.unwrap().call(("a", 1000));
        let mut waiting = Box::pin(svc.ready().await.unwrap().call(("a", 1)));
        assert!(super::super::is_pending(&mut waiting).await);
        let a = crate::registry().bulkhead_for(name, "a").unwrap();
        assert_eq!(a.snapshot().waiting, 1);
        drop(waiting);
        assert_eq!(a.snapshot().waiting, 0);
        drop(holding);
        assert_eq!(a.in_flight(), 0);
    }

    #[test]
    fn a_layer_key_and_an_attribute_key_of_one_name_share_the_instances() {
        fn init() -> BulkheadConfig {
            config(2, Duration::ZERO)
        }
        static SITE: BulkheadSite = BulkheadSite::new("tower.bulkhead.keyed_shared", init);
        let attribute = SITE.keyed("eu").unwrap();
        let mut svc = keyed_service("tower.bulkhead.keyed_shared", 5, Duration::ZERO);
        // The layer's call holds a place of the attribute's instance.
        let call = svc.call(("eu", true));
        assert_eq!(attribute.in_flight(), 1);
        let found = crate::registry()
            .bulkhead_for("tower.bulkhead.keyed_shared", "eu")
            .unwrap();
        assert!(Arc::ptr_eq(&attribute, &found));
        assert_eq!(
            found.config().max_concurrent,
            2,
            "the store's first maker set it"
        );
        drop(call);
        assert_eq!(attribute.in_flight(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn max_keys_bounds_the_live_keys_but_never_evicts_a_busy_one() {
        let name = "tower.bulkhead.keyed_evicted";
        let mut svc = BulkheadLayer::new(name)
            .key(|k: &u32| *k)
            .max_keys(4)
            .layer(service_fn(|k: u32| async move {
                if k == 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, BoxError>(k)
            }));
        let mut busy = Box::pin(svc.ready().await.unwrap().call(0));
        assert!(super::super::is_pending(&mut busy).await);
        svc.ready().await.unwrap().call(1).await.unwrap();
        let idle = Arc::downgrade(&crate::registry().bulkhead_for(name, "1").unwrap());
        for k in 2..64 {
            svc.ready().await.unwrap().call(k).await.unwrap();
        }
        assert!(
            idle.upgrade().is_none(),
            "an evicted idle bulkhead is freed"
        );
        let zero = crate::registry()
            .bulkhead_for(name, "0")
            .expect("the busy key is kept");
        assert_eq!(zero.in_flight(), 1);
        drop(busy);
        assert_eq!(zero.in_flight(), 0);
    }
}
