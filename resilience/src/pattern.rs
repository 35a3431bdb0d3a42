//! What the registry needs of a pattern to keep its instances, by name and by key:
//! [`Pattern`], implemented by [`Breaker`](crate::breaker::Breaker),
//! [`Bulkhead`](crate::bulkhead::Bulkhead), [`RateLimiter`](crate::rate_limit::RateLimiter)
//! and [`AdaptiveLimiter`](crate::adaptive_limit::AdaptiveLimiter) in their own folders
//! (`pattern.rs`).
//!
//! With it, one generic store serves every pattern: the registry's table of named
//! instances and their keyed stores (`registry/table.rs`, [`Keyed`](crate::keyed)), the
//! call site the attributes hold (`sites/site.rs`), the tower layers (`tower/pattern.rs`).
//! A new pattern is its machine, its configuration and one `impl Pattern`.
//!
//! It sits with the vocabulary (below the patterns), so a pattern implements it without
//! knowing the registry. Public in a private module, so unnameable outside the crate
//! (the tower layers' bounds name it): no one else implements it.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::events::Sink;
use crate::ConfigError;

/// A pattern whose instances the registry keeps by name, and by key (`key = expr`).
///
/// ```
/// use resilience::{registry::Registry, BulkheadConfig};
/// // Every pattern's registry methods (`bulkhead`, `configure_bulkhead`, `bulkhead_for`,
/// // `bulkheads`, ...) are this trait's work, written once.
/// let reg = Registry::new();
/// reg.configure_bulkhead("db", BulkheadConfig { max_keys: 2, ..Default::default() })?;
/// assert_eq!(reg.bulkheads()[0].config.max_keys, 2);
/// # Ok::<(), resilience::ConfigError>(())
/// ```
pub trait Pattern: Send + Sync + Sized + 'static {
    /// The pattern's name in messages: `"circuit breaker"`, `"bulkhead"`, `"rate limit"`.
    const KIND: &'static str;

    /// The attribute that makes one, in messages: `"#[circuit_breaker]"`.
    const ATTRIBUTE: &'static str;

    /// Its `pattern` in the event stream ([`Event`](crate::Event)): `"breaker"`,
    /// `"bulkhead"`, `"rate_limit"`, `"adaptive_limit"`.
    const PATTERN: &'static str;

    /// Its configuration, shared by every instance of a name.
    type Config: PatternConfig;

    /// What [`snapshot`](Pattern::snapshot) gives (serde, in the health report).
    type Snapshot;

    /// What a call it refuses gets: `CircuitOpen`, `BulkheadFull`, `RateLimited`,
    /// `Overloaded`.
    type Refusal;

    /// A new instance named `name` (interned), for `key` when keyed, with `config`
    /// (validated), reading time from `clock`.
    fn make(
        name: &'static str,
        key: Option<Arc<str>>,
        config: &Self::Config,
        clock: &Arc<dyn Clock>,
    ) -> Self;

    /// Applies a new configuration (validated) to a live instance; an `Err` for a
    /// change the instance cannot take (a breaker's parent, once linked).
    fn configure(&self, config: &Self::Config) -> Result<(), ConfigError>;

    /// The configuration in force.
    fn config(&self) -> Self::Config;

    /// Its state and configuration; `key` is its key in a keyed store.
    fn snapshot(&self, key: Option<&str>) -> Self::Snapshot;

    /// What evicting it from a full keyed store would lose now; `held` when a running
    /// call holds it. See [`Loss`].
    fn loss(&self, held: bool) -> Loss;

    /// It left its name's keyed store to make room (`max_keys`): its key's next call
    /// makes a new instance. A gauge of its state it reports goes back to the value a
    /// new instance would report, so an evicted key's series claims no live state.
    /// Nothing by default.
    fn evicted(&self) {}

    /// The refusal of a call with a new `key` when the name's keyed store is full and
    /// no instance may go ([`Loss::Limit`] everywhere): failing closed. `free_in`: when
    /// the store may have room again, if known.
    fn no_room(
        name: &'static str,
        key: &str,
        config: &Self::Config,
        free_in: Option<Duration>,
    ) -> Self::Refusal;

    /// Reports (a `tracing` ERROR on the pattern's target) that an attribute's
    /// configuration for `name` was refused, and the defaults are used instead.
    fn refused_config(name: &str, error: &ConfigError);

    /// The name of the instance this configuration makes its parent (breakers: a
    /// child refuses while its parent is open). None by default.
    fn parent(_config: &Self::Config) -> Option<&str> {
        None
    }

    /// The name of the parent linked to this instance, if any.
    fn linked_parent(&self) -> Option<&'static str> {
        None
    }

    /// Links `parent` (once): called by the registry for a configured parent.
    fn link_parent(&self, _parent: Arc<Self>) {}

    /// The same instance, sending its events through `events` (its registry's stream,
    /// with its key when keyed): called by the registry as it makes one.
    #[doc(hidden)]
    fn with_events(self, events: Sink) -> Self;
}

/// What a [`Pattern`]'s configuration has in common: validation, and the bound on
/// the live keys of a name, `max_keys` (a field of every keyed pattern's configuration).
pub trait PatternConfig:
    Clone
    + Debug
    + Default
    + PartialEq
    + serde::Serialize
    + serde::de::DeserializeOwned
    + Send
    + Sync
    + 'static
{
    /// Checks every field; an `Err` names the first field refused and its value.
    fn validate(&self) -> Result<(), ConfigError>;

    /// At most this many keys of a name live at once (`key = expr`).
    fn max_keys(&self) -> usize;

    /// The same configuration with `max_keys`.
    fn with_max_keys(self, max_keys: usize) -> Self;
}

/// What evicting an instance from a full keyed store would lose: the store evicts the
/// instance whose loss changes least (smallest first, then least recently used), and
/// refuses a new key when every instance is a [`Limit`](Loss::Limit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Loss {
    /// Nothing a caller would notice: a closed breaker with no failure counted, a
    /// limiter back at its full burst, a bulkhead with no call in it.
    Nothing,
    /// Some state the key's next calls start without (its breaker's failure count, an
    /// open breaker's refusals); the rank orders such losses, the smaller going first.
    State(u8),
    /// A limit the key would get back whole (a limiter with spent tokens, a bulkhead
    /// with calls in it): never evicted, so a new key is refused instead. `free_in`:
    /// when it will lose nothing, if known (a limiter back at its full burst).
    Limit(Option<Duration>),
}
