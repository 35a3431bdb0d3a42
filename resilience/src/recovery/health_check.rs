//! A registered health check: the boxed async closure, and one guarded run of it.
//!
//! A run is guarded twice: a panic in the closure or in any poll of its future becomes
//! a failed result (`catch_unwind` around each poll), and a run that outlives its
//! timeout fails too. So a broken check can fail, but cannot wedge the registry or the
//! task running the checks.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use super::CheckConfig;
use crate::clock::Clock;

/// What a check's closure returns, boxed once so checks of any type sit in one map.
pub(crate) type CheckFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type CheckFn = Box<dyn Fn() -> CheckFuture + Send + Sync>;

/// Boxes `f`, turning its error into the message kept in reports.
pub(crate) fn boxed<F, Fut, E>(f: F) -> CheckFn
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: core::fmt::Display + 'static,
{
    Box::new(move || {
        let fut = f();
        Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
    })
}

/// One finished run.
#[derive(Clone, Debug)]
pub(crate) struct Outcome {
    pub(crate) result: Result<(), String>,
    pub(crate) latency: Duration,
}

pub(crate) struct Check {
    pub(crate) config: CheckConfig,
    run: CheckFn,
    /// When the last run started, to tell which checks are due.
    pub(crate) started: Mutex<Option<Duration>>,
    pub(crate) last: Mutex<Option<Outcome>>,
    running: AtomicBool,
}

impl Check {
    pub(crate) fn new(config: CheckConfig, run: CheckFn) -> Check {
        Check {
            config,
            run,
            started: Mutex::new(None),
            last: Mutex::new(None),
            running: AtomicBool::new(false),
        }
    }

    pub(crate) fn is_due(&self, now: Duration) -> bool {
        match *self.started.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(at) => now.saturating_sub(at) >= self.config.interval,
            None => true,
        }
    }

    /// Claims the check for one run; `None` while another run of it is in flight.
    pub(crate) fn claim(self: &Arc<Self>, now: Duration) -> Option<Claim> {
        if self.running.swap(true, Ordering::AcqRel) {
            return None;
        }
        *self.started.lock().unwrap_or_else(PoisonError::into_inner) = Some(now);
        Some(Claim {
            check: self.clone(),
        })
    }

    pub(crate) fn last(&self) -> Option<Outcome> {
        self.last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Starts a run: calls the closure (a panic there fails the run at once).
    fn start(&self) -> CheckFuture {
        match catch_unwind(AssertUnwindSafe(|| (self.run)())) {
            Ok(fut) => fut,
            Err(payload) => {
                let message = panic_message(payload.as_ref());
                Box::pin(async move { Err(message) })
            }
        }
    }
}

/// A check claimed for one run; dropping it (the run finished, or the future running
/// the checks was dropped) frees the check for the next run.
pub(crate) struct Claim {
    pub(crate) check: Arc<Check>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.check.running.store(false, Ordering::Release);
    }
}

impl Claim {
    /// The guarded run: a panic or the timeout fails it. Its latency is read on
    /// `clock`, from now to the poll that sees it finish.
    pub(crate) fn run(&self, clock: Arc<dyn Clock>) -> Guarded {
        Guarded {
            started: clock.now(),
            clock,
            inner: Some(self.check.start()),
            timeout: Box::pin(crate::clock::sleep::sleep(self.check.config.timeout)),
            limit: self.check.config.timeout,
        }
    }
}

/// A check's future with its panics caught and its time limited.
pub(crate) struct Guarded {
    clock: Arc<dyn Clock>,
    started: Duration,
    inner: Option<CheckFuture>,
    timeout: Pin<Box<dyn Future<Output = ()> + Send>>,
    limit: Duration,
}

impl Future for Guarded {
    type Output = Outcome;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(inner) = this.inner.as_mut() else {
            let result = Err("polled after completion".to_owned());
            return Poll::Ready(Outcome {
                result,
                latency: Duration::ZERO,
            });
        };
        let polled = catch_unwind(AssertUnwindSafe(|| inner.as_mut().poll(cx)));
        let done = match polled {
            Ok(Poll::Ready(result)) => result,
            Ok(Poll::Pending) => match this.timeout.as_mut().poll(cx) {
                Poll::Ready(()) => Err(format!(
                    "timed out after {}",
                    humantime::format_duration(this.limit)
                )),
                Poll::Pending => return Poll::Pending,
            },
            Err(payload) => Err(panic_message(payload.as_ref())),
        };
        // Dropped now: a future that panicked must not be polled again.
        this.inner = None;
        let latency = this.clock.now().saturating_sub(this.started);
        Poll::Ready(Outcome {
            result: done,
            latency,
        })
    }
}

fn panic_message(payload: &(dyn core::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string payload");
    format!("health check panicked: {text}")
}
