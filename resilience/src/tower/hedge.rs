//! [`HedgeLayer`]: when an answer is late, a copy of the request runs beside the first.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

/// Hedged requests, as `#[hedge]` does: if no answer has come `delay` after the call
/// started, a copy of the request is sent beside it (and another `delay` later, up to
/// `max_hedges` copies); the first `Ok` wins and the others are dropped. A run that
/// fails starts the next copy at once; when every run has failed, the last error returns.
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
/// let svc = HedgeLayer::new(Duration::from_millis(50)).layer(service_fn(move |()| {
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
/// # }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HedgeLayer {
    delay: Duration,
    max_hedges: u32,
}

impl HedgeLayer {
    /// Hedges a call after `delay` without an answer, with one copy at most (see
    /// [`max_hedges`](Self::max_hedges)).
    ///
    /// ```
    /// let layer = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(50));
    /// assert_eq!(layer.delay(), std::time::Duration::from_millis(50));
    /// ```
    pub fn new(delay: Duration) -> Self {
        HedgeLayer {
            delay,
            max_hedges: 1,
        }
    }

    /// At most `max_hedges` copies beside the first run (0: never hedge).
    ///
    /// ```
    /// let layer = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(50)).max_hedges(2);
    /// # let _ = layer;
    /// ```
    pub fn max_hedges(self, max_hedges: u32) -> Self {
        HedgeLayer { max_hedges, ..self }
    }

    /// The delay before each copy.
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(resilience::tower::HedgeLayer::new(Duration::ZERO).delay(), Duration::ZERO);
    /// ```
    pub fn delay(&self) -> Duration {
        self.delay
    }
}

impl<S> Layer<S> for HedgeLayer {
    type Service = Hedge<S>;

    fn layer(&self, inner: S) -> Hedge<S> {
        Hedge {
            inner,
            delay: self.delay,
            max_hedges: self.max_hedges,
        }
    }
}

/// The service of [`HedgeLayer`].
///
/// ```
/// use tower::Layer;
/// let svc = resilience::tower::HedgeLayer::new(std::time::Duration::from_millis(5)).layer(());
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct Hedge<S> {
    inner: S,
    delay: Duration,
    max_hedges: u32,
}

impl<S, Req> Service<Req> for Hedge<S>
where
    S: Service<Req> + Clone,
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
        let service = self.inner.clone();
        let hedging = self.max_hedges > 0;
        let request = hedging.then(|| req.clone());
        ResponseFuture {
            first: Some(self.inner.call(req)),
            hedges: Vec::new(),
            timer: tokio::time::sleep(self.delay),
            service,
            request,
            remaining: self.max_hedges,
            delay: self.delay,
            launch: false,
            last_error: None,
        }
    }
}

pin_project! {
    /// The response future of [`Hedge`]: the first run, inline, and the copies started.
    pub struct ResponseFuture<S, Req>
    where
        S: Service<Req>,
    {
        #[pin]
        first: Option<S::Future>,
        hedges: Vec<Pin<Box<S::Future>>>,
        #[pin]
        timer: tokio::time::Sleep,
        service: S,
        request: Option<Req>,
        remaining: u32,
        delay: Duration,
        // A copy is due (the timer fired, or a run failed): waiting for the service.
        launch: bool,
        last_error: Option<S::Error>,
    }
}

impl<S: Service<Req>, Req> core::fmt::Debug for ResponseFuture<S, Req> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("hedges", &self.hedges.len())
            .field("remaining", &self.remaining)
            .finish_non_exhaustive()
    }
}

impl<S, Req> Future for ResponseFuture<S, Req>
where
    S: Service<Req>,
    Req: Clone,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            if let Some(first) = this.first.as_mut().as_pin_mut() {
                if let Poll::Ready(outcome) = first.poll(cx) {
                    this.first.set(None);
                    match outcome {
                        Ok(response) => return Poll::Ready(Ok(response)),
                        Err(error) => {
                            *this.last_error = Some(error);
                            *this.launch = true;
                        }
                    }
                }
            }
            let mut i = 0;
            while i < this.hedges.len() {
                match this.hedges[i].as_mut().poll(cx) {
                    Poll::Ready(Ok(response)) => return Poll::Ready(Ok(response)),
                    Poll::Ready(Err(error)) => {
                        drop(this.hedges.swap_remove(i));
                        *this.last_error = Some(error);
                        *this.launch = true;
                    }
                    Poll::Pending => i += 1,
                }
            }
            if *this.remaining > 0 && !*this.launch && this.timer.as_mut().poll(cx).is_ready() {
                *this.launch = true;
            }
            if *this.launch && crate::deadline::passed() {
                // No copy starts at or past the deadline of a timeout around the call
                // (`crate::deadline`): the timeout would cut it off unheard.
                *this.remaining = 0;
            }
            let mut started = false;
            if *this.remaining > 0 && *this.launch {
                match this.service.poll_ready(cx) {
                    Poll::Ready(Ok(())) => {
                        *this.remaining -= 1;
                        *this.launch = false;
                        let request = if *this.remaining == 0 {
                            this.request.take()
                        } else {
                            this.request.clone()
                        };
                        if let Some(request) = request {
                            tracing::debug!(target: "resilience::tower", remaining = *this.remaining, "hedging the call");
                            this.hedges.push(Box::pin(this.service.call(request)));
                            let deadline = tokio::time::Instant::now() + *this.delay;
                            this.timer.as_mut().reset(deadline);
                            started = true;
                        }
                    }
                    Poll::Ready(Err(error)) => {
                        // The service cannot take a copy: no more hedges.
                        *this.remaining = 0;
                        *this.last_error = Some(error);
                    }
                    Poll::Pending => {}
                }
            }
            if started {
                continue; // poll the new run once, so it registers its waker
            }
            let running = this.first.is_some() || !this.hedges.is_empty();
            if !running && (*this.remaining == 0 || !*this.launch) {
                if let Some(error) = this.last_error.take() {
                    return Poll::Ready(Err(error));
                }
            }
            return Poll::Pending;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use tower::{service_fn, BoxError, Layer, ServiceExt};

    use super::*;

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
        let svc = HedgeLayer::new(Duration::from_millis(50)).layer(inner);
        assert_eq!(svc.oneshot(()).await.unwrap(), 0);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_late_first_run_is_hedged_and_the_first_ok_wins() {
        let (calls, inner) = runs(&[500, 100, 10], &[false, false, false]);
        let svc = HedgeLayer::new(Duration::from_millis(50))
            .max_hedges(2)
            .layer(inner);
        let start = tokio::time::Instant::now();
        // Hedge 1 at 50 ms (answers at 150), hedge 2 at 100 ms (answers at 110).
        assert_eq!(svc.oneshot(()).await.unwrap(), 2);
        assert_eq!(start.elapsed(), Duration::from_millis(110));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_failure_starts_the_next_run_at_once() {
        let (calls, inner) = runs(&[5, 20], &[true, false]);
        let svc = HedgeLayer::new(Duration::from_millis(50)).layer(inner);
        let start = tokio::time::Instant::now();
        assert_eq!(svc.oneshot(()).await.unwrap(), 1);
        assert_eq!(start.elapsed(), Duration::from_millis(25));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn when_every_run_fails_the_last_error_returns() {
        let (calls, inner) = runs(&[100, 10], &[true, true]);
        let svc = HedgeLayer::new(Duration::from_millis(50)).layer(inner);
        let err = svc.oneshot(()).await.unwrap_err();
        // Hedge at 50 ms fails at 60; the first fails at 100, last.
        assert_eq!(err.to_string(), "run 0 failed");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn max_hedges_zero_never_hedges() {
        let (calls, inner) = runs(&[100], &[true]);
        let svc = HedgeLayer::new(Duration::from_millis(1))
            .max_hedges(0)
            .layer(inner);
        assert_eq!(
            svc.oneshot(()).await.unwrap_err().to_string(),
            "run 0 failed"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
