//! Slow start after a circuit breaker closes: the breaker is polled whenever the
//! service's routing is asked, and a close seen after an open (or half-open, or forced
//! open) state starts a traffic ramp.
//!
//! Polling on demand keeps breakers free of callbacks; the price is that an open and a
//! close that both happen between two polls go unseen. Routing is asked on every call,
//! so in practice the open state is seen by the calls it refuses.

use std::sync::Arc;
use std::time::Duration;

use super::ramp::Ramp;
use super::{Breakers, RampConfig};
use crate::breaker::Breaker;
use crate::BreakerState;

pub(crate) struct SlowStart {
    pub(crate) config: RampConfig,
    /// Where the breaker is looked up (the registry the recovery belongs to).
    breakers: Breakers,
    /// Looked up until found, then kept.
    breaker: Option<Arc<Breaker>>,
    last_seen: Option<BreakerState>,
    active: Option<Ramp>,
}

impl core::fmt::Debug for SlowStart {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SlowStart")
            .field("config", &self.config)
            .field("breaker", &self.breaker)
            .field("last_seen", &self.last_seen)
            .field("active", &self.active)
            .finish()
    }
}

/// What a poll saw, for the caller to trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    Started,
    Cancelled(BreakerState),
    Completed,
}

impl SlowStart {
    pub(crate) fn new(config: RampConfig, breakers: Breakers) -> SlowStart {
        SlowStart {
            config,
            breakers,
            breaker: None,
            last_seen: None,
            active: None,
        }
    }

    /// Reads the breaker's state and starts, cancels or finishes the ramp.
    pub(crate) fn poll(&mut self, name: &str, now: Duration) -> Option<Event> {
        if self.breaker.is_none() {
            self.breaker = (self.breakers)(name);
        }
        let state = self.breaker.as_ref()?.state();
        let was = self.last_seen.replace(state);
        let mut event = None;
        if state == BreakerState::Closed {
            let reopened_from = matches!(
                was,
                Some(BreakerState::Open | BreakerState::HalfOpen | BreakerState::ForcedOpen)
            );
            if reopened_from {
                self.active = Some(Ramp::start(self.config.clone(), now));
                event = Some(Event::Started);
            }
        } else if self.active.take().is_some() {
            event = Some(Event::Cancelled(state));
        }
        if self.active.as_ref().is_some_and(|r| r.is_complete(now)) {
            self.active = None;
            event = Some(Event::Completed);
        }
        event
    }

    pub(crate) fn admit(&mut self, now: Duration) -> bool {
        self.active.as_mut().is_none_or(|r| r.admit(now))
    }

    pub(crate) fn percent(&self, now: Duration) -> u8 {
        self.active.as_ref().map_or(100, |r| r.percent(now))
    }

    pub(crate) fn is_ramping(&self) -> bool {
        self.active.is_some()
    }

    pub(crate) fn breaker_state(&self) -> Option<BreakerState> {
        self.last_seen
    }
}
