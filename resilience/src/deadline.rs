//! Deadlines: the time a call has left, as a `#[timeout]` or a `TimeoutLayer` around it
//! set it.
//!
//! A timeout does more than cut its call off: while its call runs, it sets a deadline that
//! every call inside it sees through [`remaining`], the earliest of the deadlines around
//! it. The crate's own waits read it: a retry does not sleep into it nor start an attempt
//! at or past it (it returns its last error, reason `deadline`), a hedge starts no run
//! past it, a bulkhead or a rate limit does not wait past it, and the reqwest middleware
//! gives a request no longer timeout than what is left.
//!
//! "Inside" means on the same task: the deadline is set on the thread around each poll of
//! the timeout's future (and around a `TimeoutLayer`'s `call` of its inner service), so
//! whatever that poll runs sees it (the call's own futures, the branches of a `join!` or
//! `select!` in it, a hedge's runs), and nothing else on the thread does. A task it
//! spawns, or a `tower::buffer::Buffer`'s worker, runs on its own and does not see it.
//!
//! ```
//! use resilience::{deadline, timeout, TimedOut};
//! use std::time::Duration;
//!
//! #[derive(Debug)]
//! struct Error;
//! impl From<TimedOut> for Error {
//!     fn from(_: TimedOut) -> Self { Error }
//! }
//!
//! #[timeout(2s)]
//! async fn outer() -> Result<Option<Duration>, Error> {
//!     tokio::time::sleep(Duration::from_millis(500)).await;
//!     inner().await
//! }
//!
//! #[timeout(10s)]
//! async fn inner() -> Result<Option<Duration>, Error> {
//!     Ok(deadline::remaining()) // the outer deadline is the earlier one
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! assert_eq!(deadline::remaining(), None); // outside every timeout
//! assert_eq!(outer().await.unwrap(), Some(Duration::from_millis(1500)));
//! # }
//! ```

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Duration;

use crate::clock::{Clock, SystemClock};

thread_local! {
    /// The earliest deadline of the scopes running on this thread, on [`SystemClock`]'s
    /// timeline (so paused tokio time applies); `None` outside every scope. A `const`
    /// cell without drop glue: reading it is one load, with no lazy initialisation.
    static CURRENT: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The time left before the earliest deadline around this call, or `None` outside every
/// `#[timeout]` and `TimeoutLayer`. Zero once the deadline has passed.
///
/// ```
/// use resilience::{deadline, timeout, TimedOut};
/// use std::time::Duration;
///
/// #[timeout(3s)]
/// async fn call() -> Result<Option<Duration>, TimedOut> {
///     tokio::time::sleep(Duration::from_secs(1)).await;
///     Ok(deadline::remaining())
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// assert_eq!(call().await.unwrap(), Some(Duration::from_secs(2)));
/// # }
/// ```
pub fn remaining() -> Option<Duration> {
    let deadline = CURRENT.with(Cell::get)?;
    Some(deadline.saturating_sub(SystemClock.now()))
}

/// `wait`, shortened to the time left before the deadline, if one is set: what a wait
/// decided here may last.
#[inline]
pub(crate) fn clip(wait: Duration) -> Duration {
    match remaining() {
        Some(left) => wait.min(left),
        None => wait,
    }
}

/// Whether the deadline around this call has come (a deadline set, no time left).
#[inline]
pub(crate) fn passed() -> bool {
    remaining().is_some_and(|left| left.is_zero())
}

/// [`clip`] in nanoseconds, for waits kept as such (a rate limiter's `max_delay`).
#[inline]
pub(crate) fn clip_nanos(wait: u64) -> u64 {
    match remaining() {
        Some(left) => wait.min(crate::clock::duration_nanos(left)),
        None => wait,
    }
}

/// The deadline `limit` from now, for [`Scope::enter`] and [`within`].
pub(crate) fn after(limit: Duration) -> Duration {
    SystemClock.now().saturating_add(limit)
}

/// While alive, `deadline` is this thread's deadline, unless an earlier one is already
/// set; the previous one is put back when it drops, also on unwind. Never held across an
/// `.await` (another task would see it): a future sets it around each poll ([`within`]).
pub(crate) struct Scope {
    previous: Option<Duration>,
}

impl Scope {
    #[inline]
    pub(crate) fn enter(deadline: Duration) -> Scope {
        let previous = CURRENT.with(Cell::get);
        let earliest = match previous {
            Some(outer) => outer.min(deadline),
            None => deadline,
        };
        CURRENT.with(|current| current.set(Some(earliest)));
        Scope { previous }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.previous));
    }
}

/// `future` under `deadline`: the deadline is set around each of its polls.
pub(crate) fn within<F: Future>(deadline: Duration, future: F) -> Within<F> {
    Within { deadline, future }
}

/// The future of [`within`].
pub(crate) struct Within<F> {
    deadline: Duration,
    future: F,
}

impl<F: Future> Future for Within<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `future`: it is never moved out of `self`,
        // `Within` has no `Drop` impl and no manual `Unpin` impl (it is `Unpin` only if
        // `F` is), and `deadline` is not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `future` stays where it is for as long as `self` is pinned.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let _scope = Scope::enter(this.deadline);
        future.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_keep_the_earliest_and_restore_on_unwind() {
        assert_eq!(remaining(), None);
        let far = after(Duration::from_secs(60));
        let near = after(Duration::from_secs(5));
        {
            let _outer = Scope::enter(near);
            assert!(remaining().unwrap() <= Duration::from_secs(5));
            {
                let _inner = Scope::enter(far);
                assert!(
                    remaining().unwrap() <= Duration::from_secs(5),
                    "the earliest"
                );
            }
            let caught = std::panic::catch_unwind(|| {
                let _inner = Scope::enter(after(Duration::from_secs(1)));
                panic!("unwinding through a scope");
            });
            assert!(caught.is_err());
            assert!(remaining().unwrap() > Duration::from_secs(1), "restored");
        }
        assert_eq!(remaining(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_future_sees_its_deadline_only_while_polled() {
        let deadline = after(Duration::from_secs(2));
        let seen = within(deadline, async {
            let first = remaining();
            tokio::time::sleep(Duration::from_millis(500)).await;
            (first, remaining())
        })
        .await;
        assert_eq!(
            seen,
            (
                Some(Duration::from_secs(2)),
                Some(Duration::from_millis(1500))
            )
        );
        assert_eq!(remaining(), None, "not set between polls");
        assert_eq!(clip(Duration::from_secs(9)), Duration::from_secs(9));
    }
}
