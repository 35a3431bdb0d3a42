//! [`TimeoutLayer`]: a call that takes too long is dropped and answers [`TimedOut`].

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::deadline::Scope;
use crate::TimedOut;

/// Bounds each call: past `limit` its future is dropped (releasing what it held) and the
/// service answers `Err(E::from(TimedOut { .. }))`, a transient, retryable error, as
/// `#[timeout]` does. On tokio's timer, so paused time applies.
///
/// While the inner service's `call` and its future run, the deadline is set for what they
/// start ([`deadline::remaining`](crate::deadline::remaining), the earliest of nested
/// deadlines): a retry inside does not sleep into it, a hedge starts no copy past it, a
/// bulkhead or rate limit does not wait past it.
///
/// ```
/// use resilience::{tower::TimeoutLayer, TimedOut};
/// use std::time::Duration;
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let svc = TimeoutLayer::new(Duration::from_millis(50)).layer(service_fn(|()| async {
///     tokio::time::sleep(Duration::from_secs(10)).await;
///     Ok::<_, BoxError>(())
/// }));
/// let err = svc.oneshot(()).await.unwrap_err();
/// assert_eq!(err.downcast_ref::<TimedOut>().unwrap().limit, Duration::from_millis(50));
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    limit: Duration,
    name: &'static str,
}

impl TimeoutLayer {
    /// A layer that cuts each call off after `limit`.
    ///
    /// ```
    /// let layer = resilience::tower::TimeoutLayer::new(std::time::Duration::from_secs(2));
    /// assert_eq!(layer.limit(), std::time::Duration::from_secs(2));
    /// ```
    pub fn new(limit: Duration) -> Self {
        TimeoutLayer {
            limit,
            name: "resilience::tower::TimeoutLayer",
        }
    }

    /// The name a [`TimedOut`] carries as its `function` (and its tracing events).
    ///
    /// ```
    /// let layer = resilience::tower::TimeoutLayer::new(std::time::Duration::from_secs(2)).name("upstream");
    /// # let _ = layer;
    /// ```
    pub fn name(self, name: &'static str) -> Self {
        TimeoutLayer { name, ..self }
    }

    /// The limit.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(resilience::tower::TimeoutLayer::new(Duration::ZERO).limit(), Duration::ZERO);
    /// ```
    pub fn limit(&self) -> Duration {
        self.limit
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            limit: self.limit,
            name: self.name,
        }
    }
}

/// The service of [`TimeoutLayer`].
///
/// ```
/// use tower::Layer;
/// let svc = resilience::tower::TimeoutLayer::new(std::time::Duration::from_secs(1)).layer(());
/// # let _: resilience::tower::Timeout<()> = svc;
/// ```
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    limit: Duration,
    name: &'static str,
}

impl<S, Req> Service<Req> for Timeout<S>
where
    S: Service<Req>,
    S::Error: From<TimedOut>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // The inner service's `call` and every poll of its future run under the deadline
        // (`crate::deadline`): what they start sees the time left.
        let deadline = crate::deadline::after(self.limit);
        let inner = {
            let _scope = Scope::enter(deadline);
            self.inner.call(req)
        };
        ResponseFuture {
            inner,
            sleep: tokio::time::sleep(self.limit),
            limit: self.limit,
            deadline,
            name: self.name,
        }
    }
}

pin_project! {
    /// The response future of [`Timeout`]: the call and its deadline, side by side.
    #[derive(Debug)]
    pub struct ResponseFuture<Fut> {
        #[pin]
        inner: Fut,
        #[pin]
        sleep: tokio::time::Sleep,
        limit: Duration,
        // When the call is cut off, on `SystemClock`'s timeline (`crate::deadline`).
        deadline: Duration,
        name: &'static str,
    }
}

impl<Fut, T, E> Future for ResponseFuture<Fut>
where
    Fut: Future<Output = Result<T, E>>,
    E: From<TimedOut>,
{
    type Output = Result<T, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = {
            let _scope = Scope::enter(*this.deadline);
            this.inner.poll(cx)
        };
        if let Poll::Ready(outcome) = polled {
            return Poll::Ready(outcome);
        }
        core::task::ready!(this.sleep.poll(cx));
        tracing::warn!(
            target: "resilience::tower",
            name = *this.name,
            limit_ms = this.limit.as_millis() as u64,
            "call timed out"
        );
        Poll::Ready(Err(E::from(TimedOut {
            function: this.name,
            limit: *this.limit,
        })))
    }
}

#[cfg(test)]
mod tests {
    use tower::{service_fn, BoxError, Layer, ServiceExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_slow_call_times_out_at_the_limit_and_a_fast_one_answers() {
        let svc = TimeoutLayer::new(Duration::from_millis(100))
            .name("tower.timeout")
            .layer(service_fn(|wait: u64| async move {
                tokio::time::sleep(Duration::from_millis(wait)).await;
                Ok::<_, BoxError>(wait)
            }));
        assert_eq!(svc.clone().oneshot(99).await.unwrap(), 99);
        let start = tokio::time::Instant::now();
        let err = svc.oneshot(101).await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        let timed_out = err.downcast_ref::<TimedOut>().unwrap();
        assert_eq!(
            (timed_out.function, timed_out.limit),
            ("tower.timeout", Duration::from_millis(100))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_inner_error_passes_through() {
        let svc = TimeoutLayer::new(Duration::from_millis(100)).layer(service_fn(|()| async {
            Err::<(), BoxError>("down".into())
        }));
        assert_eq!(svc.oneshot(()).await.unwrap_err().to_string(), "down");
    }
}
