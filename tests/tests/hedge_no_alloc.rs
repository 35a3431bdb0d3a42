//! A hedged call that needs no hedge allocates nothing when its body answers at the first
//! poll, once its call site is warm.
//! A counting global allocator in its own test binary watches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use resilience::hedge;

struct Counting;

thread_local! {
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHED.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    WATCHED.with(|w| w.set(true));
    f();
    WATCHED.with(|w| w.set(false));
    ALLOCATIONS.with(Cell::get)
}

/// Polls once with a no-op waker.
fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
    let mut cx = Context::from_waker(Waker::noop());
    pin!(future).poll(&mut cx)
}

#[hedge(delay = 50ms, max_hedges = 2)]
async fn answers_at_once(x: u64) -> Result<u64, std::io::Error> {
    Ok(x + 1)
}

#[test]
fn a_call_answered_at_the_first_poll_allocates_nothing() {
    // Warm: the first call registers the site's hedge.
    assert!(matches!(poll_once(answers_at_once(1)), Poll::Ready(Ok(2))));
    let allocations = allocations_during(|| {
        for x in 0..1_000 {
            assert!(matches!(poll_once(answers_at_once(x)), Poll::Ready(Ok(_))));
        }
    });
    assert_eq!(allocations, 0);
}
