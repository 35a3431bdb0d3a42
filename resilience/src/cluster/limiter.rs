//! [`ClusterLimiter`]: a rate limit shared by every instance, decided in Redis by one
//! GCRA script, with a local fast path for refusals and a local share while Redis is
//! unreachable.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::scripts;
use crate::clock::{duration_nanos, Clock, SystemClock};
use crate::ConfigError;

/// The limit a [`ClusterLimiter`] enforces across the cluster: `limit` calls per `per` at
/// the long-run rate, and after a quiet spell up to `burst` (0: `limit`) at once, so a
/// window of `per` just after one may admit `burst + limit`.
///
/// ```
/// use resilience::cluster::ClusterLimit;
/// use std::time::Duration;
///
/// let limit = ClusterLimit { limit: 500, per: Duration::from_secs(60), ..Default::default() };
/// assert_eq!(limit.burst, 0); // 0 means "= limit"
/// assert!(limit.validate().is_ok());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterLimit {
    /// Calls per `per` across every instance at the long-run rate (at least 1). Default
    /// 100.
    pub limit: u32,
    /// The period (at least 1 µs). Default 1 s.
    pub per: Duration,
    /// Calls admitted at once after a quiet period; 0 means `limit`. Default 0.
    pub burst: u32,
    /// Instances expected to share the limit: while Redis is unreachable each admits
    /// `limit / expected_instances` (at least 1) locally. Default 1.
    pub expected_instances: u32,
}

impl Default for ClusterLimit {
    fn default() -> Self {
        ClusterLimit {
            limit: 100,
            per: Duration::from_secs(1),
            burst: 0,
            expected_instances: 1,
        }
    }
}

impl ClusterLimit {
    /// `limit` calls per `per` (burst = limit, one instance expected).
    ///
    /// ```
    /// let l = resilience::cluster::ClusterLimit::new(10, std::time::Duration::from_secs(1));
    /// assert_eq!((l.limit, l.expected_instances), (10, 1));
    /// ```
    pub fn new(limit: u32, per: Duration) -> ClusterLimit {
        ClusterLimit {
            limit,
            per,
            ..Default::default()
        }
    }

    /// Checks every rule; the first broken one is an error naming the field and value.
    ///
    /// ```
    /// use resilience::cluster::ClusterLimit;
    /// let err = ClusterLimit { limit: 0, ..Default::default() }.validate().unwrap_err();
    /// assert_eq!(err.field(), "limit");
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.limit == 0 {
            return Err(ConfigError::new("limit", self.limit, "must be at least 1"));
        }
        if self.per < Duration::from_micros(1) {
            return Err(ConfigError::new("per", self.per, "must be at least 1us"));
        }
        if self.expected_instances == 0 {
            return Err(ConfigError::new(
                "expected_instances",
                0,
                "must be at least 1",
            ));
        }
        if self.interval_us() == 0 {
            return Err(ConfigError::new(
                "per",
                self.per,
                format!("must be at least 1us per call (limit = {})", self.limit),
            ));
        }
        Ok(())
    }

    fn burst(&self) -> u32 {
        if self.burst == 0 {
            self.limit
        } else {
            self.burst
        }
    }

    fn interval_us(&self) -> u64 {
        (self.per.as_micros() / u128::from(self.limit.max(1))) as u64
    }
}

/// What [`ClusterLimiter::admit`] decided.
///
/// ```
/// use resilience::cluster::Admission;
/// let refused = Admission::Refused { retry_after: std::time::Duration::from_millis(5) };
/// assert!(!refused.is_admitted());
/// assert_eq!(refused.retry_after(), Some(std::time::Duration::from_millis(5)));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// The call may run.
    Admitted,
    /// The call must not run; one would be admitted after `retry_after`.
    Refused {
        /// The wait until a call would be admitted.
        retry_after: Duration,
    },
}

impl Admission {
    /// True for [`Admission::Admitted`].
    ///
    /// ```
    /// assert!(resilience::cluster::Admission::Admitted.is_admitted());
    /// ```
    pub fn is_admitted(self) -> bool {
        matches!(self, Admission::Admitted)
    }

    /// The wait of a refusal.
    ///
    /// ```
    /// assert_eq!(resilience::cluster::Admission::Admitted.retry_after(), None);
    /// ```
    pub fn retry_after(self) -> Option<Duration> {
        match self {
            Admission::Admitted => None,
            Admission::Refused { retry_after } => Some(retry_after),
        }
    }
}

/// Every decision a [`ClusterLimiter`] made, by who made it. Each `admit` counts in
/// exactly one field, so their sum is the number of calls.
///
/// ```
/// let s = resilience::cluster::LimiterStats::default();
/// assert_eq!(s.total(), 0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LimiterStats {
    /// Admitted by Redis.
    pub cluster_admitted: u64,
    /// Refused by Redis.
    pub cluster_refused: u64,
    /// Refused locally while the limit was known to be exhausted (no round trip).
    pub cached_refused: u64,
    /// Admitted on the local share (Redis unreachable or not connected).
    pub local_admitted: u64,
    /// Refused on the local share.
    pub local_refused: u64,
}

impl LimiterStats {
    /// Every decision.
    ///
    /// ```
    /// let s = resilience::cluster::LimiterStats { cluster_admitted: 2, local_refused: 1, ..Default::default() };
    /// assert_eq!(s.total(), 3);
    /// ```
    pub fn total(&self) -> u64 {
        self.cluster_admitted
            + self.cluster_refused
            + self.cached_refused
            + self.local_admitted
            + self.local_refused
    }

    /// Calls admitted, by Redis or locally.
    ///
    /// ```
    /// let s = resilience::cluster::LimiterStats { cluster_admitted: 2, local_admitted: 1, ..Default::default() };
    /// assert_eq!(s.admitted(), 3);
    /// ```
    pub fn admitted(&self) -> u64 {
        self.cluster_admitted + self.local_admitted
    }
}

/// A rate limit shared by every instance connected to the cluster.
///
/// Each admission is one GCRA script in Redis (`EVALSHA`, key `{rl:NAME}`, the server's
/// clock), bounded by the cluster's `op_timeout`. A refusal tells how long the limit
/// stays exhausted; until then this instance refuses at once, without a round trip
/// ([`exhausted`](ClusterLimiter::exhausted)). While Redis is unreachable (or before
/// `connect`), admissions are decided locally on this instance's share,
/// `limit / expected_instances`.
///
/// ```no_run
/// use resilience::cluster::{ClusterLimit, ClusterLimiter};
/// use std::time::Duration;
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// resilience::cluster::connect("redis://127.0.0.1:6379").await?;
/// let openai = ClusterLimiter::new("openai", ClusterLimit::new(500, Duration::from_secs(60)))?;
/// if openai.admit().await.is_admitted() {
///     // call the API
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct ClusterLimiter {
    name: String,
    key: String,
    limit: ClusterLimit,
    interval_us: u64,
    tau_us: u64,
    /// Local clock time (ns) until which the cluster limit is known to be exhausted.
    exhausted_until: AtomicU64,
    /// The local share's GCRA: theoretical arrival time in local ns.
    local_tat: AtomicU64,
    local_interval_ns: u64,
    local_tau_ns: u64,
    /// The shortest wait a refusal gives (one emission interval, at most 1 ms).
    floor_ns: u64,
    stats: [AtomicU64; 5],
}

const CLUSTER_ADMITTED: usize = 0;
const CLUSTER_REFUSED: usize = 1;
const CACHED_REFUSED: usize = 2;
const LOCAL_ADMITTED: usize = 3;
const LOCAL_REFUSED: usize = 4;

impl ClusterLimiter {
    /// A limiter named `name` (its Redis key is `{rl:NAME}`); `limit` is validated.
    ///
    /// ```
    /// use resilience::cluster::{ClusterLimit, ClusterLimiter};
    /// let err = ClusterLimiter::new("x", ClusterLimit { expected_instances: 0, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "expected_instances");
    /// ```
    pub fn new(
        name: impl Into<String>,
        limit: ClusterLimit,
    ) -> Result<ClusterLimiter, ConfigError> {
        limit.validate()?;
        let name = name.into();
        let interval_us = limit.interval_us();
        let tau_us = interval_us.saturating_mul(u64::from(limit.burst()));
        let share = (limit.limit / limit.expected_instances).max(1);
        let share_burst = (limit.burst() / limit.expected_instances).max(1);
        let local_interval_ns = (duration_nanos(limit.per) / u64::from(share)).max(1);
        Ok(ClusterLimiter {
            key: format!("{{rl:{name}}}"),
            name,
            interval_us,
            tau_us,
            exhausted_until: AtomicU64::new(0),
            local_tat: AtomicU64::new(0),
            local_interval_ns,
            local_tau_ns: local_interval_ns.saturating_mul(u64::from(share_burst)),
            floor_ns: interval_us.clamp(1, 1000) * 1000,
            limit,
            stats: Default::default(),
        })
    }

    /// The limiter's name.
    ///
    /// ```
    /// use resilience::cluster::{ClusterLimit, ClusterLimiter};
    /// assert_eq!(ClusterLimiter::new("openai", ClusterLimit::default()).unwrap().name(), "openai");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The limit it enforces.
    ///
    /// ```
    /// use resilience::cluster::{ClusterLimit, ClusterLimiter};
    /// let l = ClusterLimiter::new("x", ClusterLimit::new(7, std::time::Duration::from_secs(1))).unwrap();
    /// assert_eq!(l.limit().limit, 7);
    /// ```
    pub fn limit(&self) -> &ClusterLimit {
        &self.limit
    }

    /// The decisions made so far.
    ///
    /// ```
    /// use resilience::cluster::{ClusterLimit, ClusterLimiter};
    /// assert_eq!(ClusterLimiter::new("x", ClusterLimit::default()).unwrap().stats().total(), 0);
    /// ```
    pub fn stats(&self) -> LimiterStats {
        let s = |i: usize| self.stats[i].load(Relaxed);
        LimiterStats {
            cluster_admitted: s(CLUSTER_ADMITTED),
            cluster_refused: s(CLUSTER_REFUSED),
            cached_refused: s(CACHED_REFUSED),
            local_admitted: s(LOCAL_ADMITTED),
            local_refused: s(LOCAL_REFUSED),
        }
    }

    /// The fast path: while the cluster's limit is known to be exhausted, the time left.
    /// One atomic load and a read of the OS's coarse clock (a few ns; its millisecond
    /// granularity can only make a refusal last that much longer, never admit early);
    /// no round trip.
    ///
    /// ```
    /// use resilience::cluster::{ClusterLimit, ClusterLimiter};
    /// assert_eq!(ClusterLimiter::new("x", ClusterLimit::default()).unwrap().exhausted(), None);
    /// ```
    #[inline]
    pub fn exhausted(&self) -> Option<Duration> {
        let until = self.exhausted_until.load(Relaxed);
        if until == 0 {
            return None;
        }
        let now = duration_nanos(SystemClock.now_coarse());
        // Never below the floor of `sane_wait`: the end of a window is no reason to spin.
        (now < until).then(|| Duration::from_nanos((until - now).max(self.floor_ns)))
    }

    /// Asks to make one call. Refused at once while the limit is known to be exhausted;
    /// otherwise one GCRA script in Redis, at most `op_timeout` long; on the local share
    /// while Redis is unreachable.
    ///
    /// ```no_run
    /// use resilience::cluster::{Admission, ClusterLimit, ClusterLimiter};
    /// # async fn run() {
    /// let l = ClusterLimiter::new("x", ClusterLimit::new(1, std::time::Duration::from_secs(60))).unwrap();
    /// assert_eq!(l.admit().await, Admission::Admitted);
    /// assert!(!l.admit().await.is_admitted());
    /// # }
    /// ```
    pub async fn admit(&self) -> Admission {
        self.admit_n(1).await
    }

    /// Asks to make a call that takes `cost` units of the limit (tokens of a quota), as
    /// [`admit`](Self::admit) does: the cluster's script moves its state by `cost`
    /// intervals, and a refusal's `retry_after` is the wait until `cost` units are free.
    /// A cost of 0 is admitted without a round trip. A cost above the burst never fits:
    /// it is refused with a wait of `per` (the rate limit's sites refuse it before they
    /// get here, with [`RateLimited::over_burst`](crate::RateLimited::over_burst)).
    ///
    /// ```no_run
    /// use resilience::cluster::{Admission, ClusterLimit, ClusterLimiter};
    /// # async fn run() {
    /// // 1 000 tokens a minute across the fleet.
    /// let tokens = ClusterLimiter::new("llm", ClusterLimit::new(1_000, std::time::Duration::from_secs(60))).unwrap();
    /// assert_eq!(tokens.admit_n(600).await, Admission::Admitted);
    /// assert!(!tokens.admit_n(500).await.is_admitted()); // 100 tokens missing
    /// # }
    /// ```
    pub async fn admit_n(&self, cost: u32) -> Admission {
        if cost == 0 {
            return Admission::Admitted;
        }
        if let Some(retry_after) = self.exhausted() {
            self.stats[CACHED_REFUSED].fetch_add(1, Relaxed);
            return Admission::Refused { retry_after };
        }
        let Some(shared) = super::shared() else {
            return self.admit_locally(cost);
        };
        let mut inv = scripts::GCRA.prepare_invoke();
        inv.key(&self.key)
            .arg(self.interval_us)
            .arg(self.tau_us)
            .arg(cost);
        let answer = shared.eval_if_up::<(i64, i64, i64)>(&self.key, &inv).await;
        if let Some((_, _, 1)) = answer {
            shared.corrupt_once(&self.key, "not a GCRA arrival time");
        }
        match answer {
            Some((1, _, _)) => {
                self.stats[CLUSTER_ADMITTED].fetch_add(1, Relaxed);
                Admission::Admitted
            }
            Some((_, wait_us, _)) => {
                let retry_after = self.sane_wait(wait_us);
                // Known exhausted for every call only while one unit is missing: the
                // wait of a call of `cost` less the `cost - 1` intervals a call of one
                // unit does not need.
                let extra_us = self.interval_us.saturating_mul(u64::from(cost) - 1);
                let one_unit = u64::try_from(wait_us).unwrap_or(0).saturating_sub(extra_us);
                if one_unit > 0 {
                    let until = duration_nanos(SystemClock.now_coarse())
                        .saturating_add(duration_nanos(self.sane_wait(one_unit as i64)));
                    self.exhausted_until.fetch_max(until, Relaxed);
                }
                self.stats[CLUSTER_REFUSED].fetch_add(1, Relaxed);
                Admission::Refused { retry_after }
            }
            None => self.admit_locally(cost),
        }
    }

    /// Redis's wait, kept between a floor (one emission interval, at most 1 ms: a wait
    /// that tells a caller to spin is never given) and `per` (no refusal of this limit
    /// lasts longer), whatever the server answered.
    fn sane_wait(&self, wait_us: i64) -> Duration {
        let per_us = u64::try_from(self.limit.per.as_micros()).unwrap_or(u64::MAX);
        let floor = (self.floor_ns / 1000).min(per_us);
        Duration::from_micros(u64::try_from(wait_us).unwrap_or(0).clamp(floor, per_us))
    }

    /// GCRA on this instance's share, lock-free; a call takes `cost` intervals.
    fn admit_locally(&self, cost: u32) -> Admission {
        let now = duration_nanos(SystemClock.now());
        let increment = self.local_interval_ns.saturating_mul(u64::from(cost));
        let mut tat = self.local_tat.load(Relaxed);
        loop {
            let start = tat.max(now);
            let next = start.saturating_add(increment);
            let allow_at = next.saturating_sub(self.local_tau_ns);
            if allow_at > now {
                self.stats[LOCAL_REFUSED].fetch_add(1, Relaxed);
                return Admission::Refused {
                    retry_after: Duration::from_nanos((allow_at - now).max(self.floor_ns)),
                };
            }
            match self
                .local_tat
                .compare_exchange_weak(tat, next, Relaxed, Relaxed)
            {
                Ok(_) => {
                    self.stats[LOCAL_ADMITTED].fetch_add(1, Relaxed);
                    return Admission::Admitted;
                }
                Err(current) => tat = current,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn before_connect_the_local_share_decides() {
        // 10 per minute over 5 expected instances: a share of 2, burst 2.
        let l = ClusterLimiter::new(
            "unit.share",
            ClusterLimit {
                limit: 10,
                per: Duration::from_secs(60),
                expected_instances: 5,
                ..Default::default()
            },
        )
        .unwrap();
        let admitted = {
            let mut n = 0;
            for _ in 0..10 {
                n += u32::from(l.admit().await.is_admitted());
            }
            n
        };
        assert_eq!(admitted, 2);
        let s = l.stats();
        assert_eq!((s.local_admitted, s.local_refused, s.total()), (2, 8, 10));
    }

    #[test]
    fn a_limit_finer_than_a_microsecond_per_call_is_refused() {
        let err = ClusterLimit {
            limit: 2_000_000,
            per: Duration::from_secs(1),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field(), "per");
    }
}
