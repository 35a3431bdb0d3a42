//! [`Permit`]: the right to make one call, and the duty to say how it went.

use core::mem::ManuallyDrop;
use std::sync::Arc;

use super::Breaker;
#[cfg(feature = "metrics")]
use crate::metrics::Outcome;

/// A bit of a permit's modes (beside the rules' bits of `live.rs`, never among them): its
/// call is timed into the call-duration histogram (feature `metrics`,
/// `metrics::time_calls`), from the permit's `start`.
pub(super) const TIMED: u8 = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    /// Admitted by a closed breaker.
    Closed,
    /// A half-open trial: holds one of the `half_open_max_calls` places.
    Trial,
    /// Admitted by a disabled breaker: nothing is recorded.
    Noop,
}

/// Permission for one call through a [`Breaker`], from [`Breaker::acquire`].
///
/// Record the outcome with [`record`](Permit::record),
/// [`record_success`](Permit::record_success) or [`record_failure`](Permit::record_failure).
/// A permit dropped without a record counts as a failure if the thread is panicking (the
/// body panicked; the panic then unwinds on), and otherwise (a cancelled future) counts
/// as nothing but gives a half-open trial place back.
///
/// A permit remembers the generation of the breaker that admitted it: after a reset or
/// any transition, its outcome no longer counts.
///
/// ```
/// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
///
/// let b = Breaker::new("x", BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
/// let outcome: Result<(), &str> = Err("not found");
/// // A "not found" answer means the service is up: not a failure.
/// b.acquire().unwrap().record(&outcome, |e| *e != "not found");
/// assert_eq!(b.state(), BreakerState::Closed);
/// b.acquire().unwrap().record_failure();
/// assert_eq!(b.state(), BreakerState::Open);
/// ```
#[must_use = "a permit records the call's outcome; dropping it records nothing"]
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    kind: Kind,
    gen: u32,
    modes: u8,
    /// When the call started (nanoseconds on the breaker's clock), if slow calls count.
    start: u64,
}

impl<'a> Permit<'a> {
    #[inline]
    pub(super) fn new(breaker: &'a Breaker, kind: Kind, gen: u32, modes: u8, start: u64) -> Self {
        Permit {
            breaker,
            kind,
            gen,
            modes,
            start,
        }
    }

    /// Records a call's result: `Ok` is a success; an error is a failure when
    /// `record_if` says so, and otherwise a success (the service answered).
    ///
    /// If `record_if` panics, the call counts as a failure and the panic goes on.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// let outcome: Result<u8, String> = Err("boom".into());
    /// b.acquire().unwrap().record(&outcome, |_| true);
    /// assert_eq!(b.snapshot().consecutive_failures, 1);
    /// ```
    #[inline]
    pub fn record<T, E>(self, outcome: &Result<T, E>, record_if: impl FnOnce(&E) -> bool) {
        match outcome {
            Ok(_) => self.record_success(),
            Err(e) => self.record_error(e, record_if),
        }
    }

    /// Records a call that returned `error`: a failure when `record_if` says so, and
    /// otherwise a success (the service answered).
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
    /// let b = Breaker::new("x", BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap();
    /// b.acquire().unwrap().record_error(&"not found", |e| *e != "not found");
    /// assert_eq!(b.state(), BreakerState::Closed);
    /// b.acquire().unwrap().record_error(&"down", |_| true);
    /// assert_eq!(b.state(), BreakerState::Open);
    /// ```
    #[inline]
    pub fn record_error<E>(self, error: &E, record_if: impl FnOnce(&E) -> bool) {
        if record_if(error) {
            self.record_failure()
        } else {
            self.record_success()
        }
    }

    /// Records a success.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = Breaker::new("x", Default::default()).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// b.acquire().unwrap().record_success();
    /// assert_eq!(b.snapshot().consecutive_failures, 0);
    /// ```
    // Always inlined with the feature: the timing test alone made LLVM call it out of
    // line (42 instructions more a call through a closed breaker).
    #[cfg_attr(feature = "metrics", inline(always))]
    #[cfg_attr(not(feature = "metrics"), inline)]
    pub fn record_success(self) {
        let this = ManuallyDrop::new(self);
        // Compiled out without the feature: a dead test left here (even behind a `false`
        // const) kept this from being inlined, 38 instructions more a call.
        #[cfg(feature = "metrics")]
        if this.modes & TIMED != 0 {
            this.breaker.call_ended(Outcome::Success, this.start);
        }
        match this.kind {
            Kind::Closed => this
                .breaker
                .closed_success(this.gen, this.modes, this.start),
            Kind::Trial => this.breaker.trial_success(this.gen),
            Kind::Noop => {}
        }
    }

    /// Records a failure.
    ///
    /// ```
    /// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
    /// let b = Breaker::new("x", BreakerConfig { failure_threshold: 2, ..Default::default() }).unwrap();
    /// b.acquire().unwrap().record_failure();
    /// b.acquire().unwrap().record_failure();
    /// assert_eq!(b.state(), BreakerState::Open);
    /// ```
    pub fn record_failure(self) {
        let this = ManuallyDrop::new(self);
        this.fail();
    }

    fn fail(&self) {
        #[cfg(feature = "metrics")]
        if self.modes & TIMED != 0 {
            self.breaker.call_ended(Outcome::Failure, self.start);
        }
        match self.kind {
            Kind::Closed => self
                .breaker
                .closed_failure(self.gen, self.modes, self.start),
            Kind::Trial => self.breaker.trial_failure(self.gen),
            Kind::Noop => {}
        }
    }

    /// Whether this permit is a half-open trial call.
    ///
    /// ```
    /// let b = resilience::breaker::Breaker::new("x", Default::default()).unwrap();
    /// assert!(!b.acquire().unwrap().is_trial());
    /// ```
    pub fn is_trial(&self) -> bool {
        self.kind == Kind::Trial
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.fail();
        } else if self.kind == Kind::Trial {
            self.breaker.trial_abandoned(self.gen);
        }
    }
}

/// A [`Permit`] that keeps its breaker alive: from [`Breaker::acquire_owned`], for a
/// breaker held by an `Arc` (a keyed instance the registry may evict) when the permit
/// must outlive the borrow, as in a tower response future. It records and drops as a
/// [`Permit`] does; it costs a reference count more.
///
/// ```
/// use resilience::{breaker::Breaker, BreakerConfig, BreakerState};
/// use std::sync::Arc;
///
/// let b = Arc::new(Breaker::new("x", BreakerConfig { failure_threshold: 1, ..Default::default() }).unwrap());
/// let permit = b.acquire_owned().unwrap();
/// permit.record_failure();
/// assert_eq!(b.state(), BreakerState::Open);
/// ```
#[must_use = "a permit records the call's outcome; dropping it records nothing"]
#[derive(Debug)]
pub struct OwnedPermit {
    breaker: Arc<Breaker>,
    /// The permit's parts; `None` once recorded.
    parts: Option<(Kind, u32, u8, u64)>,
}

impl OwnedPermit {
    fn permit(&mut self) -> Option<Permit<'_>> {
        let (kind, gen, modes, start) = self.parts.take()?;
        Some(Permit::new(&self.breaker, kind, gen, modes, start))
    }

    /// Records a success ([`Permit::record_success`]).
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = std::sync::Arc::new(Breaker::new("x", Default::default()).unwrap());
    /// b.acquire().unwrap().record_failure();
    /// b.acquire_owned().unwrap().record_success();
    /// assert_eq!(b.snapshot().consecutive_failures, 0);
    /// ```
    #[inline]
    pub fn record_success(mut self) {
        if let Some(permit) = self.permit() {
            permit.record_success();
        }
    }

    /// Records a failure ([`Permit::record_failure`]).
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = std::sync::Arc::new(Breaker::new("x", Default::default()).unwrap());
    /// b.acquire_owned().unwrap().record_failure();
    /// assert_eq!(b.snapshot().consecutive_failures, 1);
    /// ```
    pub fn record_failure(mut self) {
        if let Some(permit) = self.permit() {
            permit.record_failure();
        }
    }

    /// The breaker that admitted the call.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = std::sync::Arc::new(Breaker::new("x", Default::default()).unwrap());
    /// assert_eq!(b.acquire_owned().unwrap().breaker().name(), "x");
    /// ```
    pub fn breaker(&self) -> &Arc<Breaker> {
        &self.breaker
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        // Dropped unrecorded: as a `Permit` dropped (a failure while panicking, else a
        // half-open trial place given back).
        drop(self.permit());
    }
}

impl Breaker {
    /// [`acquire`](Breaker::acquire), with a permit that holds a reference count on the
    /// breaker instead of a borrow.
    ///
    /// ```
    /// use resilience::breaker::Breaker;
    /// let b = std::sync::Arc::new(Breaker::new("x", Default::default()).unwrap());
    /// let permit = b.acquire_owned().unwrap();
    /// drop(b); // the permit keeps the breaker alive
    /// permit.record_success();
    /// ```
    pub fn acquire_owned(self: &Arc<Self>) -> Result<OwnedPermit, crate::CircuitOpen> {
        let permit = ManuallyDrop::new(self.acquire()?);
        Ok(OwnedPermit {
            breaker: self.clone(),
            parts: Some((permit.kind, permit.gen, permit.modes, permit.start)),
        })
    }
}
