//! The contract with `#[rate_limit]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`RateLimitSite`]; its first call finds or
//! registers the limiter (or, with `key = expr`, the name's keyed store) in the global
//! registry, every later call is one atomic load.

use crate::sites::registry::SiteRegistry;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::cluster_rate_limit::ClusterSlot;
use crate::keyed::Keyed;
use crate::rate_limit::{RateLimitConfig, RateLimited, RateLimiter};
use crate::sites::chaos::ChaosSite;

/// One call site's rate limiter, found once.
///
/// ```
/// use resilience::__private::RateLimitSite;
/// use resilience::RateLimitConfig;
///
/// fn init() -> RateLimitConfig { RateLimitConfig { limit: 3, ..Default::default() } }
/// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site", init);
/// assert_eq!(SITE.limiter().config().limit, 3);
/// assert_eq!(SITE.keyed("eu").key(), Some("eu"));
/// ```
pub struct RateLimitSite {
    name: &'static str,
    init: fn() -> RateLimitConfig,
    limiter: OnceLock<Arc<RateLimiter>>,
    keyed: OnceLock<Arc<Keyed<RateLimiter>>>,
    chaos: ChaosSite,
    cluster: ClusterSlot,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
}

impl RateLimitSite {
    /// A site for the limiter `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> RateLimitConfig) -> RateLimitSite {
        RateLimitSite {
            name,
            init,
            registry: SiteRegistry::GLOBAL,
            limiter: OnceLock::new(),
            keyed: OnceLock::new(),
            chaos: ChaosSite::refusing(name),
            cluster: ClusterSlot::new(),
        }
    }

    /// The chaos gate of the calls through this limiter (faults named as the limiter,
    /// keyed or not), after admission.
    ///
    /// ```
    /// use resilience::__private::RateLimitSite;
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.rate_site.chaos", Default::default);
    /// assert_eq!(SITE.chaos().name(), "docs.rate_site.chaos");
    /// ```
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static ChaosSite {
        &self.chaos
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
    /// let limited = SITE.refused(SITE.limiter());
    /// assert_eq!((limited.name, limited.key), ("docs.rate_site.refused", None));
    /// assert_eq!(limited.retry_after, Duration::from_millis(100));
    /// ```
    #[cold]
    pub fn refused(&'static self, limiter: &RateLimiter) -> RateLimited {
        let config = limiter.config();
        RateLimited {
            name: limiter.name(),
            key: limiter.key().map(Arc::from),
            retry_after: config.per / config.limit.max(1),
        }
    }

    /// The limiter, registered on first use. A configuration given to the registry
    /// before that wins over `init`'s values.
    #[inline]
    pub fn limiter(&'static self) -> &'static RateLimiter {
        match self.limiter.get() {
            Some(l) => l,
            None => self.register(),
        }
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
    /// assert!(SITE.admit_cluster(SITE.limiter()).await.is_ok());
    /// assert!(SITE.admit_cluster(SITE.limiter()).await.is_err());
    /// # });
    /// ```
    #[inline]
    pub async fn admit_cluster(
        &'static self,
        limiter: &RateLimiter,
    ) -> Result<Duration, RateLimited> {
        self.cluster.admit(limiter).await
    }

    #[cold]
    fn register(&'static self) -> &'static RateLimiter {
        self.limiter.get_or_init(|| {
            let limiter = self
                .registry
                .get()
                .rate_limiter_or_insert(self.name, self.config());
            self.check_scope(&limiter.config());
            limiter
        })
    }

    /// A configuration given before the first call says `scope = cluster`, but the
    /// attribute did not: only a site written with `scope = cluster` (an `async fn`)
    /// admits through the cluster, so this one limits locally, and says so.
    fn check_scope(&self, config: &RateLimitConfig) {
        if config.scope == crate::Scope::Cluster && (self.init)().scope != crate::Scope::Cluster {
            tracing::warn!(
                target: "resilience::rate_limit",
                name = self.name,
                "the configuration says `scope = cluster`, but this #[rate_limit] was written without it: it limits locally; write `scope = cluster` on it"
            );
        }
    }

    /// The instance for `key` (the text of the attribute's `key = expr`).
    #[inline]
    pub fn keyed(&'static self, key: &str) -> Arc<RateLimiter> {
        match self.keyed.get() {
            Some(store) => store.get(key),
            None => self.register_keyed().get(key),
        }
    }

    #[cold]
    fn register_keyed(&'static self) -> &'static Keyed<RateLimiter> {
        self.keyed.get_or_init(|| {
            self.registry
                .get()
                .rate_limiters_keyed(self.name, self.config())
        })
    }

    fn config(&self) -> RateLimitConfig {
        crate::config_error::valid_fields(
            (self.init)(),
            RateLimitConfig::validate,
            "#[rate_limit]",
            self.name,
        )
    }
}

/// `From<RateLimited>`, under a name whose absence the compiler explains: the error says
/// which variant to add.
///
/// ```
/// use resilience::__private::FromRateLimited;
/// let limited = resilience::RateLimited { name: "x", key: None, retry_after: Default::default() };
/// let e: resilience::RateLimited = FromRateLimited::from_rate_limited(limited.clone());
/// assert_eq!(e, limited);
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[rate_limit]` returns `Err(E::from(resilience::RateLimited))` for a refused call, and `{Self}` has no `From<resilience::RateLimited>`",
    label = "`{Self}` needs `From<resilience::RateLimited>`",
    note = "add a variant to `{Self}`: `#[error(transparent)] Limited(#[from] resilience::RateLimited)`"
)]
pub trait FromRateLimited: Sized {
    /// `Self::from(limited)`.
    fn from_rate_limited(limited: RateLimited) -> Self;
}

impl<E: From<RateLimited>> FromRateLimited for E {
    #[inline]
    fn from_rate_limited(limited: RateLimited) -> E {
        E::from(limited)
    }
}

impl RateLimitSite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::RateLimitSite;
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.limit.registry", Default::default)
    ///     .in_registry(|| &REG);
    /// SITE.limiter();
    /// assert!(REG.rate_limiter("docs.limit.registry").is_some());
    /// assert!(resilience::registry().rate_limiter("docs.limit.registry").is_none());
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
    }
}
