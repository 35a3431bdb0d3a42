//! [`Scope`], what `#[error_context]` opens around a function's body, and the chain of
//! scopes entered on this thread, kept on the stack.
//!
//! The generated code opens a [`Scope`] in the function's body, runs the original body in
//! it ([`Scope::run`] or [`Scope::run_async`]), then, on `Err`, calls its error arm
//! (`Scope::failed`, in `sites/error_context.rs`), which writes the error's context. A
//! scope is made per call, not held in a `static`: it is the call's place in the chain.
//!
//! The chain: each [`enter`] call puts a [`Frame`] on its own stack frame, linking to the
//! frame that was current, and points one thread-local at it until it returns. Nothing
//! is allocated, and a future moved to another worker thread carries no frame with it:
//! its scope is entered again, on that thread, at every poll (see [`InScope`]).

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::OnceLock;

use core::cell::Cell;
use core::ptr;

/// One `#[error_context]` scope: an operation name, a lazily generated correlation id and
/// a `tracing` span named `error_context`.
///
/// Usable by hand where the attribute does not fit (a closure, a block):
///
/// ```
/// use resilience::context::{self, Scope};
///
/// let scope = Scope::new("nightly_import");
/// let seen = scope.run(|| context::current().map(|s| s.operation));
/// assert_eq!(seen.as_deref(), Some("nightly_import"));
/// ```
#[derive(Debug)]
#[must_use = "a scope does nothing until code runs in it"]
pub struct Scope {
    operation: &'static str,
    /// This scope's own id, generated on first use; only read while it is the outermost.
    correlation_id: OnceLock<String>,
    span: tracing::Span,
}

impl Scope {
    /// A scope for `operation`. Cheap: no allocation, no system call (the span is a no-op
    /// unless a subscriber is interested in it).
    ///
    /// ```
    /// let scope = resilience::context::Scope::new("fetch_board");
    /// assert_eq!(scope.operation(), "fetch_board");
    /// ```
    #[inline]
    pub fn new(operation: &'static str) -> Scope {
        Scope {
            operation,
            correlation_id: OnceLock::new(),
            span: tracing::info_span!(
                "error_context",
                operation = operation,
                correlation_id = tracing::field::Empty
            ),
        }
    }

    /// The operation this scope was opened for.
    ///
    /// ```
    /// assert_eq!(resilience::context::Scope::new("x").operation(), "x");
    /// ```
    #[inline]
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Runs `f` with this scope current (and its span entered); the previous scope is
    /// current again afterwards, also if `f` panics.
    ///
    /// ```
    /// use resilience::context::{current, Scope};
    ///
    /// let n = Scope::new("count").run(|| { assert!(current().is_some()); 3 });
    /// assert_eq!(n, 3);
    /// assert!(current().is_none());
    /// ```
    #[inline]
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.span.enter();
        enter(self, || {
            self.record_correlation_id();
            f()
        })
    }

    /// Wraps `fut` so this scope is current (and its span entered) during each of its
    /// polls, on whichever thread polls it, as `tracing`'s `Instrumented` does.
    ///
    /// ```
    /// use resilience::context::{current, Scope};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let scope = Scope::new("upload");
    /// let op = scope
    ///     .run_async(async {
    ///         tokio::task::yield_now().await;
    ///         current().map(|s| s.operation)
    ///     })
    ///     .await;
    /// assert_eq!(op.as_deref(), Some("upload"));
    /// # }
    /// ```
    #[inline]
    pub fn run_async<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<'_, F> {
        InScope {
            scope: self,
            recorded: false,
            fut,
        }
    }

    /// The correlation id an error raised in this scope gets, written into `out`: the
    /// outermost current scope's (this one's outside every other scope).
    pub(crate) fn correlation_id_into(&self, out: &mut String) {
        if with_chain(|_, outermost| outermost.own_correlation_id().clone_into(out)).is_none() {
            self.own_correlation_id().clone_into(out);
        }
    }

    /// The scope's `error_context` span.
    pub(crate) fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// This scope's own id, generated on first use.
    pub(super) fn own_correlation_id(&self) -> &str {
        self.correlation_id.get_or_init(super::new_id)
    }

    /// Writes the outermost scope's id into this span, only if someone listens: an id
    /// costs an allocation and a random number.
    fn record_correlation_id(&self) {
        if !self.span.is_disabled() {
            with_chain(|_, outermost| {
                self.span
                    .record("correlation_id", outermost.own_correlation_id());
            });
        }
    }
}

/// The future of [`Scope::run_async`].
struct InScope<'a, F> {
    scope: &'a Scope,
    recorded: bool,
    fut: F,
}

impl<F: Future> Future for InScope<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self`, `InScope`
        // has no `Drop` impl and no manual `Unpin` impl (it is `Unpin` only if `F` is),
        // and the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `fut` stays where it is for as long as `self` is pinned.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let scope = this.scope;
        let recorded = &mut this.recorded;
        let _entered = scope.span.enter();
        enter(scope, || {
            if !*recorded {
                *recorded = true;
                scope.record_correlation_id();
            }
            fut.poll(cx)
        })
    }
}

// ----- the chain of entered scopes ---------------------------------------------------

/// One entered scope and the scope that was current when it was entered.
struct Frame {
    scope: *const Scope,
    parent: *const Frame,
}

thread_local! {
    /// The innermost entered frame on this thread, or null.
    ///
    /// Invariant (what makes the reads in [`with_chain`] sound): a non-null pointer here,
    /// and every non-null `parent` reachable from it, points to the `frame` local of an
    /// [`enter`] call that is still running on this thread, and that frame's `scope` is
    /// borrowed by the same call.
    static CURRENT: Cell<*const Frame> = const { Cell::new(ptr::null()) };
}

/// Runs `f` with `scope` as the innermost scope on this thread, restoring the previous
/// one afterwards, also when `f` unwinds.
#[inline]
pub(super) fn enter<R>(scope: &Scope, f: impl FnOnce() -> R) -> R {
    /// Puts the previous frame back; dropped before `frame` (declared after it), on
    /// return and on unwind alike, so `CURRENT` never outlives the frame it points to.
    struct Restore(*const Frame);

    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            CURRENT.with(|current| current.set(self.0));
        }
    }

    // `ErrorContext::new()` (in `error`, below the scopes) reads the current scope's id
    // through this; one load once installed.
    crate::error::install_correlation_source(super::current_correlation_id);
    let parent = CURRENT.with(Cell::get);
    let frame = Frame { scope, parent };
    let _restore = Restore(parent);
    // Calls to `enter` nest strictly on one thread (each returns before its caller
    // does), so the chain from `&frame` only reaches frames of enclosing, running calls.
    // `Restore` is private and never leaked, so the pointer is always taken back.
    CURRENT.with(|current| current.set(&frame));
    f()
}

/// Calls `f` with the innermost and the outermost scope entered on this thread, or
/// returns `None` outside every scope.
///
/// The references cannot escape `f`: `R` is chosen before the higher-ranked lifetime.
#[inline]
pub(super) fn with_chain<R>(f: impl for<'s> FnOnce(&'s Scope, &'s Scope) -> R) -> Option<R> {
    let top = CURRENT.with(Cell::get);
    if top.is_null() {
        return None;
    }
    // SAFETY: by the invariant on `CURRENT`, `top` and each `parent` reached from it point
    // to live `Frame`s of `enter` calls still running on this thread, below us on the
    // stack, and each frame's `scope` is borrowed by that call, so it is alive and not
    // mutably aliased (`Scope` is only ever used through `&`). The references handed to
    // `f` do not outlive this call, which ends before any of those `enter` calls return.
    unsafe {
        let innermost = &*(*top).scope;
        let mut frame = top;
        while !(*frame).parent.is_null() {
            frame = (*frame).parent;
        }
        let outermost = &*(*frame).scope;
        Some(f(innermost, outermost))
    }
}

#[cfg(test)]
mod chain_tests {
    use super::*;

    #[test]
    fn the_chain_is_restored_after_a_panic() {
        let outer = Scope::new("outer");
        outer.run(|| {
            let inner = Scope::new("inner");
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                inner.run(|| panic!("boom"));
            }));
            assert!(caught.is_err());
            assert_eq!(with_chain(|i, _| i.operation()), Some("outer"));
        });
        assert_eq!(with_chain(|i, _| i.operation()), None);
    }
}
