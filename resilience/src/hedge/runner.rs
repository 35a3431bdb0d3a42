//! The runner: up to `1 + max_hedges` runs of one body polled side by side in the
//! caller's task, without spawning.
//!
//! The first run lives inline in the runner's future (pinned there); the extra runs, on
//! the rare path, each in a box of their own in a vector made at the first hedge. The
//! timer is made only when the first run is still pending after its first poll, so a
//! body that answers at once costs no timer and no allocation. Every wake-up polls each
//! live run once (there are at most [`MAX_HEDGES`](super::MAX_HEDGES) + 1, and usually
//! one), then the timer.

use core::future::Future;
use core::pin::{pin, Pin};
use core::task::{Context, Poll};

use super::events::{self, Reason};
use super::Hedge;
use crate::clock::sleep::{sleep, Sleep};
use crate::monitor::observe::Observe;
use crate::view::View;

/// What a hedged call's events name: the hedge and the decorated function.
#[derive(Debug)]
pub(crate) struct Labels {
    pub(crate) name: &'static str,
    pub(crate) function: &'static str,
}

/// Runs `run()` through `hedge` (the rules are on the generated code's entry,
/// `sites::hedge::hedge`), its events labelled by `labels`.
pub(crate) async fn run<T, E, Fut, F, V>(
    hedge: &'static Hedge,
    labels: &'static Labels,
    observe: Observe,
    run: F,
    view: V,
) -> Result<T, E>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    V: for<'a> Fn(&'a mut E) -> View<'a>,
{
    let (delay, max_hedges) = hedge.current();
    let mut first = pin!(Some(run()));
    let mut runs = Runs {
        labels,
        hedge,
        delay,
        total: max_hedges.saturating_add(1),
        started: 1,
        start_now: None,
        extra: Vec::new(),
        timer: None,
        last_error: None,
    };
    core::future::poll_fn(|cx| runs.poll(cx, first.as_mut(), &run, observe, &view)).await
}

/// One hedged call's state, beside its first run.
struct Runs<E, Fut> {
    labels: &'static Labels,
    hedge: &'static Hedge,
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
    fn poll<V>(
        &mut self,
        cx: &mut Context<'_>,
        mut first: Pin<&mut Option<Fut>>,
        run: &impl Fn() -> Fut,
        observe: Observe,
        view: &V,
    ) -> Poll<Result<T, E>>
    where
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
                    self.start(run, reason);
                    continue;
                }
            }
            if live == 0 {
                return Poll::Ready(Err(self.all_failed(view)));
            }
            if self.started >= self.total {
                return Poll::Pending;
            }
            let delay = self.delay;
            let timer = self.timer.get_or_insert_with(|| sleep(delay));
            match Pin::new(timer).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => self.start(run, Reason::Delay),
            }
        }
    }

    /// Starts the next run; the wait for the one after begins now.
    #[cold]
    #[inline(never)]
    fn start(&mut self, run: &impl Fn() -> Fut, reason: Reason) {
        self.started += 1;
        let nth = self.started - 1;
        self.hedge.record_hedge(nth);
        events::started(
            &self.hedge.events,
            self.labels.name,
            self.labels.function,
            self.started,
            reason,
        );
        if self.extra.is_empty() {
            self.extra.reserve_exact((self.total - 1) as usize);
        }
        self.extra.push(Some(Box::pin(run())));
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
        events::won(self.labels.name, self.labels.function, run, self.started);
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
                self.labels.name,
                self.labels.function,
                self.started,
                &view(&mut error),
            );
        }
        error
    }
}
