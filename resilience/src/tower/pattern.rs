//! The shape the circuit-breaker, bulkhead and rate-limit layers share, written once and
//! generic over the pattern `P` ([`Breaker`], [`Bulkhead`], [`RateLimiter`]), which is a
//! [`Pattern`] of the registry:
//!
//! - [`PatternLayer`]: the layer of the instance `name` of a registry (`new`, `name`,
//!   `registry`, `config`, `try_config`, `key`);
//! - [`PatternService`]: the service it makes, holding its instance as a `&'static`
//!   reference (no reference count, no lookup on a call);
//! - [`KeyedLayer`] and [`KeyedService`]: what `.key(|req| ..)` makes, one instance per
//!   key in the registry's keyed store of the name (`max_keys`).
//!
//! Users write them by the pattern's names (`CircuitBreakerLayer`, `BulkheadService`,
//! `KeyedRateLimitLayer<K>`, ...), type aliases in the pattern's own file. That file
//! holds the rest, all the pattern's own: its [`TowerPattern`] impl (its layer's name and
//! option), the `Service` impls of `PatternService<P, ..>` and `KeyedService<P, ..>`
//! (what a call does: the hot path), and the response future. Registering, configuring
//! and keying are the registry's, the same for every [`Pattern`].
//!
//! [`Breaker`]: crate::breaker::Breaker
//! [`Bulkhead`]: crate::bulkhead::Bulkhead
//! [`RateLimiter`]: crate::rate_limit::RateLimiter

use std::fmt::{Debug, Display};
use std::sync::Arc;

use tower_layer::Layer;

use crate::keyed::{KeyText, Keyed};
use crate::pattern::{Pattern, PatternConfig};
use crate::registry::table::Table;
use crate::registry::Registry;
use crate::sites::faults::Faults;
use crate::ConfigError;

/// A pattern with tower layers: its [`Pattern`] (how the registry makes, configures and
/// keys it) and what the layer adds, implemented by `Breaker`, `Bulkhead` and
/// `RateLimiter` in their layer files. Public but unnameable outside the crate (a
/// private module), so no one else implements it.
pub trait TowerPattern: Pattern<Config: Debug> + Debug {
    /// The unkeyed layer's name, for its log lines (`"BulkheadLayer"`).
    const LAYER: &'static str;

    /// The layer's own option as `new` makes it (the breaker's `failure_if`:
    /// `NoResponseFails`); `()` for a pattern without one.
    type Extra: Clone + Default;
}

/// The layer of the instance `name` of a pattern `P` of a registry (the global
/// [`registry`](crate::registry()) unless [`registry`](Self::registry) says), written by
/// the pattern's name:
/// [`CircuitBreakerLayer`](super::CircuitBreakerLayer) (`P` = [`Breaker`](crate::breaker::Breaker),
/// `X` its [`failure_if`](Self::failure_if)), [`BulkheadLayer`](super::BulkheadLayer)
/// (`P` = [`Bulkhead`](crate::bulkhead::Bulkhead)) or [`RateLimitLayer`](super::RateLimitLayer)
/// (`P` = [`RateLimiter`](crate::rate_limit::RateLimiter)). Each shares the instance of its
/// name with the attribute of the same name (`#[circuit_breaker(name = ..)]`, ...).
///
/// ```
/// use resilience::tower::{BulkheadLayer, PatternLayer};
/// use resilience::bulkhead::Bulkhead;
/// let layer: PatternLayer<Bulkhead> = BulkheadLayer::new("docs.pattern_layer");
/// assert_eq!(layer.name(), "docs.pattern_layer");
/// ```
pub struct PatternLayer<P: TowerPattern, X = ()> {
    pub(super) name: Arc<str>,
    /// Where `layer` registers the instance.
    pub(super) registry: &'static Registry,
    /// An instance given as it is (`with_breaker`); else `layer` registers one.
    pub(super) instance: Option<&'static P>,
    /// The configuration `config` was given (valid), for the instance and the keyed
    /// instances of `key`.
    pub(super) given: Option<P::Config>,
    pub(super) extra: X,
}

impl<P: TowerPattern> PatternLayer<P, P::Extra> {
    /// The layer of the instance `name`, with the registry's configuration for the name
    /// (or the defaults, if it has none and no [`config`](Self::config) is given).
    ///
    /// ```
    /// let layer = resilience::tower::CircuitBreakerLayer::new("docs.new");
    /// assert_eq!(layer.name(), "docs.new");
    /// let layer = resilience::tower::BulkheadLayer::new("docs.bulkhead_new");
    /// assert_eq!(layer.name(), "docs.bulkhead_new");
    /// let layer = resilience::tower::RateLimitLayer::new("docs.rate_limit_new");
    /// assert_eq!(layer.name(), "docs.rate_limit_new");
    /// ```
    pub fn new(name: impl AsRef<str>) -> Self {
        PatternLayer {
            name: name.as_ref().into(),
            registry: crate::registry(),
            instance: None,
            given: None,
            extra: P::Extra::default(),
        }
    }
}

impl<P: TowerPattern, X> PatternLayer<P, X> {
    /// The instance's name.
    ///
    /// ```
    /// assert_eq!(resilience::tower::CircuitBreakerLayer::new("x").name(), "x");
    /// assert_eq!(resilience::tower::BulkheadLayer::new("x").name(), "x");
    /// assert_eq!(resilience::tower::RateLimitLayer::new("x").name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registry the instance (or, with [`key`](Self::key), the keyed instances)
    /// lives in: the global [`registry()`](crate::registry()) unless this says (a
    /// `Registry::new()` of a test, or on a [`ManualClock`](crate::clock::ManualClock)).
    ///
    /// ```
    /// use resilience::registry::Registry;
    /// use resilience::tower::BulkheadLayer;
    /// use std::sync::LazyLock;
    /// use tower::Layer;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// let svc = BulkheadLayer::new("docs.layer_registry").registry(&REG).layer(());
    /// assert!(REG.bulkhead("docs.layer_registry").is_some());
    /// assert!(resilience::registry().bulkhead("docs.layer_registry").is_none());
    /// # let _ = svc;
    /// ```
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The configuration the instance is registered with, when the layer makes its
    /// service (a configuration the registry was given for the name wins, as over an
    /// attribute's keys, and a configuration file's fields lie over it). A name has one
    /// configuration: when other code (an attribute, another layer) registered the name
    /// first with another, that one stays and this one does not apply, which a WARN
    /// (target `resilience::tower`, once per name) says, naming the name and the fields
    /// that differ. An invalid `config` is logged as a `tracing` error and the defaults
    /// are used. [`try_config`](Self::try_config) returns either as an error instead.
    ///
    /// ```
    /// use resilience::{tower::CircuitBreakerLayer, registry, BreakerConfig};
    /// use tower::Layer;
    /// CircuitBreakerLayer::new("docs.config").config(BreakerConfig { failure_threshold: 2, ..Default::default() }).layer(());
    /// assert_eq!(registry().breaker("docs.config").unwrap().config().failure_threshold, 2);
    /// ```
    ///
    /// ```
    /// use resilience::{tower::BulkheadLayer, registry, BulkheadConfig};
    /// use tower::Layer;
    /// BulkheadLayer::new("docs.bulkhead_config").config(BulkheadConfig { max_concurrent: 2, ..Default::default() }).layer(());
    /// assert_eq!(registry().bulkhead("docs.bulkhead_config").unwrap().config().max_concurrent, 2);
    /// ```
    ///
    /// ```
    /// use resilience::{tower::RateLimitLayer, registry, RateLimitConfig};
    /// use tower::Layer;
    /// RateLimitLayer::new("docs.rate_limit_config").config(RateLimitConfig { limit: 3, ..Default::default() }).layer(());
    /// assert_eq!(registry().rate_limiter("docs.rate_limit_config").unwrap().config().limit, 3);
    /// ```
    pub fn config(mut self, config: P::Config) -> Self {
        // A clash is only known when the layer registers (its registry may change first).
        match config.validate() {
            Ok(()) => self.given = Some(config),
            Err(error) => tracing::error!(
                target: "resilience::tower",
                name = &*self.name,
                %error,
                "invalid {} configuration; using the defaults",
                P::LAYER
            ),
        }
        self
    }

    /// [`config`](Self::config), or the error naming the invalid field (and the layer
    /// back, unchanged); or the error naming the first field that differs when the name
    /// is already registered in the layer's registry (give [`registry`](Self::registry)
    /// first) by other code (an attribute, another layer) with another configuration,
    /// which [`config`](Self::config) would keep with a WARN.
    ///
    /// ```
    /// use resilience::{tower::CircuitBreakerLayer, BreakerConfig};
    /// let bad = BreakerConfig { failure_threshold: 0, ..Default::default() };
    /// let (_layer, err) = CircuitBreakerLayer::new("docs.try").try_config(bad).unwrap_err();
    /// assert_eq!(err.field(), "failure_threshold");
    /// ```
    ///
    /// ```
    /// use resilience::{tower::BulkheadLayer, BulkheadConfig};
    /// let bad = BulkheadConfig { max_concurrent: 0, ..Default::default() };
    /// let (_layer, err) = BulkheadLayer::new("docs.bulkhead_try").try_config(bad).unwrap_err();
    /// assert_eq!(err.field(), "max_concurrent");
    /// ```
    ///
    /// ```
    /// use resilience::{tower::RateLimitLayer, RateLimitConfig};
    /// let bad = RateLimitConfig { limit: 0, ..Default::default() };
    /// let (_layer, err) = RateLimitLayer::new("docs.rate_limit_try").try_config(bad).unwrap_err();
    /// assert_eq!(err.field(), "limit");
    /// ```
    ///
    /// ```
    /// use resilience::{tower::BulkheadLayer, BulkheadConfig};
    /// use tower::Layer;
    /// let two = BulkheadConfig { max_concurrent: 2, ..Default::default() };
    /// let _svc = BulkheadLayer::new("docs.try_clash").config(two.clone()).layer(());
    /// let three = BulkheadConfig { max_concurrent: 3, ..Default::default() };
    /// let (_layer, err) = BulkheadLayer::new("docs.try_clash").try_config(three).unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("max_concurrent", "3"));
    /// assert!(BulkheadLayer::new("docs.try_clash").try_config(two).is_ok());
    /// ```
    #[allow(clippy::result_large_err)] // the layer comes back so the chain can go on
    pub fn try_config(mut self, config: P::Config) -> Result<Self, (Self, ConfigError)> {
        if let Err(error) = config.validate() {
            return Err((self, error));
        }
        let table = self.registry.table::<P>();
        if let Some(clash) = table.clash(&self.name, |_| config.clone()) {
            let error = clash.error(P::KIND, &self.name);
            return Err((self, error));
        }
        self.given = Some(config);
        Ok(self)
    }

    /// One instance per key: `key` maps a request to its key (a host, a tenant, a
    /// client), whose `Display` text names the instance, as `key = expr` on the attribute
    /// of the same name does (`#[circuit_breaker(key = ..)]`, `#[bulkhead(key = ..)]`,
    /// `#[rate_limit(key = ..)]`); a layer and an attribute of one name share the
    /// instances. They live in the registry's keyed store for the name
    /// ([`registry().breaker_for(name, key)`](crate::registry::Registry::breaker_for),
    /// [`bulkhead_for`](crate::registry::Registry::bulkhead_for),
    /// [`rate_limiter_for`](crate::registry::Registry::rate_limiter_for)), made on first
    /// use with the configuration given to [`config`](Self::config) (the registry's for
    /// the name wins), at most [`max_keys`](KeyedLayer::max_keys) live, whatever their
    /// state: past it, a new key takes the place of the instance whose loss changes
    /// least, and is refused (`RateLimited`, `BulkheadFull`) rather than a limit reset
    /// when every instance holds one (see `docs/keys.md`).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// use resilience::{registry, BreakerConfig, BreakerState};
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let svc = CircuitBreakerLayer::new("docs.keyed_layer")
    ///     .config(BreakerConfig { failure_threshold: 1, ..Default::default() })
    ///     .key(|(host, _): &(&str, bool)| host.to_string())
    ///     .layer(service_fn(|(_, fail): (&str, bool)| async move {
    ///         if fail { Err::<(), BoxError>("down".into()) } else { Ok(()) }
    ///     }));
    /// svc.clone().oneshot(("a.example", true)).await.unwrap_err();
    /// assert_eq!(registry().breaker_for("docs.keyed_layer", "a.example").unwrap().state(), BreakerState::Open);
    /// svc.oneshot(("b.example", false)).await.unwrap(); // b's breaker is closed
    /// # }
    /// ```
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// use resilience::{registry, BulkheadConfig, BulkheadFull};
    /// use tower::{service_fn, BoxError, Layer, Service, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let mut svc = BulkheadLayer::new("docs.keyed_bulkhead")
    ///     .config(BulkheadConfig { max_concurrent: 1, ..Default::default() })
    ///     .key(|tenant: &&'static str| *tenant)
    ///     .layer(service_fn(|tenant: &'static str| async move { Ok::<_, BoxError>(tenant.len()) }));
    ///
    /// let running = svc.ready().await.unwrap().call("a"); // holds a's only place
    /// assert_eq!(registry().bulkhead_for("docs.keyed_bulkhead", "a").unwrap().in_flight(), 1);
    /// let refused = svc.ready().await.unwrap().call("a").await.unwrap_err();
    /// assert!(refused.downcast_ref::<BulkheadFull>().is_some());
    /// assert_eq!(svc.ready().await.unwrap().call("bb").await.unwrap(), 2); // b has its own
    /// assert_eq!(running.await.unwrap(), 1);
    /// # }
    /// ```
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// use resilience::{registry, RateLimitConfig, RateLimited};
    /// use std::time::Duration;
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let svc = RateLimitLayer::new("docs.keyed_rate_limit")
    ///     .config(RateLimitConfig { limit: 1, per: Duration::from_secs(60), ..Default::default() })
    ///     .key(|client: &&'static str| *client)
    ///     .layer(service_fn(|client: &'static str| async move { Ok::<_, BoxError>(client.len()) }));
    ///
    /// assert_eq!(svc.clone().oneshot("a").await.unwrap(), 1);
    /// let refused = svc.clone().oneshot("a").await.unwrap_err();
    /// assert!(refused.downcast_ref::<RateLimited>().is_some()); // a spent its budget
    /// assert_eq!(svc.oneshot("bb").await.unwrap(), 2); // b has its own
    /// assert!(registry().rate_limiter_for("docs.keyed_rate_limit", "bb").is_some());
    /// # }
    /// ```
    pub fn key<K>(self, key: K) -> KeyedLayer<P, K, X> {
        KeyedLayer {
            name: self.name,
            registry: self.registry,
            given: self.given,
            max_keys: None,
            key,
            extra: self.extra,
        }
    }

    /// The instance the layer's services call through: the one given, or the name's in
    /// the layer's registry, registered with the configuration given (or the defaults).
    pub(super) fn instance(&self) -> &'static P {
        if let Some(instance) = self.instance {
            return instance;
        }
        let table = self.registry.table::<P>();
        let config = self.given.clone().unwrap_or_default();
        let instance = table.register_or_own(&self.name, config, |error| {
            // Only a parent that would make a cycle gets here: the defaults, or alone.
            tracing::error!(
                target: "resilience::tower",
                name = &*self.name,
                %error,
                "could not register the {}'s instance as configured; using the defaults",
                P::LAYER
            );
        });
        if let Some(given) = &self.given {
            warn_if_clash::<P>(&table, &self.name, |_| given.clone());
        }
        super::pin(instance)
    }

    /// The same layer with the pattern's option `extra`.
    pub(super) fn with_extra<Y>(self, extra: Y) -> PatternLayer<P, Y> {
        PatternLayer {
            name: self.name,
            registry: self.registry,
            instance: self.instance,
            given: self.given,
            extra,
        }
    }
}

impl<P: TowerPattern, X: Clone> Clone for PatternLayer<P, X> {
    fn clone(&self) -> Self {
        PatternLayer {
            name: self.name.clone(),
            registry: self.registry,
            instance: self.instance,
            given: self.given.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl<P: TowerPattern, X> Debug for PatternLayer<P, X> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct(P::LAYER)
            .field("name", &self.name)
            .field("instance", &self.instance)
            .field("given", &self.given)
            .finish_non_exhaustive()
    }
}

impl<S, P: TowerPattern, X: Clone> Layer<S> for PatternLayer<P, X> {
    type Service = PatternService<P, S, X>;

    fn layer(&self, inner: S) -> Self::Service {
        PatternService {
            inner,
            instance: self.instance(),
            extra: self.extra.clone(),
            faults: Faults::new(&self.name, self.registry),
        }
    }
}

/// The service of a [`PatternLayer`], written by the pattern's name:
/// [`CircuitBreaker`](super::CircuitBreaker), [`BulkheadService`](super::BulkheadService) or
/// [`RateLimitService`](super::RateLimitService). It holds its instance for the life of
/// the program, so a call takes no reference count and looks nothing up; what a call
/// does is the pattern's (its `Service` impl, in the pattern's file).
///
/// ```
/// use resilience::tower::{BulkheadLayer, PatternService};
/// use resilience::bulkhead::Bulkhead;
/// use tower::Layer;
/// let svc: PatternService<Bulkhead, ()> = BulkheadLayer::new("docs.pattern_service").layer(());
/// assert_eq!(svc.bulkhead().name(), "docs.pattern_service");
/// ```
pub struct PatternService<P: 'static, S, X = ()> {
    pub(super) inner: S,
    pub(super) instance: &'static P,
    pub(super) extra: X,
    /// The faults named as the layer (feature `chaos`; nothing without it).
    pub(super) faults: Faults,
}

impl<P, S: Clone, X: Clone> Clone for PatternService<P, S, X> {
    fn clone(&self) -> Self {
        PatternService {
            inner: self.inner.clone(),
            instance: self.instance,
            extra: self.extra.clone(),
            faults: self.faults,
        }
    }
}

impl<P: Debug, S: Debug, X> Debug for PatternService<P, S, X> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PatternService")
            .field("inner", &self.inner)
            .field("instance", &self.instance)
            .finish_non_exhaustive()
    }
}

/// The layer of [`PatternLayer::key`]: one instance per key, written by the pattern's
/// name: [`KeyedCircuitBreakerLayer`](super::KeyedCircuitBreakerLayer),
/// [`KeyedBulkheadLayer`](super::KeyedBulkheadLayer) or
/// [`KeyedRateLimitLayer`](super::KeyedRateLimitLayer).
///
/// ```
/// use resilience::rate_limit::RateLimiter;
/// use resilience::tower::{KeyedLayer, RateLimitLayer};
/// let layer: KeyedLayer<RateLimiter, _, _> =
///     RateLimitLayer::new("docs.keyed_layer_type").key(|client: &u32| *client);
/// assert_eq!(layer.name(), "docs.keyed_layer_type");
/// ```
pub struct KeyedLayer<P: TowerPattern, K, X = ()> {
    pub(super) name: Arc<str>,
    pub(super) registry: &'static Registry,
    /// The configuration given to [`PatternLayer::config`], if any.
    pub(super) given: Option<P::Config>,
    /// [`max_keys`](Self::max_keys), over the configuration's, if given.
    pub(super) max_keys: Option<usize>,
    pub(super) key: K,
    pub(super) extra: X,
}

impl<P: TowerPattern, K, X> KeyedLayer<P, K, X> {
    /// The instances' name.
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// assert_eq!(CircuitBreakerLayer::new("x").key(|k: &u8| *k).name(), "x");
    /// ```
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// assert_eq!(BulkheadLayer::new("x").key(|k: &u8| *k).name(), "x");
    /// ```
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// assert_eq!(RateLimitLayer::new("x").key(|k: &u8| *k).name(), "x");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }

    /// At most `max_keys` keys live (at least 1): the `max_keys` field of the
    /// configuration (default 1024; the one given to [`config`](PatternLayer::config)),
    /// as `max_keys` on the attribute. Past it, a new key takes the place of the instance
    /// whose loss changes least (see `docs/keys.md`). The first layer or attribute to
    /// make the name's store sets it (a `max_keys` the registry was given for the name
    /// wins); a later layer's other `max_keys` does not apply, which a WARN says, as for
    /// [`config`](PatternLayer::config).
    ///
    /// ```
    /// use resilience::tower::CircuitBreakerLayer;
    /// let layer = CircuitBreakerLayer::new("docs.max_keys").key(|k: &u8| *k).max_keys(16);
    /// # let _ = layer;
    /// ```
    ///
    /// ```
    /// use resilience::tower::BulkheadLayer;
    /// let layer = BulkheadLayer::new("docs.bulkhead_max_keys").key(|k: &u8| *k).max_keys(16);
    /// # let _ = layer;
    /// ```
    ///
    /// ```
    /// use resilience::tower::RateLimitLayer;
    /// let layer = RateLimitLayer::new("docs.rate_limit_max_keys").key(|k: &u8| *k).max_keys(16);
    /// # let _ = layer;
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = Some(max_keys.max(1));
        self
    }

    /// The configuration this layer gives the name's keyed store: what
    /// [`config`](PatternLayer::config) and [`max_keys`](Self::max_keys) say, over `base`
    /// (the defaults, or the configuration the name was first registered with).
    fn wanted(&self, base: &P::Config) -> P::Config {
        let config = self.given.clone().unwrap_or_else(|| base.clone());
        match self.max_keys {
            Some(max_keys) => config.with_max_keys(max_keys),
            None => config,
        }
    }

    /// The registry the keyed instances live in, as [`PatternLayer::registry`].
    ///
    /// ```
    /// use resilience::registry::Registry;
    /// use resilience::tower::RateLimitLayer;
    /// use std::sync::LazyLock;
    /// use tower::{service_fn, BoxError, Layer, ServiceExt};
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let svc = RateLimitLayer::new("docs.keyed_registry")
    ///     .key(|k: &u8| *k)
    ///     .registry(&REG)
    ///     .layer(service_fn(|k: u8| async move { Ok::<_, BoxError>(k) }));
    /// svc.oneshot(7).await.unwrap();
    /// assert!(REG.rate_limiter_for("docs.keyed_registry", "7").is_some());
    /// # }
    /// ```
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The same layer with the pattern's option `extra`.
    pub(super) fn with_extra<Y>(self, extra: Y) -> KeyedLayer<P, K, Y> {
        KeyedLayer {
            name: self.name,
            registry: self.registry,
            given: self.given,
            max_keys: self.max_keys,
            key: self.key,
            extra,
        }
    }
}

impl<P: TowerPattern, K: Clone, X: Clone> Clone for KeyedLayer<P, K, X> {
    fn clone(&self) -> Self {
        KeyedLayer {
            name: self.name.clone(),
            registry: self.registry,
            given: self.given.clone(),
            max_keys: self.max_keys,
            key: self.key.clone(),
            extra: self.extra.clone(),
        }
    }
}

impl<P: TowerPattern, K, X> Debug for KeyedLayer<P, K, X> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyedLayer")
            .field("name", &self.name)
            .field("given", &self.given)
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

impl<S, P: TowerPattern, K: Clone, X: Clone> Layer<S> for KeyedLayer<P, K, X> {
    type Service = KeyedService<P, S, K, X>;

    fn layer(&self, inner: S) -> Self::Service {
        let table = self.registry.table::<P>();
        let store = table.keyed(&self.name, self.wanted(&P::Config::default()));
        if self.given.is_some() || self.max_keys.is_some() {
            warn_if_clash::<P>(&table, &self.name, |first| self.wanted(first));
        }
        KeyedService {
            inner,
            store,
            key: self.key.clone(),
            extra: self.extra.clone(),
            faults: Faults::new(&self.name, self.registry),
        }
    }
}

/// The service of a [`KeyedLayer`], written by the pattern's name:
/// [`KeyedCircuitBreaker`](super::KeyedCircuitBreaker),
/// [`KeyedBulkheadService`](super::KeyedBulkheadService) or
/// [`KeyedRateLimitService`](super::KeyedRateLimitService). A call finds the request's
/// instance in the registry's keyed store (a read lock and a hash of the key's text for
/// a known key), then goes through it as the [`PatternService`] of the pattern does.
///
/// ```
/// use resilience::bulkhead::Bulkhead;
/// use resilience::tower::{BulkheadLayer, KeyedService};
/// use tower::{service_fn, BoxError, Layer, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// fn a_keyed_bulkhead<S, K>(_: &KeyedService<Bulkhead, S, K>) {}
/// let svc = BulkheadLayer::new("docs.keyed_service_type")
///     .key(|x: &u8| *x)
///     .layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// a_keyed_bulkhead(&svc);
/// assert_eq!(svc.oneshot(7).await.unwrap(), 7);
/// # }
/// ```
pub struct KeyedService<P: TowerPattern, S, K, X = ()> {
    pub(super) inner: S,
    store: Arc<Keyed<P>>,
    key: K,
    pub(super) extra: X,
    /// The faults named as the layer (feature `chaos`; nothing without it).
    pub(super) faults: Faults,
}

impl<P: TowerPattern, S, K, X> KeyedService<P, S, K, X> {
    /// The instance of `req`'s key (made on the key's first call), and the key's text;
    /// or the refusal of a new key when the store is full of instances that may not go.
    #[inline]
    pub(super) fn instance_for<Req, T>(&self, req: &Req) -> Result<(Arc<P>, KeyText), P::Refusal>
    where
        K: Fn(&Req) -> T,
        T: Display,
    {
        let key = KeyText::of(&(self.key)(req));
        Ok((self.store.get(key.as_str())?, key))
    }
}

impl<P: TowerPattern, S: Clone, K: Clone, X: Clone> Clone for KeyedService<P, S, K, X> {
    fn clone(&self) -> Self {
        KeyedService {
            inner: self.inner.clone(),
            store: self.store.clone(),
            key: self.key.clone(),
            extra: self.extra.clone(),
            faults: self.faults,
        }
    }
}

impl<P: TowerPattern, S: Debug, K, X> Debug for KeyedService<P, S, K, X> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyedService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

/// Says, with a WARN once per name in its registry, that a layer's configuration for
/// `name` (`wanted`, told the name's first one) does not apply: other code registered
/// the name first with another, which stays.
#[cold]
fn warn_if_clash<P: TowerPattern>(
    table: &Table<P>,
    name: &str,
    wanted: impl FnOnce(&P::Config) -> P::Config,
) {
    if let Some(clash) = table.clash(name, wanted) {
        if table.report_clash(name) {
            tracing::warn!(
                target: "resilience::tower",
                name,
                layer = P::LAYER,
                fields = clash.fields_text(),
                kept = ?clash.kept,
                ignored = ?clash.given,
                "the name is already registered by other code (an attribute or another layer) with another configuration, which stays; this layer's does not apply (give it another name, or configure the name in the registry)"
            );
        }
    }
}
