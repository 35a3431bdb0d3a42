//! [`RetryBudget`]: a shared, lock-free token bucket that every retry draws from, so a
//! failing dependency gets a bounded number of retries across the whole process instead
//! of a retry storm.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::clock::{duration_nanos, Clock};
use crate::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use crate::{ConfigError, Scope};

/// Tokens are counted in millionths, so fractional refills and deposits add up exactly.
const MICRO: u64 = 1_000_000;

/// The shape of a [`RetryBudget`].
///
/// `Default` ports the reference's budget (10 retries a second over a 10 second window):
/// 100 tokens, refilled at 10 a second, nothing deposited per success. Set
/// `deposit_per_success` (say `0.1`) to also earn retries as a share of successful calls.
///
/// `scope = Scope::Cluster` (`[budget.NAME] scope = "cluster"`) shares the bucket of a
/// named budget with every instance connected to the cluster (feature `redis`, see
/// [`RetryBudget`]); `expected_instances` sizes its local share while it is not
/// connected.
///
/// ```
/// use resilience::retry::BudgetConfig;
/// use resilience::Scope;
///
/// let config = BudgetConfig { capacity: 20, ..Default::default() };
/// assert_eq!(config.refill_per_second, 10.0);
/// assert!(config.validate().is_ok());
///
/// let shared = BudgetConfig { scope: Scope::Cluster, expected_instances: 4, ..config };
/// assert!(shared.validate().is_ok());
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
    /// [`Scope::Cluster`]: one bucket in Redis shared by every connected instance
    /// (feature `redis`; a named budget only). Default [`Scope::Local`].
    pub scope: Scope,
    /// With `scope = cluster`: the instances expected to share the bucket. While this
    /// one is not connected, it grants from a local bucket of
    /// `capacity / expected_instances` tokens (at least 1), refilled at
    /// `refill_per_second / expected_instances`. At least 1. Default 1.
    pub expected_instances: u32,
}

impl Default for BudgetConfig {
    /// 100 tokens, refilled at 10 a second, no deposit per success, local.
    ///
    /// ```
    /// let config = resilience::retry::BudgetConfig::default();
    /// assert_eq!((config.capacity, config.deposit_per_success), (100, 0.0));
    /// assert_eq!((config.scope, config.expected_instances), (resilience::Scope::Local, 1));
    /// ```
    fn default() -> Self {
        BudgetConfig {
            capacity: 100,
            refill_per_second: 10.0,
            deposit_per_success: 0.0,
            scope: Scope::Local,
            expected_instances: 1,
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
        if self.expected_instances == 0 {
            return Err(ConfigError::new(
                "expected_instances",
                self.expected_instances,
                "must be at least 1",
            ));
        }
        Ok(())
    }

    /// The local bucket's capacity in micro-tokens: the whole bucket for a local
    /// budget, this instance's share for a cluster one.
    fn local_capacity(&self) -> u64 {
        u64::from(self.capacity / self.share()).max(1) * MICRO
    }

    /// How many instances the bucket is split between while not on the cluster.
    fn share(&self) -> u32 {
        match self.scope {
            Scope::Local => 1,
            Scope::Cluster => self.expected_instances.max(1),
        }
    }
}

/// Tokens a cluster budget keeps leased from Redis: a tenth of its capacity, at least 1.
fn lease_target(capacity: u64) -> u64 {
    (capacity / 10).max(1)
}

/// Tokens to ask Redis for: none while the lease holds more than half its target and no
/// retry was refused, else what fills it up to the target.
fn lease_top_up(lease: u64, capacity: u64, wanted: bool) -> u64 {
    let target = lease_target(capacity);
    if lease > target / 2 && !wanted {
        return 0;
    }
    target.saturating_sub(lease)
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
    /// Where its bucket lives.
    #[serde(default)]
    pub scope: Scope,
    /// With `scope = cluster`, the instances expected to share it.
    #[serde(default = "one")]
    pub expected_instances: u32,
    /// True while a cluster budget grants from its lease on the cluster's bucket; false
    /// for a local budget, and for a cluster one on its local share (before
    /// `cluster::connect`, without the `redis` feature, or while Redis is unreachable).
    #[serde(default)]
    pub on_cluster: bool,
    /// Tokens this instance holds leased from the cluster's bucket (0 for a local
    /// budget).
    #[serde(default)]
    pub leased: u64,
}

fn one() -> u32 {
    1
}

/// A shared token bucket that retries withdraw from; a cheap, cloneable handle.
///
/// Each retry takes one whole token; when none is left the retry is refused and the call
/// returns its error (a retry storm stops here). Tokens come back continuously at
/// `refill_per_second` and, optionally, by `deposit_per_success` for each successful
/// call, never beyond `capacity`.
///
/// Get a named one from the global registry with [`retry_budget`](crate::retry_budget), as
/// `#[retry(budget = "name")]` does, or make a standalone one on a clock of your own with
/// [`RetryBudget::new`].
///
/// With `scope = cluster` (a named budget, feature `redis`, after `cluster::connect`)
/// the bucket is one hash in Redis, `{rb:NAME}`, refilled on the server's clock and
/// changed only by one script. A retry never waits on Redis: it takes a token from this
/// instance's lease (tokens taken from the cluster's bucket ahead of need, a tenth of
/// `capacity`, at least 1), or is refused at once when the lease is empty; the cluster's
/// background task tops the lease up when it runs low or a retry was refused, and
/// carries the deposits of successful calls to Redis. Before `connect`, without the
/// feature, or while Redis is unreachable, the budget grants from a local bucket of
/// `capacity / expected_instances` tokens (one WARN), and goes back to its lease once
/// Redis answers. Tokens leased by an instance that exits are lost to the cluster until
/// the refill replaces them (at most a tenth of `capacity` per instance).
///
/// Lock-free: the tokens, the time of the last refill and the configuration are atomics.
/// The token count only ever changes by atomic read-modify-write clamped to
/// `0 ..= capacity`, so it never goes negative nor overflows, whatever the interleaving;
/// a refill interval is credited once, by whichever thread advances the refill time.
/// A clock that goes backwards credits nothing for the jump; refills go on from its new
/// reading.
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
    /// Micro-tokens available in the local bucket, as of `last_refill`.
    tokens: AtomicU64,
    /// Clock reading (nanoseconds) up to which refills are credited.
    last_refill: AtomicU64,
    /// The configured capacity, micro-tokens.
    capacity: AtomicU64,
    /// The local bucket's capacity: `capacity`, or this instance's share of it for a
    /// cluster budget.
    local_capacity: AtomicU64,
    /// The instances the local bucket's refill is split between (1 for a local budget).
    share: AtomicU64,
    /// `expected_instances` as configured.
    expected: AtomicU64,
    /// `scope == Cluster`.
    cluster: AtomicBool,
    /// Set by the cluster's task while the lease is drawn on (Redis answered last).
    on_cluster: AtomicBool,
    /// Whole tokens leased from the cluster's bucket.
    lease: AtomicU64,
    /// Micro-tokens of deposits not yet carried to the cluster's bucket.
    pending: AtomicU64,
    /// A retry was refused, or the lease ran low: the cluster's task should top it up.
    wanted: AtomicBool,
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
    ///
    /// A standalone budget has no name to share it by: `scope = cluster` is an `Err`
    /// here (use [`retry_budget`](crate::retry_budget) and [`configure`](RetryBudget::configure)).
    pub fn new(config: BudgetConfig, clock: impl Clock + 'static) -> Result<Self, ConfigError> {
        config.validate()?;
        if config.scope == Scope::Cluster {
            return Err(ConfigError::new(
                "scope",
                config.scope.as_str(),
                "needs a named budget: use `retry_budget(name).configure(..)`",
            ));
        }
        Ok(RetryBudget::build(
            None,
            config,
            crate::clock::shared(clock),
        ))
    }

    fn build(name: Option<Box<str>>, config: BudgetConfig, clock: Arc<dyn Clock>) -> Self {
        let now = duration_nanos(clock.now());
        let capacity = u64::from(config.capacity) * MICRO;
        let local_capacity = config.local_capacity();
        RetryBudget {
            inner: Arc::new(Inner {
                name,
                clock,
                tokens: AtomicU64::new(local_capacity),
                last_refill: AtomicU64::new(now),
                capacity: AtomicU64::new(capacity),
                local_capacity: AtomicU64::new(local_capacity),
                share: AtomicU64::new(u64::from(config.share())),
                expected: AtomicU64::new(u64::from(config.expected_instances)),
                cluster: AtomicBool::new(config.scope == Scope::Cluster),
                on_cluster: AtomicBool::new(false),
                lease: AtomicU64::new(0),
                pending: AtomicU64::new(0),
                wanted: AtomicBool::new(false),
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
        if inner.cluster.load(Ordering::Relaxed) {
            if inner.on_cluster.load(Ordering::Acquire) {
                return inner.withdraw_leased();
            }
            warn_local_once(self.name().unwrap_or_default());
        }
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
    /// let config = BudgetConfig { capacity: 5, refill_per_second: 0.0, deposit_per_success: 0.5, ..Default::default() };
    /// let budget = RetryBudget::new(config, ManualClock::new())?;
    /// while budget.try_withdraw() {}
    /// budget.record_success();
    /// budget.record_success();
    /// assert_eq!(budget.available(), 1);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn record_success(&self) {
        let inner = &*self.inner;
        let deposit = inner.deposit.load(Ordering::Relaxed);
        if deposit > 0 {
            if inner.cluster.load(Ordering::Relaxed) && inner.on_cluster.load(Ordering::Acquire) {
                // Carried to the cluster's bucket by its task.
                inner.pending.fetch_add(deposit, Ordering::Relaxed);
            } else {
                inner.add(deposit);
            }
        }
    }

    /// Whole tokens available now: the retries it would grant at once (for a cluster
    /// budget on the cluster, its lease).
    ///
    /// ```
    /// assert_eq!(resilience::retry_budget("docs-available").available(), 100);
    /// ```
    pub fn available(&self) -> u32 {
        if self.inner.is_on_cluster() {
            return u32::try_from(self.inner.lease.load(Ordering::Acquire)).unwrap_or(u32::MAX);
        }
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
            scope: if inner.cluster.load(Ordering::Relaxed) {
                Scope::Cluster
            } else {
                Scope::Local
            },
            expected_instances: u32::try_from(inner.expected.load(Ordering::Relaxed))
                .unwrap_or(u32::MAX),
        }
    }

    /// Changes its shape at run time; an invalid value is an `Err` naming the field and
    /// the value, and changes nothing.
    ///
    /// Time passed so far is credited at the old rate; tokens above a smaller capacity
    /// are dropped; the counters are kept. Retries racing with it see the old values or
    /// the new ones. Made cluster-scoped, it grants from its local share until the
    /// cluster's task has leased tokens for it; made local, it drops its lease.
    ///
    /// ```
    /// use resilience::retry::BudgetConfig;
    /// use resilience::retry_budget;
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
        if config.scope == Scope::Cluster && inner.name.is_none() {
            return Err(ConfigError::new(
                "scope",
                config.scope.as_str(),
                "needs a named budget: use `retry_budget(name).configure(..)`",
            ));
        }
        inner.refill();
        let capacity = u64::from(config.capacity) * MICRO;
        let local_capacity = config.local_capacity();
        inner.capacity.store(capacity, Ordering::Relaxed);
        inner
            .local_capacity
            .store(local_capacity, Ordering::Relaxed);
        inner
            .share
            .store(u64::from(config.share()), Ordering::Relaxed);
        inner
            .expected
            .store(u64::from(config.expected_instances), Ordering::Relaxed);
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
                (t > local_capacity).then_some(local_capacity)
            });
        let cluster = config.scope == Scope::Cluster;
        if inner.cluster.swap(cluster, Ordering::AcqRel) != cluster {
            inner.on_cluster.store(false, Ordering::Release);
            inner.lease.store(0, Ordering::Release);
            inner.pending.store(0, Ordering::Relaxed);
            if cluster {
                inner.want();
            }
        }
        Ok(())
    }

    /// Fills it to capacity and zeroes its counters (for tests, or after an incident).
    /// For a cluster budget this fills its local share; the cluster's bucket is left
    /// as it is.
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
        inner.tokens.store(
            inner.local_capacity.load(Ordering::Relaxed),
            Ordering::Release,
        );
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
        let on_cluster = inner.is_on_cluster();
        let leased = if config.scope == Scope::Cluster {
            inner.lease.load(Ordering::Acquire)
        } else {
            0
        };
        BudgetSnapshot {
            name: self.name().map(str::to_owned),
            available: if on_cluster {
                leased as f64
            } else {
                inner.tokens.load(Ordering::Acquire) as f64 / MICRO as f64
            },
            capacity: config.capacity,
            refill_per_second: config.refill_per_second,
            deposit_per_success: config.deposit_per_success,
            withdrawn: inner.withdrawn.load(Ordering::Relaxed),
            rejected: inner.rejected.load(Ordering::Relaxed),
            scope: config.scope,
            expected_instances: config.expected_instances,
            on_cluster,
            leased,
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
    fn is_on_cluster(&self) -> bool {
        self.cluster.load(Ordering::Relaxed) && self.on_cluster.load(Ordering::Acquire)
    }

    /// A retry on the cluster: one token from the lease, or a refusal; either way no
    /// round trip. A lease run low, or a refusal, asks the cluster's task for more.
    fn withdraw_leased(&self) -> bool {
        let taken = self
            .lease
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |l| l.checked_sub(1));
        let capacity = self.capacity.load(Ordering::Relaxed) / MICRO;
        match taken {
            Ok(before) => {
                if lease_top_up(before - 1, capacity, false) > 0 {
                    self.want();
                }
                self.withdrawn.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(_) => {
                self.want();
                self.rejected.fetch_add(1, Ordering::Relaxed);
                false
            }
        }
    }

    /// Asks the cluster's task for a top-up; the first ask since its last round wakes it.
    fn want(&self) {
        if !self.wanted.swap(true, Ordering::AcqRel) {
            #[cfg(feature = "redis")]
            lease::WAKE.notify_one();
        }
    }

    fn now(&self) -> u64 {
        duration_nanos(self.clock.now())
    }

    /// Credits the time since the last refill. The thread that moves `last_refill`
    /// forward owns that interval, so it is credited exactly once; an interval too short
    /// to earn a micro-token is left to accumulate rather than rounded away.
    fn refill(&self) {
        let rate = f64::from_bits(self.refill_rate.load(Ordering::Relaxed))
            / self.share.load(Ordering::Relaxed).max(1) as f64;
        if rate <= 0.0 {
            return;
        }
        let last = self.last_refill.load(Ordering::Acquire);
        let now = self.now();
        let Some(elapsed) = now.checked_sub(last).filter(|&e| e > 0) else {
            if now < last {
                // A clock that went back: refills go on from now, not once it is back
                // where it was (nothing is credited for the gap).
                let _ = self.last_refill.compare_exchange(
                    last,
                    now,
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                );
            }
            return;
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
        let capacity = self.local_capacity.load(Ordering::Relaxed);
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                let filled = t.saturating_add(micro).min(capacity);
                (filled != t).then_some(filled)
            });
    }
}

/// One WARN per process: a cluster-scoped budget grants from its local share before
/// `cluster::connect` or without the `redis` feature. (An outage of Redis is the
/// cluster's own WARN.)
fn warn_local_once(name: &str) {
    static WARNED: crate::scope_warning::WarnOnce = crate::scope_warning::WarnOnce::new();
    #[cfg(feature = "redis")]
    if lease::TASK_STARTED.load(Ordering::Relaxed) {
        return;
    }
    WARNED.warn(name, "the retry budget grants from its local share");
}

/// What the cluster's task (feature `redis`) sees of a cluster-scoped budget.
#[cfg(feature = "redis")]
pub(crate) mod lease {
    use super::*;

    /// Wakes the cluster's budget task: a lease ran low or a retry was refused.
    pub(crate) static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();

    /// Set once the cluster's budget task runs (after `cluster::connect`).
    pub(crate) static TASK_STARTED: AtomicBool = AtomicBool::new(false);

    /// One round trip's worth of work for one budget.
    #[derive(Debug, PartialEq)]
    pub(crate) struct Request {
        /// `{rb:NAME}`.
        pub(crate) key: String,
        /// Whole tokens.
        pub(crate) capacity: u64,
        /// Micro-tokens per second.
        pub(crate) refill: u64,
        /// Whole tokens to take into the lease.
        pub(crate) want: u64,
        /// Micro-tokens of deposits to add.
        pub(crate) deposit: u64,
    }

    impl RetryBudget {
        /// Whether this budget's scope is the cluster.
        pub(crate) fn is_cluster(&self) -> bool {
            self.inner.cluster.load(Ordering::Relaxed)
        }
    }

    impl RetryBudget {
        /// What to ask Redis for now, if anything: a top-up when the lease is low or a
        /// retry was refused (unless `asks` is false: Redis's bucket was just found
        /// empty), the deposits to carry, and always something while the budget is not
        /// yet on the cluster (to attach it).
        pub(crate) fn lease_request(&self, asks: bool) -> Option<Request> {
            let inner = &*self.inner;
            if !inner.cluster.load(Ordering::Relaxed) {
                return None;
            }
            let name = inner.name.as_deref()?;
            let wanted = asks && inner.wanted.swap(false, Ordering::AcqRel);
            let capacity = inner.capacity.load(Ordering::Relaxed) / MICRO;
            let want = if asks {
                lease_top_up(inner.lease.load(Ordering::Acquire), capacity, wanted)
            } else {
                0
            };
            let attached = inner.on_cluster.load(Ordering::Acquire);
            let deposit = inner.pending.swap(0, Ordering::AcqRel);
            if want == 0 && deposit == 0 && attached {
                return None;
            }
            let rate = f64::from_bits(inner.refill_rate.load(Ordering::Relaxed));
            Some(Request {
                key: format!("{{rb:{name}}}"),
                capacity,
                refill: to_micro(rate),
                want,
                deposit,
            })
        }

        /// Redis answered: `tokens` join the lease, and the budget draws on it.
        pub(crate) fn lease_granted(&self, tokens: u64) {
            let inner = &*self.inner;
            inner.lease.fetch_add(tokens, Ordering::AcqRel);
            if inner.cluster.load(Ordering::Relaxed) {
                inner.on_cluster.store(true, Ordering::Release);
            }
        }

        /// Redis did not answer (or is known down): the budget grants from its local
        /// share, and the deposits are carried on the next round that reaches Redis.
        pub(crate) fn lease_failed(&self, deposit: u64) {
            let inner = &*self.inner;
            inner.on_cluster.store(false, Ordering::Release);
            if deposit > 0 {
                inner.pending.fetch_add(deposit, Ordering::AcqRel);
            }
        }
    }
}

fn to_micro(tokens: f64) -> u64 {
    // Validated finite and non-negative; `as` saturates the absurdly large.
    (tokens * MICRO as f64).round() as u64
}

/// A registry's named budgets, made on first use with [`BudgetConfig::default`] on the
/// registry's clock. The map is locked only to find or make a handle: `#[retry(budget =
/// ..)]` looks its budget up once per call site, and withdrawals never lock.
#[derive(Debug, Default)]
pub(crate) struct BudgetTable {
    budgets: Mutex<BTreeMap<Box<str>, RetryBudget>>,
}

impl BudgetTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Box<str>, RetryBudget>> {
        // A panic elsewhere while holding the lock cannot leave the map half-updated: the
        // only mutation is one insert.
        self.budgets.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The budget called `name`, made if it does not exist yet.
    pub(crate) fn get_or_make(&self, name: &str, clock: &Arc<dyn Clock>) -> RetryBudget {
        let mut budgets = self.lock();
        if let Some(budget) = budgets.get(name) {
            return budget.clone();
        }
        let budget = RetryBudget::build(
            Some(name.into()),
            BudgetConfig::default(),
            Arc::clone(clock),
        );
        budgets.insert(name.into(), budget.clone());
        budget
    }

    /// Every budget's handle, by name.
    pub(crate) fn handles(&self) -> Vec<RetryBudget> {
        self.lock().values().cloned().collect()
    }

    /// Snapshots of every budget, sorted by name.
    pub(crate) fn snapshots(&self) -> Vec<BudgetSnapshot> {
        let handles = self.handles();
        // Snapshots read the clock: done after the lock is released.
        handles.iter().map(RetryBudget::snapshot).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    fn cluster(capacity: u32, refill: f64, deposit: f64, expected: u32) -> BudgetConfig {
        BudgetConfig {
            capacity,
            refill_per_second: refill,
            deposit_per_success: deposit,
            scope: Scope::Cluster,
            expected_instances: expected,
        }
    }

    /// A named budget outside the global map, on a clock of the test's own.
    fn named(config: BudgetConfig) -> (RetryBudget, ManualClock) {
        let clock = ManualClock::new();
        let budget = RetryBudget::build(
            Some("unit.cluster".into()),
            BudgetConfig::default(),
            crate::clock::shared(clock.clone()),
        );
        budget.configure(config).expect("valid");
        (budget, clock)
    }

    #[test]
    fn expected_instances_and_scope_are_validated_by_name_and_value() {
        let err = cluster(10, 0.0, 0.0, 0).validate().unwrap_err();
        assert_eq!((err.field(), err.value()), ("expected_instances", "0"));
        // A standalone budget has no name to share it by.
        let err = RetryBudget::new(cluster(10, 0.0, 0.0, 1), ManualClock::new()).unwrap_err();
        assert_eq!((err.field(), err.value()), ("scope", "\"cluster\""));
        let standalone = RetryBudget::new(BudgetConfig::default(), ManualClock::new()).unwrap();
        let err = standalone.configure(cluster(10, 0.0, 0.0, 1)).unwrap_err();
        assert_eq!(err.field(), "scope");
        assert_eq!(standalone.config().scope, Scope::Local);
    }

    #[test]
    fn the_config_reads_scope_and_expected_instances_and_refuses_a_bad_scope() {
        let config: BudgetConfig = serde_json::from_str(
            r#"{"capacity": 30, "scope": "cluster", "expected_instances": 3}"#,
        )
        .unwrap();
        assert_eq!(
            config,
            BudgetConfig {
                capacity: 30,
                ..cluster(30, 10.0, 0.0, 3)
            }
        );
        let defaults: BudgetConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(
            (defaults.scope, defaults.expected_instances),
            (Scope::Local, 1)
        );
        let err = serde_json::from_str::<BudgetConfig>(r#"{"scope": "clustr"}"#).unwrap_err();
        assert!(err.to_string().contains("clustr"), "{err}");
        let err = serde_json::from_str::<BudgetConfig>(r#"{"expected": 3}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn a_cluster_budget_off_the_cluster_grants_its_local_share() {
        // 30 tokens, 3 a second, over 3 instances: 10 tokens, 1 a second.
        let (budget, clock) = named(cluster(30, 3.0, 0.0, 3));
        assert_eq!(budget.available(), 10);
        let granted = (0..30).filter(|_| budget.try_withdraw()).count();
        assert_eq!(granted, 10);
        clock.advance(Duration::from_secs(2));
        assert_eq!(budget.available(), 2);
        let snapshot = budget.snapshot();
        assert_eq!(snapshot.scope, Scope::Cluster);
        assert!(!snapshot.on_cluster);
        assert_eq!((snapshot.capacity, snapshot.expected_instances), (30, 3));
        // The configuration reads back as written, not as the share.
        assert_eq!(budget.config(), cluster(30, 3.0, 0.0, 3));
        // A share never rounds down to nothing.
        let (tiny, _) = named(cluster(2, 0.0, 0.0, 5));
        assert_eq!(tiny.available(), 1);
    }

    #[test]
    fn the_lease_is_topped_up_when_low_or_asked() {
        // A tenth of the capacity, at least one token.
        assert_eq!(lease_target(100), 10);
        assert_eq!(lease_target(5), 1);
        // (lease, capacity, a retry was refused) -> tokens to ask for.
        let cases = [
            (0, 100, false, 10),
            (5, 100, false, 5), // half the target: low
            (6, 100, false, 0), // above half: enough
            (6, 100, true, 4),  // a refusal tops it up anyway
            (12, 100, true, 0), // never above the target
            (0, 5, false, 1),
            (1, 5, false, 0),
        ];
        for (lease, capacity, wanted, want) in cases {
            assert_eq!(
                lease_top_up(lease, capacity, wanted),
                want,
                "lease {lease}, capacity {capacity}, wanted {wanted}"
            );
        }
    }

    #[cfg(feature = "redis")]
    #[test]
    fn on_the_cluster_retries_draw_on_the_lease_and_never_on_the_local_share() {
        let (budget, _clock) = named(cluster(100, 0.0, 0.5, 4));
        // Made cluster-scoped: it asks to be attached, with a full lease's worth.
        let first = budget.lease_request(true).expect("a request");
        assert_eq!(
            (
                first.key.as_str(),
                first.capacity,
                first.want,
                first.deposit
            ),
            ("{rb:unit.cluster}", 100, 10, 0)
        );
        budget.lease_granted(first.want);
        assert!(budget.snapshot().on_cluster);
        assert_eq!(budget.available(), 10);
        // Nothing to do while the lease is full.
        assert_eq!(budget.lease_request(true), None);
        let granted = (0..15).filter(|_| budget.try_withdraw()).count();
        assert_eq!(granted, 10, "the lease only, not the local share of 25");
        let snapshot = budget.snapshot();
        assert_eq!(
            (snapshot.withdrawn, snapshot.rejected, snapshot.leased),
            (10, 5, 0)
        );
        // A success's deposit waits for the task, not in the local bucket.
        budget.record_success();
        budget.record_success();
        let next = budget.lease_request(true).expect("a request");
        assert_eq!((next.want, next.deposit), (10, MICRO));
        // Redis did not answer: the deposit is kept for the next round, and retries
        // grant from the local share (100 / 4).
        budget.lease_failed(next.deposit);
        assert!(!budget.snapshot().on_cluster);
        assert_eq!(budget.available(), 25);
        assert!(budget.try_withdraw());
        // Off the cluster, a success deposits locally.
        budget.record_success();
        budget.record_success();
        assert_eq!(budget.available(), 25);
        // Redis answers again: the kept deposit is carried (even while its bucket was
        // just found empty, when no top-up is asked for), the lease resumes.
        let again = budget.lease_request(false).expect("a request");
        assert_eq!((again.want, again.deposit), (0, MICRO));
        budget.lease_failed(again.deposit);
        let again = budget.lease_request(true).expect("a request");
        assert_eq!((again.want, again.deposit), (10, MICRO));
        budget.lease_granted(3);
        assert_eq!(budget.available(), 3);
        // Made local again, it drops the lease.
        budget
            .configure(BudgetConfig {
                scope: Scope::Local,
                ..cluster(100, 0.0, 0.5, 4)
            })
            .unwrap();
        assert_eq!(budget.snapshot().leased, 0);
        assert_eq!(budget.lease_request(true), None);
    }
}
