//! The runner: the one engine of hedging, which `#[hedge]` and `HedgeLayer` both drive.
//! Up to `1 + max_hedges` runs of one call are polled side by side in the caller's task,
//! without spawning; a front end only says how a run starts ([`StartRun`]: a fresh
//! `async` block of the body, or a clone of a tower service called with a clone of the
//! request) and how its errors read ([`View`]). The runner decides when each run starts
//! and which answer returns, counts on the [`Hedge`], and tells the events and metrics
//! (`events.rs`), so no front end can forget them.
//!
//! The first run lives inline in the [`Race`] (pinned there); the extra runs, on the rare
//! path, each in a box of their own in a vector made at the first hedge. The timer is
//! made only when the first run is still pending after its first poll, so a call that
//! answers at once costs no timer and no allocation. Every wake-up polls each live run
//! once (there are at most [`MAX_HEDGES`](super::MAX_HEDGES) + 1, and usually one), then
//! the timer.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::events::{self, Caller, Reason};
use super::Hedge;
use crate::clock::sleep::{sleep, Sleep};
use crate::monitor::observe::Observe;
use crate::view::View;

/// How a front end starts one run of a hedged call. Every closure returning a future is
/// one (`#[hedge]`'s: a fresh `async` block of the body); `HedgeLayer` starts a run by
/// calling a clone of its service with a clone of the request.
pub(crate) trait StartRun {
    /// One run.
    type Run: Future;

    /// Starts one more run.
    fn start(&self) -> Self::Run;
}

impl<F: Fn() -> Fut, Fut: Future> StartRun for F {
    type Run = Fut;

    #[inline]
    fn start(&self) -> Fut {
        self()
    }
}

/// One hedged call through `hedge`, whose first run is `first` and whose next ones
/// `start` makes, polled as the rules of `sites::hedge::hedge` say.
pub(crate) fn race<S, Fut, E, V>(
    hedge: &'static Hedge,
    caller: Caller,
    observe: Observe,
    first: Fut,
    start: S,
    view: V,
) -> Race<S, Fut, E, V> {
    let (delay, max_hedges) = hedge.current();
    Race {
        first: Some(first),
        runs: Runs {
            hedge,
            caller,
            delay,
            total: max_hedges.saturating_add(1),
            started: 1,
            start_now: None,
            extra: Vec::new(),
            timer: None,
            last_error: None,
        },
        start,
        view,
        observe,
    }
}

pin_project! {
    /// One hedged call: its runs, the way to start another, and how its errors read.
    pub(crate) struct Race<S, Fut, E, V> {
        #[pin]
        first: Option<Fut>,
        runs: Runs<E, Fut>,
        start: S,
        view: V,
        observe: Observe,
    }
}

impl<S, Fut, E, V> core::fmt::Debug for Race<S, Fut, E, V> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Race")
            .field("hedge", &self.runs.hedge.name())
            .field("started", &self.runs.started)
            .field("first_running", &self.first.is_some())
            .finish_non_exhaustive()
    }
}

impl<S, Fut, T, E, V> Future for Race<S, Fut, E, V>
where
    S: StartRun<Run = Fut>,
    Fut: Future<Output = Result<T, E>>,
    V: for<'a> Fn(&'a mut E) -> View<'a>,
{
    type Output = Result<T, E>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, E>> {
        let this = self.project();
        this.runs
            .poll(cx, this.first, &*this.start, *this.observe, &*this.view)
    }
}

/// One hedged call's state, beside its first run.
struct Runs<E, Fut> {
    hedge: &'static Hedge,
    caller: Caller,
    delay: core::time::Duration,
    /// Runs allowed in all, the first included.
    total: u32,
    /// Runs started so far.
    started: u32,
    /// A retryable failure asks for the next run now.
    start_now: Option<Reason>,
    /// The extra runs, in the order started; `None` once finished.
    extra: Vec<Option<Pin<Box<Fut>>>>,
    /// The wait before the next extra run, made when first needed.
    timer: Option<Sleep>,
    last_error: Option<E>,
}

impl<T, E, Fut: Future<Output = Result<T, E>>> Runs<E, Fut> {
    fn poll<S, V>(
        &mut self,
        cx: &mut Context<'_>,
        mut first: Pin<&mut Option<Fut>>,
        start: &S,
        observe: Observe,
        view: &V,
    ) -> Poll<Result<T, E>>
    where
        S: StartRun<Run = Fut>,
        V: for<'a> Fn(&'a mut E) -> View<'a>,
    {
        loop {
            let mut live = 0u32;
            if let Some(future) = first.as_mut().as_pin_mut() {
                match future.poll(cx) {
                    Poll::Pending => live += 1,
                    Poll::Ready(outcome) => {
                        // Dropped at once: a failed run releases what it holds now.
                        first.set(None);
                        match outcome {
                            Ok(value) => return Poll::Ready(Ok(value)),
                            Err(error) => {
                                if let Some(done) = self.failed(error, observe, view) {
                                    return Poll::Ready(Err(done));
                                }
                            }
                        }
                    }
                }
            }
            for index in 0..self.extra.len() {
                let Some(future) = self.extra[index].as_mut() else {
                    continue;
                };
                match future.as_mut().poll(cx) {
                    Poll::Pending => live += 1,
                    Poll::Ready(outcome) => {
                        self.extra[index] = None;
                        match outcome {
                            Ok(value) => {
                                self.won(index);
                                return Poll::Ready(Ok(value));
                            }
                            Err(error) => {
                                if let Some(done) = self.failed(error, observe, view) {
                                    return Poll::Ready(Err(done));
                                }
                            }
                        }
                    }
                }
            }
            if self.started < self.total {
                if let Some(reason) = self.start_now.take() {
                    // No run starts at or past the deadline of a timeout around the call
                    // (`crate::deadline`): the timeout would cut it off unheard.
                    if !crate::deadline::passed() {
                        self.start(start, reason);
                        continue;
                    }
                }
            }
            if live == 0 {
                return Poll::Ready(Err(self.all_failed(view)));
            }
            if self.started >= self.total {
                return Poll::Pending;
            }
            let delay = self.delay;
            if self.timer.is_none()
                && crate::deadline::remaining().is_some_and(|left| delay >= left)
            {
                // The next run would start at or past the deadline: none starts, and the
                // runs going on wake the call.
                return Poll::Pending;
            }
            let timer = self.timer.get_or_insert_with(|| sleep(delay));
            match Pin::new(timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => self.start(start, Reason::Delay),
            }
        }
    }

    /// Starts the next run; the wait for the one after begins now.
    #[cold]
    #[inline(never)]
    fn start<S: StartRun<Run = Fut>>(&mut self, start: &S, reason: Reason) {
        self.started += 1;
        let nth = self.started - 1;
        self.hedge.record_hedge(nth);
        events::started(
            &self.hedge.events,
            self.hedge.name(),
            self.caller,
            self.started,
            reason,
        );
        if self.extra.is_empty() {
            self.extra.reserve_exact((self.total - 1) as usize);
        }
        self.extra.push(Some(Box::pin(start.start())));
        self.timer = None;
    }

    /// A run failed: the error ends the call if it is not retryable (given back);
    /// otherwise it is kept as the last error and, if runs are left, the next starts.
    #[cold]
    #[inline(never)]
    fn failed<V>(&mut self, mut error: E, observe: Observe, view: &V) -> Option<E>
    where
        V: for<'a> Fn(&'a mut E) -> View<'a>,
    {
        observe.error(&mut error, view);
        if !view(&mut error).retryable() {
            return Some(error);
        }
        self.last_error = Some(error);
        self.start_now = Some(Reason::RetryableError);
        None
    }

    #[cold]
    #[inline(never)]
    fn won(&self, index: usize) {
        self.hedge.record_win();
        let run = u32::try_from(index).map_or(u32::MAX, |i| i.saturating_add(2));
        events::won(self.hedge.name(), self.caller, run, self.started);
    }

    /// Every run failed: the last error.
    #[cold]
    #[inline(never)]
    fn all_failed<V>(&mut self, view: &V) -> E
    where
        V: for<'a> Fn(&'a mut E) -> View<'a>,
    {
        let Some(mut error) = self.last_error.take() else {
            // Every run started has finished, and each that did not return `Ok` (or end
            // the call with an error that is not retryable) left its error here.
            unreachable!("a hedged call with no live run has an error");
        };
        if self.started > 1 {
            events::all_failed(
                self.hedge.name(),
                self.caller,
                self.started,
                &view(&mut error),
            );
        }
        error
    }
}
