//! [`Places`]: the calls in flight against the limit, and the waiting room.
//!
//! The count of calls in flight and the count of waiting calls share one `AtomicU64`
//! (in flight in the low half, waiting in the high half), so one compare-and-swap admits
//! a call only while nobody waits: a call that arrives while others wait never passes
//! them (HOT PATH: a load of the limit, a load and a CAS of the word; no lock). A call
//! that ends subtracts itself with one `fetch_sub`; only if someone waits does it lock
//! the room and hand its place on.
//!
//! The room, behind a lock, keeps one first-in-first-out lane per [`Priority`]. A place
//! that frees goes to the first call of the highest lane, counted in flight as it is
//! taken from the room (so it is never lost between the two, and never given twice). A
//! full room refuses the newest call of a lower priority than the one arriving, or, if
//! there is none, the one arriving. The waiting counter changes only under the lock.

use std::collections::VecDeque;
use std::task::Waker;

use super::Priority;
use crate::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use crate::sync::{Mutex, MutexGuard};

const ONE_WAITING: u64 = 1 << 32;

fn in_flight(word: u64) -> u32 {
    word as u32
}

fn waiting(word: u64) -> u32 {
    (word >> 32) as u32
}

/// How a waiting call is told its turn has come.
#[derive(Debug)]
pub(crate) enum Notify {
    /// It polls again by itself (the unit tests).
    #[cfg(test)]
    Poll,
    /// An async call: its task's waker.
    Task(Waker),
    /// A sync call parked on its thread.
    Thread(std::thread::Thread),
}

impl Notify {
    fn notify(self) {
        match self {
            #[cfg(test)]
            Notify::Poll => {}
            Notify::Task(waker) => waker.wake(),
            Notify::Thread(thread) => thread.unpark(),
        }
    }
}

/// What became of a waiting call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Decision {
    /// A place was handed to it: it is counted in flight.
    Granted,
    /// The room was full and a call of a higher priority took its seat.
    Displaced,
}

/// A call's entry into the room.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A place was free after all: admitted, with this many in flight.
    Admitted(u32),
    /// Waiting, under this ticket.
    Waiting(u64),
    /// The room is full of calls of its priority or higher.
    Full,
}

struct Waiter {
    ticket: u64,
    notify: Notify,
}

#[derive(Default)]
struct Room {
    next_ticket: u64,
    /// One lane per priority, `Critical` first.
    lanes: [VecDeque<Waiter>; 4],
    /// Tickets decided but not yet collected by their call.
    decided: Vec<(u64, Decision)>,
}

impl Room {
    fn take_decision(&mut self, ticket: u64) -> Option<Decision> {
        let at = self.decided.iter().position(|(t, _)| *t == ticket)?;
        Some(self.decided.swap_remove(at).1)
    }
}

/// The calls in flight, the limit, and the room; see the module.
pub(crate) struct Places {
    word: AtomicU64,
    limit: AtomicU32,
    room: Mutex<Room>,
}

impl core::fmt::Debug for Places {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Places")
            .field("in_flight", &self.in_flight())
            .field("waiting", &self.waiting())
            .field("limit", &self.limit())
            .finish()
    }
}

impl Places {
    pub(crate) fn new(limit: u32) -> Places {
        Places {
            word: AtomicU64::new(0),
            limit: AtomicU32::new(limit.max(1)),
            room: Mutex::new(Room::default()),
        }
    }

    pub(crate) fn in_flight(&self) -> u32 {
        in_flight(self.word.load(Ordering::Relaxed))
    }

    pub(crate) fn waiting(&self) -> u32 {
        waiting(self.word.load(Ordering::Relaxed))
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit.load(Ordering::Relaxed)
    }

    /// A place now, if one is free and nobody waits: the calls in flight with this one.
    #[inline]
    pub(crate) fn try_acquire(&self) -> Option<u32> {
        let limit = self.limit.load(Ordering::Relaxed);
        let mut word = self.word.load(Ordering::Relaxed);
        loop {
            if waiting(word) != 0 || in_flight(word) >= limit {
                return None;
            }
            match self.word.compare_exchange_weak(
                word,
                word + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(in_flight(word) + 1),
                Err(now) => word = now,
            }
        }
    }

    /// A call ends: its place is given back, or handed to the first waiting call.
    #[inline]
    pub(crate) fn release(&self) {
        let before = self.word.fetch_sub(1, Ordering::AcqRel);
        if waiting(before) != 0 {
            self.hand_on();
        }
    }

    /// A new limit; a larger one lets waiting calls in.
    pub(crate) fn set_limit(&self, limit: u32) {
        let before = self.limit.swap(limit.max(1), Ordering::AcqRel);
        if limit > before && self.waiting() != 0 {
            self.hand_on();
        }
    }

    #[cold]
    fn hand_on(&self) {
        let mut room = self.lock();
        self.grant(&mut room);
    }

    /// Gives free places to the first waiting calls, highest priority first.
    fn grant(&self, room: &mut Room) {
        loop {
            let limit = self.limit.load(Ordering::Acquire);
            let word = self.word.load(Ordering::Acquire);
            if waiting(word) == 0 || in_flight(word) >= limit {
                return;
            }
            // The waiting count changes only under this lock: the CAS races only with
            // calls ending (`fetch_sub`); arriving calls fail on `waiting != 0`.
            if self
                .word
                .compare_exchange(
                    word,
                    word + 1 - ONE_WAITING,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                )
                .is_err()
            {
                continue;
            }
            let Some(waiter) = room.lanes.iter_mut().find_map(VecDeque::pop_front) else {
                // Unreachable: the count matches the lanes. Give the place back.
                self.word.fetch_sub(1, Ordering::AcqRel);
                return;
            };
            room.decided.push((waiter.ticket, Decision::Granted));
            waiter.notify.notify();
        }
    }

    /// Enters the room with `priority`, which holds at most `capacity` calls: admitted
    /// if a place is free and nobody waits, else waiting (after displacing the newest
    /// call of a lower priority if the room is full), else refused.
    pub(crate) fn enter(&self, priority: Priority, capacity: u32, notify: Notify) -> Entry {
        let mut room = self.lock();
        if let Some(n) = self.try_acquire() {
            return Entry::Admitted(n);
        }
        if self.waiting() >= capacity {
            let lower = room.lanes[priority.lane() + 1..]
                .iter_mut()
                .rev()
                .find_map(VecDeque::pop_back);
            let Some(displaced) = lower else {
                return Entry::Full;
            };
            room.decided.push((displaced.ticket, Decision::Displaced));
            displaced.notify.notify();
            // One leaves, one enters: the count stays.
        } else {
            self.word.fetch_add(ONE_WAITING, Ordering::AcqRel);
        }
        let ticket = room.next_ticket;
        room.next_ticket += 1;
        room.lanes[priority.lane()].push_back(Waiter { ticket, notify });
        // A call that ended between the failed `try_acquire` and the count above saw
        // nobody waiting and handed nothing on: hand its place on now.
        self.grant(&mut room);
        Entry::Waiting(ticket)
    }

    /// The decision on `ticket`, if there is one (then the ticket is spent); otherwise
    /// `notify` replaces how the call is told.
    pub(crate) fn poll(&self, ticket: u64, notify: Notify) -> Option<Decision> {
        let mut room = self.lock();
        if let Some(decision) = room.take_decision(ticket) {
            return Some(decision);
        }
        if let Some(waiter) = room
            .lanes
            .iter_mut()
            .flat_map(|lane| lane.iter_mut())
            .find(|w| w.ticket == ticket)
        {
            waiter.notify = notify;
        }
        None
    }

    /// The call with `ticket` stops waiting: its decision if one was made (a granted
    /// place is now the caller's), else it leaves the room.
    pub(crate) fn leave(&self, ticket: u64) -> Option<Decision> {
        let mut room = self.lock();
        if let Some(decision) = room.take_decision(ticket) {
            return Some(decision);
        }
        for lane in &mut room.lanes {
            if let Some(at) = lane.iter().position(|w| w.ticket == ticket) {
                lane.remove(at);
                self.word.fetch_sub(ONE_WAITING, Ordering::AcqRel);
                return None;
            }
        }
        None
    }

    fn lock(&self) -> MutexGuard<'_, Room> {
        // The room is whole after any panic (pushes and removals only).
        self.room
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn full(limit: u32) -> Places {
        let p = Places::new(limit);
        for _ in 0..limit {
            assert!(p.try_acquire().is_some());
        }
        p
    }

    fn ticket(entry: Entry) -> u64 {
        match entry {
            Entry::Waiting(t) => t,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_freed_place_goes_to_the_highest_priority_first_come_first_served() {
        let p = full(1);
        let low = ticket(p.enter(Priority::Low, 10, Notify::Poll));
        let normal_1 = ticket(p.enter(Priority::Normal, 10, Notify::Poll));
        let normal_2 = ticket(p.enter(Priority::Normal, 10, Notify::Poll));
        let critical = ticket(p.enter(Priority::Critical, 10, Notify::Poll));
        assert_eq!(p.waiting(), 4);
        assert!(p.try_acquire().is_none(), "nobody passes the waiting calls");
        let order: Vec<u64> = (0..4)
            .map(|_| {
                p.release();
                let winner = [low, normal_1, normal_2, critical]
                    .into_iter()
                    .find(|t| p.poll(*t, Notify::Poll) == Some(Decision::Granted))
                    .expect("one was granted");
                assert_eq!(p.in_flight(), 1);
                winner
            })
            .collect();
        assert_eq!(order, [critical, normal_1, normal_2, low]);
        p.release();
        assert_eq!((p.in_flight(), p.waiting()), (0, 0));
    }

    #[test]
    fn a_full_room_displaces_the_newest_lower_call_or_refuses() {
        let p = full(1);
        let low_1 = ticket(p.enter(Priority::Low, 2, Notify::Poll));
        let low_2 = ticket(p.enter(Priority::Low, 2, Notify::Poll));
        assert_eq!(p.enter(Priority::Low, 2, Notify::Poll), Entry::Full);
        let high = ticket(p.enter(Priority::High, 2, Notify::Poll));
        assert_eq!(p.poll(low_2, Notify::Poll), Some(Decision::Displaced));
        assert_eq!(p.poll(low_1, Notify::Poll), None);
        assert_eq!(p.waiting(), 2);
        let _critical = ticket(p.enter(Priority::Critical, 2, Notify::Poll));
        assert_eq!(p.poll(low_1, Notify::Poll), Some(Decision::Displaced));
        assert_eq!(p.enter(Priority::High, 2, Notify::Poll), Entry::Full);
        p.release();
        assert_eq!(p.poll(high, Notify::Poll), None, "critical came first");
    }

    #[test]
    fn leaving_gives_back_a_granted_place_or_the_seat() {
        let p = full(1);
        let a = ticket(p.enter(Priority::Normal, 4, Notify::Poll));
        let b = ticket(p.enter(Priority::Normal, 4, Notify::Poll));
        assert_eq!(p.leave(b), None);
        assert_eq!(p.waiting(), 1);
        p.release();
        // `a` was granted before it left: the place is its to give back.
        assert_eq!(p.leave(a), Some(Decision::Granted));
        assert_eq!((p.in_flight(), p.waiting()), (1, 0));
        p.release();
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn a_larger_limit_lets_waiting_calls_in_and_a_smaller_one_waits_for_calls_to_end() {
        let p = full(1);
        let a = ticket(p.enter(Priority::Normal, 4, Notify::Poll));
        p.set_limit(2);
        assert_eq!(p.poll(a, Notify::Poll), Some(Decision::Granted));
        assert_eq!(p.in_flight(), 2);
        p.set_limit(1);
        let b = ticket(p.enter(Priority::Normal, 4, Notify::Poll));
        p.release();
        assert_eq!(
            p.poll(b, Notify::Poll),
            None,
            "still one in flight, at the limit"
        );
        p.release();
        assert_eq!(p.poll(b, Notify::Poll), Some(Decision::Granted));
    }
}
