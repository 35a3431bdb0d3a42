//! The chain of scopes entered on this thread, kept on the stack.
//!
//! Each [`enter`] call puts a [`Frame`] on its own stack frame, linking to the frame that
//! was current, and points one thread-local at it until it returns. Nothing is allocated,
//! and a future moved to another worker thread carries no frame with it: its scope is
//! entered again, on that thread, at every poll (see `scope::InScope`).

use core::cell::Cell;
use core::ptr;

use super::scope::Scope;

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
mod tests {
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
