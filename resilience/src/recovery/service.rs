//! One service: its state machine, its optional slow start, and the tracing of both.
//!
//! A healthy service that no slow start watches is routed to after one atomic load;
//! the lock is taken only while its traffic is limited.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::slow_start::{Event, SlowStart};
use super::snapshot::{ServiceSnapshot, SlowStartSnapshot};
use super::state::{Machine, Transition};
use super::{RampConfig, RecoveryConfig, RecoveryState};

pub(crate) struct Service {
    name: Arc<str>,
    machine: Mutex<Machine>,
    /// Mirrors `Machine::routes_all`, so routing a healthy service takes no lock.
    routes_all: AtomicBool,
    slow: Mutex<Option<SlowStart>>,
    watching: AtomicBool,
}

impl Service {
    pub(crate) fn new(name: Arc<str>, now: Duration) -> Service {
        Service {
            name,
            machine: Mutex::new(Machine::new(RecoveryConfig::default(), now)),
            routes_all: AtomicBool::new(true),
            slow: Mutex::new(None),
            watching: AtomicBool::new(false),
        }
    }

    fn machine(&self) -> MutexGuard<'_, Machine> {
        // The machine is updated by small steps that leave it valid; a panic elsewhere
        // while the lock was held does not make it unusable.
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn slow(&self) -> MutexGuard<'_, Option<SlowStart>> {
        self.slow.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn configure(&self, config: RecoveryConfig) {
        self.machine().config = config;
    }

    pub(crate) fn slow_start(&self, config: RampConfig, breakers: &super::Breakers) {
        let mut slow = self.slow();
        match slow.as_mut() {
            Some(s) => s.config = config,
            None => *slow = Some(SlowStart::new(config, breakers.clone())),
        }
        self.watching.store(true, Ordering::Release);
    }

    pub(crate) fn state(&self, now: Duration) -> RecoveryState {
        let mut m = self.machine();
        let t = m.tick(now);
        self.settle(&m, t);
        m.state
    }

    pub(crate) fn report_success(&self, now: Duration) {
        let mut m = self.machine();
        let t = m.on_success(now);
        self.settle(&m, t);
    }

    pub(crate) fn report_failure(&self, now: Duration, error: String) {
        let mut m = self.machine();
        let t = m.on_failure(now, error);
        self.settle(&m, t);
    }

    pub(crate) fn should_route(&self, now: Duration) -> bool {
        let admitted = if self.routes_all.load(Ordering::Acquire) {
            true
        } else {
            let mut m = self.machine();
            let (admitted, t, stepped) = m.admit(now);
            if let Some(percent) = stepped {
                tracing::info!(target: "resilience::recovery", service = %self.name, percent, "traffic ramp stepped up");
            }
            self.settle(&m, t);
            admitted
        };
        if !self.watching.load(Ordering::Acquire) {
            return admitted;
        }
        let mut slow = self.slow();
        let Some(s) = slow.as_mut() else {
            return admitted;
        };
        self.trace_slow(s.poll(&self.name, now), s, now);
        // Counted only for calls the state machine let through, so a slow start alone
        // admits its exact fraction.
        admitted && s.admit(now)
    }

    pub(crate) fn percent(&self, now: Duration) -> u8 {
        let own = {
            let mut m = self.machine();
            let t = m.tick(now);
            self.settle(&m, t);
            m.percent(now)
        };
        if !self.watching.load(Ordering::Acquire) {
            return own;
        }
        let mut slow = self.slow();
        let Some(s) = slow.as_mut() else { return own };
        self.trace_slow(s.poll(&self.name, now), s, now);
        let combined = u16::from(own) * u16::from(s.percent(now)) / 100;
        u8::try_from(combined).unwrap_or(100)
    }

    pub(crate) fn snapshot(&self, now: Duration) -> ServiceSnapshot {
        let slow_start = {
            let mut slow = self.slow();
            slow.as_mut().map(|s| {
                self.trace_slow(s.poll(&self.name, now), s, now);
                SlowStartSnapshot {
                    breaker_state: s.breaker_state(),
                    ramping: s.is_ramping(),
                    traffic_percent: s.percent(now),
                    ramp: s.config.clone(),
                }
            })
        };
        let mut m = self.machine();
        let t = m.tick(now);
        self.settle(&m, t);
        ServiceSnapshot {
            name: self.name.to_string(),
            state: m.state,
            traffic_percent: m.percent(now),
            consecutive_successes: m.successes,
            consecutive_failures: m.failures,
            last_error: m.last_error.clone(),
            in_state_for: now.saturating_sub(m.since),
            ramp_elapsed: m.ramp_elapsed(now),
            slow_start,
            config: m.config.clone(),
        }
    }

    /// Publishes the machine's routing shortcut and traces a transition.
    fn settle(&self, m: &Machine, t: Option<Transition>) {
        self.routes_all.store(m.routes_all(), Ordering::Release);
        let Some(Transition { from, to }) = t else {
            return;
        };
        let name = &*self.name;
        let error = m.last_error.as_deref().unwrap_or("");
        let percent = m.percent(m.since);
        match to {
            RecoveryState::Healthy => {
                tracing::info!(target: "resilience::recovery", service = name, %from, %to, "service healthy")
            }
            RecoveryState::Recovering => tracing::info!(
                target: "resilience::recovery", service = name, %from, %to, percent, "service recovering; ramping traffic"
            ),
            RecoveryState::Degraded => tracing::warn!(
                target: "resilience::recovery", service = name, %from, %to, percent, error, "service degraded"
            ),
            RecoveryState::Failed => tracing::error!(
                target: "resilience::recovery", service = name, %from, %to, error, "service failed; no traffic"
            ),
        }
    }

    fn trace_slow(&self, event: Option<Event>, s: &SlowStart, now: Duration) {
        let name = &*self.name;
        match event {
            Some(Event::Started) => tracing::info!(
                target: "resilience::recovery", service = name, percent = s.percent(now), "breaker closed; slow start begins"
            ),
            Some(Event::Cancelled(state)) => tracing::warn!(
                target: "resilience::recovery", service = name, breaker_state = %state, "breaker left closed; slow start cancelled"
            ),
            Some(Event::Completed) => {
                tracing::info!(target: "resilience::recovery", service = name, "slow start complete")
            }
            None => {}
        }
    }
}
