//! One instance per key: the store behind `key = expr` on `#[circuit_breaker]`,
//! `#[bulkhead]` and `#[rate_limit]`, and behind their tower layers' `.key(..)`.
//!
//! Each name with a key has one [`Keyed`] store: a map from the key's text to its
//! instance, made on the key's first call with the name's configuration, for any
//! [`Pattern`]. Its rules, which `docs/keys.md` gives users:
//!
//! - **`max_keys` bounds the live instances of a name, whatever their state.** A new key
//!   past the bound takes the place of the instance whose eviction loses least
//!   ([`Loss`]): one holding nothing first (a closed breaker with no failure counted, a
//!   limiter back at its full burst, an empty bulkhead), then one holding state (a
//!   breaker's failure count, then an open breaker), least recently used first within
//!   each. An evicted open breaker is forgotten: its key's next call finds a new, closed
//!   breaker, so the dependency gets calls again until they open it anew.
//! - **A limit is never reset to make room.** A limiter with spent tokens and a bulkhead
//!   with calls in it stay ([`Loss::Limit`]); when every live instance is such, the new
//!   key is refused (`RateLimited`, `BulkheadFull`) rather than a limit reset: failing
//!   closed. Any breaker may go, so a breaker never refuses a key.
//! - **A new key costs O(1) amortised, at any number of keys seen.** One scan of the map
//!   (`O(max_keys)`) finds the next eighth of the bound's evictions in order, and each
//!   new key takes the next of them. A scan that finds nothing to evict is not repeated
//!   for the next eighth of the bound's new keys (refused meanwhile), nor past the moment
//!   the first held limit is known to be free, so a flood of refused keys costs the same.
//! - **A key seen again** costs a read lock, a hash of its text and a reference count:
//!   no allocation, no shared write.
//!
//! Keys are the `Display` text of the key expression, written into a stack buffer
//! ([`KeyText`]) so a call with a known key allocates nothing. Keyed instances share the
//! name's one interned `&'static str`; the key itself lives in the store (an `Arc<str>`)
//! and is freed with its instance.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use crate::clock::Clock;
use crate::events::{millis, EventKind, Sink};
use crate::pattern::{Loss, Pattern, PatternConfig};
use crate::refusals::RefusalWarn;
use crate::sync::atomic::{AtomicU64, Ordering};

/// The default bound on live keys per name.
pub const DEFAULT_MAX_KEYS: usize = 1024;

/// How long a full store of instances whose end is unknown (bulkheads with calls in
/// them) refuses new keys before it looks again, at the latest.
const RESCAN: Duration = Duration::from_millis(10);

/// The keys of one name.
pub struct Keyed<P: Pattern> {
    /// The registry's event stream, handed to each instance with its key.
    events: Sink,
    name: &'static str,
    clock: Arc<dyn Clock>,
    /// Moves on each new key: the store's notion of recency.
    tick: AtomicU64,
    /// New keys refused, and the WARN and stream event saying so (`crate::refusals`).
    refused: AtomicU64,
    warn: RefusalWarn,
    inner: RwLock<Inner<P>>,
}

type Map<P> = HashMap<Arc<str>, Slot<P>, BuildHasherDefault<FxHasher>>;

struct Inner<P: Pattern> {
    config: P::Config,
    map: Map<P>,
    /// What the last scan found may go, the first to go last.
    next: Vec<Candidate>,
    /// Set by a scan that found nothing that may go.
    full: Option<Full>,
}

struct Slot<P> {
    value: Arc<P>,
    last_used: AtomicU64,
}

impl<P: Pattern> Slot<P> {
    /// What evicting it would lose now (a running call holds a clone of the `Arc`).
    fn loss(&self) -> Loss {
        self.value.loss(Arc::strong_count(&self.value) > 1)
    }
}

/// An instance a scan found may go: its loss's rank and its last use then (if either
/// moved since, it is passed over).
struct Candidate {
    key: Arc<str>,
    rank: u8,
    used: u64,
}

/// A store where nothing may go: new keys are refused without a scan `skips` more
/// times, until `rescan_at`.
struct Full {
    skips: usize,
    rescan_at: Duration,
    /// When the first limit held is known to be free.
    free_at: Option<Duration>,
}

/// The order of evictions: the smaller loss first; `None` for a limit, which stays.
fn rank(loss: Loss) -> Option<u8> {
    match loss {
        Loss::Nothing => Some(0),
        Loss::State(rank) => Some(rank.saturating_add(1)),
        Loss::Limit(_) => None,
    }
}

impl<P: Pattern> Keyed<P> {
    /// The same store, whose instances send their events through `events`.
    pub(crate) fn with_events(mut self, events: Sink) -> Keyed<P> {
        self.events = events;
        self
    }

    pub(crate) fn new(name: &'static str, config: P::Config, clock: Arc<dyn Clock>) -> Keyed<P> {
        Keyed {
            name,
            events: Sink::NONE,
            clock,
            tick: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            warn: RefusalWarn::new(),
            inner: RwLock::new(Inner {
                config,
                map: HashMap::default(),
                next: Vec::new(),
                full: None,
            }),
        }
    }

    /// The instance for `key`, made with the name's configuration on first use; or,
    /// when the store is full of instances that may not go, the refusal of a new key.
    ///
    /// HOT PATH for a known key: a read lock, a hash of the key and a reference count;
    /// no allocation. Recency is counted in new keys (the tick moves on each insertion),
    /// so a hit reads the tick and writes its slot only when the tick has moved since
    /// its last use: no shared counter is written on a hit.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Result<Arc<P>, P::Refusal> {
        let tick = self.tick.load(Ordering::Relaxed);
        if let Some(slot) = self.read().map.get(key) {
            if slot.last_used.load(Ordering::Relaxed) != tick {
                slot.last_used.store(tick, Ordering::Relaxed);
            }
            return Ok(slot.value.clone());
        }
        self.insert(key)
    }

    #[cold]
    #[inline(never)]
    fn insert(&self, key: &str) -> Result<Arc<P>, P::Refusal> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        let mut guard = self.write();
        let inner = &mut *guard;
        if let Some(slot) = inner.map.get(key) {
            slot.last_used.store(tick, Ordering::Relaxed);
            return Ok(slot.value.clone());
        }
        let max = inner.config.max_keys().max(1);
        while inner.map.len() >= max {
            if let Err(free_in) = inner.make_room(max, &*self.clock) {
                let config = inner.config.clone();
                // Reported without the lock, so lookups of live keys go on meanwhile.
                drop(guard);
                return Err(self.refuse(&config, key, free_in));
            }
        }
        let key: Arc<str> = key.into();
        let value = Arc::new(
            P::make(self.name, Some(key.clone()), &inner.config, &self.clock)
                .with_events(self.events.for_key(key.clone())),
        );
        inner.map.insert(
            key,
            Slot {
                value: value.clone(),
                last_used: AtomicU64::new(tick),
            },
        );
        Ok(value)
    }

    /// A new key refused: no instance may go (failing closed). At most once a second per
    /// store (`crate::refusals`), a WARN says so and the registry's stream gets a
    /// `refused` event of the name (no key: the count is of every key refused since).
    #[cold]
    fn refuse(&self, config: &P::Config, key: &str, free_in: Option<Duration>) -> P::Refusal {
        let total = self.refused.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(refused) = self.warn.due_any_clock(self.clock.now(), || total) {
            tracing::warn!(
                target: "resilience::keyed",
                name = self.name,
                pattern = P::KIND,
                max_keys = config.max_keys(),
                refused,
                "every live key holds a limit that evicting it would reset; new keys are refused until one is free"
            );
            self.events
                .emit(P::PATTERN, self.name, || EventKind::Refused {
                    refused,
                    retry_after_ms: free_in.map(millis),
                });
        }
        P::no_room(self.name, key, config, free_in)
    }

    /// The instance for `key`, if live.
    pub(crate) fn find(&self, key: &str) -> Option<Arc<P>> {
        self.read().map.get(key).map(|s| s.value.clone())
    }

    /// Gives every live instance, and every later one, `config` (its `max_keys` bounds
    /// the store from the next new key on).
    pub(crate) fn configure(&self, config: P::Config) {
        let mut inner = self.write();
        for slot in inner.map.values() {
            // Keyed instances link no parent: nothing a valid configuration can refuse.
            let _ = slot.value.configure(&config);
        }
        inner.config = config;
        inner.full = None;
    }

    /// The configuration new instances get.
    pub(crate) fn config(&self) -> P::Config {
        self.read().config.clone()
    }

    /// Every live key and its instance, by key.
    pub(crate) fn entries(&self) -> Vec<(Arc<str>, Arc<P>)> {
        let mut all: Vec<_> = self
            .read()
            .map
            .iter()
            .map(|(k, s)| (k.clone(), s.value.clone()))
            .collect();
        all.sort_by(|a, b| a.0.cmp(&b.0));
        all
    }

    /// Live keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.read().map.len()
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner<P>> {
        // Every write replaces whole entries, so a poisoned lock still holds a valid map.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<P>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P: Pattern> Inner<P> {
    /// Evicts one instance: the next a scan found, still as it was then, or the cheapest
    /// of a new scan. `Err(free_in)` when none may go.
    fn make_room(&mut self, max: usize, clock: &dyn Clock) -> Result<(), Option<Duration>> {
        while let Some(next) = self.next.pop() {
            let still = self.map.get(&next.key).is_some_and(|slot| {
                slot.last_used.load(Ordering::Relaxed) == next.used
                    && rank(slot.loss()).is_some_and(|rank| rank <= next.rank)
            });
            if still {
                self.evict(&next.key);
                return Ok(());
            }
        }
        let now = clock.now();
        if let Some(full) = &mut self.full {
            if full.skips > 0 && now < full.rescan_at {
                full.skips -= 1;
                return Err(full.free_at.map(|at| at.saturating_sub(now)));
            }
        }
        self.scan(max, now)
    }

    /// Ranks every instance that may go, evicts the cheapest and keeps the next ones
    /// (an eighth of `max`, or the excess over it) for the next new keys.
    fn scan(&mut self, max: usize, now: Duration) -> Result<(), Option<Duration>> {
        let excess = (self.map.len() + 1).saturating_sub(max);
        let batch = (max / 8).max(excess).max(1);
        let mut found = Vec::new();
        let (mut free_in, mut unknown) = (None::<Duration>, false);
        for (key, slot) in &self.map {
            match slot.loss() {
                Loss::Limit(Some(d)) => free_in = Some(free_in.map_or(d, |f| f.min(d))),
                Loss::Limit(None) => unknown = true,
                loss => found.push(Candidate {
                    key: key.clone(),
                    rank: rank(loss).unwrap_or(u8::MAX),
                    used: slot.last_used.load(Ordering::Relaxed),
                }),
            }
        }
        let order = |c: &Candidate| (c.rank, c.used);
        if found.len() > batch {
            found.select_nth_unstable_by_key(batch - 1, order);
            found.truncate(batch);
        }
        found.sort_unstable_by_key(|c| Reverse(order(c)));
        let Some(first) = found.pop() else {
            let free_at = free_in.map(|d| now.saturating_add(d));
            let rescan_at = match (free_at, unknown) {
                (Some(at), false) => at,
                (Some(at), true) => at.min(now.saturating_add(RESCAN)),
                (None, _) => now.saturating_add(RESCAN),
            };
            self.full = Some(Full {
                skips: batch,
                rescan_at,
                free_at,
            });
            return Err(free_in);
        };
        self.full = None;
        self.evict(&first.key);
        self.next = found;
        Ok(())
    }

    /// Removes `key`'s instance, and tells it (its gauges go back to a new one's).
    fn evict(&mut self, key: &str) {
        if let Some(slot) = self.map.remove(key) {
            slot.value.evicted();
        }
    }
}

/// Serializes an instance's key as a string (or `null`).
pub(crate) fn serialize_key<S: serde::Serializer>(
    key: &Option<Arc<str>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match key {
        Some(key) => s.serialize_str(key),
        None => s.serialize_none(),
    }
}

/// A key expression's value, probed for how to read its text: a string key is used as
/// it is ([`KeyStr`]), any other `Display` key is written into a [`KeyText`]
/// ([`KeyDisplay`]). `#[circuit_breaker(key = ..)]` and the other keyed attributes call
/// `(&&KeyProbe(&key)).key()`; method resolution picks the string impl when it applies,
/// so a `&str` or `String` key costs no formatting.
///
/// ```
/// use resilience::__private::{Key, KeyDisplay as _, KeyProbe, KeyStr as _};
/// let host = String::from("api.example");
/// assert!(matches!((&&KeyProbe(&host)).key(), Key::Str("api.example")));
/// assert!(matches!((&&KeyProbe(&"eu")).key(), Key::Str("eu")));
/// let port = (&&KeyProbe(&8080)).key();
/// assert!(matches!(port, Key::Text(_)));
/// assert_eq!(port.as_str(), "8080");
/// ```
pub struct KeyProbe<'a, K: ?Sized>(pub &'a K);

/// A key's text: borrowed from a string key, or written from a `Display` one.
#[derive(Debug)]
pub enum Key<'a> {
    /// A string key, as it is.
    Str(&'a str),
    /// A `Display` key's text.
    Text(KeyText),
}

impl Key<'_> {
    /// The text.
    ///
    /// ```
    /// assert_eq!(resilience::__private::Key::Str("x").as_str(), "x");
    /// ```
    #[inline]
    pub fn as_str(&self) -> &str {
        match self {
            Key::Str(s) => s,
            Key::Text(t) => t.as_str(),
        }
    }
}

/// The string keys, read without formatting (their `Display` text is themselves).
pub trait KeyStr<'a> {
    /// The key as it is.
    fn key(&self) -> Key<'a>;
}

/// Every other key: its `Display` text. Implemented for every probe, with `Display`
/// asked of the key by the method, so a key that is not `Display` is told so (not that
/// no method `key` fits).
pub trait KeyDisplay {
    /// The key's type.
    type Key: ?Sized;

    /// The key's `Display` text.
    fn key(&self) -> Key<'static>
    where
        Self::Key: core::fmt::Display;
}

// `key(&self)` on a `&&KeyProbe` first looks for `Self = &KeyProbe` (the receiver as
// written), so the string impl sits there; the `Display` one, on `&&KeyProbe`, is only
// reached by taking one more reference.
impl<'a, K: AsRef<str> + StrKey + ?Sized> KeyStr<'a> for &KeyProbe<'a, K> {
    #[inline]
    fn key(&self) -> Key<'a> {
        Key::Str(self.0.as_ref())
    }
}

impl<K: ?Sized> KeyDisplay for &&KeyProbe<'_, K> {
    type Key = K;

    #[inline]
    fn key(&self) -> Key<'static>
    where
        K: core::fmt::Display,
    {
        Key::Text(KeyText::of(self.0))
    }
}

/// The types whose `Display` text is their `AsRef<str>` (a user type may differ).
pub trait StrKey {}
impl StrKey for str {}
impl StrKey for String {}
impl<T: StrKey + ?Sized> StrKey for &T {}
impl StrKey for Box<str> {}
impl StrKey for Arc<str> {}
impl StrKey for std::borrow::Cow<'_, str> {}

/// A key's `Display` text, on the stack when it fits (128 bytes), so a call with a key
/// allocates nothing.
///
/// ```
/// use resilience::__private::KeyText;
/// let host = "api.example";
/// assert_eq!(KeyText::of(&host).as_str(), "api.example");
/// assert_eq!(KeyText::of(&42).as_str(), "42");
/// let long = "x".repeat(300);
/// assert_eq!(KeyText::of(&long).as_str(), long);
/// ```
pub struct KeyText {
    len: usize,
    buf: [u8; 128],
    heap: Option<String>,
}

impl KeyText {
    /// Writes `key` with `Display`.
    #[inline]
    pub fn of<K: core::fmt::Display + ?Sized>(key: &K) -> KeyText {
        let mut text = KeyText {
            len: 0,
            buf: [0; 128],
            heap: None,
        };
        // Writing into a `KeyText` never fails; a `Display` impl that errs leaves
        // what it wrote.
        let _ = write!(text, "{key}");
        text
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.heap {
            Some(s) => s,
            // Only whole `&str`s are copied in, so the bytes are UTF-8.
            None => core::str::from_utf8(&self.buf[..self.len]).unwrap_or(""),
        }
    }
}

impl core::fmt::Write for KeyText {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        if let Some(heap) = &mut self.heap {
            heap.push_str(s);
            return Ok(());
        }
        let end = self.len + s.len();
        if end <= self.buf.len() {
            self.buf[self.len..end].copy_from_slice(s.as_bytes());
            self.len = end;
        } else {
            let mut heap = String::with_capacity(end);
            heap.push_str(core::str::from_utf8(&self.buf[..self.len]).unwrap_or(""));
            heap.push_str(s);
            self.heap = Some(heap);
        }
        Ok(())
    }
}

impl core::fmt::Debug for KeyText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("KeyText").field(&self.as_str()).finish()
    }
}

/// The Firefox hash (as `rustc-hash`): keys are short strings hashed on every keyed
/// call, where SipHash's flood resistance buys nothing (the bound on keys, not the hash,
/// keeps a hostile key space in check) and costs several times more.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, mut bytes: &[u8]) {
        while bytes.len() >= 8 {
            let (word, rest) = bytes.split_at(8);
            self.add(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
            bytes = rest;
        }
        if bytes.len() >= 4 {
            let (word, rest) = bytes.split_at(4);
            self.add(u64::from(u32::from_le_bytes(
                word.try_into().unwrap_or([0; 4]),
            )));
            bytes = rest;
        }
        for &b in bytes {
            self.add(u64::from(b));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::ConfigError;
    use std::sync::atomic::AtomicUsize;

    /// A pattern for the store alone: its loss is set by hand, its `loss` calls counted.
    struct Thing {
        key: Arc<str>,
        loss: std::sync::Mutex<Loss>,
        limit: AtomicU64,
        asked: Arc<AtomicUsize>,
    }

    #[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
    struct ThingConfig {
        limit: u64,
        max_keys: usize,
        #[serde(skip)]
        asked: Option<Arc<AtomicUsize>>,
    }

    impl PartialEq for ThingConfig {
        fn eq(&self, other: &Self) -> bool {
            (self.limit, self.max_keys) == (other.limit, other.max_keys)
        }
    }

    impl PatternConfig for ThingConfig {
        fn validate(&self) -> Result<(), ConfigError> {
            Ok(())
        }
        fn max_keys(&self) -> usize {
            self.max_keys
        }
        fn with_max_keys(self, max_keys: usize) -> Self {
            ThingConfig { max_keys, ..self }
        }
    }

    #[derive(Debug, PartialEq)]
    struct NoRoom {
        key: String,
        free_in: Option<Duration>,
    }

    impl Pattern for Thing {
        const KIND: &'static str = "thing";
        const ATTRIBUTE: &'static str = "#[thing]";
        const PATTERN: &'static str = "thing";
        type Config = ThingConfig;
        type Snapshot = ();
        type Refusal = NoRoom;

        fn make(
            _: &'static str,
            key: Option<Arc<str>>,
            config: &ThingConfig,
            _: &Arc<dyn Clock>,
        ) -> Thing {
            Thing {
                key: key.unwrap_or_default(),
                loss: std::sync::Mutex::new(Loss::Nothing),
                limit: AtomicU64::new(config.limit),
                asked: config.asked.clone().unwrap_or_default(),
            }
        }
        fn configure(&self, config: &ThingConfig) -> Result<(), ConfigError> {
            self.limit.store(config.limit, Ordering::Relaxed);
            Ok(())
        }
        fn config(&self) -> ThingConfig {
            ThingConfig::default()
        }
        fn snapshot(&self, _: Option<&str>) {}
        fn loss(&self, held: bool) -> Loss {
            self.asked.fetch_add(1, Ordering::Relaxed);
            if held {
                return Loss::Limit(None);
            }
            *self.loss.lock().unwrap()
        }
        fn no_room(
            _: &'static str,
            key: &str,
            _: &ThingConfig,
            free_in: Option<Duration>,
        ) -> NoRoom {
            NoRoom {
                key: key.to_owned(),
                free_in,
            }
        }
        fn refused_config(_: &str, _: &ConfigError) {}
        fn with_events(self, _: Sink) -> Thing {
            self
        }
    }

    impl Thing {
        fn set(&self, loss: Loss) {
            *self.loss.lock().unwrap() = loss;
        }
    }

    fn store(max_keys: usize) -> (Keyed<Thing>, ManualClock) {
        let clock = ManualClock::new();
        let config = ThingConfig {
            limit: 1,
            max_keys,
            asked: None,
        };
        (Keyed::new("t", config, Arc::new(clock.clone())), clock)
    }

    fn get(store: &Keyed<Thing>, key: &str) -> Arc<Thing> {
        store
            .get(key)
            .unwrap_or_else(|refused| panic!("{key} refused: {refused:?}"))
    }

    #[test]
    fn one_instance_per_key_and_configuration_reaches_all() {
        let (store, _) = store(16);
        let a = get(&store, "a");
        assert!(Arc::ptr_eq(&a, &get(&store, "a")));
        assert_eq!(&*a.key, "a");
        let b = get(&store, "b");
        store.configure(ThingConfig {
            limit: 9,
            max_keys: 16,
            asked: None,
        });
        assert_eq!(a.limit.load(Ordering::Relaxed), 9);
        assert_eq!(b.limit.load(Ordering::Relaxed), 9);
        assert_eq!(get(&store, "c").limit.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn what_loses_nothing_goes_first_least_recently_used_first() {
        let (store, _) = store(8);
        for k in 0..8 {
            get(&store, &k.to_string());
        }
        get(&store, "0"); // 0 is now the most recently used
        store.find("1").unwrap().set(Loss::State(0)); // 1 holds state
        get(&store, "new");
        assert_eq!(store.len(), 8, "one in, one out");
        assert!(store.find("0").is_some(), "recently used: kept");
        assert!(
            store.find("1").is_some(),
            "holds state: kept while others hold none"
        );
        assert!(
            store.find("2").is_none(),
            "least recently used of those holding nothing"
        );
        assert!(store.find("new").is_some());
    }

    #[test]
    fn state_goes_when_nothing_else_may_smaller_loss_first() {
        let (store, _) = store(3);
        for (k, loss) in [
            ("a", Loss::State(2)),
            ("b", Loss::State(0)),
            ("c", Loss::State(1)),
        ] {
            get(&store, k).set(loss);
        }
        get(&store, "d");
        assert!(store.find("b").is_none(), "the smallest loss went");
        store.find("d").unwrap().set(Loss::State(5));
        get(&store, "e");
        assert!(store.find("c").is_none());
        assert_eq!(store.len(), 3);
    }

    #[test]
    fn a_limit_never_goes_and_a_full_store_refuses_new_keys() {
        let (store, clock) = store(2);
        get(&store, "a").set(Loss::Limit(Some(Duration::from_secs(5))));
        get(&store, "b").set(Loss::Limit(Some(Duration::from_secs(3))));
        let refused = store.get("c").map(|_| ()).unwrap_err();
        assert_eq!(
            refused,
            NoRoom {
                key: "c".into(),
                free_in: Some(Duration::from_secs(3)),
            }
        );
        assert!(store.find("a").is_some() && store.find("b").is_some());
        // Known keys still pass.
        get(&store, "a");
        // Once a limit is free, a new key takes its place.
        store.find("b").unwrap().set(Loss::Nothing);
        clock.advance(Duration::from_secs(3));
        get(&store, "c");
        assert!(store.find("b").is_none() && store.find("a").is_some());
    }

    #[test]
    fn held_instances_are_limits_of_unknown_end() {
        let (store, clock) = store(2);
        let held: Vec<_> = ["a", "b"].iter().map(|k| get(&store, k)).collect();
        assert_eq!(store.get("c").map(|_| ()).unwrap_err().free_in, None);
        drop(held);
        clock.advance(RESCAN);
        get(&store, "c");
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn a_new_key_costs_a_bounded_number_of_looks_at_any_count_of_keys() {
        let asked = Arc::new(AtomicUsize::new(0));
        let config = ThingConfig {
            limit: 1,
            max_keys: 1000,
            asked: Some(asked.clone()),
        };
        let store: Keyed<Thing> = Keyed::new("t", config, Arc::new(ManualClock::new()));
        let mut per_phase = Vec::new();
        for phase in 0..4u32 {
            let before = asked.load(Ordering::Relaxed);
            for k in 0..50_000u32 {
                let thing = get(&store, KeyText::of(&(phase * 50_000 + k)).as_str());
                thing.set(Loss::State(0)); // every key holds state: the worst case
            }
            per_phase.push(asked.load(Ordering::Relaxed) - before);
            assert_eq!(store.len(), 1000);
        }
        // A scan looks at 1000 instances and yields 125 evictions: 8 looks a key.
        for looks in &per_phase[1..] {
            assert!(*looks <= 50_000 * 10, "{per_phase:?}");
        }
        assert!(
            per_phase[3] <= per_phase[1] + per_phase[1] / 10,
            "{per_phase:?}"
        );
    }

    #[test]
    fn a_flood_of_refused_keys_scans_once_an_eighth_of_the_bound() {
        let asked = Arc::new(AtomicUsize::new(0));
        let config = ThingConfig {
            limit: 1,
            max_keys: 800,
            asked: Some(asked.clone()),
        };
        let store: Keyed<Thing> = Keyed::new("t", config, Arc::new(ManualClock::new()));
        for k in 0..800u32 {
            get(&store, KeyText::of(&k).as_str()).set(Loss::Limit(Some(Duration::from_secs(60))));
        }
        let before = asked.load(Ordering::Relaxed);
        for k in 800..80_800u32 {
            assert!(store.get(KeyText::of(&k).as_str()).is_err());
        }
        // One scan of 800 per 101 refused keys (the scan's own and the 100 it skips).
        let looks = asked.load(Ordering::Relaxed) - before;
        assert!(looks <= 80_000 / 100 * 800, "{looks}");
    }

    #[test]
    fn key_text_spills_to_the_heap_only_when_long() {
        let short = KeyText::of("host:1");
        assert!(short.heap.is_none());
        let long = KeyText::of(&"y".repeat(129));
        assert!(long.heap.is_some());
        assert_eq!(long.as_str().len(), 129);
    }
}
