//! Striped success counters (LongAdder-style): one counter per cache line, each thread
//! adding to the line its index picks, so threads that call one breaker at once write
//! different lines instead of fighting over one.
//!
//! HOT PATH: a success in rate mode is one `fetch_add` on a line the calling thread (in
//! the common case) is the only writer of. The counters only grow; the window reads
//! their sum, and what it has already taken into account, under its lock.

use super::super::claim;
use crate::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// One counter alone on its 128 bytes: two lines, since x86 prefetches lines in pairs.
#[repr(align(128))]
struct Stripe(AtomicU64);

pub(super) struct Stripes {
    cells: Box<[Stripe]>,
    mask: usize,
}

impl Stripes {
    pub(super) fn new() -> Stripes {
        let n = claim::cells_per_counter();
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
        if let Some(cell) = self.cells.get(claim::spread_index() & self.mask) {
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
                        let n = claim::spread_index();
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
