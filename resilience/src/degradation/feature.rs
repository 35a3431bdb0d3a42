//! One feature's shared state ([`Entry`]) and the typed handle on it ([`Feature`]).
//!
//! The switch is one atomic byte, so checking it is one load; only the fallback value
//! sits behind a lock, taken on the cold paths (a disabled feature, registration).

use std::any::Any;
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, RwLock};

use super::snapshot::FeatureSnapshot;
use super::{DisabledBy, FeatureConfig};
// std atomics, not `crate::sync`: no loom model covers the switches, and loom atomics
// panic when used outside one.
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

const ON: u8 = 0;
const OFF_MANUAL: u8 = 1;
const OFF_FAILURES: u8 = 2;

type Fallback = Arc<dyn Any + Send + Sync>;

/// A feature's switch, counts, configuration and fallback, shared by every handle.
pub(crate) struct Entry {
    name: Arc<str>,
    switch: AtomicU8,
    failures: AtomicU32,
    threshold: AtomicU32,
    fallback: RwLock<Option<(Fallback, &'static str)>>,
}

impl Entry {
    pub(crate) fn new(name: Arc<str>) -> Entry {
        Entry {
            name,
            switch: AtomicU8::new(ON),
            failures: AtomicU32::new(0),
            threshold: AtomicU32::new(FeatureConfig::default().failure_threshold),
            fallback: RwLock::new(None),
        }
    }

    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    #[inline]
    pub(crate) fn is_enabled(&self) -> bool {
        self.switch.load(Ordering::Acquire) == ON
    }

    pub(crate) fn disabled_by(&self) -> Option<DisabledBy> {
        match self.switch.load(Ordering::Acquire) {
            OFF_MANUAL => Some(DisabledBy::Manual),
            OFF_FAILURES => Some(DisabledBy::Failures),
            _ => None,
        }
    }

    pub(crate) fn set_config(&self, config: FeatureConfig) {
        self.threshold
            .store(config.failure_threshold, Ordering::Release);
    }

    pub(crate) fn set_fallback<T: Clone + Send + Sync + 'static>(&self, value: T) {
        let value: Fallback = Arc::new(value);
        *self
            .fallback
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some((value, core::any::type_name::<T>()));
    }

    pub(crate) fn fallback<T: Clone + 'static>(&self) -> Option<T> {
        let guard = self.fallback.read().unwrap_or_else(PoisonError::into_inner);
        guard
            .as_ref()
            .and_then(|(value, _)| value.downcast_ref::<T>())
            .cloned()
    }

    pub(crate) fn fallback_type(&self) -> Option<&'static str> {
        self.fallback
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|(_, t)| *t)
    }

    pub(crate) fn disable(&self) {
        let was = self.switch.swap(OFF_MANUAL, Ordering::AcqRel);
        if was != OFF_MANUAL {
            tracing::warn!(target: "resilience::degradation", feature = %self.name, "feature disabled by hand");
        }
    }

    pub(crate) fn enable(&self) {
        let was = self.switch.swap(ON, Ordering::AcqRel);
        self.failures.store(0, Ordering::Release);
        if was != ON {
            tracing::info!(target: "resilience::degradation", feature = %self.name, "feature enabled");
        }
    }

    pub(crate) fn report_failure(&self) {
        let failures = self
            .failures
            .fetch_add(1, Ordering::AcqRel)
            .saturating_add(1);
        if failures < self.threshold.load(Ordering::Acquire) {
            return;
        }
        // Only an enabled feature switches itself off: one switched off by hand stays
        // that way, so `disabled_by` keeps saying who did it.
        if self
            .switch
            .compare_exchange(ON, OFF_FAILURES, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            tracing::warn!(
                target: "resilience::degradation",
                feature = %self.name,
                failures,
                "feature disabled after consecutive failures"
            );
        }
    }

    #[inline]
    pub(crate) fn report_success(&self) {
        // Read first so that a run of successes writes nothing to the shared line.
        if self.failures.load(Ordering::Relaxed) != 0 {
            self.failures.store(0, Ordering::Release);
        }
    }

    pub(crate) fn snapshot(&self) -> FeatureSnapshot {
        FeatureSnapshot {
            name: self.name.to_string(),
            enabled: self.is_enabled(),
            disabled_by: self.disabled_by(),
            failures: self.failures.load(Ordering::Acquire),
            failure_threshold: self.threshold.load(Ordering::Acquire),
            fallback_type: self.fallback_type().map(str::to_owned),
        }
    }
}

/// A handle on one feature, reading its fallback as `T`. Cheap to clone; every handle
/// on a name shares its switch, and [`is_enabled`](Feature::is_enabled) is one atomic
/// load.
///
/// ```
/// use resilience::degradation::Degradation;
///
/// let d = Degradation::new();
/// let thumbnails = d.register("thumbnails", None::<Vec<u8>>);
///
/// let render = |ok: bool| thumbnails.call(|| if ok { Ok(Some(vec![1, 2])) } else { Err("timeout") });
/// assert_eq!(render(true), Ok(Some(vec![1, 2])));
/// for _ in 0..3 {
///     assert_eq!(render(false), Err("timeout"));
/// }
/// assert_eq!(render(true), Ok(None)); // switched off: the fallback, without running
/// ```
pub struct Feature<T> {
    entry: Arc<Entry>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Feature<T> {
    fn clone(&self) -> Self {
        Feature {
            entry: self.entry.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> core::fmt::Debug for Feature<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Feature")
            .field("name", &self.entry.name())
            .field("enabled", &self.entry.is_enabled())
            .finish()
    }
}

impl<T: Clone + 'static> Feature<T> {
    pub(crate) fn new(entry: Arc<Entry>) -> Feature<T> {
        Feature {
            entry,
            _type: PhantomData,
        }
    }

    /// The feature's name.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// assert_eq!(d.register("maps", 0_u8).name(), "maps");
    /// ```
    pub fn name(&self) -> &str {
        self.entry.name()
    }

    /// Whether the feature is on: one atomic load.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// let f = d.register("maps", 0_u8);
    /// assert!(f.is_enabled());
    /// d.disable("maps");
    /// assert!(!f.is_enabled());
    /// ```
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.entry.is_enabled()
    }

    /// Why the feature is off, or `None` if it is on.
    ///
    /// ```
    /// use resilience::degradation::{Degradation, DisabledBy};
    /// let f = Degradation::new().register("maps", 0_u8);
    /// f.disable();
    /// assert_eq!(f.disabled_by(), Some(DisabledBy::Manual));
    /// ```
    pub fn disabled_by(&self) -> Option<DisabledBy> {
        self.entry.disabled_by()
    }

    /// The fallback value; `None` if the feature was last registered with another type
    /// (or not registered yet).
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("greeting", "hello");
    /// assert_eq!(f.fallback(), Some("hello"));
    /// ```
    pub fn fallback(&self) -> Option<T> {
        self.entry.fallback::<T>()
    }

    /// Switches the feature off by hand.
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", ());
    /// f.disable();
    /// assert!(!f.is_enabled());
    /// ```
    pub fn disable(&self) {
        self.entry.disable();
    }

    /// Switches the feature on and clears its failure count.
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", ());
    /// f.disable();
    /// f.enable();
    /// assert!(f.is_enabled());
    /// ```
    pub fn enable(&self) {
        self.entry.enable();
    }

    /// Counts a failure; the one that reaches the threshold switches the feature off.
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", ());
    /// (0..3).for_each(|_| f.report_failure());
    /// assert!(!f.is_enabled());
    /// ```
    pub fn report_failure(&self) {
        self.entry.report_failure();
    }

    /// Counts a success: the run of failures starts again from zero.
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", ());
    /// f.report_failure();
    /// f.report_failure();
    /// f.report_success();
    /// f.report_failure();
    /// assert!(f.is_enabled());
    /// ```
    pub fn report_success(&self) {
        self.entry.report_success();
    }

    /// Counts `outcome`: `Ok` as a success, `Err` as a failure.
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", ());
    /// for _ in 0..3 {
    ///     f.report(&Err::<(), _>("down"));
    /// }
    /// assert!(!f.is_enabled());
    /// ```
    pub fn report<U, E>(&self, outcome: &Result<U, E>) {
        match outcome {
            Ok(_) => self.report_success(),
            Err(_) => self.report_failure(),
        }
    }

    /// Runs `f` if the feature is on and counts its outcome; if it is off, returns
    /// `Ok(fallback)` without running `f` (or runs `f` anyway when there is no fallback
    /// of type `T`, since there is nothing else to return).
    ///
    /// ```
    /// let f = resilience::degradation::Degradation::new().register("x", 0_u32);
    /// f.disable();
    /// let mut ran = false;
    /// assert_eq!(f.call(|| { ran = true; Ok::<_, ()>(5) }), Ok(0));
    /// assert!(!ran);
    /// ```
    pub fn call<E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, E> {
        if let Some(value) = self.fallback_if_disabled() {
            return Ok(value);
        }
        let outcome = f();
        self.report(&outcome);
        outcome
    }

    /// [`call`](Feature::call) for a future: awaits `fut` if the feature is on (and
    /// counts its outcome), or returns the fallback without polling it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let f = resilience::degradation::Degradation::new().register("x", 0_u32);
    /// assert_eq!(f.call_async(async { Ok::<_, ()>(5) }).await, Ok(5));
    /// f.disable();
    /// assert_eq!(f.call_async(async { Ok::<_, ()>(5) }).await, Ok(0));
    /// # }
    /// ```
    pub async fn call_async<E>(
        &self,
        fut: impl core::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        if let Some(value) = self.fallback_if_disabled() {
            return Ok(value);
        }
        let outcome = fut.await;
        self.report(&outcome);
        outcome
    }

    #[inline]
    fn fallback_if_disabled(&self) -> Option<T> {
        if self.is_enabled() {
            None
        } else {
            self.fallback()
        }
    }
}
