//! [`Table`]: one pattern's instances in a registry, written once for every
//! [`Pattern`]: the named instances, the keyed store of each name with a key, and the
//! configurations given to the registry, which win over the attributes' values before
//! or after first use and reach every instance of the name, keyed or not, live or made
//! later.
//!
//! A name's configuration is layered field by field: the code's (the attribute's
//! values, a layer's `.config(..)`, `configure`) under the overlay a configuration file
//! and the environment give ([`Overlay`]: the fields they list, over whatever the code
//! says). Each layer is kept apart, so the configuration in force is recomputed when
//! either changes, and clearing the overlay gives the code's values back.
//!
//! A pattern whose configuration names a parent (breakers) gets it registered too, with
//! the defaults unless configured, and linked; a chain that would loop is refused.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[cfg(any(feature = "tower", feature = "reqwest"))]
use super::clash::Clash;
use crate::clock::Clock;
use crate::events::Sink;
use crate::keyed::Keyed;
use crate::pattern::{Pattern, PatternConfig};
use crate::ConfigError;

/// How long a chain of parents may be.
const MAX_PARENT_DEPTH: usize = 32;

/// The fields a configuration file and the environment set for a name, over the code's
/// configuration: given the code's, it returns the one in force (or why it cannot be).
pub(crate) type Overlay<C> = Arc<dyn Fn(&C) -> Result<C, ConfigError> + Send + Sync>;

/// One pattern's instances in a registry.
pub(crate) struct Table<P: Pattern> {
    clock: Arc<dyn Clock>,
    /// The registry's event stream, handed to every instance made here.
    events: Sink,
    inner: RwLock<Names<P>>,
}

struct Names<P: Pattern> {
    named: BTreeMap<Arc<str>, Arc<P>>,
    keyed: BTreeMap<Arc<str>, Arc<Keyed<P>>>,
    /// Configurations given with `configure`, kept for instances made later.
    configs: HashMap<Arc<str>, P::Config>,
    /// The configuration the name's first registration (an attribute's site, a layer)
    /// gave: the code's values where `configure` gave none.
    registered: HashMap<Arc<str>, P::Config>,
    /// The file's and environment's fields over the code's configuration.
    overlays: HashMap<Arc<str>, Overlay<P::Config>>,
    /// Instances made only because another named them as parent, with the defaults: the
    /// first registration under their own name gives them its configuration.
    placeholders: HashSet<Arc<str>>,
    /// The names a clash of configurations was reported for (once each; the layers').
    #[cfg_attr(not(any(feature = "tower", feature = "reqwest")), allow(dead_code))]
    clashes_reported: HashSet<Arc<str>>,
}

impl<P: Pattern> Table<P> {
    pub(crate) fn new(clock: Arc<dyn Clock>, events: Sink) -> Table<P> {
        Table {
            clock,
            events,
            inner: RwLock::new(Names {
                named: BTreeMap::new(),
                keyed: BTreeMap::new(),
                configs: HashMap::new(),
                registered: HashMap::new(),
                overlays: HashMap::new(),
                placeholders: HashSet::new(),
                clashes_reported: HashSet::new(),
            }),
        }
    }

    /// The instance `name` (without key), if registered.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<P>> {
        self.read().named.get(name).cloned()
    }

    /// The instance `name`, made with `config` if it does not exist yet (a configuration
    /// given to [`configure`](Self::configure) wins over it); an existing one is returned
    /// as it is. An invalid `config`, or a parent that would make a cycle, is refused.
    pub(crate) fn register(&self, name: &str, config: P::Config) -> Result<Arc<P>, ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        {
            let names = self.read();
            if let Some(found) = names.named.get(name) {
                if !names.placeholders.contains(name) {
                    return Ok(found.clone());
                }
            }
        }
        let mut names = self.write();
        names.registered.entry(name.into()).or_insert(config);
        // An overlay the code's new values cannot take leaves the code's values in force.
        let config = names.in_force(name).unwrap_or_else(|_| names.code(name));
        if names.placeholders.remove(name) {
            if let Some(existing) = names.named.get(name).cloned() {
                // Made earlier as a parent: this registration's values are its own, unless
                // `configure` or a file already gave some (which win).
                self.apply(&mut names, name, &existing, &config)?;
                return Ok(existing);
            }
        }
        self.get_or_make(&mut names, name, config, 0)
    }

    /// [`register`](Self::register) for a front end that must have an instance to work
    /// with whatever happens: when `config` is refused (a parent that would make a cycle,
    /// a name the registry refuses), `refused` is told why and the defaults are used, and
    /// when even they are refused, an instance of its own outside the table.
    pub(crate) fn register_or_own(
        &self,
        name: &str,
        config: P::Config,
        refused: impl FnOnce(&ConfigError),
    ) -> Arc<P> {
        self.register(name, config).unwrap_or_else(|error| {
            refused(&error);
            self.register(name, P::Config::default())
                .unwrap_or_else(|_| {
                    Arc::new(P::make(
                        crate::names::intern(name),
                        None,
                        &P::Config::default(),
                        &crate::clock::system(),
                    ))
                })
        })
    }

    /// Whether code giving `name` the configuration `wanted` returns clashes with the
    /// code that registered the name first (an attribute's site, a layer): `wanted` is
    /// told that first configuration (a front end given only some fields fills in the
    /// rest from it). `None` when the name has no registration yet, when the two agree,
    /// or when `configure` gave the name its own (which wins over both by rule); a file's
    /// fields are never a clash (they lie over the code's, whichever it is).
    #[cfg(any(feature = "tower", feature = "reqwest"))]
    pub(crate) fn clash(
        &self,
        name: &str,
        wanted: impl FnOnce(&P::Config) -> P::Config,
    ) -> Option<Clash<P::Config>> {
        let names = self.read();
        if names.configs.contains_key(name) {
            return None;
        }
        let first = names.registered.get(name)?;
        Clash::between(first, &wanted(first))
    }

    /// Whether code registered `name` already (an attribute's site, a layer, a
    /// `configure`), as opposed to a name only a file or a parent link made.
    #[cfg(feature = "tower")]
    pub(crate) fn registered_by_code(&self, name: &str) -> bool {
        let names = self.read();
        names.registered.contains_key(name) || names.configs.contains_key(name)
    }

    /// Gives `name`'s first registration the configuration `config` after all (a layer
    /// that registered the name with the defaults as it was made, then given its
    /// configuration): applied to its instances as the code's, under a file's fields,
    /// unless `configure` gave the name its own (which stays in force).
    #[cfg(feature = "tower")]
    pub(crate) fn reregister(&self, name: &str, config: P::Config) -> Result<(), ConfigError> {
        config.validate()?;
        let mut names = self.write();
        if !names.configs.contains_key(name) {
            let layered = match names.overlays.get(name) {
                Some(overlay) => overlay(&config)?,
                None => config.clone(),
            };
            self.put_in_force(&mut names, name, layered)?;
        }
        names.registered.insert(name.into(), config);
        Ok(())
    }

    /// Whether a clash for `name` is to be reported now: the first time only, so a layer
    /// making many services (one per route, per connection) warns once.
    #[cfg(any(feature = "tower", feature = "reqwest"))]
    pub(crate) fn report_clash(&self, name: &str) -> bool {
        self.write().clashes_reported.insert(name.into())
    }

    /// The keyed store of `name`, made with `given` if new (a configuration given to
    /// [`configure`](Self::configure) wins over it).
    pub(crate) fn keyed(&self, name: &str, given: P::Config) -> Arc<Keyed<P>> {
        if let Some(store) = self.read().keyed.get(name) {
            return store.clone();
        }
        let mut names = self.write();
        if let Some(store) = names.keyed.get(name) {
            return store.clone();
        }
        names.registered.entry(name.into()).or_insert(given.clone());
        let config = names.in_force(name).unwrap_or(given);
        let store = Arc::new(
            Keyed::new(crate::names::intern(name), config, self.clock.clone())
                .with_events(self.events.clone()),
        );
        names.keyed.insert(name.into(), store.clone());
        store
    }

    /// The live instance of `name` for `key`, if any.
    pub(crate) fn find(&self, name: &str, key: &str) -> Option<Arc<P>> {
        let store = self.read().keyed.get(name).cloned()?;
        store.find(key)
    }

    /// Sets `name`'s configuration: applied at once to its instance and every keyed one,
    /// and kept for those made later. Invalid values, or a parent that would make a
    /// cycle, are refused. `Ok(true)` when an instance of the name (keyed or not) exists.
    pub(crate) fn configure(&self, name: &str, config: P::Config) -> Result<bool, ConfigError> {
        crate::names::validate(name)?;
        config.validate()?;
        let mut names = self.write();
        let layered = match names.overlays.get(name) {
            Some(overlay) => overlay(&config)?,
            None => config.clone(),
        };
        let exists = self.put_in_force(&mut names, name, layered)?;
        names.configs.insert(name.into(), config);
        Ok(exists)
    }

    /// Sets (`Some`) or clears (`None`) the overlay of `name`: the fields a file and the
    /// environment give over the code's configuration. The configuration in force is
    /// recomputed and applied as [`configure`](Self::configure) applies; an overlay that
    /// gives an invalid one is refused and nothing changes. Returns the overlay it
    /// replaced.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn set_overlay(
        &self,
        name: &str,
        overlay: Option<Overlay<P::Config>>,
    ) -> Result<Option<Overlay<P::Config>>, ConfigError> {
        crate::names::validate(name)?;
        let mut names = self.write();
        let code = names.code(name);
        let layered = match &overlay {
            Some(overlay) => overlay(&code)?,
            None => code,
        };
        layered.validate()?;
        self.put_in_force(&mut names, name, layered)?;
        Ok(match overlay {
            Some(overlay) => names.overlays.insert(name.into(), overlay),
            None => names.overlays.remove(name),
        })
    }

    /// Makes the instance `name` with the configuration in force when it has none yet;
    /// the first registration of the name (an attribute's site) still gives it the
    /// code's values, as for a parent made first.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn make(&self, name: &str) -> Result<(), ConfigError> {
        let mut names = self.write();
        if names.named.contains_key(name) {
            return Ok(());
        }
        let config = names.in_force(name)?;
        self.get_or_make(&mut names, name, config, 0)?;
        if !names.registered.contains_key(name) && !names.configs.contains_key(name) {
            names.placeholders.insert(name.into());
        }
        Ok(())
    }

    /// The code's configuration of `name` (`configure`'s, else its first
    /// registration's), if the name is known; without the overlay.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn code(&self, name: &str) -> Option<P::Config> {
        let names = self.read();
        let known = names.configs.contains_key(name)
            || names.registered.contains_key(name)
            || names.named.contains_key(name)
            || names.keyed.contains_key(name);
        known.then(|| names.code(name))
    }

    /// Every name known: registered, declared, keyed or configured.
    #[cfg_attr(not(feature = "config"), allow(dead_code))]
    pub(crate) fn names(&self) -> Vec<String> {
        let names = self.read();
        let mut all: Vec<String> = (names.named.keys())
            .chain(names.keyed.keys())
            .chain(names.configs.keys())
            .chain(names.registered.keys())
            .map(|n| n.to_string())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Gives `name`'s instance and keyed store `config` (validated); kept for an instance
    /// made later by `configs`/`overlays`, which the caller updates. `Ok(true)` when an
    /// instance of the name (keyed or not) exists.
    fn put_in_force(
        &self,
        names: &mut Names<P>,
        name: &str,
        config: P::Config,
    ) -> Result<bool, ConfigError> {
        let named = names.named.get(name).cloned();
        match &named {
            Some(instance) => self.apply(names, name, instance, &config)?,
            None => {
                if let Some(parent) = P::parent(&config) {
                    check_cycle(names, name, parent)?;
                }
            }
        }
        let keyed = names.keyed.get(name).cloned();
        if let Some(store) = &keyed {
            store.configure(config);
        }
        Ok(named.is_some() || keyed.is_some())
    }

    /// The configuration in force for `name`: its instance's, else its keyed store's,
    /// else the one it will be made with when configured.
    pub(crate) fn config(&self, name: &str) -> Option<P::Config> {
        if let Some(instance) = self.get(name) {
            return Some(instance.config());
        }
        let names = self.read();
        if let Some(store) = names.keyed.get(name) {
            return Some(store.config());
        }
        let configured = names.configs.contains_key(name) || names.overlays.contains_key(name);
        configured.then(|| names.in_force(name).ok()).flatten()
    }

    /// Every named instance, by name (cloned out, so callers work without the lock).
    pub(crate) fn named(&self) -> Vec<Arc<P>> {
        self.read().named.values().cloned().collect()
    }

    /// Every instance's snapshot, by name, then key (the one without key first).
    pub(crate) fn snapshots(&self) -> Vec<P::Snapshot> {
        let (named, keyed) = {
            let names = self.read();
            let named: Vec<_> = names
                .named
                .iter()
                .map(|(n, i)| (n.clone(), i.clone()))
                .collect();
            let keyed: Vec<_> = names
                .keyed
                .iter()
                .map(|(n, s)| (n.clone(), s.clone()))
                .collect();
            (named, keyed)
        };
        let mut all = Vec::with_capacity(named.len());
        let mut keyed = keyed.into_iter().peekable();
        for (name, instance) in named {
            while let Some((_, store)) = keyed.next_if(|(k, _)| *k < name) {
                extend_keyed(&mut all, &store);
            }
            all.push(instance.snapshot(None));
            if let Some((_, store)) = keyed.next_if(|(k, _)| *k == name) {
                extend_keyed(&mut all, &store);
            }
        }
        for (_, store) in keyed {
            extend_keyed(&mut all, &store);
        }
        all
    }

    /// Gives a live instance `config`: its settings, and its parent link if it has none
    /// yet (a parent that would make a cycle is refused first).
    fn apply(
        &self,
        names: &mut Names<P>,
        name: &str,
        instance: &P,
        config: &P::Config,
    ) -> Result<(), ConfigError> {
        if let Some(parent) = P::parent(config) {
            check_cycle(names, name, parent)?;
        }
        instance.configure(config)?;
        if let Some(parent) = P::parent(config) {
            if instance.linked_parent().is_none() {
                let parent = self.get_or_make(names, parent, P::Config::default(), 1)?;
                instance.link_parent(parent);
            }
        }
        Ok(())
    }

    fn get_or_make(
        &self,
        names: &mut Names<P>,
        name: &str,
        given: P::Config,
        depth: usize,
    ) -> Result<Arc<P>, ConfigError> {
        if let Some(found) = names.named.get(name) {
            return Ok(found.clone());
        }
        let config = match depth {
            0 => given,
            // A parent: the configuration it was given, else the defaults.
            _ => names.in_force(name).unwrap_or(given),
        };
        let parent = match P::parent(&config) {
            Some(parent) => {
                check_cycle(names, name, parent)?;
                if depth >= MAX_PARENT_DEPTH {
                    return Err(too_deep(parent));
                }
                let parent = parent.to_owned();
                Some(self.get_or_make(names, &parent, P::Config::default(), depth + 1)?)
            }
            None => None,
        };
        let instance = Arc::new(
            P::make(crate::names::intern(name), None, &config, &self.clock)
                .with_events(self.events.clone()),
        );
        if let Some(parent) = parent {
            instance.link_parent(parent);
        }
        names.named.insert(name.into(), instance.clone());
        if depth > 0 {
            names.placeholders.insert(name.into());
        }
        Ok(instance)
    }

    fn read(&self) -> RwLockReadGuard<'_, Names<P>> {
        // Every write replaces whole entries, so a poisoned lock still holds valid maps.
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Names<P>> {
        self.inner.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P: Pattern> Names<P> {
    /// The code's configuration of `name`: `configure`'s, else its first registration's,
    /// else the defaults.
    fn code(&self, name: &str) -> P::Config {
        let code = self.configs.get(name).or_else(|| self.registered.get(name));
        code.cloned().unwrap_or_default()
    }

    /// The configuration in force for `name`: the code's, under the overlay if any.
    fn in_force(&self, name: &str) -> Result<P::Config, ConfigError> {
        let code = self.code(name);
        match self.overlays.get(name) {
            Some(overlay) => overlay(&code),
            None => Ok(code),
        }
    }
}

fn extend_keyed<P: Pattern>(all: &mut Vec<P::Snapshot>, store: &Keyed<P>) {
    all.extend(
        store
            .entries()
            .into_iter()
            .map(|(key, instance)| instance.snapshot(Some(&key))),
    );
}

/// Refuses `child → parent` if `child` is `parent` or one of its ancestors.
fn check_cycle<P: Pattern>(names: &Names<P>, child: &str, parent: &str) -> Result<(), ConfigError> {
    let mut at = parent.to_owned();
    for _ in 0..MAX_PARENT_DEPTH {
        if at == child {
            return Err(ConfigError::new(
                "parent",
                parent,
                format!("would make `{child}` its own ancestor"),
            ));
        }
        let next = match names.named.get(at.as_str()) {
            Some(instance) => P::parent(&instance.config()).map(str::to_owned),
            None => names
                .configs
                .get(at.as_str())
                .and_then(|c| P::parent(c).map(str::to_owned)),
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
