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
        match take_lowest(&IN_USE) {
            Some(free) => Claim(free),
            None => {
                // 64 threads hold one: share, spread by a number no one gives back.
                static NEXT: StdAtomicUsize = StdAtomicUsize::new(0);
                Claim(MAX_CLAIMS + NEXT.fetch_add(1, Relaxed) % MAX_CLAIMS)
            }
        }
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.0 < MAX_CLAIMS {
            give_back(&IN_USE, self.0);
        }
    }
}

/// The lowest number free in `in_use`, marked taken (acquire: see [`Claim`]); `None`
/// when all [`MAX_CLAIMS`] are taken.
fn take_lowest(in_use: &StdAtomicU64) -> Option<usize> {
    let mut used = in_use.load(Relaxed);
    loop {
        let free = (!used).trailing_zeros() as usize;
        if free >= MAX_CLAIMS {
            return None;
        }
        match in_use.compare_exchange_weak(used, used | 1 << free, Acquire, Relaxed) {
            Ok(_) => return Some(free),
            Err(now) => used = now,
        }
    }
}

/// Marks `number` free in `in_use` (release: see [`Claim`]).
fn give_back(in_use: &StdAtomicU64, number: usize) {
    in_use.fetch_and(!(1 << number), Release);
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
    fn the_lowest_free_number_is_taken_and_a_number_given_back_is_taken_again() {
        // On a set of its own: the process's set is shared with every test thread.
        let in_use = StdAtomicU64::new(0);
        assert_eq!(take_lowest(&in_use), Some(0));
        assert_eq!(take_lowest(&in_use), Some(1));
        assert_eq!(take_lowest(&in_use), Some(2));
        give_back(&in_use, 1);
        // A pool replacing its worker: the new thread takes the number (and the cells)
        // the old one gave back.
        assert_eq!(take_lowest(&in_use), Some(1));
        assert_eq!(take_lowest(&in_use), Some(3));
        let full = StdAtomicU64::new(u64::MAX);
        assert_eq!(take_lowest(&full), None);
    }
}
