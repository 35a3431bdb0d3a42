//! [`RetryBudget`]: a shared, lock-free token bucket that every retry draws from, so a
//! failing dependency gets a bounded number of retries across the whole process instead
//! of a retry storm.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use serde::{Deserialize, Serialize};

use crate::clock::{duration_nanos, Clock, SystemClock};
use crate::sync::atomic::{AtomicU64, Ordering};
use crate::ConfigError;

/// Tokens are counted in millionths, so fractional refills and deposits add up exactly.
const MICRO: u64 = 1_000_000;

/// The shape of a [`RetryBudget`].
///
/// `Default` ports the reference's budget (10 retries a second over a 10 second window):
/// 100 tokens, refilled at 10 a second, nothing deposited per success. Set
/// `deposit_per_success` (say `0.1`) to also earn retries as a share of successful calls.
///
/// ```
/// use resilience::retry::BudgetConfig;
///
/// let config = BudgetConfig { capacity: 20, ..Default::default() };
/// assert_eq!(config.refill_per_second, 10.0);
/// assert!(config.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// The most tokens the bucket holds (its burst); a new budget starts full. At least 1.
    pub capacity: u32,
    /// Tokens added per second, continuously; `0` for none. Finite, not negative.
    pub refill_per_second: f64,
    /// Tokens added by each successful call of a function using the budget; finite, not
    /// negative.
    pub deposit_per_success: f64,
}

impl Default for BudgetConfig {
    /// 100 tokens, refilled at 10 a second, no deposit per success.
    ///
    /// ```
    /// let config = resilience::retry::BudgetConfig::default();
    /// assert_eq!((config.capacity, config.deposit_per_success), (100, 0.0));
    /// ```
    fn default() -> Self {
        BudgetConfig {
            capacity: 100,
            refill_per_second: 10.0,
            deposit_per_success: 0.0,
        }
    }
}

impl BudgetConfig {
    /// Checks every field; the first invalid one is an `Err` naming it and its value.
    ///
    /// ```
    /// use resilience::retry::BudgetConfig;
    ///
    /// let err = BudgetConfig { refill_per_second: -1.0, ..Default::default() }
    ///     .validate()
    ///     .unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("refill_per_second", "-1.0"));
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.capacity == 0 {
            return Err(ConfigError::new(
                "capacity",
                self.capacity,
                "must be at least 1",
            ));
        }
        let rate_rule = "must be a finite number of tokens, zero or more";
        if !(self.refill_per_second.is_finite() && self.refill_per_second >= 0.0) {
            return Err(ConfigError::new(
                "refill_per_second",
                self.refill_per_second,
                rate_rule,
            ));
        }
        if !(self.deposit_per_success.is_finite() && self.deposit_per_success >= 0.0) {
            return Err(ConfigError::new(
                "deposit_per_success",
                self.deposit_per_success,
                rate_rule,
            ));
        }
        Ok(())
    }
}

/// A budget's state at one moment, for dashboards and health endpoints.
///
/// ```
/// let budget = resilience::retry_budget("docs-snapshot");
/// let snapshot = budget.snapshot();
/// assert_eq!(snapshot.name.as_deref(), Some("docs-snapshot"));
/// assert_eq!(serde_json::to_value(&snapshot).unwrap()["capacity"], 100);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetSnapshot {
    /// The name it is registered under; `None` for a standalone budget.
    pub name: Option<String>,
    /// Tokens available now, fractions included; between 0 and `capacity`.
    pub available: f64,
    /// The most tokens it holds.
    pub capacity: u32,
    /// Tokens added per second.
    pub refill_per_second: f64,
    /// Tokens added per successful call.
    pub deposit_per_success: f64,
    /// Retries granted since creation (or the last [`reset`](RetryBudget::reset)).
    pub withdrawn: u64,
    /// Retries refused for want of a token since creation (or the last reset).
    pub rejected: u64,
}

/// A shared token bucket that retries withdraw from; a cheap, cloneable handle.
///
/// Each retry takes one whole token; when none is left the retry is refused and the call
/// returns its error (a retry storm stops here). Tokens come back continuously at
/// `refill_per_second` and, optionally, by `deposit_per_success` for each successful
/// call, never beyond `capacity`.
///
/// Get a named one from the process-wide map with [`retry_budget`], as
/// `#[retry(budget = "name")]` does, or make a standalone one on a clock of your own with
/// [`RetryBudget::new`].
///
/// Lock-free: the tokens, the time of the last refill and the configuration are atomics.
/// The token count only ever changes by atomic read-modify-write clamped to
/// `0 ..= capacity`, so it never goes negative nor overflows, whatever the interleaving;
/// a refill interval is credited once, by whichever thread advances the refill time.
/// A clock that goes backwards credits nothing until it passes its old reading again.
///
/// ```
/// use resilience::clock::ManualClock;
/// use resilience::retry::{BudgetConfig, RetryBudget};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let config = BudgetConfig { capacity: 2, refill_per_second: 1.0, ..Default::default() };
/// let budget = RetryBudget::new(config, clock.clone())?;
/// assert!(budget.try_withdraw() && budget.try_withdraw());
/// assert!(!budget.try_withdraw());                      // empty: the retry gives up
/// clock.advance(Duration::from_secs(1));
/// assert_eq!(budget.available(), 1);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct RetryBudget {
    inner: Arc<Inner>,
}

struct Inner {
    name: Option<Box<str>>,
    clock: Arc<dyn Clock>,
    /// Micro-tokens available, as of `last_refill`.
    tokens: AtomicU64,
    /// Clock reading (nanoseconds) up to which refills are credited.
    last_refill: AtomicU64,
    capacity: AtomicU64,
    /// `f64` bits: tokens per second.
    refill_rate: AtomicU64,
    deposit: AtomicU64,
    withdrawn: AtomicU64,
    rejected: AtomicU64,
}

impl RetryBudget {
    /// A standalone budget (not in the global map), full, reading time from `clock`.
    ///
    /// ```
    /// use resilience::clock::SystemClock;
    /// use resilience::retry::{BudgetConfig, RetryBudget};
    ///
    /// let budget = RetryBudget::new(BudgetConfig::default(), SystemClock)?;
    /// assert_eq!(budget.available(), 100);
    /// assert_eq!(budget.name(), None);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn new(config: BudgetConfig, clock: impl Clock + 'static) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(RetryBudget::build(
            None,
            config,
            crate::clock::shared(clock),
        ))
    }

    fn build(name: Option<Box<str>>, config: BudgetConfig, clock: Arc<dyn Clock>) -> Self {
        let now = duration_nanos(clock.now());
        let capacity = u64::from(config.capacity) * MICRO;
        RetryBudget {
            inner: Arc::new(Inner {
                name,
                clock,
                tokens: AtomicU64::new(capacity),
                last_refill: AtomicU64::new(now),
                capacity: AtomicU64::new(capacity),
                refill_rate: AtomicU64::new(config.refill_per_second.to_bits()),
                deposit: AtomicU64::new(to_micro(config.deposit_per_success)),
                withdrawn: AtomicU64::new(0),
                rejected: AtomicU64::new(0),
            }),
        }
    }

    /// The name it is registered under; `None` for a standalone budget.
    ///
    /// ```
    /// assert_eq!(resilience::retry_budget("docs-name").name(), Some("docs-name"));
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.inner.name.as_deref()
    }

    /// Takes one token for a retry: `true` if one was there, `false` if the budget is
    /// empty (the retry should not happen).
    ///
    /// ```
    /// use resilience::clock::ManualClock;
    /// use resilience::retry::{BudgetConfig, RetryBudget};
    ///
    /// let one = BudgetConfig { capacity: 1, refill_per_second: 0.0, ..Default::default() };
    /// let budget = RetryBudget::new(one, ManualClock::new())?;
    /// assert!(budget.try_withdraw());
    /// assert!(!budget.try_withdraw());
    /// assert_eq!((budget.snapshot().withdrawn, budget.snapshot().rejected), (1, 1));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn try_withdraw(&self) -> bool {
        let inner = &*self.inner;
        inner.refill();
        let taken = inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                t.checked_sub(MICRO)
            })
            .is_ok();
        let counter = if taken {
            &inner.withdrawn
        } else {
            &inner.rejected
        };
        counter.fetch_add(1, Ordering::Relaxed);
        taken
    }

    /// Credits one successful call: adds `deposit_per_success` tokens (up to capacity).
    /// Functions using the budget call it on each success.
    ///
    /// ```
    /// use resilience::clock::ManualClock;
    /// use resilience::retry::{BudgetConfig, RetryBudget};
    ///
    /// let config = BudgetConfig { capacity: 5, refill_per_second: 0.0, deposit_per_success: 0.5 };
    /// let budget = RetryBudget::new(config, ManualClock::new())?;
    /// while budget.try_withdraw() {}
    /// budget.record_success();
    /// budget.record_success();
    /// assert_eq!(budget.available(), 1);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn record_success(&self) {
        let deposit = self.inner.deposit.load(Ordering::Relaxed);
        if deposit > 0 {
            self.inner.add(deposit);
        }
    }

    /// Whole tokens available now: the retries it would grant at once.
    ///
    /// ```
    /// assert_eq!(resilience::retry_budget("docs-available").available(), 100);
    /// ```
    pub fn available(&self) -> u32 {
        self.inner.refill();
        u32::try_from(self.inner.tokens.load(Ordering::Acquire) / MICRO).unwrap_or(u32::MAX)
    }

    /// Its configuration now.
    ///
    /// ```
    /// let budget = resilience::retry_budget("docs-config");
    /// assert_eq!(budget.config(), resilience::retry::BudgetConfig::default());
    /// ```
    pub fn config(&self) -> BudgetConfig {
        let inner = &*self.inner;
        BudgetConfig {
            capacity: u32::try_from(inner.capacity.load(Ordering::Relaxed) / MICRO)
                .unwrap_or(u32::MAX),
            refill_per_second: f64::from_bits(inner.refill_rate.load(Ordering::Relaxed)),
            deposit_per_success: inner.deposit.load(Ordering::Relaxed) as f64 / MICRO as f64,
        }
    }

    /// Changes its shape at run time; an invalid value is an `Err` naming the field and
    /// the value, and changes nothing.
    ///
    /// Time passed so far is credited at the old rate; tokens above a smaller capacity
    /// are dropped; the counters are kept. Retries racing with it see the old values or
    /// the new ones.
    ///
    /// ```
    /// use resilience::retry::{retry_budget, BudgetConfig};
    ///
    /// let budget = retry_budget("docs-configure");
    /// budget.configure(BudgetConfig { capacity: 3, ..Default::default() })?;
    /// assert_eq!(budget.available(), 3);
    /// let err = budget.configure(BudgetConfig { capacity: 0, ..Default::default() }).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("capacity", "0"));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, config: BudgetConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let inner = &*self.inner;
        inner.refill();
        let capacity = u64::from(config.capacity) * MICRO;
        inner.capacity.store(capacity, Ordering::Relaxed);
        inner
            .refill_rate
            .store(config.refill_per_second.to_bits(), Ordering::Relaxed);
        inner
            .deposit
            .store(to_micro(config.deposit_per_success), Ordering::Relaxed);
        // The interval before now was credited at the old rate, or not at all if that
        // rate was zero: it must not be credited again at the new one.
        inner.last_refill.store(inner.now(), Ordering::Release);
        let _ = inner
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t > capacity).then_some(capacity)
            });
        Ok(())
    }

    /// Fills it to capacity and zeroes its counters (for tests, or after an incident).
    ///
    /// ```
    /// let budget = resilience::retry_budget("docs-reset");
    /// while budget.try_withdraw() {}
    /// budget.reset();
    /// assert_eq!(budget.available(), 100);
    /// assert_eq!(budget.snapshot().withdrawn, 0);
    /// ```
    pub fn reset(&self) {
        let inner = &*self.inner;
        inner.last_refill.store(inner.now(), Ordering::Release);
        inner
            .tokens
            .store(inner.capacity.load(Ordering::Relaxed), Ordering::Release);
        inner.withdrawn.store(0, Ordering::Relaxed);
        inner.rejected.store(0, Ordering::Relaxed);
    }

    /// Its state now, serializable.
    ///
    /// ```
    /// let snapshot = resilience::retry_budget("docs-snap").snapshot();
    /// assert_eq!(snapshot.available, 100.0);
    /// ```
    pub fn snapshot(&self) -> BudgetSnapshot {
        let inner = &*self.inner;
        inner.refill();
        let config = self.config();
        BudgetSnapshot {
            name: self.name().map(str::to_owned),
            available: inner.tokens.load(Ordering::Acquire) as f64 / MICRO as f64,
            capacity: config.capacity,
            refill_per_second: config.refill_per_second,
            deposit_per_success: config.deposit_per_success,
            withdrawn: inner.withdrawn.load(Ordering::Relaxed),
            rejected: inner.rejected.load(Ordering::Relaxed),
        }
    }
}

impl fmt::Debug for RetryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.snapshot();
        f.debug_struct("RetryBudget")
            .field("name", &snapshot.name)
            .field("available", &snapshot.available)
            .field("capacity", &snapshot.capacity)
            .field("refill_per_second", &snapshot.refill_per_second)
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn now(&self) -> u64 {
        duration_nanos(self.clock.now())
    }

    /// Credits the time since the last refill. The thread that moves `last_refill`
    /// forward owns that interval, so it is credited exactly once; an interval too short
    /// to earn a micro-token is left to accumulate rather than rounded away.
    fn refill(&self) {
        let rate = f64::from_bits(self.refill_rate.load(Ordering::Relaxed));
        if rate <= 0.0 {
            return;
        }
        let last = self.last_refill.load(Ordering::Acquire);
        let now = self.now();
        let Some(elapsed) = now.checked_sub(last).filter(|&e| e > 0) else {
            return; // the same instant, or a clock that went backwards
        };
        // nanoseconds × tokens/s × 10⁶ micro/token ÷ 10⁹ ns/s; `as` saturates.
        let credit = (elapsed as f64 * rate / 1_000.0) as u64;
        if credit == 0 {
            return;
        }
        if self
            .last_refill
            .compare_exchange(last, now, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            self.add(credit);
        }
    }

    fn add(&self, micro: u64) {
        let capacity = self.capacity.load(Ordering::Relaxed);
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                let filled = t.saturating_add(micro).min(capacity);
                (filled != t).then_some(filled)
            });
    }
}

fn to_micro(tokens: f64) -> u64 {
    // Validated finite and non-negative; `as` saturates the absurdly large.
    (tokens * MICRO as f64).round() as u64
}

fn budgets() -> &'static Mutex<BTreeMap<Box<str>, RetryBudget>> {
    static BUDGETS: OnceLock<Mutex<BTreeMap<Box<str>, RetryBudget>>> = OnceLock::new();
    BUDGETS.get_or_init(Default::default)
}

/// The process-wide budget called `name`, created with [`BudgetConfig::default`] on first
/// use (100 tokens, refilled at 10 a second) on the system clock.
///
/// The map is locked only here, to find or create the handle; `#[retry(budget = ..)]`
/// looks its budget up once per call site, and withdrawals never lock.
///
/// ```
/// use resilience::retry_budget;
///
/// let a = retry_budget("docs-shared");
/// let b = retry_budget("docs-shared");
/// assert!(a.try_withdraw());
/// assert_eq!(b.available(), 99); // one bucket, two handles
/// ```
pub fn retry_budget(name: &str) -> RetryBudget {
    // A panic elsewhere while holding the lock cannot leave the map half-updated: the
    // only mutation is one insert.
    let mut map = budgets().lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(budget) = map.get(name) {
        return budget.clone();
    }
    let budget = RetryBudget::build(
        Some(name.into()),
        BudgetConfig::default(),
        Arc::new(SystemClock),
    );
    map.insert(name.into(), budget.clone());
    budget
}

/// Snapshots of every named budget, sorted by name.
///
/// ```
/// let _ = resilience::retry_budget("docs-listed");
/// let all = resilience::retry::retry_budgets();
/// assert!(all.iter().any(|b| b.name.as_deref() == Some("docs-listed")));
/// ```
pub fn retry_budgets() -> Vec<BudgetSnapshot> {
    let handles: Vec<RetryBudget> = budgets()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .values()
        .cloned()
        .collect();
    // Snapshots read the clock: done after the lock is released.
    handles.iter().map(RetryBudget::snapshot).collect()
}
