//! Striped success counters (LongAdder-style): one counter per cache line, each thread
//! adding to the line its index picks, so threads that call one breaker at once write
//! different lines instead of fighting over one.
//!
//! HOT PATH: a success in rate mode is one `fetch_add` on a line the calling thread (in
//! the common case) is the only writer of. The counters only grow; the window reads
//! their sum, and what it has already taken into account, under its lock.

use std::sync::atomic::{
    AtomicU64 as StdAtomicU64, AtomicUsize as StdAtomicUsize, Ordering::Relaxed,
};
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

/// Stripe numbers in use by live threads, one bit each (threads beyond 64 share).
static IN_USE: StdAtomicU64 = StdAtomicU64::new(0);

/// A thread's stripe number: the lowest one free when the thread first counts a
/// success, given back when the thread ends. So the threads alive at once hold distinct
/// numbers (the first `stripe_count()` of them distinct lines), however many threads
/// came and went before, as in a pool that replaces its workers.
struct Claim(usize);

impl Claim {
    fn new() -> Claim {
        let mut used = IN_USE.load(Relaxed);
        loop {
            let free = (!used).trailing_zeros() as usize;
            if free >= MAX_STRIPES {
                // 64 threads hold one: share, spread by a number no one gives back.
                static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
                return Claim(MAX_STRIPES + NEXT.fetch_add(1, Relaxed) % MAX_STRIPES);
            }
            match IN_USE.compare_exchange_weak(used, used | 1 << free, Relaxed, Relaxed) {
                Ok(_) => return Claim(free),
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.0 < MAX_STRIPES {
            IN_USE.fetch_and(!(1 << self.0), Relaxed);
        }
    }
}

/// The calling thread's stripe number (before masking).
#[inline]
fn thread_index() -> usize {
    std::thread_local! {
        static INDEX: Claim = Claim::new();
    }
    // During the thread's teardown: any line is correct, only slower.
    INDEX.try_with(|claim| claim.0).unwrap_or(0)
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn live_threads_hold_distinct_stripes_and_every_add_is_summed() {
        let stripes = Stripes::new();
        let barrier = std::sync::Barrier::new(3);
        let numbers: Vec<usize> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        for _ in 0..1_000 {
                            stripes.add();
                        }
                        let n = thread_index();
                        barrier.wait(); // all three alive at once
                        n
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        assert!(
            numbers[0] != numbers[1] && numbers[1] != numbers[2] && numbers[0] != numbers[2],
            "{numbers:?}"
        );
        assert_eq!(stripes.sum(), 3_000);
    }
}
