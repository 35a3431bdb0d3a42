//! The outcomes of the last `len` calls, in order, with running counts: plain data,
//! read and written only under the window's lock.

use super::{Counts, Rates, FAILED, RECORDED, SLOW};

pub(super) struct Ring {
    /// One byte per call: `RECORDED` plus `FAILED` / `SLOW` bits, 0 when empty.
    slots: Box<[u8]>,
    len: usize,
    cursor: usize,
    counts: Counts,
    /// The stripes' sum already taken in as successes.
    pub(super) drained: u64,
}

impl Ring {
    pub(super) fn new(len: u32, capacity: u32) -> Ring {
        let capacity = capacity.max(len) as usize;
        Ring {
            slots: vec![0; capacity].into_boxed_slice(),
            len: len as usize,
            cursor: 0,
            counts: Counts::default(),
            drained: 0,
        }
    }

    pub(super) fn capacity(&self) -> u32 {
        u32::try_from(self.slots.len()).unwrap_or(u32::MAX)
    }

    pub(super) fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether a failure or a slow call is in the window: only then can a rate be met.
    fn marked(&self) -> bool {
        self.counts.failures != 0 || self.counts.slow != 0
    }

    /// Appends one outcome, replacing the oldest once the window is full.
    pub(super) fn push(&mut self, outcome: u8) {
        if self.cursor >= self.len {
            return; // a window of no calls
        }
        let Some(slot) = self.slots.get_mut(self.cursor) else {
            return;
        };
        let old = core::mem::replace(slot, outcome);
        let bump = |count: &mut u32, bit: u8| match (old & bit != 0, outcome & bit != 0) {
            (false, true) => *count += 1,
            (true, false) => *count -= 1,
            _ => {}
        };
        bump(&mut self.counts.calls, RECORDED);
        bump(&mut self.counts.failures, FAILED);
        bump(&mut self.counts.slow, SLOW);
        self.cursor = if self.cursor + 1 >= self.len {
            0
        } else {
            self.cursor + 1
        };
    }

    /// Appends `n` successes. True when, on the way, the window reached `minimum_calls`
    /// with a rate met: the check the success that got it there is due (a success can
    /// only meet a rate that way, see `Window`).
    pub(super) fn push_successes(&mut self, mut n: u64, rates: &Rates) -> bool {
        let mut trip = false;
        if self.marked() && self.counts.calls < rates.minimum_calls {
            let short = u64::from(rates.minimum_calls - self.counts.calls);
            if n < short {
                self.push_each(n);
                return false;
            }
            self.push_each(short);
            n -= short;
            trip = rates.reached(self.counts);
        }
        if n >= self.len as u64 {
            // Every call in the window is one of these successes.
            self.slots[..self.len].fill(RECORDED);
            self.counts = Counts {
                calls: self.len as u32,
                failures: 0,
                slow: 0,
            };
        } else {
            self.push_each(n);
        }
        trip
    }

    fn push_each(&mut self, n: u64) {
        for _ in 0..n {
            self.push(RECORDED);
        }
    }

    /// Empties the window and uses its first `len` slots (`len <= capacity`).
    pub(super) fn clear(&mut self, len: usize) {
        self.slots.fill(0);
        self.len = len.min(self.slots.len());
        self.cursor = 0;
        self.counts = Counts::default();
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}
