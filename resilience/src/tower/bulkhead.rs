//! [`BulkheadLayer`]: a bulkhead of the global registry in front of a service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::bulkhead::{Bulkhead, BulkheadPermit, Wait};
use crate::{BulkheadConfig, BulkheadFull, ConfigError};

/// Puts a service behind the bulkhead `name` of the global
/// [`registry`](crate::registry()): the bulkhead a `#[bulkhead(name = "...")]` of the
/// same name uses, so the two count their calls together.
///
/// A call takes a place before the inner service is called and holds it until its
/// response future completes or is dropped. With no place free, `call` answers
/// `Err(E::from(BulkheadFull { .. }))` without calling the inner service, at once, or
/// after waiting up to [`max_wait`](BulkheadConfig::max_wait) for a place inside the
/// response future; `poll_ready` stays the inner service's.
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
#[derive(Clone, Debug)]
pub struct BulkheadLayer {
    name: Arc<str>,
    /// Set by `config` or `try_config`; else registered by `layer`.
    bulkhead: Option<&'static Bulkhead>,
}

impl BulkheadLayer {
    /// The layer of the bulkhead `name`, with the registry's configuration for the name
    /// (or the defaults, if it has none and no [`config`](Self::config) is given).
    ///
    /// ```
    /// let layer = resilience::tower::BulkheadLayer::new("docs.bulkhead_new");
    /// assert_eq!(layer.name(), "docs.bulkhead_new");
    /// ```
    pub fn new(name: impl AsRef<str>) -> Self {
        BulkheadLayer {
            name: name.as_ref().into(),
            bulkhead: None,
        }
    }

    /// The bulkhead's name.
    ///
    /// ```
    /// assert_eq!(resilience::tower::BulkheadLayer::new("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers the bulkhead with `config` (a configuration the registry was given for
    /// the name wins, as over an attribute's keys; a bulkhead already registered under
    /// the name, by an attribute or another layer, keeps its own). An invalid `config` is
    /// logged as a `tracing` error and the defaults are used;
    /// [`try_config`](Self::try_config) returns the error instead.
    ///
    /// ```
    /// use resilience::{tower::BulkheadLayer, registry, BulkheadConfig};
    /// BulkheadLayer::new("docs.bulkhead_config").config(BulkheadConfig { max_concurrent: 2, ..Default::default() });
    /// assert_eq!(registry().bulkhead("docs.bulkhead_config").unwrap().config().max_concurrent, 2);
    /// ```
    pub fn config(self, config: BulkheadConfig) -> Self {
        match self.try_config(config) {
            Ok(layer) => layer,
            Err((layer, error)) => {
                tracing::error!(
                    target: "resilience::tower",
                    name = &*layer.name,
                    %error,
                    "invalid BulkheadLayer configuration; using the defaults"
                );
                layer.config(BulkheadConfig::default())
            }
        }
    }

    /// [`config`](Self::config), or the error naming the invalid field (and the layer
    /// back, unchanged).
    ///
    /// ```
    /// use resilience::{tower::BulkheadLayer, BulkheadConfig};
    /// let bad = BulkheadConfig { max_concurrent: 0, ..Default::default() };
    /// let (_layer, err) = BulkheadLayer::new("docs.bulkhead_try").try_config(bad).unwrap_err();
    /// assert_eq!(err.field(), "max_concurrent");
    /// ```
    #[allow(clippy::result_large_err)] // the layer comes back so the chain can go on
    pub fn try_config(mut self, config: BulkheadConfig) -> Result<Self, (Self, ConfigError)> {
        if let Err(error) = config.validate() {
            return Err((self, error));
        }
        let bulkhead = crate::registry().bulkhead_or_insert(&self.name, config);
        self.bulkhead = Some(super::pin(bulkhead));
        Ok(self)
    }

    fn bulkhead(&self) -> &'static Bulkhead {
        match self.bulkhead {
            Some(b) => b,
            None => super::pin(
                crate::registry().bulkhead_or_insert(&self.name, BulkheadConfig::default()),
            ),
        }
    }
}

impl<S> Layer<S> for BulkheadLayer {
    type Service = BulkheadService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BulkheadService {
            inner,
            bulkhead: self.bulkhead(),
        }
    }
}

/// The service of [`BulkheadLayer`].
///
/// ```
/// use resilience::tower::BulkheadLayer;
/// use tower::Layer;
/// let svc = BulkheadLayer::new("docs.bulkhead_service").layer(());
/// assert_eq!(svc.bulkhead().name(), "docs.bulkhead_service");
/// ```
#[derive(Clone, Debug)]
pub struct BulkheadService<S> {
    inner: S,
    bulkhead: &'static Bulkhead,
}

impl<S> BulkheadService<S> {
    /// The bulkhead this service calls through.
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use tower::Layer;
    /// let svc = BulkheadLayer::new("docs.bulkhead_of").layer(());
    /// assert_eq!(svc.bulkhead().in_flight(), 0);
    /// ```
    pub fn bulkhead(&self) -> &'static Bulkhead {
        self.bulkhead
    }
}

impl<S, Req> Service<Req> for BulkheadService<S>
where
    S: Service<Req> + Clone,
    S::Error: From<BulkheadFull>,
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
        if let Some(permit) = self.bulkhead.try_acquire() {
            return ResponseFuture {
                inner: Some(self.inner.call(req)),
                permit: Some(permit),
                waiting: None,
                refused: None,
            };
        }
        self.wait(req)
    }
}

impl<S> BulkheadService<S> {
    /// No place free: refuse at once, or move the readied service into the future (a
    /// clone is left here) to call it once a place frees.
    #[cold]
    fn wait<Req>(&mut self, req: Req) -> ResponseFuture<S::Future, S, Req>
    where
        S: Service<Req> + Clone,
    {
        if self.bulkhead.config().max_wait.is_zero() {
            tracing::debug!(target: "resilience::tower", name = self.bulkhead.name(), "call refused by a full bulkhead");
            return ResponseFuture {
                inner: None,
                permit: None,
                waiting: None,
                refused: Some(self.bulkhead.refuse(Duration::ZERO)),
            };
        }
        let clone = self.inner.clone();
        let service = core::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            inner: None,
            permit: None,
            waiting: Some(Waiting {
                wait: self.bulkhead.wait(),
                service,
                req,
            }),
            refused: None,
        }
    }
}

/// A call waiting for a place: the wait, the readied service and the request.
struct Waiting<S, Req> {
    wait: Wait<'static>,
    service: S,
    req: Req,
}

pin_project! {
    /// The response future of [`BulkheadService`]: the inner call with its place, a call
    /// waiting for one, or the refusal. The place is given back when the inner call
    /// completes or the future is dropped; dropped while waiting, it gives up its turn.
    pub struct ResponseFuture<Fut, S, Req> {
        #[pin]
        inner: Option<Fut>,
        permit: Option<BulkheadPermit<'static>>,
        waiting: Option<Waiting<S, Req>>,
        refused: Option<BulkheadFull>,
    }
}

impl<Fut, S, Req> core::fmt::Debug for ResponseFuture<Fut, S, Req> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("running", &self.inner.is_some())
            .field("waiting", &self.waiting.is_some())
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<Fut, S, Req, T, E> Future for ResponseFuture<Fut, S, Req>
where
    S: Service<Req, Future = Fut>,
    Fut: Future<Output = Result<T, E>>,
    E: From<BulkheadFull>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(waiting) = this.waiting.as_mut() {
            // `Wait` is `Unpin` (its timer is boxed).
            let place = core::task::ready!(Pin::new(&mut waiting.wait).poll(cx));
            let Some(Waiting {
                mut service, req, ..
            }) = this.waiting.take()
            else {
                unreachable!("matched just above")
            };
            match place {
                Ok(permit) => {
                    *this.permit = Some(permit);
                    this.inner.set(Some(service.call(req)));
                }
                Err(full) => return Poll::Ready(Err(E::from(full))),
            }
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return match this.refused.take() {
                Some(full) => Poll::Ready(Err(E::from(full))),
                None => panic!("a bulkhead's response future polled after it completed"),
            };
        };
        let outcome = core::task::ready!(inner.poll(cx));
        this.inner.set(None);
        // The place is given back as the call ends.
        *this.permit = None;
        Poll::Ready(outcome)
    }
}

#[cfg(test)]
mod tests {
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
        let attribute = SITE.bulkhead();
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
}
