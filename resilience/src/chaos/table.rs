//! [`Chaos`]: one registry's fault table, by site name, with the sites seen and the
//! seeded generators the faults draw from.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::{ChaosSnapshot, Fault, FaultConfig, FaultKind, FaultSnapshot, SiteSnapshot};
use crate::ConfigError;

/// One registry's faults, by site name, and the sites seen; see the
/// [module docs](super). [`chaos()`](super::chaos) is the global registry's,
/// [`Registry::chaos`](crate::Registry::chaos) any registry's.
///
/// ```
/// use resilience::chaos::{chaos, Fault};
/// chaos().inject("docs.chaos.struct", Fault::refusal(1.0))?;
/// assert!(chaos().snapshot().faults.iter().any(|f| f.site == "docs.chaos.struct"));
/// chaos().clear("docs.chaos.struct");
/// # Ok::<(), resilience::chaos::ChaosError>(())
/// ```
pub struct Chaos {
    state: Mutex<State>,
    /// Its registry's event stream; `None` for the global table, which sends to the
    /// global registry's.
    events: Option<crate::events::Sink>,
}

struct State {
    seed: u64,
    /// Per site name, at most one fault of each kind, in draw order (refusal, error, latency).
    faults: BTreeMap<String, Vec<Entry>>,
    /// The sites that ran while a fault was set.
    sites: BTreeMap<&'static str, SiteInfo>,
    /// Whether this table counts in [`ARMED_TABLES`](super::ARMED_TABLES): it has a fault.
    armed: bool,
}

struct Entry {
    fault: Fault,
    rng: SmallRng,
    calls: u64,
    injected: u64,
    refused: Option<String>,
}

#[derive(Clone, Copy)]
struct SiteInfo {
    /// Every site of this name can return an `InjectedFault` as its error, or why one
    /// cannot.
    takes_error: Result<(), &'static str>,
    /// A site of this name can refuse (a breaker, bulkhead or rate limiter).
    refuses: bool,
}

/// Why [`Chaos::inject`] refused a fault.
///
/// ```
/// use resilience::chaos::{chaos, ChaosError, Fault};
/// let err = chaos().inject("docs.chaos.err", Fault::error(1.5)).unwrap_err();
/// assert!(matches!(err, ChaosError::Invalid(_)));
/// assert!(err.to_string().contains("rate"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChaosError {
    /// A value out of range, with its field.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
    /// The site exists but cannot take this fault.
    #[error("site `{site}` cannot take a {fault} fault: {reason}")]
    Refused {
        /// The site's name.
        site: String,
        /// `"error"`, `"latency"` or `"refusal"`.
        fault: &'static str,
        /// Why, and how to make it possible.
        reason: &'static str,
    },
}

/// Why a call site cannot take an injected error (the attribute's site; a layer says its
/// own reason).
pub(crate) const NO_FROM: &str =
    "its error type has no `From<resilience::InjectedFault>`; add one to inject errors there";
const NO_REFUSAL: &str = "it is a function or a hedge, not a breaker, bulkhead or rate limiter, so nothing refuses its calls; inject an error instead";

/// A per-fault generator: the seed, the site and the kind give each fault its own
/// repeatable sequence.
fn rng_for(seed: u64, site: &str, kind: FaultKind) -> SmallRng {
    // FNV-1a over the name: stable across runs and platforms.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in site.bytes().chain([kind.slot()]) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
    }
    SmallRng::seed_from_u64(seed ^ hash)
}

impl core::fmt::Debug for Chaos {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = self.lock();
        f.debug_struct("Chaos")
            .field("seed", &state.seed)
            .field("faults", &state.faults.len())
            .finish_non_exhaustive()
    }
}

impl Drop for Chaos {
    fn drop(&mut self) {
        // A dropped registry's faults stop counting.
        let state = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        state.set_armed(false);
    }
}

impl State {
    /// Keeps the process-wide count of tables with faults in step with this one.
    fn set_armed(&mut self, armed: bool) {
        if armed != self.armed {
            self.armed = armed;
            if armed {
                super::ARMED_TABLES.fetch_add(1, Ordering::Relaxed);
            } else {
                super::ARMED_TABLES.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }
}

impl Chaos {
    /// An empty table, its seed drawn from the OS (fix it with [`seed`](Self::seed)).
    /// Every `Registry` makes its own; see [`Registry::chaos`](crate::Registry::chaos).
    /// The same table, sending its injections to `events` (a `Registry::new()`'s stream).
    pub(crate) fn with_events(mut self, events: crate::events::Sink) -> Chaos {
        self.events = Some(events);
        self
    }

    pub(crate) fn new() -> Chaos {
        Chaos {
            state: Mutex::new(State {
                seed: SmallRng::try_from_os_rng().map_or(0x5eed, |mut r| r.random()),
                faults: BTreeMap::new(),
                sites: BTreeMap::new(),
                armed: false,
            }),
            events: None,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the table leaves it consistent (every write is one step).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sets `fault` on the site `name`, replacing a fault of the same kind there (a site
    /// may have one error, one latency and one refusal fault at once).
    ///
    /// `Err` when the rate is not from 0.0 to 1.0, or when the site is known and cannot
    /// take the fault (an error fault where the function's error type has no
    /// `From<InjectedFault>`, a refusal on a function). A name not yet seen is accepted:
    /// see the [module docs](super).
    ///
    /// ```
    /// use resilience::chaos::{chaos, Fault};
    /// chaos().inject("docs.chaos.inject", Fault::error(0.25))?;
    /// assert!(chaos().inject("docs.chaos.inject", Fault::error(-1.0)).is_err());
    /// chaos().clear("docs.chaos.inject");
    /// # Ok::<(), resilience::chaos::ChaosError>(())
    /// ```
    pub fn inject(&self, name: &str, fault: Fault) -> Result<(), ChaosError> {
        fault.validate()?;
        let mut state = self.lock();
        if let Some(site) = state.sites.get(name) {
            if let Some(reason) = site.cannot_take(fault.kind()) {
                return Err(ChaosError::Refused {
                    site: name.to_owned(),
                    fault: fault.kind().name(),
                    reason,
                });
            }
        }
        let rng = rng_for(state.seed, name, fault.kind());
        let entries = state.faults.entry(name.to_owned()).or_default();
        entries.retain(|e| e.fault.kind().slot() != fault.kind().slot());
        entries.push(Entry {
            fault,
            rng,
            calls: 0,
            injected: 0,
            refused: None,
        });
        entries.sort_by_key(|e| e.fault.kind().slot());
        state.set_armed(true);
        tracing::info!(
            target: "resilience::chaos",
            site = name,
            fault = fault.kind().name(),
            rate = fault.rate(),
            "fault set"
        );
        Ok(())
    }

    /// Sets the faults of a `[chaos.NAME]` table on `name`, after clearing the site's
    /// faults; `Err` naming the field (see [`FaultConfig::validate`]) or the site.
    ///
    /// ```
    /// use resilience::chaos::{chaos, FaultConfig};
    /// chaos().configure("docs.chaos.cfg", &FaultConfig { error_rate: 0.5, ..Default::default() })?;
    /// assert_eq!(chaos().snapshot().faults.iter().filter(|f| f.site == "docs.chaos.cfg").count(), 1);
    /// chaos().clear("docs.chaos.cfg");
    /// # Ok::<(), resilience::chaos::ChaosError>(())
    /// ```
    pub fn configure(&self, name: &str, config: &FaultConfig) -> Result<(), ChaosError> {
        config.validate()?;
        let faults = config.faults();
        // Check every fault before changing anything.
        if let Some(site) = self.lock().sites.get(name).copied() {
            for fault in &faults {
                if let Some(reason) = site.cannot_take(fault.kind()) {
                    return Err(ChaosError::Refused {
                        site: name.to_owned(),
                        fault: fault.kind().name(),
                        reason,
                    });
                }
            }
        }
        self.clear(name);
        faults.into_iter().try_for_each(|f| self.inject(name, f))
    }

    /// Removes every fault of `name`; its calls run as written again.
    ///
    /// ```
    /// use resilience::chaos::{chaos, Fault};
    /// chaos().inject("docs.chaos.clear", Fault::error(1.0))?;
    /// chaos().clear("docs.chaos.clear");
    /// assert!(chaos().snapshot().faults.iter().all(|f| f.site != "docs.chaos.clear"));
    /// # Ok::<(), resilience::chaos::ChaosError>(())
    /// ```
    pub fn clear(&self, name: &str) {
        let mut state = self.lock();
        if state.faults.remove(name).is_some() {
            tracing::info!(target: "resilience::chaos", site = name, "faults cleared");
        }
        let armed = !state.faults.is_empty();
        state.set_armed(armed);
    }

    /// Removes every fault of this table: once no registry has one, no call pays more
    /// than one atomic load again.
    ///
    /// ```
    /// use resilience::chaos::chaos;
    /// chaos().clear_all();
    /// assert!(chaos().snapshot().faults.is_empty());
    /// ```
    pub fn clear_all(&self) {
        let mut state = self.lock();
        state.faults.clear();
        state.set_armed(false);
        tracing::info!(target: "resilience::chaos", "all faults cleared");
    }

    /// Fixes the draws: every fault (set now or later) draws from a generator seeded
    /// with `seed`, its site's name and its kind, so the same calls are hit on every run.
    ///
    /// ```
    /// use resilience::chaos::chaos;
    /// chaos().seed(42);
    /// assert_eq!(chaos().snapshot().seed, 42);
    /// ```
    pub fn seed(&self, seed: u64) {
        let mut state = self.lock();
        state.seed = seed;
        for (name, entries) in &mut state.faults {
            for entry in entries {
                entry.rng = rng_for(seed, name, entry.fault.kind());
            }
        }
    }

    /// The faults set, with how many calls each saw and hit, and the sites seen.
    ///
    /// ```
    /// use resilience::chaos::chaos;
    /// let json = serde_json::to_value(chaos().snapshot()).unwrap();
    /// assert!(json["faults"].is_array());
    /// ```
    pub fn snapshot(&self) -> ChaosSnapshot {
        let state = self.lock();
        ChaosSnapshot {
            armed: !state.faults.is_empty(),
            seed: state.seed,
            faults: state
                .faults
                .iter()
                .flat_map(|(site, entries)| {
                    entries.iter().map(move |e| FaultSnapshot {
                        site: site.clone(),
                        fault: e.fault.kind(),
                        rate: e.fault.rate(),
                        calls: e.calls,
                        injected: e.injected,
                        refused: e.refused.clone(),
                    })
                })
                .collect(),
            sites: state
                .sites
                .iter()
                .map(|(name, info)| SiteSnapshot {
                    name: (*name).to_owned(),
                    takes_error: info.takes_error.is_ok(),
                    refuses: info.refuses,
                })
                .collect(),
        }
    }

    /// One call through a site while a fault is set (in any registry): registers the
    /// site, then draws each of its faults in turn; the first that hits decides.
    /// `takes_error` is `Err(why)` where the site's error type cannot hold an
    /// [`InjectedFault`](crate::InjectedFault).
    pub(crate) fn draw(
        &self,
        name: &'static str,
        takes_error: Result<(), &'static str>,
        refuses: bool,
    ) -> Drawn {
        let mut state = self.lock();
        let site = *state
            .sites
            .entry(name)
            .and_modify(|s| {
                s.takes_error = s.takes_error.and(takes_error);
                s.refuses |= refuses;
            })
            .or_insert(SiteInfo {
                takes_error,
                refuses,
            });
        let Some(entries) = state.faults.get_mut(name) else {
            return Drawn::Pass;
        };
        for entry in entries {
            if entry.refused.is_some() {
                continue;
            }
            let kind = entry.fault.kind();
            // This site cannot take it: a refusal on a function gate of a breaker's name
            // is the breaker's to apply; anything else is refused for good.
            let cannot = match kind {
                FaultKind::Error => takes_error.err(),
                FaultKind::Refusal if !refuses => site.cannot_take(kind),
                _ => None,
            };
            if let Some(reason) = cannot {
                tracing::warn!(
                    target: "resilience::chaos",
                    site = name,
                    fault = kind.name(),
                    reason,
                    "fault refused by its site; it injects nothing"
                );
                entry.refused = Some(reason.to_owned());
                continue;
            }
            if kind == FaultKind::Refusal && !refuses {
                continue;
            }
            entry.calls += 1;
            if !entry.rng.random_bool(entry.fault.rate()) {
                continue;
            }
            entry.injected += 1;
            tracing::info!(
                target: "resilience::chaos",
                site = name,
                fault = kind.name(),
                injected = true,
                "fault injected"
            );
            crate::metrics::chaos_injected(name, kind.name());
            let events = self
                .events
                .as_ref()
                .unwrap_or_else(|| crate::events::global());
            events.emit("chaos", name, || crate::events::EventKind::FaultInjected {
                fault: kind.name().into(),
            });
            return match kind {
                FaultKind::Error => Drawn::Error,
                FaultKind::Latency(d) => Drawn::Delay(d),
                FaultKind::Refusal => Drawn::Refuse,
            };
        }
        Drawn::Pass
    }
}

impl SiteInfo {
    fn cannot_take(&self, kind: FaultKind) -> Option<&'static str> {
        match kind {
            FaultKind::Error => self.takes_error.err(),
            FaultKind::Refusal if !self.refuses => Some(NO_REFUSAL),
            _ => None,
        }
    }
}

/// What one draw decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drawn {
    Pass,
    Delay(Duration),
    Error,
    Refuse,
}
