//! The count-based window behind `failure_rate` and `slow_call_rate`: the outcomes of
//! the last `window_size` calls in a ring of one-byte slots, with running counts.
//!
//! HOT PATH in rate mode: every call records here. A successful call whose slot already
//! holds "success" costs a cursor load and store plus one slot load, with no atomic
//! read-modify-write; only a change of a slot's outcome swaps it and adjusts the counts.
//! The cursor is advanced with a plain load/store, not `fetch_add`: two racing threads
//! may pick the same slot, which only blurs which calls the window covers. The counts
//! stay exact regardless, because every slot change goes through `swap` and the counts
//! are adjusted by what the swap returned.

use crate::sync::atomic::{AtomicU32, AtomicU8, Ordering::Relaxed};

/// Slot bits.
pub(super) const RECORDED: u8 = 1;
pub(super) const FAILED: u8 = 2;
pub(super) const SLOW: u8 = 4;

/// Counts read out of a window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub(super) calls: u32,
    pub(super) failures: u32,
    pub(super) slow: u32,
}

// Its own cache lines: the cursor is written on every call in rate mode and must not
// invalidate the line holding the breaker's state word.
#[repr(align(64))]
pub(super) struct Outcomes {
    cursor: AtomicU32,
    len: AtomicU32,
    calls: AtomicU32,
    failures: AtomicU32,
    slow: AtomicU32,
    slots: Box<[AtomicU8]>,
}

impl Outcomes {
    /// A window of `len` calls with room for `capacity` (at least `len`).
    pub(super) fn new(len: u32, capacity: u32) -> Self {
        let capacity = capacity.max(len);
        Outcomes {
            cursor: AtomicU32::new(0),
            len: AtomicU32::new(len),
            calls: AtomicU32::new(0),
            failures: AtomicU32::new(0),
            slow: AtomicU32::new(0),
            slots: (0..capacity).map(|_| AtomicU8::new(0)).collect(),
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        // The capacity came from a u32.
        u32::try_from(self.slots.len()).unwrap_or(u32::MAX)
    }

    /// Records one outcome (`RECORDED` plus `FAILED` / `SLOW` bits). Returns the counts
    /// after every failure or slow call, the moments the rates are checked: also when it
    /// replaced another failure, since the rate may already stand at the threshold (the
    /// window just reached `minimum_calls`, say) though no count rose.
    #[inline]
    pub(super) fn record(&self, outcome: u8) -> Option<Counts> {
        let len = self.len.load(Relaxed);
        let at = self.cursor.load(Relaxed);
        // A shrink may leave the cursor past the end: start over.
        let at = if at >= len { 0 } else { at };
        self.cursor
            .store(if at + 1 >= len { 0 } else { at + 1 }, Relaxed);
        let slot = self.slots.get(at as usize)?;
        let bad = outcome & (FAILED | SLOW) != 0;
        if slot.load(Relaxed) == outcome {
            // Writing would change nothing: equivalent to a swap that returned `outcome`.
            return bad.then(|| self.counts());
        }
        let old = slot.swap(outcome, Relaxed);
        self.adjust(old, outcome);
        bad.then(|| self.counts())
    }

    #[inline]
    fn adjust(&self, old: u8, new: u8) {
        let bump = |counter: &AtomicU32, bit: u8| match (old & bit != 0, new & bit != 0) {
            (false, true) => {
                counter.fetch_add(1, Relaxed);
            }
            (true, false) => {
                counter.fetch_sub(1, Relaxed);
            }
            _ => {}
        };
        bump(&self.calls, RECORDED);
        bump(&self.failures, FAILED);
        bump(&self.slow, SLOW);
    }

    pub(super) fn counts(&self) -> Counts {
        Counts {
            calls: self.calls.load(Relaxed),
            failures: self.failures.load(Relaxed),
            slow: self.slow.load(Relaxed),
        }
    }

    /// Empties every slot. Safe to race with `record`: each slot is swapped out and the
    /// counts adjusted by what it held, so they keep matching the slots.
    pub(super) fn clear(&self) {
        for slot in self.slots.iter() {
            if slot.load(Relaxed) != 0 {
                let old = slot.swap(0, Relaxed);
                self.adjust(old, 0);
            }
        }
        self.cursor.store(0, Relaxed);
    }

    /// Uses the first `len` slots (`len <= capacity`), emptied.
    pub(super) fn set_len(&self, len: u32) {
        self.len.store(len.min(self.capacity()), Relaxed);
        self.clear();
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_the_last_len_outcomes() {
        let w = Outcomes::new(4, 4);
        assert_eq!(w.record(RECORDED), None);
        assert_eq!(
            w.record(RECORDED | FAILED),
            Some(Counts {
                calls: 2,
                failures: 1,
                slow: 0
            })
        );
        w.record(RECORDED | SLOW);
        w.record(RECORDED);
        assert_eq!(
            w.counts(),
            Counts {
                calls: 4,
                failures: 1,
                slow: 1
            }
        );
        // The fifth call replaces the first (a success), the sixth the failure.
        w.record(RECORDED);
        w.record(RECORDED);
        assert_eq!(
            w.counts(),
            Counts {
                calls: 4,
                failures: 0,
                slow: 1
            }
        );
        w.clear();
        assert_eq!(w.counts(), Counts::default());
    }

    #[test]
    fn shrinking_keeps_the_cursor_in_bounds() {
        let w = Outcomes::new(8, 8);
        for _ in 0..6 {
            w.record(RECORDED | FAILED);
        }
        w.set_len(2);
        assert_eq!(w.counts(), Counts::default());
        for _ in 0..5 {
            w.record(RECORDED | FAILED);
        }
        assert_eq!(
            w.counts(),
            Counts {
                calls: 2,
                failures: 2,
                slow: 0
            }
        );
    }
}
