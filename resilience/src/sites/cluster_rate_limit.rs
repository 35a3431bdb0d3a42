//! `#[rate_limit(scope = cluster)]`: a call site's way to its name's
//! [`ClusterLimiter`](crate::cluster::ClusterLimiter) (feature `redis`).
//!
//! Only a site whose attribute says `scope = cluster` (an `async fn` without `key`)
//! comes here; every other site calls [`RateLimiter::check`] and nothing else, so a
//! local limiter's hot path knows nothing of the cluster.
//!
//! Per call: whether this process called `cluster::connect` (one load). Once it has, the
//! call goes through the name's `ClusterLimiter` (one per name, made from the
//! configuration in force, and made again when `registry().configure_rate_limit`
//! changes it), which decides in Redis, refuses without a round trip while the limit is
//! known to be exhausted, and admits on its local share (`limit / expected_instances`)
//! while Redis is unreachable. Before `connect`, or without the feature, the local
//! limiter decides, and the site says so once (a WARN); so it does when the
//! configuration in force says `scope = local` (without the WARN).

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crate::rate_limit::{RateLimited, RateLimiter};
use crate::Scope;

/// A cluster-scoped call site's state: the cluster limiter it uses, and whether it
/// warned that it runs locally.
pub struct ClusterSlot {
    warned: AtomicBool,
    /// A keyed `RateLimitLayer` whose configuration says `scope = cluster` said it
    /// limits each key locally.
    keyed: AtomicBool,
    #[cfg(feature = "redis")]
    current: std::sync::RwLock<Option<Current>>,
}

/// The cluster limiter made for one configuration of the local limiter (its
/// generation); `None` while that configuration says `scope = local` (or is not a valid
/// cluster limit).
#[cfg(feature = "redis")]
type Current = (u64, Option<std::sync::Arc<crate::cluster::ClusterLimiter>>);

impl Default for ClusterSlot {
    fn default() -> Self {
        ClusterSlot::new()
    }
}

impl ClusterSlot {
    pub(crate) const fn new() -> ClusterSlot {
        ClusterSlot {
            warned: AtomicBool::new(false),
            keyed: AtomicBool::new(false),
            #[cfg(feature = "redis")]
            current: std::sync::RwLock::new(None),
        }
    }

    /// Admits a call of `cost` units of the site whose local limiter is `limiter`:
    /// `Ok(delay)` as [`RateLimiter::check_n`], or the refusal.
    pub(crate) async fn admit(
        &self,
        limiter: &RateLimiter,
        cost: u32,
    ) -> Result<Duration, RateLimited> {
        #[cfg(feature = "redis")]
        if crate::cluster::shared().is_some() {
            return match self.cluster_limiter(limiter) {
                Some(cluster) => {
                    // A cost of 0, or above the burst, is decided without a round trip.
                    if !limiter.weigh(cost)? {
                        return Ok(Duration::ZERO);
                    }
                    match cluster.admit_n(cost).await {
                        crate::cluster::Admission::Admitted => Ok(Duration::ZERO),
                        crate::cluster::Admission::Refused { retry_after } => {
                            Err(limiter.refused_by_cluster(retry_after, cost))
                        }
                    }
                }
                None => limiter.check_n(cost),
            };
        }
        if !self.warned.load(Relaxed) {
            self.warn(limiter);
        }
        limiter.check_n(cost)
    }

    /// A keyed layer of a name whose configuration says `scope = cluster`: a cluster
    /// limit is one per name, so each key is limited locally; said once (a WARN).
    #[cfg_attr(not(feature = "tower"), allow(dead_code))]
    #[inline]
    pub(crate) fn warn_keyed(&self, name: &str) {
        if !self.keyed.load(Relaxed) && !self.keyed.swap(true, Relaxed) {
            tracing::warn!(
                target: "resilience::rate_limit",
                name,
                "the configuration says `scope = cluster`, but this RateLimitLayer has a `key`: a cluster limit is one per name, so each key is limited locally; drop `.key(..)` for one limit across the cluster"
            );
        }
    }

    /// Before `connect` (or without the feature): one WARN, if the configuration in
    /// force says `scope = cluster`.
    #[cold]
    fn warn(&self, limiter: &RateLimiter) {
        if !self.warned.swap(true, Relaxed) && limiter.config().scope == Scope::Cluster {
            crate::scope_warning::warn_local(limiter.name(), "");
        }
    }

    /// The cluster limiter for the configuration in force, or `None` when it says
    /// `scope = local`.
    #[cfg(feature = "redis")]
    #[inline]
    fn cluster_limiter(
        &self,
        limiter: &RateLimiter,
    ) -> Option<std::sync::Arc<crate::cluster::ClusterLimiter>> {
        let generation = limiter.generation();
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match &*current {
            Some((seen, cluster)) if *seen == generation => cluster.clone(),
            _ => {
                drop(current);
                self.refresh(limiter, generation)
            }
        }
    }

    #[cfg(feature = "redis")]
    #[cold]
    fn refresh(
        &self,
        limiter: &RateLimiter,
        generation: u64,
    ) -> Option<std::sync::Arc<crate::cluster::ClusterLimiter>> {
        let config = limiter.config();
        let cluster = (config.scope == Scope::Cluster)
            .then(|| by_name(limiter.name(), &config))
            .flatten();
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((generation, cluster.clone()));
        cluster
    }
}

/// The one cluster limiter of `name` for `config`: the one made before if its limit is
/// the same, else a new one (which replaces it).
#[cfg(feature = "redis")]
fn by_name(
    name: &'static str,
    config: &crate::rate_limit::RateLimitConfig,
) -> Option<std::sync::Arc<crate::cluster::ClusterLimiter>> {
    use crate::cluster::{ClusterLimit, ClusterLimiter};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock, PoisonError};

    static LIMITERS: OnceLock<Mutex<HashMap<&'static str, Arc<ClusterLimiter>>>> = OnceLock::new();
    let limit = ClusterLimit {
        limit: config.limit,
        per: config.per,
        burst: config.burst(),
        expected_instances: config.expected_instances,
    };
    let mut limiters = LIMITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if let Some(cluster) = limiters.get(name).filter(|c| *c.limit() == limit) {
        return Some(cluster.clone());
    }
    match ClusterLimiter::new(name, limit) {
        Ok(cluster) => {
            let cluster = Arc::new(cluster);
            limiters.insert(name, cluster.clone());
            Some(cluster)
        }
        Err(error) => {
            tracing::error!(
                target: "resilience::rate_limit",
                name,
                %error,
                "invalid cluster rate limit; this instance limits its calls locally"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::__private::RateLimitSite;
    use crate::{RateLimitConfig, Scope};

    fn init() -> RateLimitConfig {
        RateLimitConfig {
            limit: 3,
            per: Duration::from_secs(60),
            scope: Scope::Cluster,
            expected_instances: 3,
            ..Default::default()
        }
    }

    /// Before `connect` (no test of this crate connects), a cluster-scoped site is the
    /// local limiter with its whole limit: 3 admitted, not the cluster's local share of 1.
    #[tokio::test]
    async fn before_connect_a_cluster_site_is_the_local_limiter() {
        static SITE: RateLimitSite = RateLimitSite::new("unit.rate_cluster.local", init);
        let mut admitted = 0;
        for _ in 0..10 {
            if SITE.admit_cluster(SITE.instance()).await.is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 3);
        let snapshot = SITE.instance().snapshot();
        assert_eq!((snapshot.rejections, snapshot.available), (7, 0));
        assert_eq!(snapshot.config.scope, Scope::Cluster);
        let limited = SITE.admit_cluster(SITE.instance()).await.unwrap_err();
        assert_eq!(limited.name, "unit.rate_cluster.local");
        assert!(limited.retry_after > Duration::from_secs(19));
    }
}
