//! The contract with `#[rate_limit]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`RateLimitSite`], the generic [`Site`] of
//! a rate limiter (`instance()`, or `keyed(key)` with `key = expr`) with a
//! [`ClusterSlot`] for `scope = cluster`; this file holds what is the rate limit's own.

use std::time::Duration;

use super::cluster_rate_limit::ClusterSlot;
use crate::rate_limit::{RateLimitConfig, RateLimited, RateLimiter};
use crate::sites::site::{Site, SiteExtra};

/// One call site's rate limiter (or, with `key = expr`, its limiters, one per key),
/// found once; with `scope = cluster`, admitting through the cluster.
///
/// ```
/// use resilience::__private::RateLimitSite;
/// use resilience::RateLimitConfig;
///
/// fn init() -> RateLimitConfig { RateLimitConfig { limit: 3, ..Default::default() } }
/// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site", init);
/// assert_eq!(SITE.instance().config().limit, 3);
/// assert_eq!(SITE.keyed("eu").unwrap().key(), Some("eu"));
/// ```
pub type RateLimitSite = Site<RateLimiter, ClusterSlot>;

impl Site<RateLimiter, ClusterSlot> {
    /// A site for the limiter `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> RateLimitConfig) -> RateLimitSite {
        Site::with(name, init, ClusterSlot::new())
    }

    /// The `RateLimited` an injected refusal of a call through `limiter` returns
    /// (converted as a real refusal is): its name and key, and the spacing of its calls
    /// (`per / limit`) as the wait. Not counted as a rejection.
    ///
    /// ```
    /// use std::time::Duration;
    /// use resilience::__private::RateLimitSite;
    /// use resilience::RateLimitConfig;
    ///
    /// fn init() -> RateLimitConfig {
    ///     RateLimitConfig { limit: 10, per: Duration::from_secs(1), ..Default::default() }
    /// }
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site.refused", init);
    /// let limited = SITE.refused(SITE.instance());
    /// assert_eq!((limited.name, limited.key), ("docs.rate_site.refused", None));
    /// assert_eq!(limited.retry_after, Duration::from_millis(100));
    /// ```
    #[cfg(feature = "chaos")]
    #[cold]
    pub fn refused(&'static self, limiter: &RateLimiter) -> RateLimited {
        let config = limiter.config();
        RateLimited::new(
            limiter.name(),
            limiter.key().map(std::sync::Arc::from),
            config.per / config.limit.max(1),
        )
    }

    /// Admits a call of a `scope = cluster` site (an `async fn`): through the name's
    /// cluster limiter once `cluster::connect` was called (feature `redis`), through
    /// `limiter`, its local limiter, before (saying so once, a WARN). `Ok(delay)` as
    /// [`RateLimiter::check`], or the refusal, whose `retry_after` is the cluster's.
    ///
    /// ```
    /// use resilience::__private::RateLimitSite;
    /// use resilience::{RateLimitConfig, Scope};
    ///
    /// fn init() -> RateLimitConfig {
    ///     RateLimitConfig { limit: 1, scope: Scope::Cluster, ..Default::default() }
    /// }
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site.cluster", init);
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// // Not connected: the local limiter decides.
    /// assert!(SITE.admit_cluster(SITE.instance()).await.is_ok());
    /// assert!(SITE.admit_cluster(SITE.instance()).await.is_err());
    /// # });
    /// ```
    #[inline]
    pub async fn admit_cluster(
        &'static self,
        limiter: &RateLimiter,
    ) -> Result<Duration, RateLimited> {
        self.extra.admit(limiter, 1).await
    }

    /// [`admit_cluster`](Self::admit_cluster) for a call of `cost` units (`cost = expr`),
    /// as [`RateLimiter::check_n`] admits it.
    ///
    /// ```
    /// use resilience::__private::RateLimitSite;
    /// use resilience::{RateLimitConfig, Scope};
    ///
    /// fn init() -> RateLimitConfig {
    ///     RateLimitConfig { limit: 10, scope: Scope::Cluster, ..Default::default() }
    /// }
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site.cluster_n", init);
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// assert!(SITE.admit_cluster_n(SITE.instance(), 8).await.is_ok());
    /// assert!(SITE.admit_cluster_n(SITE.instance(), 8).await.is_err());
    /// assert_eq!(SITE.admit_cluster_n(SITE.instance(), 11).await.unwrap_err().over_burst, Some(10));
    /// # });
    /// ```
    #[inline]
    pub async fn admit_cluster_n(
        &'static self,
        limiter: &RateLimiter,
        cost: u32,
    ) -> Result<Duration, RateLimited> {
        self.extra.admit(limiter, cost).await
    }
}

/// The rate limit's own part of its site: the cluster limiter of a `scope = cluster`
/// site, and, for every site, a WARN when the configuration in force says
/// `scope = cluster` but the attribute did not.
impl SiteExtra<RateLimiter> for ClusterSlot {
    fn found(
        &self,
        name: &'static str,
        _function: &'static str,
        attribute: &RateLimitConfig,
        limiter: &RateLimiter,
    ) {
        // Only a site written with `scope = cluster` (an `async fn`) admits through the
        // cluster, so this one limits locally, and says so.
        if limiter.config().scope == crate::Scope::Cluster
            && attribute.scope != crate::Scope::Cluster
        {
            tracing::warn!(
                target: "resilience::rate_limit",
                name,
                "the configuration says `scope = cluster`, but this #[rate_limit] was written without it: it limits locally; write `scope = cluster` on it"
            );
        }
    }
}
