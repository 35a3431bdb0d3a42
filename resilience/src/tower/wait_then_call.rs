//! [`WaitThenCall`]: the response future the bulkhead and rate-limit layers share. A
//! call is admitted at once (and runs), admitted after a wait (for a bulkhead's place,
//! for a rate limiter's delay: the readied service and the request wait with it), or
//! refused; the refusal is converted into the inner service's error by `From`. The inner
//! call goes through the faults drawn when the call was admitted, or, for a call that
//! waits, when it came (feature `chaos`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use tower_service::Service;

use crate::sites::faults::{Fault, Gated};

pin_project! {
    /// The states of a call through an admission (a bulkhead, a rate limiter):
    /// `W` waits for the admission and gives the guard `G` (held while the inner call
    /// runs: a bulkhead's place) or the refusal `R`. No boxing; pinned without `unsafe`.
    ///
    /// Shaped for the admitted-at-once call every layer makes most: `poll` tests for
    /// `Running` before anything else, and answering ends it by `project_replace` (the
    /// inner future dropped in place, the guard moved out and dropped by itself), where
    /// `set` would call the whole enum's drop glue, the waiting state's too, out of line.
    #[project = Proj]
    #[project_replace = Replace]
    pub(crate) enum WaitThenCall<W, G, R, S, Req, Fut> {
        // The inner call, holding what admitted it until it ends.
        Running { #[pin] call: Gated<Fut>, guard: G },
        // Waiting to be admitted, with the readied service, the request and its faults.
        Waiting { #[pin] wait: W, service: S, req: Req, fault: Fault },
        // Refused in `call`: the refusal, answered at the first poll.
        Refused { refusal: R },
        // Answered; polled again, it panics.
        Done,
    }
}

impl<W, G, R, S, Req, Fut> WaitThenCall<W, G, R, S, Req, Fut> {
    /// Admitted at once: `call` runs, holding `guard`.
    #[inline]
    pub(crate) fn running(call: Gated<Fut>, guard: G) -> Self {
        WaitThenCall::Running { call, guard }
    }

    /// Admitted once `wait` says so: then `service` (readied) is called with `req`, as
    /// its `fault` says.
    #[inline]
    pub(crate) fn waiting(wait: W, service: S, req: Req, fault: Fault) -> Self {
        WaitThenCall::Waiting {
            wait,
            service,
            req,
            fault,
        }
    }

    /// Refused: the first poll answers `Err(E::from(refusal))`.
    #[inline]
    pub(crate) fn refused(refusal: R) -> Self {
        WaitThenCall::Refused { refusal }
    }

    /// Ends the inner call: its future dropped in place, then its guard (a place given
    /// back).
    #[inline]
    fn end(self: Pin<&mut Self>) {
        if let Replace::Running { guard, .. } = self.project_replace(WaitThenCall::Done) {
            drop(guard);
        }
    }
}

impl<W, G, R: core::fmt::Debug, S, Req, Fut> core::fmt::Debug
    for WaitThenCall<W, G, R, S, Req, Fut>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            WaitThenCall::Running { .. } => f.write_str("Running"),
            WaitThenCall::Waiting { .. } => f.write_str("Waiting"),
            WaitThenCall::Refused { refusal } => {
                f.debug_struct("Refused").field("refusal", refusal).finish()
            }
            WaitThenCall::Done => f.write_str("Done"),
        }
    }
}

impl<W, G, R, S, Req, Fut, T, E> Future for WaitThenCall<W, G, R, S, Req, Fut>
where
    W: Future<Output = Result<G, R>>,
    S: Service<Req, Future = Fut>,
    Fut: Future<Output = Result<T, E>>,
    E: From<R> + 'static,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Proj::Running { call, .. } = self.as_mut().project() {
            let outcome = core::task::ready!(call.poll(cx));
            // The guard (a place) is given back as the call ends.
            self.end();
            return Poll::Ready(outcome);
        }
        poll_before(self, cx)
    }
}

/// The poll of a call not admitted at once: its wait, then the inner call; or its
/// refusal.
#[cold]
#[inline(never)]
fn poll_before<W, G, R, S, Req, Fut, T, E>(
    mut this: Pin<&mut WaitThenCall<W, G, R, S, Req, Fut>>,
    cx: &mut Context<'_>,
) -> Poll<Result<T, E>>
where
    W: Future<Output = Result<G, R>>,
    S: Service<Req, Future = Fut>,
    Fut: Future<Output = Result<T, E>>,
    E: From<R> + 'static,
{
    loop {
        match this.as_mut().project() {
            Proj::Running { call, .. } => {
                let outcome = core::task::ready!(call.poll(cx));
                this.end();
                return Poll::Ready(outcome);
            }
            Proj::Waiting { wait, .. } => match core::task::ready!(wait.poll(cx)) {
                Ok(guard) => {
                    if let Replace::Waiting {
                        mut service,
                        req,
                        fault,
                        ..
                    } = this.as_mut().project_replace(WaitThenCall::Done)
                    {
                        let call = fault.gate(|| service.call(req));
                        this.set(WaitThenCall::Running { call, guard });
                    }
                }
                Err(refusal) => {
                    this.set(WaitThenCall::Done);
                    return Poll::Ready(Err(E::from(refusal)));
                }
            },
            Proj::Refused { .. } => {
                if let Replace::Refused { refusal } =
                    this.as_mut().project_replace(WaitThenCall::Done)
                {
                    return Poll::Ready(Err(E::from(refusal)));
                }
            }
            Proj::Done => panic!("a layer's response future polled after it completed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use tower::service_fn;

    use super::*;

    /// An admission decided at once: a guard, or a refusal.
    type Admit = std::future::Ready<Result<Arc<()>, &'static str>>;

    fn counting(calls: &Arc<AtomicU32>) -> impl Service<u8, Response = u8, Error = String> + Clone {
        let calls = calls.clone();
        service_fn(move |x: u8| {
            calls.fetch_add(1, Ordering::SeqCst);
            async move { Ok::<_, String>(x) }
        })
    }

    /// The future of a call through `svc`, waiting on `wait`.
    fn waiting<S: Service<u8>>(
        wait: Admit,
        svc: S,
        req: u8,
    ) -> WaitThenCall<Admit, Arc<()>, &'static str, S, u8, S::Future> {
        WaitThenCall::waiting(wait, svc, req, Fault::none())
    }

    /// A call through a service like `_svc`, refused at once.
    fn refused_like<S: Service<u8>>(
        _svc: &S,
    ) -> WaitThenCall<Admit, Arc<()>, &'static str, S, u8, S::Future> {
        WaitThenCall::refused("full")
    }

    #[tokio::test]
    async fn admitted_after_the_wait_the_service_is_called_holding_the_guard() {
        let calls = Arc::new(AtomicU32::new(0));
        let guard = Arc::new(());
        let call = waiting(std::future::ready(Ok(guard.clone())), counting(&calls), 7);
        assert_eq!(format!("{call:?}"), "Waiting");
        assert_eq!(call.await, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(
            Arc::strong_count(&guard),
            1,
            "the guard is dropped as the call ends"
        );
    }

    #[tokio::test]
    async fn a_refusal_in_the_wait_or_at_once_never_calls_the_service() {
        let calls = Arc::new(AtomicU32::new(0));
        let refused = waiting(std::future::ready(Err("full")), counting(&calls), 1);
        assert_eq!(refused.await, Err("full".to_string()));
        let at_once = refused_like(&counting(&calls));
        assert!(format!("{at_once:?}").contains("full"));
        assert_eq!(at_once.await, Err("full".to_string()));
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    /// Polls `fut` once with a waker that does nothing.
    fn poll_once<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        fut.poll(&mut cx)
    }

    #[test]
    fn the_guard_is_given_back_when_the_call_answers_not_when_the_future_is_dropped() {
        let calls = Arc::new(AtomicU32::new(0));
        let mut svc = counting(&calls);
        let guard = Arc::new(());
        for answer in [3, 4] {
            let mut call = Box::pin(if answer == 3 {
                WaitThenCall::running(Fault::none().gate(|| svc.call(answer)), guard.clone())
            } else {
                waiting(std::future::ready(Ok(guard.clone())), svc.clone(), answer)
            });
            assert_eq!(Arc::strong_count(&guard), 2);
            assert_eq!(poll_once(call.as_mut()), Poll::Ready(Ok(answer)));
            assert_eq!(
                Arc::strong_count(&guard),
                1,
                "the guard is dropped as the call answers, the future still alive"
            );
            assert_eq!(format!("{call:?}"), "Done");
            let again = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let _ = poll_once(call.as_mut());
            }));
            assert!(again.is_err(), "an answered future polled again panics");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
