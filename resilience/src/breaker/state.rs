//! [`BreakerState`], and the packed words of a breaker: the one 64-bit word that holds its
//! whole state machine, the deadline word of an open breaker, and [`Admit`], an
//! admission's decision.
//!
//! Every transition is one compare-and-swap of that word, so no transition can be lost
//! or half-applied, and every permit remembers the generation it was admitted in: an
//! outcome from an older generation (before a reset, a re-open, a close) is ignored
//! rather than corrupting the new one.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::permit::Kind;
use crate::clock::duration_nanos;

/// Where a breaker is in its state machine.
///
/// ```
/// use resilience::{BreakerConfig, BreakerState};
/// use resilience::breaker::Breaker;
///
/// let b = Breaker::new("docs.state", BreakerConfig::default()).unwrap();
/// assert_eq!(b.state(), BreakerState::Closed);
/// b.force_open();
/// assert_eq!(b.state(), BreakerState::ForcedOpen);
/// assert_eq!(serde_json::to_value(b.state()).unwrap(), "forced_open");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls go through; failures are counted.
    Closed,
    /// Calls are refused until the recovery timeout has passed.
    Open,
    /// A few trial calls go through; their outcome closes or re-opens the breaker.
    HalfOpen,
    /// Opened by hand: calls are refused until [`reset`](super::Breaker::reset).
    ForcedOpen,
    /// Switched off by hand: every call goes through and nothing is recorded.
    Disabled,
}

impl BreakerState {
    /// Every state, in declaration order.
    pub const ALL: [BreakerState; 5] = [
        BreakerState::Closed,
        BreakerState::Open,
        BreakerState::HalfOpen,
        BreakerState::ForcedOpen,
        BreakerState::Disabled,
    ];

    /// The state's name as serialized (`"half_open"`).
    ///
    /// ```
    /// assert_eq!(resilience::BreakerState::HalfOpen.as_str(), "half_open");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
            BreakerState::ForcedOpen => "forced_open",
            BreakerState::Disabled => "disabled",
        }
    }

    /// The state's bits in the state word (and in a refusal's `Admit`).
    pub(super) const fn bits(self) -> u64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
            BreakerState::ForcedOpen => 3,
            BreakerState::Disabled => 4,
        }
    }
}

impl core::fmt::Display for BreakerState {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

// Layout of the word, low bits first:
//   [0, 3)   state
//   [3, 24)  count: consecutive failures when closed, trial successes when half-open
//   [24, 40) trial calls in flight when half-open
//   [40, 64) generation, bumped by every transition (wraps after 16M transitions)
const STATE_MASK: u64 = 0b111;
const COUNT_SHIFT: u32 = 3;
const COUNT_MASK: u64 = (1 << 21) - 1;
const FLIGHT_SHIFT: u32 = 24;
const FLIGHT_MASK: u64 = (1 << 16) - 1;
const GEN_SHIFT: u32 = 40;
pub(super) const GEN_MASK: u64 = (1 << 24) - 1;

/// A decoded view of the state word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Word(pub(super) u64);

impl Word {
    pub(super) const CLOSED_BITS: u64 = 0;

    #[inline]
    pub(super) fn new(state: BreakerState, gen: u32, count: u32, in_flight: u32) -> Word {
        Word(
            state.bits()
                | ((u64::from(count) & COUNT_MASK) << COUNT_SHIFT)
                | ((u64::from(in_flight) & FLIGHT_MASK) << FLIGHT_SHIFT)
                | ((u64::from(gen) & GEN_MASK) << GEN_SHIFT),
        )
    }

    /// The raw state bits, for the hot path's single comparison.
    #[inline]
    pub(super) fn state_bits(self) -> u64 {
        self.0 & STATE_MASK
    }

    pub(super) fn state(self) -> BreakerState {
        match self.0 & STATE_MASK {
            0 => BreakerState::Closed,
            1 => BreakerState::Open,
            2 => BreakerState::HalfOpen,
            3 => BreakerState::ForcedOpen,
            // 4 is the only other value ever stored.
            _ => BreakerState::Disabled,
        }
    }

    #[inline]
    pub(super) fn count(self) -> u32 {
        ((self.0 >> COUNT_SHIFT) & COUNT_MASK) as u32
    }

    pub(super) fn in_flight(self) -> u32 {
        ((self.0 >> FLIGHT_SHIFT) & FLIGHT_MASK) as u32
    }

    #[inline]
    pub(super) fn gen(self) -> u32 {
        (self.0 >> GEN_SHIFT) as u32
    }

    pub(super) fn next_gen(self) -> u32 {
        (self.gen().wrapping_add(1)) & GEN_MASK as u32
    }

    /// The same state and generation with another count (saturating at the field's max).
    pub(super) fn with_count(self, count: u32) -> Word {
        let count = u64::from(count).min(COUNT_MASK);
        Word((self.0 & !(COUNT_MASK << COUNT_SHIFT)) | (count << COUNT_SHIFT))
    }

    pub(super) fn with_in_flight(self, in_flight: u32) -> Word {
        let n = u64::from(in_flight).min(FLIGHT_MASK);
        Word((self.0 & !(FLIGHT_MASK << FLIGHT_SHIFT)) | (n << FLIGHT_SHIFT))
    }
}

/// The deadline word (`Hot::deadline`): milliseconds in the high 40 bits, the generation in the low 24.
pub(super) const DEADLINE_SHIFT: u32 = 24;
pub(super) const MAX_DEADLINE_MS: u64 = (1 << 40) - 1;
/// The strikes word (`Hot::strikes`) has the deadline word's shape: the half-open trials
/// that failed in a row before an open period, in the high 40 bits, and that period's
/// generation in the low 24.
pub(super) const MAX_STRIKES: u64 = (1 << 40) - 1;

/// The value of a word shaped as the deadline word, if it is tagged with `gen`.
pub(super) fn tagged(word: u64, gen: u32) -> Option<u64> {
    ((word & GEN_MASK) == u64::from(gen) & GEN_MASK).then_some(word >> DEADLINE_SHIFT)
}

/// What an admission decided, before it becomes a [`Permit`](super::Permit) or a [`CircuitOpen`](super::CircuitOpen): two
/// words, so it comes back from the out-of-line slow path in two registers, and the
/// refusal is built in the inlined [`Breaker::acquire`](super::Breaker::acquire), in the caller's own slot.
#[derive(Clone, Copy)]
pub(super) struct Admit {
    /// For a permit: when the call started, if slow calls are timed. For a refusal: the
    /// time left in nanoseconds plus one, zero when no time is scheduled.
    pub(super) value: u64,
    /// Low to high bytes: the permit's kind (`REFUSED` for a refusal), its modes, the
    /// refusing breaker's state, how many parent links up that breaker is, and in the
    /// high half the permit's generation.
    meta: u64,
}

impl Admit {
    const REFUSED: u8 = 0xff;

    #[inline]
    pub(super) fn permit(kind: Kind, gen: u32, modes: u8, start: u64) -> Admit {
        Admit {
            value: start,
            meta: u64::from(kind as u8) | u64::from(modes) << 8 | u64::from(gen) << 32,
        }
    }

    pub(super) fn refusal(state: BreakerState, retry_after: Option<Duration>, depth: u8) -> Admit {
        Admit {
            value: retry_after.map_or(0, |d| duration_nanos(d).saturating_add(1)),
            meta: u64::from(Admit::REFUSED) | state.bits() << 16 | u64::from(depth) << 24,
        }
    }

    /// [`refusal`](Self::refusal) with a `retry_after` of `nanos`.
    #[inline]
    pub(super) fn refusal_nanos(state: BreakerState, nanos: u64, depth: u8) -> Admit {
        Admit {
            value: nanos.saturating_add(1),
            meta: u64::from(Admit::REFUSED) | state.bits() << 16 | u64::from(depth) << 24,
        }
    }

    #[inline]
    pub(super) fn kind(self) -> Option<Kind> {
        match self.meta as u8 {
            k if k == Kind::Closed as u8 => Some(Kind::Closed),
            k if k == Kind::Trial as u8 => Some(Kind::Trial),
            k if k == Kind::Noop as u8 => Some(Kind::Noop),
            _ => None,
        }
    }

    #[inline]
    pub(super) fn modes(self) -> u8 {
        (self.meta >> 8) as u8
    }

    #[inline]
    pub(super) fn state(self) -> BreakerState {
        // Decoded as the state word decodes the same bits.
        Word((self.meta >> 16) & 0xff).state()
    }

    #[inline]
    pub(super) fn depth(self) -> u8 {
        (self.meta >> 24) as u8
    }

    #[inline]
    pub(super) fn gen(self) -> u32 {
        (self.meta >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_stay_apart() {
        for state in BreakerState::ALL {
            let w = Word::new(state, GEN_MASK as u32, 1_000_000, 65_535);
            assert_eq!(w.state(), state);
            assert_eq!(w.gen(), GEN_MASK as u32);
            assert_eq!(w.count(), 1_000_000);
            assert_eq!(w.in_flight(), 65_535);
            assert_eq!(w.next_gen(), 0);
            let w = w.with_count(7).with_in_flight(3);
            assert_eq!((w.state(), w.count(), w.in_flight()), (state, 7, 3));
        }
        assert_eq!(
            Word::new(BreakerState::Closed, 9, 0, 0).state_bits(),
            Word::CLOSED_BITS
        );
    }

    #[test]
    fn a_tagged_value_is_read_only_for_its_generation() {
        let word = (50 << DEADLINE_SHIFT) | 7;
        assert_eq!(tagged(word, 7), Some(50));
        assert_eq!(tagged(word, 8), None);
        assert_eq!(tagged(GEN_MASK, GEN_MASK as u32), Some(0));
    }
}
