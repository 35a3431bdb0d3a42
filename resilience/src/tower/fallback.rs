//! [`FallbackLayer`]: on an error, an answer from a function instead, reported as
//! `#[fallback]` reports it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// On `Err(error)`, the service answers `fallback(error)` instead: a cached value, a
/// degraded response, or the error turned into another (`Err` again).
///
/// Each time it stands in, it reports as `#[fallback]` does: a WARN event (target
/// `resilience::fallback`, "call failed; taking fallback", `function` the layer's
/// [`name`](Self::name), `fallback = "FallbackLayer"`, `index = 0`, `via = "tower"`) and
/// a count in `resilience_fallbacks_total{function, fallback}` (feature `metrics`).
///
/// ```
/// use resilience::tower::FallbackLayer;
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let svc = FallbackLayer::new(|_error: BoxError| Ok("cached board"))
///     .layer(service_fn(|()| async { Err::<&str, BoxError>("down".into()) }));
/// assert_eq!(svc.oneshot(()).await.unwrap(), "cached board");
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct FallbackLayer<F> {
    fallback: F,
    name: &'static str,
}

/// The name of a [`FallbackLayer`] not given one.
const DEFAULT_NAME: &str = "tower.fallback";

/// The `fallback` label of a layer's reports (an attribute's names its function).
const FALLBACK: &str = "FallbackLayer";

impl<F> FallbackLayer<F> {
    /// A layer answering `fallback(error)` for each failed call, named `"tower.fallback"`
    /// unless [`name`](Self::name) says.
    ///
    /// ```
    /// let layer = resilience::tower::FallbackLayer::new(|e: String| Ok::<u8, String>(e.len() as u8));
    /// # let _ = layer;
    /// ```
    pub fn new(fallback: F) -> Self {
        FallbackLayer {
            fallback,
            name: DEFAULT_NAME,
        }
    }

    /// The name its reports give as `function` (what the fallback stands in for).
    ///
    /// ```
    /// use resilience::tower::FallbackLayer;
    /// use tower::{service_fn, BoxError, Layer};
    /// let svc = FallbackLayer::new(|_: BoxError| Ok::<u8, BoxError>(0)).name("boards.read")
    ///     .layer(service_fn(|()| async { Ok::<u8, BoxError>(1) }));
    /// assert_eq!(svc.name(), "boards.read");
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = crate::names::intern(name.as_ref());
        self
    }
}

impl<S, F: Clone> Layer<S> for FallbackLayer<F> {
    type Service = Fallback<S, F>;

    fn layer(&self, inner: S) -> Fallback<S, F> {
        Fallback {
            inner,
            fallback: self.fallback.clone(),
            name: self.name,
        }
    }
}

/// The service of [`FallbackLayer`].
///
/// ```
/// use tower::Layer;
/// let svc = resilience::tower::FallbackLayer::new(|e: String| Err::<(), _>(e)).layer(());
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct Fallback<S, F> {
    inner: S,
    fallback: F,
    name: &'static str,
}

impl<S, F> Fallback<S, F> {
    /// The layer's name.
    ///
    /// ```
    /// use tower::Layer;
    /// let svc = resilience::tower::FallbackLayer::new(|e: String| Err::<(), _>(e)).layer(());
    /// assert_eq!(svc.name(), "tower.fallback");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl<S, F, Req> Service<Req> for Fallback<S, F>
where
    S: Service<Req>,
    F: Fn(S::Error) -> Result<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, F>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(req),
            fallback: Some(self.fallback.clone()),
            name: self.name,
        }
    }
}

pin_project! {
    /// The response future of [`Fallback`].
    #[derive(Debug)]
    pub struct ResponseFuture<Fut, F> {
        #[pin]
        inner: Fut,
        fallback: Option<F>,
        name: &'static str,
    }
}

impl<Fut, F, T, E> Future for ResponseFuture<Fut, F>
where
    Fut: Future<Output = Result<T, E>>,
    F: Fn(E) -> Result<T, E>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match core::task::ready!(this.inner.poll(cx)) {
            Ok(response) => Poll::Ready(Ok(response)),
            Err(error) => match this.fallback.take() {
                Some(fallback) => {
                    crate::sites::fallback::taken(this.name, FALLBACK, 0, "tower");
                    Poll::Ready(fallback(error))
                }
                None => Poll::Ready(Err(error)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use tower::{service_fn, Layer, ServiceExt};

    use super::*;

    #[tokio::test]
    async fn an_error_is_answered_by_the_fallback_and_an_ok_passes() {
        let svc = FallbackLayer::new(|e: String| {
            if e == "down" {
                Ok(0)
            } else {
                Err(format!("still {e}"))
            }
        })
        .layer(service_fn(|x: i32| async move {
            match x {
                1 => Err("down".to_string()),
                2 => Err("broken".to_string()),
                x => Ok(x),
            }
        }));
        assert_eq!(svc.clone().oneshot(7).await, Ok(7));
        assert_eq!(svc.clone().oneshot(1).await, Ok(0));
        assert_eq!(svc.oneshot(2).await, Err("still broken".to_string()));
    }

    #[cfg(feature = "metrics")]
    #[tokio::test]
    async fn a_fallback_taken_is_counted_as_the_attributes_are() {
        use crate::metrics::tests::Capture;
        let svc = FallbackLayer::new(|_: String| Ok(0))
            .name("tower.fallback.counted")
            .layer(service_fn(|fail: bool| async move {
                if fail {
                    Err("down".to_string())
                } else {
                    Ok(1)
                }
            }));
        let capture = Capture::default();
        let answers = {
            let _recorder = ::metrics::set_default_local_recorder(&capture);
            [
                svc.clone().oneshot(true).await,
                svc.clone().oneshot(false).await,
                svc.oneshot(true).await,
            ]
        };
        assert_eq!(answers, [Ok(0), Ok(1), Ok(0)]);
        assert_eq!(
            capture.read(
                "resilience_fallbacks_total{function=tower.fallback.counted,fallback=FallbackLayer}"
            ),
            Some(2)
        );
    }
}
