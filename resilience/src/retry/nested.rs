//! Nested retries: a retry inside another retry's attempt leaves the retrying to it.
//!
//! Three attempts around a call that makes three of its own would make nine, and the
//! calls multiply with each level (an attribute over a retrying client, a layer over
//! another). So every front end marks the thread while it runs an attempt (the
//! attribute's loop around its body, `RetryLayer` around each poll of its inner future,
//! the middleware around each poll of the rest of the chain), and a retry whose attempt
//! fails while the mark is set makes no other attempt: its error goes back to the retry
//! around it, which decides ([`Nested::Defer`], the default). [`Nested::Independent`]
//! retries at both levels.
//!
//! The mark is read only when an attempt fails, so the first attempt's success pays for
//! the write of the mark around the attempt and nothing else. "Inside" is on the same
//! thread's call stack for sync code, and in the same task for async code (the mark is
//! set around each poll, never across an `.await`): a task the attempt spawns does not
//! see it.

use core::cell::Cell;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use serde::{Deserialize, Serialize};

/// What a retry does inside another retry's attempt ([`RetryConfig::nested`]).
///
/// In a file: `nested = "defer"` or `nested = "independent"`.
///
/// ```
/// use resilience::retry::Nested;
/// use resilience::RetryConfig;
///
/// assert_eq!(RetryConfig::default().nested, Nested::Defer);
/// let config: RetryConfig = serde_json::from_str(r#"{ "nested": "independent" }"#)?;
/// assert_eq!(config.nested, Nested::Independent);
/// # Ok::<(), serde_json::Error>(())
/// ```
///
/// [`RetryConfig::nested`]: super::RetryConfig::nested
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Nested {
    /// One attempt: its error goes back to the retry around it, which retries (the
    /// default). Said once per instance, at `DEBUG`.
    #[default]
    Defer,
    /// Retries as if alone: the attempts of the two levels multiply.
    Independent,
}

thread_local! {
    /// Whether this thread is running a retry's attempt. A `const` cell without drop
    /// glue: one load or store of a thread-local, with no lazy initialisation.
    static IN_ATTEMPT: Cell<bool> = const { Cell::new(false) };
}

/// Whether the code running now is inside another retry's attempt.
#[inline]
pub(crate) fn inside_attempt() -> bool {
    IN_ATTEMPT.with(Cell::get)
}

/// While alive, this thread runs a retry's attempt; the previous mark is put back when
/// it drops, on unwind too (a panic caught further up, as tokio catches a task's, must
/// not leave the thread marked). Never held across an `.await`: see [`InAttempt`].
///
/// HOT PATH: a read and a write of a thread-local, and a write when dropped. The two
/// stores are what the mark costs: about 0.7 ns a call in a tight loop of first
/// successes (measured with the mark taken out), stores being what such a loop is short
/// of. Storing constants instead (nothing in a nested attempt) measured the same, with a
/// branch more.
///
/// ```
/// let _mark = resilience::__private::AttemptMark::enter();
/// ```
#[must_use = "the attempt is marked while the mark lives"]
#[derive(Debug)]
pub struct AttemptMark {
    previous: bool,
}

impl AttemptMark {
    /// Marks the thread until the mark drops.
    #[inline]
    pub fn enter() -> AttemptMark {
        AttemptMark {
            previous: IN_ATTEMPT.with(|mark| mark.replace(true)),
        }
    }
}

impl Drop for AttemptMark {
    #[inline]
    fn drop(&mut self) {
        IN_ATTEMPT.with(|mark| mark.set(self.previous));
    }
}

/// `attempt`, with the thread marked around each of its polls: what an async retry
/// awaits as one attempt.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let answer = resilience::__private::in_attempt(async { 42 }).await;
/// assert_eq!(answer, 42);
/// # }
/// ```
#[inline]
pub fn in_attempt<F: Future>(attempt: F) -> InAttempt<F> {
    InAttempt { attempt }
}

/// The future of [`in_attempt`].
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub struct InAttempt<F> {
    attempt: F,
}

impl<F: Future> Future for InAttempt<F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `attempt`: it is never moved out of `self`,
        // `InAttempt` has no `Drop` impl and no manual `Unpin` impl (it is `Unpin` only
        // if `F` is).
        let attempt = unsafe { self.map_unchecked_mut(|this| &mut this.attempt) };
        let _mark = AttemptMark::enter();
        attempt.poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_nests_and_is_put_back_on_unwind() {
        assert!(!inside_attempt());
        {
            let _outer = AttemptMark::enter();
            assert!(inside_attempt());
            {
                let _inner = AttemptMark::enter();
            }
            assert!(inside_attempt(), "the outer attempt is still running");
            let caught = std::panic::catch_unwind(|| {
                let _inner = AttemptMark::enter();
                panic!("unwinding through an attempt");
            });
            assert!(caught.is_err());
            assert!(inside_attempt());
        }
        assert!(!inside_attempt());
    }

    #[tokio::test(start_paused = true)]
    async fn an_attempt_is_marked_only_while_polled() {
        let ms = std::time::Duration::from_millis;
        // Two branches of one task: only the attempt's polls are marked.
        let (attempt, beside) = tokio::join!(
            in_attempt(async {
                let first = inside_attempt();
                tokio::time::sleep(ms(2)).await;
                (first, inside_attempt())
            }),
            async {
                tokio::time::sleep(ms(1)).await;
                inside_attempt()
            }
        );
        assert_eq!(attempt, (true, true));
        assert!(!beside, "a branch beside the attempt is not in it");
        assert!(!inside_attempt());
    }
}
