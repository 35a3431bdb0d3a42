//! Striped success counters (LongAdder-style): one counter per cache line, each thread
//! adding to the line its index picks, so threads that call one breaker at once write
//! different lines instead of fighting over one.
//!
//! HOT PATH: a success in rate mode is one `fetch_add` on a line the calling thread (in
//! the common case) is the only writer of. The counters only grow; the window reads
//! their sum, and what it has already taken into account, under its lock.

use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::sync::OnceLock;

use crate::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// The most stripes a window has (64 lines of 128 bytes: 8 KiB).
const MAX_STRIPES: usize = 64;

/// One counter alone on its 128 bytes: two lines, since x86 prefetches lines in pairs.
#[repr(align(128))]
struct Stripe(AtomicU64);

pub(super) struct Stripes {
    cells: Box<[Stripe]>,
    mask: usize,
}

/// How many stripes a window has: twice the cores (so threads beyond the cores, which
/// the OS switches between, mostly keep a line each), a power of two, at most 64.
fn stripe_count() -> usize {
    if cfg!(loom) {
        return 2;
    }
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_mul(2).next_power_of_two().min(MAX_STRIPES)
    })
}

/// The calling thread's stripe index (before masking): threads are numbered in the order
/// they first count a success, so the first `stripe_count()` threads each get a line.
#[inline]
fn thread_index() -> usize {
    static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
    std::thread_local! {
        static INDEX: core::cell::Cell<usize> = const { core::cell::Cell::new(usize::MAX) };
    }
    INDEX
        .try_with(|index| {
            let i = index.get();
            if i != usize::MAX {
                return i;
            }
            let i = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) & (usize::MAX >> 1);
            index.set(i);
            i
        })
        // During the thread's teardown: any line is correct, only slower.
        .unwrap_or(0)
}

impl Stripes {
    pub(super) fn new() -> Stripes {
        let n = stripe_count();
        Stripes {
            cells: (0..n).map(|_| Stripe(AtomicU64::new(0))).collect(),
            mask: n - 1,
        }
    }

    /// Counts one success. `SeqCst`, so that a reader that publishes a flag and then
    /// sums the stripes, and this thread, which adds and then reads that flag, cannot
    /// both miss each other (on x86 every `fetch_add` is a full barrier anyway).
    #[inline]
    pub(super) fn add(&self) {
        if let Some(cell) = self.cells.get(thread_index() & self.mask) {
            cell.0.fetch_add(1, SeqCst);
        }
    }

    /// Every success counted so far (wrapping).
    pub(super) fn sum(&self) -> u64 {
        self.cells
            .iter()
            .fold(0u64, |sum, cell| sum.wrapping_add(cell.0.load(SeqCst)))
    }
}
