//! [`RateLimitLayer`]: a rate limiter of the global registry in front of a service.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::rate_limit::RateLimiter;
use crate::retry::sleep::Sleep;
use crate::{ConfigError, RateLimitConfig, RateLimited};

/// Puts a service behind the rate limiter `name` of the global
/// [`registry`](crate::registry()): the limiter a `#[rate_limit(name = "...")]` of the
/// same name uses, so the two spend one budget.
///
/// A call over the rate is delayed, inside the response future, when the wait fits in
/// [`max_delay`](RateLimitConfig::max_delay), then the inner service is called;
/// otherwise `call` answers `Err(E::from(RateLimited { .. }))` without calling the
/// inner service, with [`retry_after`](RateLimited::retry_after) the wait until a call
/// would be admitted. `poll_ready` stays the inner service's.
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
#[derive(Clone, Debug)]
pub struct RateLimitLayer {
    name: Arc<str>,
    /// Set by `config` or `try_config`; else registered by `layer`.
    limiter: Option<&'static RateLimiter>,
}

impl RateLimitLayer {
    /// The layer of the rate limiter `name`, with the registry's configuration for the
    /// name (or the defaults, if it has none and no [`config`](Self::config) is given).
    ///
    /// ```
    /// let layer = resilience::tower::RateLimitLayer::new("docs.rate_limit_new");
    /// assert_eq!(layer.name(), "docs.rate_limit_new");
    /// ```
    pub fn new(name: impl AsRef<str>) -> Self {
        RateLimitLayer {
            name: name.as_ref().into(),
            limiter: None,
        }
    }

    /// The rate limiter's name.
    ///
    /// ```
    /// assert_eq!(resilience::tower::RateLimitLayer::new("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Registers the rate limiter with `config` (a configuration the registry was given
    /// for the name wins, as over an attribute's keys; a limiter already registered under
    /// the name, by an attribute or another layer, keeps its own). An invalid `config` is
    /// logged as a `tracing` error and the defaults are used;
    /// [`try_config`](Self::try_config) returns the error instead.
    ///
    /// ```
    /// use resilience::{tower::RateLimitLayer, registry, RateLimitConfig};
    /// RateLimitLayer::new("docs.rate_limit_config").config(RateLimitConfig { limit: 3, ..Default::default() });
    /// assert_eq!(registry().rate_limiter("docs.rate_limit_config").unwrap().config().limit, 3);
    /// ```
    pub fn config(self, config: RateLimitConfig) -> Self {
        match self.try_config(config) {
            Ok(layer) => layer,
            Err((layer, error)) => {
                tracing::error!(
                    target: "resilience::tower",
                    name = &*layer.name,
                    %error,
                    "invalid RateLimitLayer configuration; using the defaults"
                );
                layer.config(RateLimitConfig::default())
            }
        }
    }

    /// [`config`](Self::config), or the error naming the invalid field (and the layer
    /// back, unchanged).
    ///
    /// ```
    /// use resilience::{tower::RateLimitLayer, RateLimitConfig};
    /// let bad = RateLimitConfig { limit: 0, ..Default::default() };
    /// let (_layer, err) = RateLimitLayer::new("docs.rate_limit_try").try_config(bad).unwrap_err();
    /// assert_eq!(err.field(), "limit");
    /// ```
    #[allow(clippy::result_large_err)] // the layer comes back so the chain can go on
    pub fn try_config(mut self, config: RateLimitConfig) -> Result<Self, (Self, ConfigError)> {
        if let Err(error) = config.validate() {
            return Err((self, error));
        }
        let limiter = crate::registry().rate_limiter_or_insert(&self.name, config);
        self.limiter = Some(super::pin(limiter));
        Ok(self)
    }

    fn limiter(&self) -> &'static RateLimiter {
        match self.limiter {
            Some(l) => l,
            None => super::pin(
                crate::registry().rate_limiter_or_insert(&self.name, RateLimitConfig::default()),
            ),
        }
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RateLimitService {
            inner,
            limiter: self.limiter(),
        }
    }
}

/// The service of [`RateLimitLayer`].
///
/// ```
/// use resilience::tower::RateLimitLayer;
/// use tower::Layer;
/// let svc = RateLimitLayer::new("docs.rate_limit_service").layer(());
/// assert_eq!(svc.limiter().name(), "docs.rate_limit_service");
/// ```
#[derive(Clone, Debug)]
pub struct RateLimitService<S> {
    inner: S,
    limiter: &'static RateLimiter,
}

impl<S> RateLimitService<S> {
    /// The rate limiter this service calls through.
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use tower::Layer;
    /// let svc = RateLimitLayer::new("docs.rate_limit_of").layer(());
    /// assert_eq!(svc.limiter().snapshot().rejections, 0);
    /// ```
    pub fn limiter(&self) -> &'static RateLimiter {
        self.limiter
    }
}

impl<S, Req> Service<Req> for RateLimitService<S>
where
    S: Service<Req> + Clone,
    S::Error: From<RateLimited>,
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
        match self.limiter.check() {
            Ok(Duration::ZERO) => ResponseFuture {
                inner: Some(self.inner.call(req)),
                delayed: None,
                refused: None,
            },
            Ok(delay) => self.delay(delay, req),
            Err(limited) => {
                tracing::debug!(target: "resilience::tower", name = limited.name, "call refused by a rate limiter");
                ResponseFuture {
                    inner: None,
                    delayed: None,
                    refused: Some(limited),
                }
            }
        }
    }
}

impl<S> RateLimitService<S> {
    /// Admitted after `delay`: moves the readied service into the future (a clone is
    /// left here) to call it once the delay has passed.
    #[cold]
    fn delay<Req>(&mut self, delay: Duration, req: Req) -> ResponseFuture<S::Future, S, Req>
    where
        S: Service<Req> + Clone,
    {
        let clone = self.inner.clone();
        let service = core::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            inner: None,
            delayed: Some(Delayed {
                sleep: crate::retry::sleep::sleep(delay),
                service,
                req,
            }),
            refused: None,
        }
    }
}

/// A call admitted after a delay: the delay, the readied service and the request.
struct Delayed<S, Req> {
    sleep: Sleep,
    service: S,
    req: Req,
}

pin_project! {
    /// The response future of [`RateLimitService`]: the inner call, a call waiting out
    /// its delay, or the refusal. Dropped while delayed, the inner service is not called
    /// (the call's place in the rate stays spent).
    pub struct ResponseFuture<Fut, S, Req> {
        #[pin]
        inner: Option<Fut>,
        delayed: Option<Delayed<S, Req>>,
        refused: Option<RateLimited>,
    }
}

impl<Fut, S, Req> core::fmt::Debug for ResponseFuture<Fut, S, Req> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("running", &self.inner.is_some())
            .field("delayed", &self.delayed.is_some())
            .field("refused", &self.refused)
            .finish_non_exhaustive()
    }
}

impl<Fut, S, Req, T, E> Future for ResponseFuture<Fut, S, Req>
where
    S: Service<Req, Future = Fut>,
    Fut: Future<Output = Result<T, E>>,
    E: From<RateLimited>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(delayed) = this.delayed.as_mut() {
            // `Sleep` is `Unpin` (its timer is boxed).
            core::task::ready!(Pin::new(&mut delayed.sleep).poll(cx));
            if let Some(Delayed {
                mut service, req, ..
            }) = this.delayed.take()
            {
                this.inner.set(Some(service.call(req)));
            }
        }
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return match this.refused.take() {
                Some(limited) => Poll::Ready(Err(E::from(limited))),
                None => panic!("a rate limiter's response future polled after it completed"),
            };
        };
        let outcome = core::task::ready!(inner.poll(cx));
        this.inner.set(None);
        Poll::Ready(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

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

    #[test]
    fn a_layer_and_an_attribute_of_one_name_share_the_limiter() {
        fn init() -> RateLimitConfig {
            config(1, Duration::from_secs(3600), 1, Duration::ZERO)
        }
        static SITE: RateLimitSite = RateLimitSite::new("tower.rate_limit.shared", init);
        let attribute = SITE.limiter();
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
}
