//! Per-thread claim numbers, for counters split across threads: each live thread holds
//! a number no other live thread holds (among the first 64), so a counter with one cell
//! per number is written by one thread per cell.
//!
//! The rate window's success stripes use the number to spread threads over cache lines
//! (`window/stripes.rs`); the rejection count uses it to add without a locked
//! instruction, since a cell with one writer needs no read-modify-write (`rejections.rs`).

use std::sync::atomic::{
    AtomicU64 as StdAtomicU64, AtomicUsize as StdAtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};
use std::sync::OnceLock;

/// The most numbers held by one thread alone; threads beyond share.
pub(super) const MAX_CLAIMS: usize = 64;

/// How many cells a per-thread counter has: twice the cores (so threads beyond the
/// cores, which the OS switches between, mostly keep a cell each), a power of two, at
/// most [`MAX_CLAIMS`].
pub(super) fn cells_per_counter() -> usize {
    if cfg!(loom) {
        return 2;
    }
    static COUNT: OnceLock<usize> = OnceLock::new();
    *COUNT.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        cores.saturating_mul(2).next_power_of_two().min(MAX_CLAIMS)
    })
}

/// Claim numbers in use by live threads, one bit each.
static IN_USE: StdAtomicU64 = StdAtomicU64::new(0);

/// A thread's claim number: the lowest one free when the thread first asks, given back
/// when the thread ends. So the threads alive at once hold distinct numbers, however
/// many threads came and went before, as in a pool that replaces its workers. Numbers
/// from [`MAX_CLAIMS`] up are shared.
///
/// Taking a number acquires what giving it back released: a thread that takes over a
/// number sees every write the previous holder made to its cells.
struct Claim(usize);

impl Claim {
    fn new() -> Claim {
        let mut used = IN_USE.load(Relaxed);
        loop {
            let free = (!used).trailing_zeros() as usize;
            if free >= MAX_CLAIMS {
                // 64 threads hold one: share, spread by a number no one gives back.
                static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
                return Claim(MAX_CLAIMS + NEXT.fetch_add(1, Relaxed) % MAX_CLAIMS);
            }
            match IN_USE.compare_exchange_weak(used, used | 1 << free, Acquire, Relaxed) {
                Ok(_) => return Claim(free),
                Err(now) => used = now,
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.0 < MAX_CLAIMS {
            IN_USE.fetch_and(!(1 << self.0), Release);
        }
    }
}

std::thread_local! {
    static CLAIM: Claim = Claim::new();
}

/// The calling thread's number, for spreading writes (not owned: several threads may
/// get the same one). During the thread's teardown, 0.
#[inline]
pub(super) fn spread_index() -> usize {
    CLAIM.try_with(|claim| claim.0).unwrap_or(0)
}

/// The calling thread's number if it holds it alone, so a cell of that number is
/// written by this thread only; `None` for threads beyond the first 64 alive, during
/// the thread's teardown (its number may be held by another thread by then) and under
/// loom (whose threads share one thread-local).
#[inline]
pub(super) fn owned_index() -> Option<usize> {
    if cfg!(loom) {
        return None;
    }
    CLAIM
        .try_with(|claim| claim.0)
        .ok()
        .filter(|&n| n < MAX_CLAIMS)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn live_threads_own_distinct_numbers() {
        let barrier = std::sync::Barrier::new(3);
        let numbers: Vec<Option<usize>> = std::thread::scope(|s| {
            let threads: Vec<_> = (0..3)
                .map(|_| {
                    s.spawn(|| {
                        let n = owned_index();
                        barrier.wait(); // all three alive at once
                        n
                    })
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        });
        let mut owned: Vec<usize> = numbers.iter().map(|n| n.expect("owned")).collect();
        owned.sort_unstable();
        owned.dedup();
        assert_eq!(owned.len(), 3, "{numbers:?}");
    }

    #[test]
    fn a_number_given_back_is_taken_again() {
        // One thread after another: the second takes the number the first gave back
        // (the lowest free), so a pool replacing its workers keeps using the same cells.
        let first = std::thread::spawn(owned_index).join().unwrap();
        let second = std::thread::spawn(owned_index).join().unwrap();
        assert!(first.is_some() && second.is_some());
        assert!(
            second <= first.max(Some(MAX_CLAIMS)),
            "{first:?} then {second:?}"
        );
    }
}
