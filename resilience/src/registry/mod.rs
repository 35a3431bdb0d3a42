//! The global breaker registry: one breaker per name, shared by every call site that
//! names it, with run-time configuration, snapshots and health.
//!
//! Lookups take a lock, which is fine because they are cold: each `#[circuit_breaker]`
//! call site finds its breaker once and keeps it.

mod adaptive_limits;
mod budgets;
mod hedges;
mod patterns;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub use crate::breaker::BreakerSnapshot;
use crate::breaker::{Breaker, BreakerConfig};
use crate::clock::{Clock, SystemClock};
pub use crate::health::RegistryHealth;
use crate::ConfigError;
pub use budgets::{retry_budget, retry_budgets};

/// How long a chain of parents may be.
const MAX_PARENT_DEPTH: usize = 32;

/// The registry every `#[circuit_breaker]` uses.
///
/// ```
/// use resilience::{registry, BreakerConfig, BreakerState};
///
/// registry().configure("docs.registry", BreakerConfig { failure_threshold: 1, ..Default::default() })?;
/// let b = registry().register("docs.registry", BreakerConfig::default())?;
/// assert_eq!(b.config().failure_threshold, 1); // the registry's configuration wins
/// b.acquire().unwrap().record_failure();
/// assert_eq!(registry().breaker("docs.registry").unwrap().state(), BreakerState::Open);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub fn registry() -> &'static Registry {
    static GLOBAL: OnceLock<Registry> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let global = Registry {
            retry_policies: None,
            ..Registry::new()
        };
        crate::events::set_global(global.event_sink());
        global
    })
}

/// Breakers by name. Use the global one, [`registry()`]; make your own for isolated
/// tests or a second, independent set of breakers.
///
/// ```
/// use resilience::registry::Registry;
/// use resilience::BreakerConfig;
///
/// let reg = Registry::new();
/// let a = reg.register("kanban", BreakerConfig::default())?;
/// let b = reg.register("kanban", BreakerConfig { failure_threshold: 9, ..Default::default() })?;
/// assert!(std::sync::Arc::ptr_eq(&a, &b)); // one name, one state
/// assert_eq!(reg.breakers().len(), 1);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub struct Registry {
    clock: Arc<dyn Clock>,
    inner: RwLock<Inner>,
    /// Named retry policies: `None` for the global registry, whose policies are the ones
    /// `#[retry(policy = ..)]` call sites read; a `Registry::new()` has its own.
    retry_policies: Option<crate::retry::policy::RetryPolicies>,
    /// Bulkheads, rate limiters and keyed instances (`registry/patterns.rs`).
    pub(crate) patterns: patterns::Patterns,
    /// The hedges (`crate::hedge`; its methods in `hedges.rs`).
    pub(crate) hedge_table: crate::hedge::HedgeTable,
    /// The named retry budgets (`budgets.rs`).
    budgets: crate::retry::BudgetTable,
    /// The adaptive limits (`crate::adaptive_limit`; its methods in `adaptive_limits.rs`).
    adaptive_limit_table: crate::adaptive_limit::AdaptiveLimitTable,
    /// The stream of its instances' events (`crate::events`), handed to each as it is made.
    #[cfg(feature = "tokio")]
    events: crate::events::Bus,
}

#[derive(Default)]
struct Inner {
    breakers: BTreeMap<Arc<str>, Arc<Breaker>>,
    /// Configurations given with `configure`, kept for breakers registered later.
    configs: HashMap<Arc<str>, BreakerConfig>,
    /// Breakers made only because a child named them as parent, with the defaults: the
    /// first registration under their own name gives them its configuration.
    placeholders: HashSet<Arc<str>>,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("breakers", &self.read().breakers.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry whose breakers use the system clock.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().breakers().is_empty());
    /// ```
    pub fn new() -> Registry {
        Registry::with_clock(SystemClock)
    }

    /// An empty registry whose breakers use `clock`.
    ///
    /// ```
    /// use resilience::{clock::ManualClock, registry::Registry};
    /// let reg = Registry::with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert!(reg.breaker("x").is_none());
    /// ```
    pub fn with_clock(clock: impl Clock + 'static) -> Registry {
        let clock = crate::clock::shared(clock);
        #[cfg(feature = "tokio")]
        let events = crate::events::Bus::new();
        #[cfg(feature = "tokio")]
        let sink = events.sink();
        #[cfg(not(feature = "tokio"))]
        let sink = crate::events::Sink::NONE;
        Registry {
            patterns: patterns::Patterns::new(clock.clone(), sink),
            #[cfg(feature = "tokio")]
            events,
            clock,
            inner: RwLock::new(Inner::default()),
            retry_policies: Some(crate::retry::policy::RetryPolicies::new()),
            hedge_table: Default::default(),
            budgets: Default::default(),
            adaptive_limit_table: Default::default(),
        }
    }

    /// Every state change, refusal, retry, give-up, hedge, overload, limit change and
    /// injected fault of this registry's instances from now on, as [`Event`](crate::Event)s
    /// (see [`crate::events`]): a slow receiver lags, losing the oldest, and never slows
    /// a call. Needs the `tokio` feature (on by default).
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig};
    /// let reg = Registry::new();
    /// let mut events = reg.events();
    /// reg.register("db", BreakerConfig::default())?.force_open();
    /// let event = events.try_recv().expect("the opening");
    /// assert_eq!(serde_json::to_value(&event)?["to"], "forced_open");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[cfg(feature = "tokio")]
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<crate::Event> {
        self.events.subscribe()
    }

    /// The handle this registry's instances send their events through.
    pub(crate) fn event_sink(&self) -> crate::events::Sink {
        #[cfg(feature = "tokio")]
        return self.events.sink();
        #[cfg(not(feature = "tokio"))]
        crate::events::Sink::NONE
    }

    /// Every breaker's snapshot, by name.
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig};
    /// let reg = Registry::new();
    /// reg.register("b", BreakerConfig::default()).unwrap();
    /// reg.register("a", BreakerConfig::default()).unwrap();
    /// let names: Vec<_> = reg.breakers().into_iter().map(|s| s.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn breakers(&self) -> Vec<BreakerSnapshot> {
        let mut all: Vec<BreakerSnapshot> = self.all().iter().map(|b| b.snapshot()).collect();
        all.extend(self.keyed_breaker_snapshots());
        all
    }

    /// The breaker named `name`, if registered.
    ///
    /// ```
    /// let reg = resilience::registry::Registry::new();
    /// assert!(reg.breaker("nope").is_none());
    /// ```
    pub fn breaker(&self, name: &str) -> Option<Arc<Breaker>> {
        self.read().breakers.get(name).cloned()
    }

    /// The breaker named `name`, made with `config` if it does not exist yet. A
    /// configuration given earlier with [`configure`](Registry::configure) wins over
    /// `config`; an existing breaker is returned as it is. Its parent, if any, is
    /// registered too (with the default configuration unless configured).
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig};
    /// let reg = Registry::new();
    /// let b = reg.register("kanban.boards", BreakerConfig {
    ///     parent: Some("kanban".into()),
    ///     ..Default::default()
    /// })?;
    /// assert!(reg.breaker("kanban").is_some());
    /// assert_eq!(reg.children("kanban"), ["kanban.boards"]);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn register(&self, name: &str, config: BreakerConfig) -> Result<Arc<Breaker>, ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        {
            let inner = self.read();
            if let Some(b) = inner.breakers.get(name) {
                if !inner.placeholders.contains(name) {
                    return Ok(b.clone());
                }
            }
        }
        let mut inner = self.write();
        if inner.placeholders.remove(name) {
            if let Some(existing) = inner.breakers.get(name).cloned() {
                // Made earlier as a parent: this registration's values are its own, unless
                // `configure` already gave some (which win).
                let config = inner.configs.get(name).cloned().unwrap_or(config);
                self.apply(&mut inner, name, &existing, &config)?;
                return Ok(existing);
            }
        }
        self.get_or_create(&mut inner, name, config, 0)
    }

    /// Sets `name`'s configuration: applied at once to a registered breaker, and kept
    /// for one registered later, winning over the attribute's values either way.
    /// Invalid values, a parent that would make a cycle, or a change of a parent
    /// already linked are refused.
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig};
    /// let reg = Registry::new();
    /// let err = reg
    ///     .configure("kanban", BreakerConfig { failure_rate: Some(101.0), ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!((err.field(), err.value()), ("failure_rate", "101.0"));
    /// ```
    pub fn configure(&self, name: &str, config: BreakerConfig) -> Result<(), ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        let mut inner = self.write();
        match inner.breakers.get(name).cloned() {
            Some(breaker) => self.apply(&mut inner, name, &breaker, &config)?,
            None => {
                if let Some(parent) = config.parent.as_deref() {
                    check_cycle(&inner, name, parent)?;
                }
            }
        }
        drop(inner);
        self.configure_keyed_breakers(name, &config);
        self.write().configs.insert(name.into(), config);
        Ok(())
    }

    /// The configuration given to [`configure`](Registry::configure) for `name`, if any.
    pub(crate) fn configured_breaker(&self, name: &str) -> Option<BreakerConfig> {
        self.read().configs.get(name).cloned()
    }

    /// Gives a live breaker `config`: its settings, and its parent link if it has none yet
    /// (a parent that would make a cycle is refused first).
    fn apply(
        &self,
        inner: &mut Inner,
        name: &str,
        breaker: &Breaker,
        config: &BreakerConfig,
    ) -> Result<(), ConfigError> {
        if let Some(parent) = config.parent.as_deref() {
            check_cycle(inner, name, parent)?;
        }
        breaker.configure(config.clone())?;
        if let Some(parent) = config.parent.as_deref() {
            if breaker.linked_parent().is_none() {
                let parent = self.get_or_create(inner, parent, BreakerConfig::default(), 1)?;
                breaker.link_parent(parent);
            }
        }
        Ok(())
    }

    /// Resets every breaker: closed, counters cleared.
    ///
    /// ```
    /// use resilience::{registry::Registry, BreakerConfig, BreakerState};
    /// let reg = Registry::new();
    /// reg.register("a", BreakerConfig::default()).unwrap().force_open();
    /// reg.reset_all();
    /// assert_eq!(reg.breaker("a").unwrap().state(), BreakerState::Closed);
    /// ```
    pub fn reset_all(&self) {
        for breaker in self.all() {
            breaker.reset();
        }
    }

    /// The names of the breakers whose parent is `name`: the registry's tree, one level.
    ///
    /// ```
    /// let reg = resilience::registry::Registry::new();
    /// assert!(reg.children("kanban").is_empty());
    /// ```
    pub fn children(&self, name: &str) -> Vec<String> {
        self.all()
            .iter()
            .filter(|b| b.linked_parent().is_some_and(|p| p.name() == name))
            .map(|b| b.name().to_owned())
            .collect()
    }

    fn all(&self) -> Vec<Arc<Breaker>> {
        // Cloned out so snapshots and resets run without the registry's lock.
        self.read().breakers.values().cloned().collect()
    }

    fn get_or_create(
        &self,
        inner: &mut Inner,
        name: &str,
        given: BreakerConfig,
        depth: usize,
    ) -> Result<Arc<Breaker>, ConfigError> {
        if let Some(b) = inner.breakers.get(name) {
            return Ok(b.clone());
        }
        let config = inner.configs.get(name).cloned().unwrap_or(given);
        let parent = match config.parent.as_deref() {
            Some(parent) => {
                check_cycle(inner, name, parent)?;
                if depth >= MAX_PARENT_DEPTH {
                    return Err(too_deep(parent));
                }
                Some(self.get_or_create(inner, parent, BreakerConfig::default(), depth + 1)?)
            }
            None => None,
        };
        let breaker = Arc::new(
            Breaker::new(name, config)?
                .with_clock(self.clock.clone())
                .with_events(self.event_sink()),
        );
        if let Some(parent) = parent {
            breaker.link_parent(parent);
        }
        inner.breakers.insert(name.into(), breaker.clone());
        if depth > 0 {
            inner.placeholders.insert(name.into());
        }
        Ok(breaker)
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        // Every write replaces whole entries, so a poisoned lock still holds a valid map.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Refuses `child → parent` if `child` is `parent` or one of its ancestors.
fn check_cycle(inner: &Inner, child: &str, parent: &str) -> Result<(), ConfigError> {
    let mut at = parent.to_owned();
    for _ in 0..MAX_PARENT_DEPTH {
        if at == child {
            return Err(ConfigError::new(
                "parent",
                parent,
                format!("would make `{child}` its own ancestor"),
            ));
        }
        let next = match inner.breakers.get(at.as_str()) {
            Some(b) => b.config().parent.map(|p| p.into_owned()),
            None => inner
                .configs
                .get(at.as_str())
                .and_then(|c| c.parent.as_deref().map(str::to_owned)),
        };
        match next {
            Some(next) => at = next,
            None => return Ok(()),
        }
    }
    Err(too_deep(parent))
}

fn too_deep(parent: &str) -> ConfigError {
    ConfigError::new(
        "parent",
        parent,
        format!("the chain of parents is longer than {MAX_PARENT_DEPTH}"),
    )
}

// Named retry policies: the registry's own state (`retry/policy.rs`).
impl Registry {
    /// Sets the retry policy `name`. On the global [`registry()`], every
    /// `#[retry(policy = "name")]` call site follows it from its next call on, before or
    /// after its first use; the attribute's own keys are its defaults until then. A
    /// `Registry::new()` keeps its policies to itself. An invalid configuration is refused,
    /// naming the field.
    ///
    /// ```
    /// use resilience::{registry, retry, RetryConfig};
    /// use resilience::retry::Backoff;
    ///
    /// #[retry(policy = "doc-kanban", max_attempts = 2, backoff = none)]
    /// fn call(calls: &mut u32) -> Result<(), String> {
    ///     *calls += 1;
    ///     Err("down".into())
    /// }
    ///
    /// let mut calls = 0;
    /// call(&mut calls).unwrap_err();
    /// assert_eq!(calls, 2);
    ///
    /// registry().configure_retry("doc-kanban", RetryConfig { max_attempts: 4, backoff: Backoff::None, ..Default::default() })?;
    /// let mut calls = 0;
    /// call(&mut calls).unwrap_err();
    /// assert_eq!(calls, 4);
    ///
    /// let bad = registry().configure_retry("doc-kanban", RetryConfig { max_attempts: 0, ..Default::default() });
    /// assert_eq!(bad.unwrap_err().field(), "max_attempts");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure_retry(
        &self,
        name: &str,
        config: crate::RetryConfig,
    ) -> Result<(), ConfigError> {
        crate::names::validate(name)?;
        self.retry_policies().configure(name, config)
    }

    /// The retry policy `name`, if one was configured.
    ///
    /// ```
    /// use resilience::{registry, RetryConfig};
    /// registry().configure_retry("doc-lookup", RetryConfig::default())?;
    /// assert_eq!(registry().retry_policy("doc-lookup"), Some(RetryConfig::default()));
    /// assert_eq!(registry().retry_policy("never-set"), None);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn retry_policy(&self, name: &str) -> Option<crate::RetryConfig> {
        self.retry_policies().get(name)
    }

    /// This registry's retry policies: the global ones for [`registry()`], its own for
    /// any other.
    pub(crate) fn retry_policies(&self) -> &crate::retry::policy::RetryPolicies {
        match &self.retry_policies {
            Some(own) => own,
            None => &crate::retry::policy::GLOBAL,
        }
    }
}
