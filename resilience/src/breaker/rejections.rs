//! The count of calls a breaker refused, added to without a locked instruction.
//!
//! HOT PATH: an open breaker counts every call it refuses. A `fetch_add` is a locked
//! read-modify-write, about 4 ns here, a fifth of a refusal's whole cost. Instead each
//! live thread has a cell of its own (its [claim](super::claim) number) and adds with a
//! plain load and store, which no other thread can interleave with since no other thread
//! writes that cell. Threads without a number of their own (beyond the first 64 alive,
//! or in their teardown) add to one shared cell with `fetch_add`. The count is the sum.
//!
//! Nothing is lost: a thread that ends gives its number back only after its last add
//! (release), and the next holder takes it (acquire), so it continues from the right
//! value. Counts only grow; a reader may see a refusal a moment late, never lose one.

use super::claim;
use crate::sync::atomic::{AtomicU64, Ordering::Relaxed};

pub(super) struct Rejections {
    /// One cell per claim number below its length, each written by its holder only.
    owned: Box<[AtomicU64]>,
    /// Everyone else's.
    shared: AtomicU64,
}

impl Rejections {
    pub(super) fn new() -> Rejections {
        Rejections {
            owned: (0..claim::cells_per_counter())
                .map(|_| AtomicU64::new(0))
                .collect(),
            shared: AtomicU64::new(0),
        }
    }

    /// Counts one refusal.
    #[inline]
    pub(super) fn add(&self) {
        match claim::owned_index().and_then(|n| self.owned.get(n)) {
            Some(mine) => mine.store(mine.load(Relaxed).wrapping_add(1), Relaxed),
            None => {
                self.shared.fetch_add(1, Relaxed);
            }
        }
    }

    /// Every refusal counted so far.
    pub(super) fn total(&self) -> u64 {
        self.owned
            .iter()
            .fold(self.shared.load(Relaxed), |sum, cell| {
                sum.wrapping_add(cell.load(Relaxed))
            })
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_of_every_thread_is_counted() {
        let rejections = Rejections::new();
        // More threads than cells, several generations of them: owned cells handed from
        // a thread that ended to the next, and threads sharing the shared cell.
        for _ in 0..3 {
            std::thread::scope(|s| {
                for _ in 0..(claim::cells_per_counter() + 3) {
                    s.spawn(|| {
                        for _ in 0..10_000 {
                            rejections.add();
                        }
                    });
                }
            });
        }
        assert_eq!(
            rejections.total(),
            3 * (claim::cells_per_counter() as u64 + 3) * 10_000
        );
    }
}
