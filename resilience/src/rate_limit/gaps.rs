//! Places given back: a delayed call that will not run (its future dropped while it
//! waited) gives its place back. The last place reserved is given back by moving the
//! state back; one with later places after it becomes a gap, which the next delayed call
//! takes (it runs at the gap's time instead of after the last place). So the calls that
//! run keep the times strict GCRA would have given them: no place is made, none is lost.
//!
//! Only delayed calls come here (cold: a call admitted at once never waits), under one
//! lock; `count` lets every other call skip the lock.

use std::sync::{Mutex, PoisonError};

use super::gcra::{self, Place};
use crate::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Gaps kept at most: beyond, a place given back stays spent (the safe side).
const MAX_GAPS: usize = 1024;

#[derive(Debug)]
pub(super) struct Gaps {
    count: AtomicUsize,
    places: Mutex<Vec<Place>>,
}

impl Gaps {
    pub(super) fn new() -> Gaps {
        Gaps {
            count: AtomicUsize::new(0),
            places: Mutex::new(Vec::new()),
        }
    }

    /// Whether there may be a gap to take (one load).
    #[inline]
    pub(super) fn any(&self) -> bool {
        self.count.load(Ordering::Acquire) != 0
    }

    /// Takes the earliest gap a call at `now` taking `increment` of the rate can wait
    /// for (at most `max_delay` ahead), as its place, with its delay from `now`. Gaps
    /// already past (their time came with no call to take it) or too far ahead (a clock
    /// that went back) are dropped. A gap goes only to a call of the same cost: a
    /// smaller one would lose units, a larger one would take more than was given back.
    pub(super) fn take(&self, now: u64, max_delay: u64, increment: u64) -> Option<Place> {
        let mut places = self.lock();
        places.retain(|p| p.at >= now && p.at - now <= max_delay);
        let earliest = places
            .iter()
            .enumerate()
            .filter(|(_, p)| p.interval == increment)
            .min_by_key(|(_, p)| p.at)
            .map(|(i, _)| i);
        let taken = earliest.map(|i| places.swap_remove(i));
        self.count.store(places.len(), Ordering::Release);
        taken.map(|p| Place {
            delay: p.at - now,
            ..p
        })
    }

    /// Gives `place` back (a delayed place whose time has not come). The last one
    /// moves the state back, and so does every gap then at the end; any other is kept
    /// as a gap.
    pub(super) fn give_back(&self, tat: &AtomicU64, place: Place) {
        let mut places = self.lock();
        if gcra::give_back_last(tat, place) {
            let mut end = place.tat - place.interval;
            while let Some(i) = places.iter().position(|p| p.tat == end) {
                if !gcra::give_back_last(tat, places[i]) {
                    break;
                }
                end = places[i].tat - places[i].interval;
                places.swap_remove(i);
            }
        } else if places.len() < MAX_GAPS {
            places.push(place);
        }
        self.count.store(places.len(), Ordering::Release);
    }

    /// Forgets every gap (a new rate: their places were on the old one).
    pub(super) fn clear(&self) {
        let mut places = self.lock();
        places.clear();
        self.count.store(0, Ordering::Release);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Place>> {
        // Every write leaves a valid list.
        self.places.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::super::gcra::Rate;
    use super::*;

    const MS: u64 = 1_000_000;

    fn admit(tat: &AtomicU64, now: u64, rate: Rate) -> Result<Place, u64> {
        super::super::gcra::admit(tat, now, rate, rate.interval, || 1_000 * MS)
            .map(|r| Place::at(r, now, rate.interval))
    }

    #[test]
    fn places_given_back_in_any_order_leave_the_state_as_before() {
        // 10 a second, burst 1, up to 2 s of delay: 15 delayed places, all given back.
        let r = Rate::new(100 * MS, 1, 2_000 * MS);
        let now = 1_000 * MS;
        for order in [false, true] {
            let tat = AtomicU64::new(0);
            let gaps = Gaps::new();
            admit(&tat, now, r).unwrap();
            let before = tat.load(Ordering::Relaxed);
            let mut places: Vec<Place> = (0..15).map(|_| admit(&tat, now, r).unwrap()).collect();
            if order {
                places.reverse();
            }
            for p in places {
                gaps.give_back(&tat, p);
            }
            assert_eq!(tat.load(Ordering::Relaxed), before);
            assert!(!gaps.any());
        }
    }

    #[test]
    fn a_gap_goes_to_the_next_delayed_call_at_its_time() {
        let r = Rate::new(100 * MS, 1, 1_000 * MS);
        let now = 1_000 * MS;
        let tat = AtomicU64::new(0);
        let gaps = Gaps::new();
        admit(&tat, now, r).unwrap();
        let first = admit(&tat, now, r).unwrap();
        let _second = admit(&tat, now, r).unwrap();
        gaps.give_back(&tat, first);
        assert!(gaps.any());
        let taken = gaps.take(now + 10 * MS, r.max_delay, r.interval).unwrap();
        assert_eq!((taken.at, taken.delay), (first.at, 90 * MS));
        assert!(!gaps.any());
        // Past its time, a gap is dropped, not taken.
        let third = admit(&tat, now, r).unwrap();
        let _fourth = admit(&tat, now, r).unwrap();
        gaps.give_back(&tat, third);
        assert_eq!(gaps.take(third.at + 1, r.max_delay, r.interval), None);
        assert!(!gaps.any());
    }
}
