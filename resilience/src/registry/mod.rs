//! The registry: a world of its own. It keeps every pattern's instances by name (and by
//! key, `key = expr`), with run-time configuration that wins over the attributes',
//! snapshots and health; and the monitor, the feature switches and the recovery manager
//! of the code that uses it. The global one, [`registry()`], is the one attributes and
//! layers use unless told otherwise, and [`monitor()`](fn@crate::monitor),
//! [`degradation()`] and [`recovery()`] are its own.
//!
//! Each pattern's instances are one generic `Table` (`table.rs`), found
//! by the pattern's type; the public methods by pattern (`breaker`, `bulkhead_for`,
//! `configure_rate_limit`, ...) are short wrappers of it (`patterns.rs`).
//!
//! Lookups take a lock, which is fine because they are cold: each call site finds its
//! instance once and keeps it.

mod adaptive_limits;
mod budgets;
#[cfg(any(feature = "tower", feature = "reqwest"))]
pub(crate) mod clash;
mod hedges;
pub(crate) mod known;
mod patterns;
pub(crate) mod table;
mod world;

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

pub use crate::breaker::BreakerSnapshot;
use crate::breaker::{Breaker, BreakerConfig};
use crate::clock::{Clock, SystemClock};
use crate::degradation::Degradation;
use crate::monitor::Monitor;
use crate::pattern::Pattern;
use crate::recovery::Recovery;
use crate::ConfigError;
pub use budgets::{retry_budget, retry_budgets};
use table::Table;
pub use world::{degradation, recovery};

/// The registry every attribute and layer uses unless given another (`registry =
/// STATIC` on an attribute, `.registry(..)` on a layer).
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
            monitor: None,
            #[cfg(feature = "chaos")]
            chaos: None,
            ..Registry::new()
        };
        crate::events::set_global(global.event_sink());
        global
    })
}

/// Every pattern's instances by name, and the monitor, feature switches and recovery
/// manager beside them. Use the global one, [`registry()`]; make your own for isolated
/// tests (on a [`ManualClock`](crate::clock::ManualClock) with
/// [`with_clock`](Registry::with_clock)) or a second, independent world: nothing of one
/// registry shows in another.
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
    /// Each pattern's [`Table`], by the pattern's type, made on first use.
    tables: RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    /// Named retry policies: `None` for the global registry, whose policies are the ones
    /// `#[retry(policy = ..)]` call sites read; a `Registry::new()` has its own.
    retry_policies: Option<crate::retry::policy::RetryPolicies>,
    /// The hedges (`crate::hedge`; its methods in `hedges.rs`).
    pub(crate) hedge_table: crate::hedge::HedgeTable,
    /// The named retry budgets (`budgets.rs`).
    budgets: crate::retry::BudgetTable,
    /// The faults injected into this registry's sites (feature `chaos`): `None` for the
    /// global registry, whose table is `chaos::chaos()`; a `Registry::new()` has its own.
    #[cfg(feature = "chaos")]
    chaos: Option<crate::chaos::Chaos>,
    /// The errors recorded by the code using this registry (`world.rs`): `None` for the
    /// global registry, whose monitor is [`monitor()`](fn@crate::monitor).
    monitor: Option<Monitor>,
    /// Its feature switches.
    degradation: Degradation,
    /// Its services' recovery, whose slow starts follow this registry's breakers.
    recovery: Recovery,
    /// Its event stream (`crate::events`), which every instance made here sends to.
    #[cfg(feature = "tokio")]
    events: crate::events::Bus,
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

impl core::fmt::Debug for Registry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Registry")
            .field("breakers", &self.table::<Breaker>().named().len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry on the system clock.
    ///
    /// ```
    /// assert!(resilience::registry::Registry::new().breakers().is_empty());
    /// ```
    pub fn new() -> Registry {
        Registry::with_clock(SystemClock)
    }

    /// An empty registry whose instances, monitor and recovery read time from `clock`.
    ///
    /// ```
    /// use resilience::{clock::ManualClock, registry::Registry};
    /// let reg = Registry::with_clock(std::sync::Arc::new(ManualClock::new()));
    /// assert!(reg.breaker("x").is_none());
    /// ```
    pub fn with_clock(clock: impl Clock + 'static) -> Registry {
        let clock = crate::clock::shared(clock);
        let tables = RwLock::new(HashMap::new());
        #[cfg(feature = "tokio")]
        let events = crate::events::Bus::new();
        #[cfg(feature = "tokio")]
        let sink = events.sink();
        #[cfg(not(feature = "tokio"))]
        let sink = crate::events::Sink::NONE;
        let breakers = insert_table::<Breaker>(&tables, &clock, &sink);
        Registry {
            #[cfg(feature = "tokio")]
            events,
            recovery: Recovery::following(clock.clone(), Arc::new(move |name| breakers.get(name))),
            monitor: Some(Monitor::default().with_clock(clock.clone())),
            degradation: Degradation::new(),
            clock,
            tables,
            retry_policies: Some(crate::retry::policy::RetryPolicies::new()),
            hedge_table: Default::default(),
            budgets: Default::default(),
            #[cfg(feature = "chaos")]
            chaos: Some(crate::chaos::Chaos::new().with_events(sink.clone())),
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

    /// This registry's fault table (feature `chaos`): the faults the call sites and
    /// layers that register here draw. [`chaos()`](crate::chaos::chaos) is the global
    /// registry's.
    ///
    /// ```
    /// use resilience::chaos::Fault;
    /// use resilience::registry::Registry;
    ///
    /// let reg = Registry::new();
    /// reg.chaos().inject("kanban", Fault::error(0.5))?;
    /// assert_eq!(reg.chaos().snapshot().faults.len(), 1);
    /// assert!(resilience::chaos::chaos().snapshot().faults.iter().all(|f| f.site != "kanban"));
    /// # Ok::<(), resilience::chaos::ChaosError>(())
    /// ```
    #[cfg(feature = "chaos")]
    pub fn chaos(&self) -> &crate::chaos::Chaos {
        match &self.chaos {
            Some(own) => own,
            None => crate::chaos::chaos(),
        }
    }

    /// The table of the pattern `P`: its instances by name and by key.
    pub(crate) fn table<P: Pattern>(&self) -> Arc<Table<P>> {
        // Every site known at compile time is registered before any table is read.
        known::declare();
        let found = self
            .tables
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&TypeId::of::<P>())
            .cloned();
        match found.map(Arc::downcast::<Table<P>>) {
            Some(Ok(table)) => table,
            // A type's entry holds that type's table: only a missing entry gets here.
            _ => insert_table::<P>(&self.tables, &self.clock, &self.event_sink()),
        }
    }

    /// Every breaker's snapshot, by name, then key (keyed breakers too).
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
        self.table::<Breaker>().snapshots()
    }

    /// The breaker named `name`, if registered.
    ///
    /// ```
    /// let reg = resilience::registry::Registry::new();
    /// assert!(reg.breaker("nope").is_none());
    /// ```
    pub fn breaker(&self, name: &str) -> Option<Arc<Breaker>> {
        self.table::<Breaker>().get(name)
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
        self.table::<Breaker>().register(name, config)
    }

    /// Sets `name`'s configuration: applied at once to a registered breaker and every
    /// keyed breaker of the name, and kept for those registered later, winning over the
    /// attribute's values either way. Invalid values, a parent that would make a cycle,
    /// or a change of a parent already linked are refused.
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
        self.table::<Breaker>().configure(name, config).map(|_| ())
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
        for breaker in self.table::<Breaker>().named() {
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
        self.table::<Breaker>()
            .named()
            .iter()
            .filter(|b| b.linked_parent().is_some_and(|p| p.name() == name))
            .map(|b| b.name().to_owned())
            .collect()
    }
}

/// Makes `P`'s table in `tables` (or finds the one another thread just made).
fn insert_table<P: Pattern>(
    tables: &RwLock<HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
    clock: &Arc<dyn Clock>,
    events: &crate::events::Sink,
) -> Arc<Table<P>> {
    let mut tables = tables.write().unwrap_or_else(PoisonError::into_inner);
    let entry = tables
        .entry(TypeId::of::<P>())
        .or_insert_with(|| Arc::new(Table::<P>::new(clock.clone(), events.clone())));
    match entry.clone().downcast::<Table<P>>() {
        Ok(table) => table,
        // The entry of `P`'s type id was made just above, or earlier, as `Table<P>`.
        Err(_) => unreachable!("a table filed under another type"),
    }
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
