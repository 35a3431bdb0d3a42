//! Feature switches: named features that code consults before doing optional work, with
//! a fallback value for when they are off.
//!
//! A feature is switched off by hand ([`Degradation::disable`]) or switches itself off
//! after a run of consecutive failures ([`FeatureConfig::failure_threshold`], 3 by
//! default), and stays off until [`Degradation::enable`]. A name nobody registered or
//! switched is enabled: switches only ever take features away.
//!
//! ```
//! use resilience::degradation::Degradation;
//!
//! let switches = Degradation::new();
//! let recommendations = switches.register("recommendations", Vec::<String>::new());
//!
//! assert!(recommendations.is_enabled());
//! for _ in 0..3 {
//!     recommendations.report_failure(); // the recommender keeps failing...
//! }
//! assert!(!recommendations.is_enabled()); // ...so it switched itself off
//! assert_eq!(recommendations.fallback(), Some(vec![]));
//!
//! switches.enable("recommendations");
//! assert!(switches.is_enabled("recommendations"));
//! ```
//!
//! The check on the call path, [`Feature::is_enabled`] (and the `#[doc(hidden)]` call
//! site the attributes use), is one atomic load: a handle keeps its feature's state, and
//! the name is looked up in the lock-guarded map only when the handle is made.

pub(crate) mod feature;
mod snapshot;

use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

use serde::{Deserialize, Serialize};

use feature::Entry;
pub use feature::Feature;
pub use snapshot::{DegradationSnapshot, FeatureSnapshot};

use crate::ConfigError;

/// Why a feature is off.
///
/// ```
/// use resilience::degradation::{Degradation, DisabledBy};
///
/// let d = Degradation::new();
/// d.disable("export");
/// assert_eq!(d.disabled_by("export"), Some(DisabledBy::Manual));
/// assert_eq!(serde_json::to_value(DisabledBy::Failures).unwrap(), "failures");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledBy {
    /// [`Degradation::disable`] (or [`Feature::disable`]) switched it off.
    Manual,
    /// It failed [`FeatureConfig::failure_threshold`] times in a row.
    Failures,
}

/// How a feature switches itself off.
///
/// ```
/// use resilience::degradation::FeatureConfig;
///
/// assert_eq!(FeatureConfig::default().failure_threshold, 3);
/// let err = FeatureConfig { failure_threshold: 0 }.validate().unwrap_err();
/// assert_eq!((err.field(), err.value()), ("failure_threshold", "0"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureConfig {
    /// Consecutive failures that switch the feature off. 3 by default: the reference
    /// system switches a feature off at its first error, which lets one blip take a
    /// feature away; three in a row is the threshold its recovery manager uses to call a
    /// service degraded. Use `u32::MAX` for a feature that only a person switches off.
    pub failure_threshold: u32,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            failure_threshold: 3,
        }
    }
}

impl FeatureConfig {
    /// Checks every field: `failure_threshold` must be at least 1.
    ///
    /// ```
    /// assert!(resilience::degradation::FeatureConfig { failure_threshold: 1 }.validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.failure_threshold == 0 {
            return Err(ConfigError::new(
                "failure_threshold",
                self.failure_threshold,
                "must be at least 1 (use u32::MAX to never switch off on failures)",
            ));
        }
        Ok(())
    }
}

/// Feature switches by name. Use the global one, [`degradation()`](fn@crate::degradation); make
/// your own for isolated tests.
///
/// Every method taking a name looks it up in a map behind a read-write lock; keep a
/// [`Feature`] handle where a check sits on a hot path.
///
/// ```
/// use resilience::degradation::Degradation;
///
/// let d = Degradation::new();
/// assert!(d.is_enabled("never.registered")); // unknown names are enabled
/// d.register("ai.summaries", String::from("(summary unavailable)"));
/// d.disable("ai.summaries");
/// assert_eq!(d.fallback::<String>("ai.summaries").as_deref(), Some("(summary unavailable)"));
/// assert_eq!(d.fallback::<u64>("ai.summaries"), None); // asked for the wrong type
/// ```
#[derive(Default)]
pub struct Degradation {
    features: RwLock<BTreeMap<Arc<str>, Arc<Entry>>>,
}

impl core::fmt::Debug for Degradation {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let features = self.features.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Degradation")
            .field("features", &features.len())
            .finish()
    }
}

impl Degradation {
    /// No features.
    ///
    /// ```
    /// assert_eq!(resilience::degradation::Degradation::new().snapshot().total, 0);
    /// ```
    pub fn new() -> Degradation {
        Degradation::default()
    }

    /// Registers `name` with its `fallback` value and the default [`FeatureConfig`], and
    /// returns its handle. Registering a name again replaces its fallback (the last
    /// registration wins, whatever its type) and keeps its switch and failure count.
    ///
    /// ```
    /// use resilience::degradation::Degradation;
    ///
    /// let d = Degradation::new();
    /// let a = d.register("tags", vec!["untagged"]);
    /// let b = d.register("tags", vec!["none"]);
    /// a.disable();
    /// assert!(!b.is_enabled()); // one name, one switch
    /// assert_eq!(a.fallback(), Some(vec!["none"]));
    /// ```
    pub fn register<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        fallback: T,
    ) -> Feature<T> {
        let entry = self.entry(name);
        entry.set_fallback(fallback);
        Feature::new(entry)
    }

    /// [`register`](Degradation::register) with a configuration, validated first.
    ///
    /// ```
    /// use resilience::degradation::{Degradation, FeatureConfig};
    ///
    /// let d = Degradation::new();
    /// let f = d.register_with("pdf", "", FeatureConfig { failure_threshold: 1 })?;
    /// f.report_failure();
    /// assert!(!f.is_enabled());
    /// assert!(d.register_with("pdf", "", FeatureConfig { failure_threshold: 0 }).is_err());
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn register_with<T: Clone + Send + Sync + 'static>(
        &self,
        name: &str,
        fallback: T,
        config: FeatureConfig,
    ) -> Result<Feature<T>, ConfigError> {
        config.validate()?;
        let entry = self.entry(name);
        entry.set_config(config);
        entry.set_fallback(fallback);
        Ok(Feature::new(entry))
    }

    /// Sets `name`'s configuration (the feature is made if unknown). A lower threshold
    /// applies from the next failure.
    ///
    /// ```
    /// use resilience::degradation::{Degradation, FeatureConfig};
    ///
    /// let d = Degradation::new();
    /// d.configure("search", FeatureConfig { failure_threshold: 2 })?;
    /// d.report_failure("search");
    /// d.report_failure("search");
    /// assert!(!d.is_enabled("search"));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure(&self, name: &str, config: FeatureConfig) -> Result<(), ConfigError> {
        config.validate()?;
        self.entry(name).set_config(config);
        Ok(())
    }

    /// Switches `name` off by hand (the feature is made if unknown, so a switch can be
    /// thrown before the code that registers it runs). Already off by failures, it is
    /// now off by hand.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.disable("beta.ui");
    /// assert!(!d.is_enabled("beta.ui"));
    /// ```
    pub fn disable(&self, name: &str) {
        self.entry(name).disable();
    }

    /// Switches `name` back on and clears its failure count. Unknown names stay
    /// unknown (they are enabled already).
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.disable("beta.ui");
    /// d.enable("beta.ui");
    /// assert!(d.is_enabled("beta.ui"));
    /// ```
    pub fn enable(&self, name: &str) {
        if let Some(entry) = self.get(name) {
            entry.enable();
        }
    }

    /// Whether `name` is on. A name never registered nor switched is on: features are
    /// opt-out, so a typo in a name can never switch real work off.
    ///
    /// ```
    /// assert!(resilience::degradation::Degradation::new().is_enabled("anything"));
    /// ```
    pub fn is_enabled(&self, name: &str) -> bool {
        self.get(name).is_none_or(|e| e.is_enabled())
    }

    /// Why `name` is off, or `None` if it is on.
    ///
    /// ```
    /// use resilience::degradation::{Degradation, DisabledBy};
    /// let d = Degradation::new();
    /// d.configure("x", resilience::degradation::FeatureConfig { failure_threshold: 1 })?;
    /// d.report_failure("x");
    /// assert_eq!(d.disabled_by("x"), Some(DisabledBy::Failures));
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn disabled_by(&self, name: &str) -> Option<DisabledBy> {
        self.get(name).and_then(|e| e.disabled_by())
    }

    /// `name`'s fallback value, whether the feature is on or off; `None` if it has none
    /// or it was registered with another type than `T`.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.register("limit", 10_usize);
    /// assert_eq!(d.fallback::<usize>("limit"), Some(10));
    /// assert_eq!(d.fallback::<usize>("other"), None);
    /// ```
    pub fn fallback<T: Clone + 'static>(&self, name: &str) -> Option<T> {
        self.get(name).and_then(|e| e.fallback::<T>())
    }

    /// A handle on `name` that reads its fallback as `T`, without setting one (the
    /// feature is made if unknown). Its [`fallback`](Feature::fallback) is `None` until
    /// the feature is registered with a `T`.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// let early = d.feature::<u8>("late");
    /// assert_eq!(early.fallback(), None);
    /// d.register("late", 7_u8);
    /// assert_eq!(early.fallback(), Some(7));
    /// ```
    pub fn feature<T: Clone + 'static>(&self, name: &str) -> Feature<T> {
        Feature::new(self.entry(name))
    }

    /// Counts a failure of `name` (made if unknown); the one that reaches its threshold
    /// switches it off.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.report_failure("x");
    /// d.report_failure("x");
    /// assert!(d.is_enabled("x"));
    /// d.report_failure("x");
    /// assert!(!d.is_enabled("x"));
    /// ```
    pub fn report_failure(&self, name: &str) {
        self.entry(name).report_failure();
    }

    /// Counts a success of `name`: its run of failures starts again from zero. It does
    /// not switch a feature back on.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.report_failure("x");
    /// d.report_failure("x");
    /// d.report_success("x");
    /// d.report_failure("x");
    /// assert!(d.is_enabled("x"));
    /// ```
    pub fn report_success(&self, name: &str) {
        if let Some(entry) = self.get(name) {
            entry.report_success();
        }
    }

    /// Every feature's switch and counts, by name.
    ///
    /// ```
    /// let d = resilience::degradation::Degradation::new();
    /// d.register("a", 1_u8);
    /// d.disable("b");
    /// let json = serde_json::to_value(d.snapshot()).unwrap();
    /// assert_eq!(json["disabled"], 1);
    /// assert_eq!(json["features"][1]["disabled_by"], "manual");
    /// ```
    pub fn snapshot(&self) -> DegradationSnapshot {
        let features: Vec<FeatureSnapshot> = self.read_all().iter().map(|e| e.snapshot()).collect();
        DegradationSnapshot::new(features)
    }

    fn get(&self, name: &str) -> Option<Arc<Entry>> {
        self.features
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// The entry for `name`, made if unknown. Entries are never removed, so a handle
    /// made once stays the name's switch for ever.
    pub(crate) fn entry(&self, name: &str) -> Arc<Entry> {
        if let Some(entry) = self.get(name) {
            return entry;
        }
        // Every write inserts a whole entry, so a poisoned map is still a valid one.
        let mut features = self
            .features
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        features
            .entry(Arc::from(name))
            .or_insert_with_key(|name| Arc::new(Entry::new(name.clone())))
            .clone()
    }

    fn read_all(&self) -> Vec<Arc<Entry>> {
        self.features
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }
}
