//! One instance per key: the store behind `key = expr` on `#[circuit_breaker]`,
//! `#[bulkhead]` and `#[rate_limit]`.
//!
//! Each name with a key has one [`Keyed`] store: a map from the key's text to its
//! instance, made on the key's first call with the name's configuration. At most
//! `max_keys` keys stay live: when a new key would pass the bound, the idle instances
//! (nobody holds them, and the pattern says they hold no state worth keeping: a closed
//! breaker, an empty bulkhead, a rate limiter back at its full burst) are evicted, least
//! recently used first, an eighth of the bound at a time so the scan is paid once per
//! many new keys. Busy instances are never evicted, so the bound can be passed while
//! more than `max_keys` keys are busy at once (the map is then scanned again only after
//! another eighth of the bound); it is restored as they go idle.
//!
//! Keys are the `Display` text of the key expression, written into a stack buffer
//! ([`KeyText`]) so a call with a known key allocates nothing. Keyed instances share the
//! name's one interned `&'static str`; the key itself lives in the store (an `Arc<str>`)
//! and is freed with its instance.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::clock::Clock;
use crate::events::Sink;
use crate::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// The default bound on live keys per name.
pub const DEFAULT_MAX_KEYS: usize = 1024;

/// What a keyed store needs of the instances it keeps. (`pub` in this private module,
/// so unnameable outside the crate: the tower layers' `TowerPattern` names it and
/// [`Keyed`] in its signatures.)
pub trait Instance: Send + Sync + Sized {
    /// The configuration every instance of a name shares.
    type Config: Clone + Send + Sync;

    /// A new instance for `key`, with `config` (already validated).
    fn make(
        name: &'static str,
        key: Arc<str>,
        config: &Self::Config,
        clock: &Arc<dyn Clock>,
    ) -> Self;

    /// Applies a new configuration to a live instance.
    fn reconfigure(&self, config: &Self::Config);

    /// True when evicting it loses nothing a caller would notice.
    fn is_idle(&self) -> bool;

    /// The same instance sending its events through `events` (its registry's stream,
    /// with its key).
    fn with_events(self, events: Sink) -> Self;
}

/// The keys of one name.
pub struct Keyed<T: Instance> {
    name: &'static str,
    clock: Arc<dyn Clock>,
    /// The registry's event stream, handed to each instance with its key.
    events: Sink,
    max_keys: AtomicUsize,
    tick: AtomicU64,
    inner: RwLock<Inner<T>>,
}

struct Inner<T: Instance> {
    config: T::Config,
    /// The size at which to look for idle instances again, after a scan found too few:
    /// so a map of busy instances is not scanned on every new key.
    scan_at: usize,
    map: HashMap<Arc<str>, Slot<T>, BuildHasherDefault<FxHasher>>,
}

struct Slot<T> {
    value: Arc<T>,
    last_used: AtomicU64,
}

impl<T: Instance> Keyed<T> {
    pub(crate) fn new(
        name: &'static str,
        config: T::Config,
        max_keys: usize,
        clock: Arc<dyn Clock>,
    ) -> Keyed<T> {
        Keyed {
            name,
            clock,
            events: Sink::NONE,
            max_keys: AtomicUsize::new(max_keys.max(1)),
            tick: AtomicU64::new(0),
            inner: RwLock::new(Inner {
                config,
                scan_at: 0,
                map: HashMap::default(),
            }),
        }
    }

    /// The same store, whose instances send their events through `events`.
    pub(crate) fn with_events(mut self, events: Sink) -> Keyed<T> {
        self.events = events;
        self
    }

    /// The instance for `key`, made with the name's configuration on first use.
    ///
    /// A known key costs a read lock, a hash of the key and a reference count; no
    /// allocation.
    /// Recency is counted in new keys (the tick moves on each insertion), so a hit reads
    /// the tick and writes its slot only when the tick has moved since its last use: no
    /// shared counter is written on a hit.
    pub(crate) fn get(&self, key: &str) -> Arc<T> {
        let tick = self.tick.load(Ordering::Relaxed);
        if let Some(slot) = self.read().map.get(key) {
            if slot.last_used.load(Ordering::Relaxed) != tick {
                slot.last_used.store(tick, Ordering::Relaxed);
            }
            return slot.value.clone();
        }
        self.insert(key)
    }

    #[cold]
    #[inline(never)]
    fn insert(&self, key: &str) -> Arc<T> {
        let tick = self.tick.fetch_add(1, Ordering::Relaxed) + 1;
        let mut inner = self.write();
        if let Some(slot) = inner.map.get(key) {
            slot.last_used.store(tick, Ordering::Relaxed);
            return slot.value.clone();
        }
        let max = self.max_keys.load(Ordering::Relaxed);
        if inner.map.len() >= max.max(inner.scan_at) {
            evict(&mut inner.map, max);
            inner.scan_at = if inner.map.len() >= max {
                inner.map.len() + max / 8 + 1
            } else {
                0
            };
        }
        let key: Arc<str> = key.into();
        let value = Arc::new(
            T::make(self.name, key.clone(), &inner.config, &self.clock)
                .with_events(self.events.for_key(key.clone())),
        );
        inner.map.insert(
            key,
            Slot {
                value: value.clone(),
                last_used: AtomicU64::new(tick),
            },
        );
        value
    }

    /// The instance for `key`, if live.
    pub(crate) fn find(&self, key: &str) -> Option<Arc<T>> {
        self.read().map.get(key).map(|s| s.value.clone())
    }

    /// Gives every live instance, and every later one, `config`.
    pub(crate) fn configure(&self, config: T::Config, max_keys: usize) {
        let mut inner = self.write();
        for slot in inner.map.values() {
            slot.value.reconfigure(&config);
        }
        inner.config = config;
        self.max_keys.store(max_keys.max(1), Ordering::Relaxed);
    }

    /// Every live key and its instance, in no particular order.
    pub(crate) fn entries(&self) -> Vec<(Arc<str>, Arc<T>)> {
        self.read()
            .map
            .iter()
            .map(|(k, s)| (k.clone(), s.value.clone()))
            .collect()
    }

    /// The bound on live keys.
    pub(crate) fn max_keys(&self) -> usize {
        self.max_keys.load(Ordering::Relaxed)
    }

    /// Live keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.read().map.len()
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner<T>> {
        // Every write replaces whole entries, so a poisoned lock still holds a valid map.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner<T>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Makes room for new keys: evicts idle instances, least recently used first, until the
/// map is an eighth below `max` (or nothing idle is left).
fn evict<T: Instance>(
    map: &mut HashMap<Arc<str>, Slot<T>, BuildHasherDefault<FxHasher>>,
    max: usize,
) {
    let target = max - max / 8 - 1;
    let excess = map.len().saturating_sub(target).max(1);
    let mut idle: Vec<(u64, Arc<str>)> = map
        .iter()
        // Held by nobody but the store (a running call holds a clone), and stateless.
        .filter(|(_, s)| Arc::strong_count(&s.value) == 1 && s.value.is_idle())
        .map(|(k, s)| (s.last_used.load(Ordering::Relaxed), k.clone()))
        .collect();
    if idle.len() > excess {
        idle.select_nth_unstable_by_key(excess - 1, |(tick, _)| *tick);
        idle.truncate(excess);
    }
    for (_, key) in idle {
        map.remove(&key);
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
    use std::sync::atomic::AtomicBool;

    fn clock() -> Arc<dyn Clock> {
        Arc::new(crate::clock::ManualClock::new())
    }

    struct Thing {
        key: Arc<str>,
        busy: AtomicBool,
        limit: AtomicU64,
    }

    impl Instance for Thing {
        type Config = u64;
        fn make(_: &'static str, key: Arc<str>, config: &u64, _: &Arc<dyn Clock>) -> Thing {
            Thing {
                key,
                busy: AtomicBool::new(false),
                limit: AtomicU64::new(*config),
            }
        }
        fn reconfigure(&self, config: &u64) {
            self.limit.store(*config, Ordering::Relaxed);
        }
        fn is_idle(&self) -> bool {
            !self.busy.load(Ordering::Relaxed)
        }
        fn with_events(self, _: Sink) -> Thing {
            self
        }
    }

    #[test]
    fn one_instance_per_key_and_configuration_reaches_all() {
        let store: Keyed<Thing> = Keyed::new("t", 5, 16, clock());
        let a = store.get("a");
        assert!(Arc::ptr_eq(&a, &store.get("a")));
        assert_eq!(&*a.key, "a");
        let b = store.get("b");
        store.configure(9, 16);
        assert_eq!(a.limit.load(Ordering::Relaxed), 9);
        assert_eq!(b.limit.load(Ordering::Relaxed), 9);
        assert_eq!(store.get("c").limit.load(Ordering::Relaxed), 9);
    }

    #[test]
    fn the_bound_evicts_idle_keys_least_recently_used_first() {
        let store: Keyed<Thing> = Keyed::new("t", 1, 8, clock());
        for k in 0..8 {
            store.get(&k.to_string());
        }
        store.get("0"); // 0 is now the most recently used
        let busy = store.get("1");
        busy.busy.store(true, Ordering::Relaxed);
        store.get("new");
        assert!(store.len() <= 8);
        assert!(store.find("0").is_some(), "recently used: kept");
        assert!(store.find("1").is_some(), "busy: kept");
        assert!(
            store.find("2").is_none(),
            "least recently used idle: evicted"
        );
        assert!(store.find("new").is_some());
    }

    #[test]
    fn held_instances_are_never_evicted() {
        let store: Keyed<Thing> = Keyed::new("t", 1, 2, clock());
        let held: Vec<_> = (0..4).map(|k| store.get(&k.to_string())).collect();
        assert_eq!(store.len(), 4, "every one is held: the bound waits");
        drop(held);
        store.get("x");
        assert!(store.len() <= 2);
    }

    #[test]
    fn many_keys_stay_bounded() {
        let store: Keyed<Thing> = Keyed::new("t", 1, 1024, clock());
        let mut peak = 0;
        for k in 0..200_000u32 {
            store.get(KeyText::of(&k).as_str());
            peak = peak.max(store.len());
        }
        assert!(peak <= 1024, "{peak}");
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
