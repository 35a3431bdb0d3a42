//! [`Bulkhead`]: the count of calls in flight, and the waiters for a place.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use super::{BulkheadConfig, BulkheadFull, BulkheadSnapshot};
use crate::events::Sink;
use crate::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use crate::ConfigError;

/// At most `max_concurrent` calls at once; the others wait up to `max_wait`, then are
/// refused.
///
/// An admitted call costs one compare-and-swap on the count and one decrement when its
/// [`BulkheadPermit`] drops: no lock, no allocation. Waiting takes a lock (a sync call
/// parks on a condition variable with a deadline; an async one registers its waker), and
/// a place given back wakes every waiter to try again, so waiters are not served in order.
///
/// ```
/// use resilience::{bulkhead::Bulkhead, BulkheadConfig};
///
/// let b = Bulkhead::new("db", BulkheadConfig { max_concurrent: 2, ..Default::default() })?;
/// let (p1, p2) = (b.try_acquire().unwrap(), b.try_acquire().unwrap());
/// assert_eq!(b.in_flight(), 2);
/// let full = b.acquire_blocking().unwrap_err();
/// assert_eq!(full.max_concurrent, 2);
/// drop((p1, p2));
/// assert_eq!(b.in_flight(), 0);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub struct Bulkhead {
    in_flight: AtomicU32,
    max_concurrent: AtomicU32,
    max_wait: AtomicU64,
    /// Callers waiting (or about to): a release locks `waiters` only when this is not 0.
    waiting: AtomicU32,
    rejections: AtomicU64,
    /// At most one WARN a second for its refusals.
    warn: crate::refusals::RefusalWarn,
    /// Its refusals' counter (feature `metrics`), labelled with its name and key.
    rejected: crate::metrics::InstanceCounter,
    waiters: Mutex<Waiters>,
    wakeup: Condvar,
    /// The bound of the name's keyed store, kept so `config` gives the whole configuration.
    max_keys: AtomicUsize,
    name: &'static str,
    key: Option<Arc<str>>,
    /// Its registry's event stream (none outside a registry).
    events: Sink,
}

#[derive(Default)]
struct Waiters {
    next_id: u64,
    tasks: Vec<(u64, Waker)>,
}

impl core::fmt::Debug for Bulkhead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Bulkhead")
            .field("name", &self.name)
            .field("key", &self.key)
            .field("in_flight", &self.in_flight())
            .field(
                "max_concurrent",
                &self.max_concurrent.load(Ordering::Relaxed),
            )
            .finish_non_exhaustive()
    }
}

impl Bulkhead {
    /// An empty bulkhead named `name`; `config` is validated.
    ///
    /// ```
    /// use resilience::{bulkhead::Bulkhead, BulkheadConfig};
    /// let err = Bulkhead::new("x", BulkheadConfig { max_concurrent: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!(err.field(), "max_concurrent");
    /// ```
    pub fn new(name: impl AsRef<str>, config: BulkheadConfig) -> Result<Bulkhead, ConfigError> {
        config.validate()?;
        Ok(Bulkhead::build(
            crate::names::intern(name.as_ref()),
            None,
            &config,
        ))
    }

    /// `config` must have been validated.
    pub(crate) fn build(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &BulkheadConfig,
    ) -> Bulkhead {
        Bulkhead {
            in_flight: AtomicU32::new(0),
            max_concurrent: AtomicU32::new(config.max_concurrent),
            max_wait: AtomicU64::new(crate::clock::duration_nanos(config.max_wait)),
            waiting: AtomicU32::new(0),
            rejections: AtomicU64::new(0),
            warn: crate::refusals::RefusalWarn::new(),
            rejected: crate::metrics::bulkhead_rejections(name, key.as_ref()),
            waiters: Mutex::new(Waiters::default()),
            wakeup: Condvar::new(),
            max_keys: AtomicUsize::new(config.max_keys),
            name,
            key,
            events: Sink::NONE,
        }
    }

    /// The same bulkhead, sending its events through `events` (its registry's stream).
    pub(crate) fn with_events(mut self, events: Sink) -> Bulkhead {
        self.events = events;
        self
    }

    /// The bulkhead's name.
    ///
    /// ```
    /// let b = resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap();
    /// assert_eq!(b.name(), "db");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Its key, for one instance of a bulkhead with `key = expr`.
    ///
    /// ```
    /// assert_eq!(resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap().key(), None);
    /// ```
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// No call running, waiting or about to wait.
    pub(super) fn is_empty(&self) -> bool {
        self.in_flight.load(Ordering::SeqCst) == 0 && self.waiting.load(Ordering::SeqCst) == 0
    }

    /// Calls running now.
    ///
    /// ```
    /// assert_eq!(resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap().in_flight(), 0);
    /// ```
    pub fn in_flight(&self) -> u32 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// The configuration in force.
    ///
    /// ```
    /// let b = resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap();
    /// assert_eq!(b.config(), resilience::BulkheadConfig::default());
    /// ```
    pub fn config(&self) -> BulkheadConfig {
        BulkheadConfig {
            max_concurrent: self.max_concurrent.load(Ordering::Relaxed),
            max_wait: self.max_wait(),
            max_keys: self.max_keys.load(Ordering::Relaxed),
        }
    }

    /// Applies `config` at once: a larger limit lets waiters in, a smaller one lets the
    /// calls running finish and admits new ones as the count falls below it.
    ///
    /// ```
    /// use resilience::{bulkhead::Bulkhead, BulkheadConfig};
    /// let b = Bulkhead::new("db", BulkheadConfig { max_concurrent: 1, ..Default::default() })?;
    /// let _p = b.try_acquire().unwrap();
    /// b.configure(BulkheadConfig { max_concurrent: 2, ..Default::default() })?;
    /// assert!(b.try_acquire().is_some());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: BulkheadConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.apply(&config);
        Ok(())
    }

    pub(crate) fn apply(&self, config: &BulkheadConfig) {
        self.max_keys.store(config.max_keys, Ordering::Relaxed);
        self.max_wait.store(
            crate::clock::duration_nanos(config.max_wait),
            Ordering::Relaxed,
        );
        self.max_concurrent
            .store(config.max_concurrent, Ordering::SeqCst);
        self.wake_all();
    }

    fn max_wait(&self) -> Duration {
        Duration::from_nanos(self.max_wait.load(Ordering::Relaxed))
    }

    /// A place if one is free now; never waits.
    ///
    /// ```
    /// let b = resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap();
    /// let permit = b.try_acquire().unwrap();
    /// assert_eq!(b.in_flight(), 1);
    /// drop(permit);
    /// assert_eq!(b.in_flight(), 0);
    /// ```
    #[inline]
    pub fn try_acquire(&self) -> Option<BulkheadPermit<'_>> {
        // Hot path: one load of the limit, one CAS on the count; no lock.
        let max = self.max_concurrent.load(Ordering::Relaxed);
        let mut current = self.in_flight.load(Ordering::Relaxed);
        loop {
            if current >= max {
                return None;
            }
            match self.in_flight.compare_exchange_weak(
                current,
                current + 1,
                Ordering::SeqCst,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Some(BulkheadPermit { bulkhead: self }),
                Err(now) => current = now,
            }
        }
    }

    /// A place, waiting on this thread up to `max_wait` for one; then `Err(BulkheadFull)`.
    ///
    /// ```
    /// use resilience::{bulkhead::Bulkhead, BulkheadConfig};
    /// use std::time::Duration;
    /// let b = Bulkhead::new("db", BulkheadConfig { max_concurrent: 1, max_wait: Duration::from_millis(5), ..Default::default() })?;
    /// let held = b.try_acquire().unwrap();
    /// assert_eq!(b.acquire_blocking().unwrap_err().waited, Duration::from_millis(5));
    /// drop(held);
    /// assert!(b.acquire_blocking().is_ok());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    #[inline]
    pub fn acquire_blocking(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        match self.try_acquire() {
            Some(permit) => Ok(permit),
            None => self.wait_blocking(),
        }
    }

    #[cold]
    #[inline(never)]
    fn wait_blocking(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        // No wait past the deadline of a timeout around the call (`crate::deadline`).
        let max_wait = crate::deadline::clip(self.max_wait());
        if max_wait.is_zero() {
            return Err(self.refuse(Duration::ZERO));
        }
        let deadline = Instant::now().checked_add(max_wait);
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock();
        let outcome = loop {
            // Tried under the lock a release takes before it notifies: no lost wake-up.
            if let Some(permit) = self.try_acquire() {
                break Ok(permit);
            }
            let left = match deadline {
                Some(deadline) => deadline.saturating_duration_since(Instant::now()),
                None => Duration::MAX,
            };
            if left.is_zero() {
                break Err(());
            }
            guard = self
                .wakeup
                .wait_timeout(guard, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        };
        drop(guard);
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        outcome.map_err(|()| self.refuse(max_wait))
    }

    /// A place, waiting without blocking the thread up to `max_wait` for one (on tokio's
    /// timer when in a runtime, so paused time applies); then `Err(BulkheadFull)`.
    /// Dropping the future while it waits gives up its turn.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), resilience::ConfigError> {
    /// use resilience::{bulkhead::Bulkhead, BulkheadConfig};
    /// use std::time::Duration;
    /// let b = Bulkhead::new("db", BulkheadConfig { max_concurrent: 1, max_wait: Duration::from_secs(1), ..Default::default() })?;
    /// let held = b.try_acquire().unwrap();
    /// assert!(b.acquire().await.is_err()); // after a virtual second
    /// drop(held);
    /// assert!(b.acquire().await.is_ok());
    /// # Ok(())
    /// # }
    /// ```
    pub async fn acquire(&self) -> Result<BulkheadPermit<'_>, BulkheadFull> {
        match self.try_acquire() {
            Some(permit) => Ok(permit),
            None => self.wait().await,
        }
    }

    /// The slow half of [`acquire`](Bulkhead::acquire): wait for a place, bounded by
    /// `max_wait`.
    pub(crate) fn wait(&self) -> Wait<&Bulkhead> {
        Wait::new(self)
    }

    /// [`wait`](Bulkhead::wait) holding the bulkhead by an `Arc` (a keyed instance the
    /// registry may evict once idle), for a future that must outlive the borrow.
    #[cfg(feature = "tower")]
    pub(crate) fn wait_owned(self: &Arc<Self>) -> Wait<Arc<Bulkhead>> {
        Wait::new(self.clone())
    }

    /// [`try_acquire`](Bulkhead::try_acquire), with a permit that holds a reference count
    /// on the bulkhead instead of a borrow.
    #[cfg(feature = "tower")]
    #[inline]
    pub(crate) fn try_acquire_owned(self: &Arc<Self>) -> Option<OwnedBulkheadPermit> {
        Holder::try_take(self)
    }

    #[cold]
    pub(crate) fn refuse(&self, waited: Duration) -> BulkheadFull {
        let total = self.rejections.fetch_add(1, Ordering::Relaxed) + 1;
        let now = crate::clock::Clock::now_coarse(&crate::clock::SystemClock);
        let warn = self.warn.due_any_clock(now, || total);
        super::events::refused(
            &self.events,
            &self.rejected,
            self.name,
            self.key.as_deref(),
            waited,
            warn,
        );
        BulkheadFull {
            name: self.name,
            key: self.key.clone(),
            max_concurrent: self.max_concurrent.load(Ordering::Relaxed),
            waited,
        }
    }

    #[inline]
    fn release(&self) {
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) != 0 {
            self.wake_all();
        }
    }

    #[cold]
    fn wake_all(&self) {
        let tasks = std::mem::take(&mut self.lock().tasks);
        self.wakeup.notify_all();
        for (_, waker) in tasks {
            waker.wake();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiters> {
        // The waiter list is whole after any panic (only pushes and removals).
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The bulkhead's state, counts and configuration.
    ///
    /// ```
    /// let b = resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap();
    /// let _p = b.try_acquire();
    /// let s = b.snapshot();
    /// assert_eq!((s.name.as_str(), s.in_flight, s.key), ("db", 1, None));
    /// ```
    pub fn snapshot(&self) -> BulkheadSnapshot {
        BulkheadSnapshot {
            name: self.name.to_owned(),
            key: self.key.as_deref().map(str::to_owned),
            in_flight: self.in_flight(),
            waiting: self.waiting.load(Ordering::Relaxed),
            rejections: self.rejections.load(Ordering::Relaxed),
            config: self.config(),
        }
    }
}

/// A place in a [`Bulkhead`], given back when dropped.
///
/// ```
/// let b = resilience::bulkhead::Bulkhead::new("db", Default::default()).unwrap();
/// {
///     let _permit = b.try_acquire().unwrap();
///     assert_eq!(b.in_flight(), 1);
/// }
/// assert_eq!(b.in_flight(), 0);
/// ```
#[must_use = "the place is given back when the permit drops"]
#[derive(Debug)]
pub struct BulkheadPermit<'a> {
    bulkhead: &'a Bulkhead,
}

impl Drop for BulkheadPermit<'_> {
    #[inline]
    fn drop(&mut self) {
        self.bulkhead.release();
    }
}

/// A [`BulkheadPermit`] that keeps its bulkhead alive (from
/// [`try_acquire_owned`](Bulkhead::try_acquire_owned)): a keyed instance stays in the
/// store, busy, while a call holds its place.
#[cfg(feature = "tower")]
#[must_use = "the place is given back when the permit drops"]
#[derive(Debug)]
pub(crate) struct OwnedBulkheadPermit {
    bulkhead: Arc<Bulkhead>,
}

#[cfg(feature = "tower")]
impl Drop for OwnedBulkheadPermit {
    #[inline]
    fn drop(&mut self) {
        self.bulkhead.release();
    }
}

/// What a waiter holds its bulkhead by, and the permit that gives: a borrow
/// ([`BulkheadPermit`]) or an `Arc` (an owned permit).
pub(crate) trait Holder: core::ops::Deref<Target = Bulkhead> {
    /// The permit of a place taken through this holder.
    type Permit;

    /// A place if one is free now.
    fn try_take(&self) -> Option<Self::Permit>;
}

impl<'a> Holder for &'a Bulkhead {
    type Permit = BulkheadPermit<'a>;

    #[inline]
    fn try_take(&self) -> Option<BulkheadPermit<'a>> {
        let bulkhead: &'a Bulkhead = self;
        bulkhead.try_acquire()
    }
}

#[cfg(feature = "tower")]
impl Holder for Arc<Bulkhead> {
    type Permit = OwnedBulkheadPermit;

    #[inline]
    fn try_take(&self) -> Option<OwnedBulkheadPermit> {
        // The place is counted; the owned permit gives it back instead of the borrow.
        core::mem::forget(self.try_acquire()?);
        Some(OwnedBulkheadPermit {
            bulkhead: self.clone(),
        })
    }
}

/// Waits for a place, registered among the bulkhead's waiters while pending.
struct WaitForPlace<B: Holder> {
    bulkhead: B,
    id: Option<u64>,
}

impl<B: Holder> WaitForPlace<B> {
    fn poll_place(&mut self, cx: &mut Context<'_>) -> Poll<B::Permit> {
        if let Some(permit) = self.bulkhead.try_take() {
            return Poll::Ready(permit);
        }
        {
            let bulkhead: &Bulkhead = &self.bulkhead;
            let mut waiters = bulkhead.lock();
            let id = match self.id {
                Some(id) => id,
                None => {
                    bulkhead.waiting.fetch_add(1, Ordering::SeqCst);
                    let id = waiters.next_id;
                    waiters.next_id += 1;
                    self.id = Some(id);
                    id
                }
            };
            match waiters.tasks.iter_mut().find(|(i, _)| *i == id) {
                Some((_, waker)) => waker.clone_from(cx.waker()),
                None => waiters.tasks.push((id, cx.waker().clone())),
            }
        }
        // Tried again after registering: a place given back in between woke nobody.
        match self.bulkhead.try_take() {
            Some(permit) => Poll::Ready(permit),
            None => Poll::Pending,
        }
    }
}

impl<B: Holder> Drop for WaitForPlace<B> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            self.bulkhead.lock().tasks.retain(|(i, _)| *i != id);
            self.bulkhead.waiting.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// The future of [`Bulkhead::wait`]: a place, or the refusal once `max_wait` has passed.
pub(crate) struct Wait<B: Holder> {
    place: WaitForPlace<B>,
    timer: Option<crate::clock::sleep::Sleep>,
    max_wait: Duration,
}

impl<B: Holder> Wait<B> {
    fn new(bulkhead: B) -> Wait<B> {
        // No wait past the deadline of a timeout around the call (`crate::deadline`):
        // with none left, a full bulkhead refuses at once.
        let max_wait = crate::deadline::clip(bulkhead.max_wait());
        Wait {
            place: WaitForPlace { bulkhead, id: None },
            timer: (!max_wait.is_zero()).then(|| crate::clock::sleep::sleep(max_wait)),
            max_wait,
        }
    }
}

impl<B: Holder + Unpin> Future for Wait<B> {
    type Output = Result<B::Permit, BulkheadFull>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // No field is pinned structurally but the timer, which is boxed (`Sleep: Unpin`).
        let this = self.get_mut();
        let Some(timer) = &mut this.timer else {
            return match this.place.bulkhead.try_take() {
                Some(permit) => Poll::Ready(Ok(permit)),
                None => Poll::Ready(Err(this.place.bulkhead.refuse(Duration::ZERO))),
            };
        };
        if let Poll::Ready(permit) = this.place.poll_place(cx) {
            return Poll::Ready(Ok(permit));
        }
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(this.place.bulkhead.refuse(this.max_wait))),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulkhead(max: u32, wait_ms: u64) -> Bulkhead {
        Bulkhead::new(
            "tests.bulkhead",
            BulkheadConfig {
                max_concurrent: max,
                max_wait: Duration::from_millis(wait_ms),
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn a_sync_waiter_gets_the_place_given_back() {
        let b = Arc::new(bulkhead(1, 60_000));
        let held = b.try_acquire().unwrap();
        let waiter = {
            let b = b.clone();
            std::thread::spawn(move || b.acquire_blocking().map(|_| ()).is_ok())
        };
        while b.waiting.load(Ordering::SeqCst) == 0 {
            std::thread::yield_now();
        }
        drop(held);
        assert!(waiter.join().unwrap());
        assert_eq!(b.in_flight(), 0);
        assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn an_async_waiter_is_refused_after_max_wait_and_counted() {
        let b = bulkhead(1, 250);
        let _held = b.try_acquire().unwrap();
        let start = tokio::time::Instant::now();
        let full = b.acquire().await.unwrap_err();
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        assert_eq!(full.waited, Duration::from_millis(250));
        assert_eq!(b.snapshot().rejections, 1);
        assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_waiter_leaves_the_list() {
        let b = bulkhead(1, 60_000);
        let held = b.try_acquire().unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(10), b.acquire()).await;
        assert!(waiting.is_err(), "still waiting when cut off");
        assert_eq!(b.waiting.load(Ordering::SeqCst), 0);
        assert!(b.lock().tasks.is_empty());
        drop(held);
        assert!(b.try_acquire().is_some());
    }

    #[test]
    fn a_smaller_limit_applies_to_new_calls() {
        let b = bulkhead(3, 0);
        let held: Vec<_> = (0..3).map(|_| b.try_acquire().unwrap()).collect();
        b.configure(BulkheadConfig {
            max_concurrent: 1,
            ..Default::default()
        })
        .unwrap();
        drop(held);
        let one = b.try_acquire();
        assert!(one.is_some());
        assert!(b.try_acquire().is_none());
    }
}
