//! Every pattern's configuration from a TOML file and the environment (feature `config`).
//!
//! [`load`] reads a file, lets `RESILIENCE__…` environment variables override it,
//! validates every value, and only then applies them all: an invalid file is an `Err`
//! naming the file, the line, the dotted key and the value, and nothing of it is applied.
//! [`watch`] does the same on every change of the file, keeping the last good
//! configuration (with a WARN event) when a change is invalid.
//!
//! ```toml
//! [breaker.kanban]            # registry().configure("kanban", ..)
//! failure_threshold = 3
//! recovery_timeout = "30s"
//!
//! [retry.kanban]              # a `#[retry(policy = "kanban")]` site
//! max_attempts = 5
//!
//! [retry."app::client::fetch"] # a `#[retry]` site without a policy, by its function's path
//! backoff = { fixed = "200ms" }
//!
//! [budget.upstream]           # retry_budget("upstream")
//! capacity = 20
//!
//! [feature."ai.summaries"]    # degradation()'s feature switch
//! failure_threshold = 5
//!
//! [recovery.db]               # recovery()'s service
//! degrade_after = 2
//!
//! [monitor]                   # the one monitor(): no name
//! burst_threshold = 50
//!
//! [bulkhead.db]               # registry().configure_bulkhead("db", ..)
//! max_concurrent = 8
//! max_wait = "100ms"
//!
//! [rate_limit.api]            # registry().configure_rate_limit("api", ..)
//! limit = 500
//! per = "1m"
//!
//! [hedge.search]              # registry().configure_hedge("search", ..)
//! delay = "30ms"
//! max_hedges = 2
//!
//! [chaos.kanban]              # feature `chaos`: chaos().configure("kanban", ..)
//! error_rate = 0.1
//!
//! [cluster]                   # feature `redis`: validated and kept, not connected
//! url = "redis://127.0.0.1:6379"
//! ```
//!
//! | table | value | applied with |
//! |---|---|---|
//! | `[breaker.NAME]` | [`BreakerConfig`](crate::BreakerConfig) | `registry().configure` |
//! | `[retry.NAME]` | [`RetryConfig`](crate::RetryConfig) | `registry().configure_retry`: a `policy = "NAME"` site, or the site whose function's path is `NAME` |
//! | `[budget.NAME]` | [`BudgetConfig`](crate::retry::BudgetConfig) | `retry_budget(NAME).configure` |
//! | `[feature.NAME]` | [`FeatureConfig`](crate::degradation::FeatureConfig) | `degradation().configure` |
//! | `[recovery.NAME]` | [`RecoveryConfig`](crate::recovery::RecoveryConfig) | `recovery().configure` |
//! | `[monitor]` | [`MonitorConfig`](crate::MonitorConfig) | `monitor().configure` |
//! | `[bulkhead.NAME]` | [`BulkheadConfig`](crate::BulkheadConfig) | `registry().configure_bulkhead` |
//! | `[rate_limit.NAME]` | [`RateLimitConfig`](crate::RateLimitConfig) | `registry().configure_rate_limit` |
//! | `[hedge.NAME]` | [`HedgeConfig`](crate::HedgeConfig) | `registry().configure_hedge`: a `#[hedge]` or `HedgeLayer` named `NAME` |
//! | `[chaos.NAME]` (feature `chaos`) | `chaos::FaultConfig` | `chaos().configure`: the faults of the breaker, bulkhead, rate limiter, hedge or function `NAME`, replacing its faults; without the feature, an `Err` naming it |
//! | `[cluster]` (feature `redis`) | `ClusterSettings` (`url` and the `ClusterConfig` fields) | not applied: [`load`] cannot connect (connecting is async); the table is validated (the URL parsed, nothing contacted) and kept, and `Config::cluster()` hands it to `ClusterSettings::connect().await` |
//!
//! Fields are the config structs' serde form: durations as `"250ms"`, `"30s"`, `"1m 30s"`
//! (a number of seconds is read too); an unknown table or
//! field is an error. `RESILIENCE__<TABLE>__<NAME>__<FIELD>=value` (for `[monitor]`,
//! `RESILIENCE__MONITOR__<FIELD>`) overrides the file: `<NAME>` matches a name of the file
//! or of the runtime case-insensitively, a `_` also matching `.` or `-`
//! (`RESILIENCE__BREAKER__KANBAN_BOARDS__FAILURE_THRESHOLD=3` sets `kanban.boards`); the
//! value is read as a TOML value (`3`, `true`, `{ fixed = "1s" }`), or as a string when it
//! is not one (`30s`). For `breaker`, `bulkhead`, `rate_limit`, `hedge` and
//! `adaptive_limit`, whose attributes' names are all known from the program's start, a
//! variable naming none of them is a WARN naming it and sets nothing
//! ([`Config::unknown_env`]); for the other tables, such a name is taken in lower case.
//!
//! Layers, field by field: the environment over the file over the code (the attribute's
//! keys, a layer's `.config(..)`, `registry().configure…(..)`). A table sets only the
//! fields it lists, the others keep the code's values; a field given replaces that whole
//! field. Each `load` (or watched reload) of a file replaces what that file set before:
//! a field or table removed goes back to the code's value (for the other tables than
//! `breaker`, `bulkhead` and `rate_limit`, to the value in force before the file first set
//! the name). The guide: `docs/configuration.md`.
//!
//! ```
//! use resilience::{circuit_breaker, CircuitOpen};
//!
//! #[circuit_breaker(name = "doc-layers", failure_threshold = 5, recovery_timeout = 2s)]
//! fn call() -> Result<(), CircuitOpen> { Ok(()) }
//!
//! let path = std::env::temp_dir().join(format!("resilience-doc-layers-{}.toml", std::process::id()));
//! std::fs::write(&path, "[breaker.doc-layers]\nfailure_threshold = 3\n")?;
//! resilience::config::load(&path)?;
//! let b = resilience::registry().breaker("doc-layers").unwrap(); // known before any call
//! assert_eq!((b.config().failure_threshold, b.config().recovery_timeout.as_secs()), (3, 2));
//! std::fs::write(&path, "")?; // the table removed: the code's values again
//! resilience::config::load(&path)?;
//! assert_eq!(b.config().failure_threshold, 5);
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```
//! let path = std::env::temp_dir().join(format!("resilience-doc-{}.toml", std::process::id()));
//! std::fs::write(&path, "[breaker.doc-config]\nfailure_threshold = 3\n")?;
//! resilience::config::load(&path)?;
//! let b = resilience::registry().register("doc-config", Default::default())?;
//! assert_eq!(b.config().failure_threshold, 3);
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(test)]
mod budget_tests;
mod chaos;
#[cfg(feature = "redis")]
mod cluster;
mod error;
mod file;
mod table;
mod tables;
mod watch;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::Path;
use std::sync::{Mutex, PoisonError};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

#[cfg(feature = "redis")]
pub use cluster::ClusterSettings;
// A value as it may be kept and shown (in errors and `Debug`): a URL's password as `***`.
#[cfg(feature = "redis")]
use cluster::shown;
#[cfg(not(feature = "redis"))]
fn shown(text: &str) -> String {
    text.to_owned()
}
pub use error::LoadError;
pub use file::MAX_FILE_BYTES;
pub use watch::Watcher;

use file::Lines;
use table::{Item, Kind};
use tables::TABLES;

/// The prefix of the environment variables that override a file.
const ENV_PREFIX: &str = "RESILIENCE__";

/// Reads `path`, applies the `RESILIENCE__…` environment variables over it, validates
/// every value and applies them all, or none: the first invalid value is an `Err` naming
/// the file, the line, the dotted key and the value. Returns what was applied.
///
/// The time it takes is linear in the file's size. Only a regular file of at most
/// [`MAX_FILE_BYTES`] (16 MiB) is read; a bigger one, a directory, a device
/// (`/dev/zero`) or a FIFO is an `Err` at once, before anything is read.
///
/// ```
/// let path = std::env::temp_dir().join(format!("resilience-doc-load-{}.toml", std::process::id()));
/// std::fs::write(&path, "[retry.doc-load]\nmax_attempts = 5\n\n[breaker.doc-load]\nfailure_threshold = 0\n")?;
/// let err = resilience::config::load(&path).unwrap_err();
/// assert_eq!((err.line(), err.key()), (Some(5), Some("breaker.doc-load.failure_threshold")));
/// assert_eq!(resilience::registry().retry_policy("doc-load"), None); // nothing applied
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Config, LoadError> {
    let config = Config::from_file(path)?;
    config.apply()?;
    Ok(config)
}

/// [`load`]s `path`, then again on every change of it, from a thread of its own that
/// stops when the [`Watcher`] is dropped. It checks the file every 500 ms
/// ([`watch_every`] to choose); an invalid change is a WARN event (and
/// [`Watcher::last_error`]) and the last good configuration stays.
///
/// ```
/// let path = std::env::temp_dir().join(format!("resilience-doc-watch-{}.toml", std::process::id()));
/// std::fs::write(&path, "[budget.doc-watch]\ncapacity = 7\n")?;
/// let watcher = resilience::config::watch(&path)?;
/// assert_eq!(resilience::retry_budget("doc-watch").config().capacity, 7);
/// drop(watcher); // the thread stops
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn watch(path: impl AsRef<Path>) -> Result<Watcher, LoadError> {
    watch_every(path, watch::DEFAULT_INTERVAL)
}

/// [`watch`], checking the file every `interval` (at least 1 ms).
///
/// ```
/// use std::time::Duration;
/// let path = std::env::temp_dir().join(format!("resilience-doc-every-{}.toml", std::process::id()));
/// std::fs::write(&path, "")?;
/// let watcher = resilience::config::watch_every(&path, Duration::from_millis(50))?;
/// assert_eq!(watcher.reloads(), 1); // the first load
/// # drop(watcher);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn watch_every(
    path: impl AsRef<Path>,
    interval: std::time::Duration,
) -> Result<Watcher, LoadError> {
    Watcher::start(path.as_ref(), interval)
}

/// The configuration in force for every name a [`load`] (or [`Config::apply`]) has set,
/// read back from the runtime, which code may have changed since. [`Config::to_toml`]
/// writes it as a file that loads to the same values.
///
/// ```
/// use resilience::config::{effective, Config};
///
/// Config::parse("[feature.doc-effective]\nfailure_threshold = 4\n")?.apply()?;
/// let now = effective();
/// let threshold = now.get::<resilience::degradation::FeatureConfig>("feature", "doc-effective");
/// assert_eq!(threshold.map(|f| f.failure_threshold), Some(4));
/// assert_eq!(Config::parse(&now.to_toml()?)?, now);
/// # Ok::<(), resilience::config::LoadError>(())
/// ```
pub fn effective() -> Config {
    let applied = lock(&APPLIED).clone();
    let entries = applied
        .entries
        .into_iter()
        .map(|(key, entry)| {
            let item = entry.item.kind().effective(&key.1).unwrap_or(entry.item);
            (key, Entry::new(item, entry.fields, Origin::default()))
        })
        .collect();
    Config {
        entries,
        ..Config::default()
    }
}

/// Serializes applies: a [`load`] and a [`Watcher`]'s reload never interleave.
static APPLY: Mutex<()> = Mutex::new(());
/// Every value applied so far, by table and name (what [`effective`] reads back).
static APPLIED: Mutex<Config> = Mutex::new(Config {
    entries: BTreeMap::new(),
    file: None,
    unknown_env: Vec::new(),
});
/// The (table, name)s each file set when last applied: those its next apply lacks go
/// back to the code's values.
static FILES: Mutex<BTreeMap<String, BTreeSet<(usize, String)>>> = Mutex::new(BTreeMap::new());

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every write replaces whole entries, so a poisoned lock still holds valid data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A parsed and validated configuration: values by table and name, each remembering
/// where it was written (for errors).
///
/// ```
/// use resilience::config::Config;
/// use resilience::BreakerConfig;
///
/// let config = Config::parse("[breaker.kanban]\nfailure_threshold = 3\n")?;
/// assert_eq!(config.get::<BreakerConfig>("breaker", "kanban").unwrap().failure_threshold, 3);
/// assert_eq!(config.len(), 1);
/// # Ok::<(), resilience::config::LoadError>(())
/// ```
#[derive(Debug, Default)]
pub struct Config {
    /// By (index in `TABLES`, name): applied in table order.
    entries: BTreeMap<(usize, String), Entry>,
    /// The file it was read from (a later apply of the same file gives the tables it no
    /// longer has back to the code's values); `None` for a string.
    file: Option<String>,
    /// The `RESILIENCE__…` variables that named no name known to the program.
    unknown_env: Vec<String>,
}

struct Entry {
    /// The value in force once applied: the code's, with `fields` over it.
    item: Box<dyn Item>,
    /// The fields as written (the environment's over the file's): all it sets.
    fields: toml::Table,
    origin: Origin,
}

impl core::fmt::Debug for Entry {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // The fields as written may hold a URL with its password (`[cluster] url`): shown
        // as every other value of a configuration is, without it.
        let fields = shown(&format!("{:?}", self.fields));
        f.debug_struct("Entry")
            .field("item", &self.item)
            .field("fields", &format_args!("{fields}"))
            .field("origin", &self.origin)
            .finish()
    }
}

impl Entry {
    fn new(item: Box<dyn Item>, fields: toml::Table, origin: Origin) -> Entry {
        Entry {
            item,
            fields,
            origin,
        }
    }
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Entry::new(
            self.item.clone_box(),
            self.fields.clone(),
            self.origin.clone(),
        )
    }
}

impl Clone for Config {
    fn clone(&self) -> Self {
        Config {
            entries: self.entries.clone(),
            file: self.file.clone(),
            unknown_env: self.unknown_env.clone(),
        }
    }
}

/// Where an entry was written: a file (or string) and its lines, environment variables.
#[derive(Clone, Debug, Default)]
struct Origin {
    /// The file's path, or `<string>`.
    source: String,
    /// The line of the entry's name.
    line: Option<usize>,
    /// Each dotted field of the entry: its line and its value as written.
    fields: BTreeMap<String, (usize, String)>,
    /// Fields set by the environment: the variable and its value.
    env: BTreeMap<String, (String, String)>,
}

impl PartialEq for Config {
    /// The same tables, names and values (where they were written aside).
    fn eq(&self, other: &Config) -> bool {
        self.entries.len() == other.entries.len()
            && self
                .entries
                .iter()
                .zip(&other.entries)
                .all(|((k1, e1), (k2, e2))| {
                    k1 == k2 && e1.item.to_value().ok() == e2.item.to_value().ok()
                })
    }
}

impl Config {
    /// Parses and validates a TOML document (no environment variables); errors name
    /// `<string>` as the file.
    ///
    /// ```
    /// use resilience::config::Config;
    ///
    /// let err = Config::parse("[breaker.a]\nfailure_treshold = 3\n").unwrap_err();
    /// assert_eq!((err.line(), err.key()), (Some(2), Some("breaker.a.failure_treshold")));
    /// assert!(err.message().contains("unknown field"));
    /// ```
    pub fn parse(text: &str) -> Result<Config, LoadError> {
        Config::parse_from(text, "<string>")
    }

    /// Reads and parses `path`, then applies the process's `RESILIENCE__…` environment
    /// variables over it; validated, not applied. Only a regular file of at most
    /// [`MAX_FILE_BYTES`] is read: anything else (a directory, `/dev/zero`, a FIFO, a
    /// bigger file) is an `Err` at once.
    ///
    /// ```
    /// let path = std::env::temp_dir().join(format!("resilience-doc-from-{}.toml", std::process::id()));
    /// std::fs::write(&path, "[retry.doc-from]\nmax_attempts = 2\n")?;
    /// let config = resilience::config::Config::from_file(&path)?;
    /// assert_eq!(config.get::<resilience::RetryConfig>("retry", "doc-from").unwrap().max_attempts, 2);
    /// assert_eq!(resilience::registry().retry_policy("doc-from"), None); // not applied
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Config, LoadError> {
        let path = path.as_ref();
        Config::from_text(&file::read_text(path)?, path)
    }

    /// The text of the file `path`, parsed, with the environment over it.
    fn from_text(text: &str, path: &Path) -> Result<Config, LoadError> {
        let mut config = Config::parse_from(text, &path.display().to_string())?;
        config.file = Some(path.display().to_string());
        config.with_env(env_vars()?)
    }

    /// The same configuration with `vars` (name, value) applied over it as the
    /// `RESILIENCE__<TABLE>__<NAME>__<FIELD>` environment variables are; variables without
    /// that prefix are ignored. Validated again.
    ///
    /// ```
    /// use resilience::config::Config;
    /// use resilience::BreakerConfig;
    ///
    /// let config = Config::parse("[breaker.\"kanban.boards\"]\nfailure_threshold = 5\n")?
    ///     .with_env([("RESILIENCE__BREAKER__KANBAN_BOARDS__FAILURE_THRESHOLD".into(), "2".into())])?;
    /// assert_eq!(config.get::<BreakerConfig>("breaker", "kanban.boards").unwrap().failure_threshold, 2);
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn with_env(
        mut self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, LoadError> {
        let mut vars: Vec<(String, String)> = vars
            .into_iter()
            .filter(|(k, _)| k.starts_with(ENV_PREFIX))
            .collect();
        vars.sort();
        // The names the program's code knows, from its start (`known.rs`).
        crate::registry::known::declare();
        for (var, raw) in vars {
            self.override_with(&var, &raw)?;
        }
        self.validate()?;
        Ok(self)
    }

    /// The `RESILIENCE__…` environment variables (by name) that matched no name known to
    /// the program (neither a table of the file nor an instance the code makes): each was
    /// a WARN event and set nothing.
    ///
    /// ```
    /// use resilience::config::Config;
    ///
    /// let config = Config::parse("")?
    ///     .with_env([("RESILIENCE__BREAKER__NO_SUCH_NAME__FAILURE_THRESHOLD".into(), "2".into())])?;
    /// assert_eq!(config.unknown_env(), ["RESILIENCE__BREAKER__NO_SUCH_NAME__FAILURE_THRESHOLD"]);
    /// assert!(config.is_empty()); // no breaker `no_such_name`
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn unknown_env(&self) -> &[String] {
        &self.unknown_env
    }

    /// Checks every value's rules (and the rules across values, such as a breaker's
    /// parent); the first broken one is an `Err` naming where it was written.
    ///
    /// ```
    /// let config = resilience::config::Config::parse("[monitor]\nburst_threshold = 5\n")?;
    /// assert!(config.validate().is_ok());
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn validate(&self) -> Result<(), LoadError> {
        for (key, entry) in &self.entries {
            if let Err(e) = entry.item.validate(&key.1, self) {
                return Err(self.invalid(key, entry, &e));
            }
        }
        Ok(())
    }

    /// Validates every value, then applies them all, table by table. Should the runtime
    /// still refuse one, those applied before it are given back their previous values
    /// and the refusal is returned.
    ///
    /// ```
    /// use resilience::config::Config;
    ///
    /// Config::parse("[retry.doc-apply]\nmax_attempts = 6\n")?.apply()?;
    /// assert_eq!(resilience::registry().retry_policy("doc-apply").unwrap().max_attempts, 6);
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn apply(&self) -> Result<(), LoadError> {
        let _apply = lock(&APPLY);
        self.validate()?;
        let mut applied: Vec<table::Undo> = Vec::new();
        for (key, entry) in &self.entries {
            match entry
                .item
                .kind()
                .put(&key.1, &entry.fields, entry.item.as_ref())
            {
                Ok(undo) => applied.push(undo),
                Err(e) => {
                    for undo in applied.into_iter().rev() {
                        undo();
                    }
                    return Err(self.invalid(key, entry, &e));
                }
            }
        }
        let mut all = lock(&APPLIED);
        for (key, entry) in &self.entries {
            all.entries.insert(key.clone(), entry.clone());
        }
        if let Some(file) = &self.file {
            let now: BTreeSet<(usize, String)> = self.entries.keys().cloned().collect();
            let before = lock(&FILES).insert(file.clone(), now.clone());
            for gone in before.unwrap_or_default().difference(&now) {
                all.entries.remove(gone);
                if let Err(e) = TABLES[gone.0].remove(&gone.1) {
                    tracing::warn!(
                        target: "resilience::config",
                        key = %dotted(TABLES[gone.0], &gone.1, None),
                        error = %e,
                        "a table removed from the file could not give the code's values back"
                    );
                }
            }
        }
        Ok(())
    }

    /// The value of `table`'s `name` (`""` for `[monitor]`), if this configuration has
    /// one of type `C`.
    ///
    /// ```
    /// use resilience::config::Config;
    /// use resilience::MonitorConfig;
    ///
    /// let config = Config::parse("[monitor]\nburst_threshold = 50\n")?;
    /// assert_eq!(config.get::<MonitorConfig>("monitor", "").unwrap().burst_threshold, 50);
    /// assert!(config.get::<MonitorConfig>("breaker", "x").is_none());
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn get<C: 'static>(&self, table: &str, name: &str) -> Option<&C> {
        let index = TABLES.iter().position(|t| t.name() == table)?;
        let entry = self.entries.get(&(index, name.to_owned()))?;
        entry.item.as_any().downcast_ref::<C>()
    }

    /// The `[cluster]` table, if this configuration has one (feature `redis`): validated,
    /// never connected by [`load`]; [`ClusterSettings::connect`] connects with it.
    ///
    /// ```
    /// let config = resilience::config::Config::parse("[cluster]\nurl = \"redis://127.0.0.1:6379\"\n")?;
    /// assert_eq!(config.cluster().map(|c| c.url.as_str()), Some("redis://127.0.0.1:6379"));
    /// assert!(!resilience::cluster::is_connected());
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    #[cfg(feature = "redis")]
    pub fn cluster(&self) -> Option<&ClusterSettings> {
        self.get::<ClusterSettings>("cluster", "")
    }

    /// Every (table, name) it holds, in the order they apply.
    ///
    /// ```
    /// let config = resilience::config::Config::parse("[retry.b]\n[breaker.a]\n")?;
    /// assert_eq!(config.names().collect::<Vec<_>>(), [("breaker", "a"), ("retry", "b")]);
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn names(&self) -> impl Iterator<Item = (&'static str, &str)> + '_ {
        self.entries
            .keys()
            .map(|(index, name)| (TABLES[*index].name(), name.as_str()))
    }

    /// How many values it holds.
    ///
    /// ```
    /// assert_eq!(resilience::config::Config::parse("[retry.a]\n[retry.b]\n")?.len(), 2);
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when it holds no value.
    ///
    /// ```
    /// assert!(resilience::config::Config::parse("")?.is_empty());
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Writes it as a TOML file, every field explicit, which [`Config::parse`] reads
    /// back to the same values.
    ///
    /// ```
    /// use resilience::config::Config;
    ///
    /// let config = Config::parse("[breaker.kanban]\nrecovery_timeout = \"90s\"\n")?;
    /// let text = config.to_toml()?;
    /// assert!(text.contains("recovery_timeout = \"1m 30s\""));
    /// assert_eq!(Config::parse(&text)?, config);
    /// # Ok::<(), resilience::config::LoadError>(())
    /// ```
    pub fn to_toml(&self) -> Result<String, LoadError> {
        let mut root = toml::Table::new();
        for ((index, name), entry) in &self.entries {
            let kind = TABLES[*index];
            let value = entry
                .item
                .to_value()
                .map_err(|e| LoadError::new("<effective>", e).with_key(dotted(kind, name, None)))?;
            if kind.keyed() {
                let table = root
                    .entry(kind.name())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                if let toml::Value::Table(table) = table {
                    table.insert(name.clone(), value);
                }
            } else {
                root.insert(kind.name().to_owned(), value);
            }
        }
        toml::to_string(&root).map_err(|e| LoadError::new("<effective>", e.to_string()))
    }

    fn parse_from(text: &str, source: &str) -> Result<Config, LoadError> {
        let lines = Lines::new(text);
        let line_of = |pos: usize| lines.line_of(pos);
        let root = DeTable::parse(text).map_err(|e| {
            let line = e.span().map(|s| line_of(s.start));
            LoadError::new(source, e.message().trim().to_owned()).at_line(line)
        })?;
        let mut config = Config::default();
        for (table_key, table_value) in root.get_ref().iter() {
            let table = table_key.get_ref().as_ref();
            let key_line = Some(line_of(table_key.span().start));
            let Some(index) = TABLES.iter().position(|t| t.name() == table) else {
                return Err(LoadError::new(source, unknown_table(table))
                    .at_line(key_line)
                    .with_key(quote(table)));
            };
            let kind = TABLES[index];
            if !table_value.get_ref().is_table() {
                return Err(LoadError::new(source, not_a_table(kind))
                    .at_line(key_line)
                    .with_key(quote(table)));
            }
            let values: Vec<(String, &Spanned<DeValue<'_>>, Range<usize>)> = if kind.keyed() {
                let Some(names) = table_value.get_ref().as_table() else {
                    continue;
                };
                names
                    .iter()
                    .map(|(k, v)| (k.get_ref().to_string(), v, k.span()))
                    .collect()
            } else {
                vec![(String::new(), table_value, table_key.span())]
            };
            for (name, value, name_span) in values {
                let line = Some(line_of(name_span.start));
                if kind.keyed() {
                    if let Err(e) = crate::names::validate(&name) {
                        return Err(LoadError::new(source, format!("the name {}", e.reason()))
                            .at_line(line)
                            .with_key(dotted(kind, &name, None)));
                    }
                }
                if !value.get_ref().is_table() {
                    return Err(LoadError::new(
                        source,
                        format!(
                            "must be a table of fields (`[{}]`)",
                            dotted(kind, &name, None)
                        ),
                    )
                    .at_line(line)
                    .with_key(dotted(kind, &name, None)));
                }
                let mut fields = BTreeMap::new();
                walk(text, &lines, value, "", &mut fields);
                // Parsed alone first, for its errors' places; then over the code's values.
                kind.parse(toml::de::ValueDeserializer::from(value.clone()))
                    .map_err(|e| {
                        let at = e.span().and_then(|span| {
                            fields
                                .iter()
                                .filter(|(_, f)| f.range.contains(&span.start))
                                .max_by_key(|(path, _)| path.len())
                        });
                        let mut err = LoadError::new(source, e.message().trim().to_owned());
                        match at {
                            Some((path, f)) => {
                                err = err
                                    .at_line(Some(f.line))
                                    .with_key(dotted(kind, &name, Some(path)))
                                    .with_value(shown(&f.text));
                            }
                            None => {
                                let line = e.span().map(|s| line_of(s.start)).or(line);
                                err = err.at_line(line).with_key(dotted(kind, &name, None));
                            }
                        }
                        err
                    })?;
                let given: toml::Table = serde::Deserialize::deserialize(
                    toml::de::ValueDeserializer::from(value.clone()),
                )
                .map_err(|e| {
                    LoadError::new(source, e.message().trim().to_owned())
                        .at_line(line)
                        .with_key(dotted(kind, &name, None))
                })?;
                let item = kind.merge(&name, &given).map_err(|e| {
                    LoadError::new(source, e)
                        .at_line(line)
                        .with_key(dotted(kind, &name, None))
                })?;
                let origin = Origin {
                    source: source.to_owned(),
                    line,
                    fields: fields
                        .into_iter()
                        .map(|(path, f)| (path, (f.line, shown(&f.text))))
                        .collect(),
                    env: BTreeMap::new(),
                };
                config
                    .entries
                    .insert((index, name), Entry::new(item, given, origin));
            }
        }
        config.validate()?;
        Ok(config)
    }

    /// Applies one `RESILIENCE__…` variable.
    fn override_with(&mut self, var: &str, raw: &str) -> Result<(), LoadError> {
        let parts: Vec<&str> = var[ENV_PREFIX.len()..].split("__").collect();
        // A variable's name with a control character is shown escaped, as in `Debug`.
        let var_shown = if var.chars().any(char::is_control) {
            format!("{var:?}")
        } else {
            var.to_owned()
        };
        let err = |message: String| LoadError::new(var_shown.clone(), message);
        let Some(index) = TABLES
            .iter()
            .position(|t| t.name().eq_ignore_ascii_case(parts[0]))
        else {
            return Err(err(unknown_table(&parts[0].to_ascii_lowercase())));
        };
        let kind = TABLES[index];
        let (name, field) = if kind.keyed() {
            if parts.len() < 3 {
                return Err(err(format!(
                    "expected `RESILIENCE__{}__<NAME>__<FIELD>`",
                    kind.name().to_ascii_uppercase()
                )));
            }
            if parts[1].is_empty() || parts[2..].iter().any(|p| p.is_empty()) {
                return Err(err("an empty name or field between `__`".into()));
            }
            if let Err(e) = crate::names::validate(parts[1]) {
                return Err(err(format!("the name {}", e.reason())).with_value(e.value()));
            }
            match self.env_name(index, kind, parts[1])? {
                Some(name) => (name, &parts[2..]),
                // A table whose names are not all known from the start (a budget, a
                // feature made on first use): the name as written, in lower case.
                None if !kind.knows_every_name() => (parts[1].to_ascii_lowercase(), &parts[2..]),
                None => {
                    tracing::warn!(
                        target: "resilience::config",
                        variable = %var_shown,
                        "`{}` names no {} known to the program (the file's tables, or an instance its code makes): ignored",
                        var_shown,
                        kind.name()
                    );
                    self.unknown_env.push(var_shown);
                    return Ok(());
                }
            }
        } else {
            if parts.len() < 2 {
                return Err(err(format!(
                    "expected `RESILIENCE__{}__<FIELD>`",
                    kind.name().to_ascii_uppercase()
                )));
            }
            (String::new(), &parts[1..])
        };
        if field.iter().any(|p| p.is_empty()) || name.is_empty() && kind.keyed() {
            return Err(err("an empty name or field between `__`".into()));
        }
        if kind.keyed() {
            if let Err(e) = crate::names::validate(&name) {
                return Err(err(format!("the name {}", e.reason())).with_value(e.value()));
            }
        }
        let path: Vec<String> = field.iter().map(|p| p.to_ascii_lowercase()).collect();
        let dotted_field = path.join(".");
        let key = dotted(kind, &name, Some(&dotted_field));
        let entry = self
            .entries
            .entry((index, name.clone()))
            .or_insert_with(|| {
                Entry::new(kind.default_item(), toml::Table::new(), Origin::default())
            });
        let mut fields = toml::Value::Table(entry.fields.clone());
        set_path(&mut fields, &path, env_value(raw));
        let toml::Value::Table(fields) = fields else {
            return Err(err("not a table of fields".into()).with_key(key));
        };
        // The fields alone first, so a wrong value is refused as written.
        kind.read_value(toml::Value::Table(fields.clone()))
            .map_err(|e| {
                err(e.message().trim().to_owned())
                    .with_key(key.clone())
                    .with_value(shown(raw))
            })?;
        let item = kind
            .merge(&name, &fields)
            .map_err(|e| err(e).with_key(key.clone()).with_value(shown(raw)))?;
        entry.item = item;
        entry.fields = fields;
        entry
            .origin
            .env
            .insert(dotted_field, (var.to_owned(), shown(raw)));
        Ok(())
    }

    /// The name an environment variable's `<NAME>` means: one of the file's or the
    /// runtime's that it matches, or `None`.
    fn env_name(
        &self,
        index: usize,
        kind: &dyn Kind,
        wanted: &str,
    ) -> Result<Option<String>, LoadError> {
        let mut candidates: Vec<String> = self
            .entries
            .keys()
            .filter(|(i, _)| *i == index)
            .map(|(_, n)| n.clone())
            .collect();
        candidates.extend(kind.names());
        candidates.sort();
        candidates.dedup();
        let matching: Vec<&String> = candidates
            .iter()
            .filter(|c| env_matches(c, wanted))
            .collect();
        match matching.as_slice() {
            [] => Ok(None),
            [one] => Ok(Some((*one).clone())),
            [first, second, ..] => Err(LoadError::new(
                format!("{ENV_PREFIX}{}__{wanted}", kind.name().to_ascii_uppercase()),
                format!("`{wanted}` matches both `{first}` and `{second}`"),
            )),
        }
    }

    /// A refusal of `entry`'s value, placed where the refused field was written.
    fn invalid(&self, key: &(usize, String), entry: &Entry, e: &crate::ConfigError) -> LoadError {
        let kind = TABLES[key.0];
        let field = e.field();
        let dotted_key = dotted(kind, &key.1, Some(field));
        let origin = &entry.origin;
        // `backoff.factor` was written `backoff = { exponential = { factor = .. } }`, and
        // `steps` as `ramp.steps`: the field itself, else a path that ends as it does and
        // starts as it does, else where its first part was written.
        let suffix = format!(".{field}");
        let first = field.split('.').next().unwrap_or(field);
        let last = field.rsplit('.').next().unwrap_or(field);
        let find = |keys: Vec<&String>| {
            let tiers: [&dyn Fn(&str) -> bool; 3] = [
                &|k| k == field || k.ends_with(&suffix),
                &|k| k.starts_with(first) && k.rsplit('.').next() == Some(last),
                &|k| k == first,
            ];
            tiers
                .iter()
                .find_map(|tier| keys.iter().find(|k| tier(k.as_str())))
                .map(|k| (*k).clone())
        };
        if let Some(path) = find(origin.env.keys().collect()) {
            let (var, raw) = &origin.env[&path];
            return LoadError::new(var.clone(), e.reason())
                .with_key(dotted_key)
                .with_value(raw.clone());
        }
        let source = if origin.source.is_empty() {
            "<runtime>".to_owned()
        } else {
            origin.source.clone()
        };
        match find(origin.fields.keys().collect()) {
            Some(path) => {
                let (line, text) = &origin.fields[&path];
                LoadError::new(source, e.reason())
                    .at_line(Some(*line))
                    .with_key(dotted(kind, &key.1, Some(&path)))
                    .with_value(text.clone())
            }
            None => LoadError::new(source, e.reason())
                .at_line(origin.line)
                .with_key(dotted_key)
                .with_value(e.value()),
        }
    }
}

/// One field as written: its line, its value's text, and the span of `key = value`.
struct Field {
    line: usize,
    text: String,
    range: Range<usize>,
}

/// Every dotted field under `value` (tables and inline tables, not arrays' insides).
fn walk(
    text: &str,
    lines: &Lines,
    value: &Spanned<DeValue<'_>>,
    prefix: &str,
    out: &mut BTreeMap<String, Field>,
) {
    let Some(table) = value.get_ref().as_table() else {
        return;
    };
    for (k, v) in table.iter() {
        let path = if prefix.is_empty() {
            k.get_ref().to_string()
        } else {
            format!("{prefix}.{}", k.get_ref())
        };
        let start = k.span().start.min(v.span().start);
        let end = k.span().end.max(v.span().end);
        out.insert(
            path.clone(),
            Field {
                line: lines.line_of(k.span().start),
                text: text
                    .get(v.span())
                    .map(|t| t.trim().to_owned())
                    .unwrap_or_default(),
                range: start..end,
            },
        );
        walk(text, lines, v, &path, out);
    }
}

/// `breaker.kanban.failure_threshold`, a name that is not a bare key quoted
/// (`feature."ai.summaries".failure_threshold`).
fn dotted(kind: &dyn Kind, name: &str, field: Option<&str>) -> String {
    let mut key = kind.name().to_owned();
    if kind.keyed() {
        key.push('.');
        key.push_str(&quote(name));
    }
    if let Some(field) = field {
        key.push('.');
        key.push_str(field);
    }
    key
}

fn quote(name: &str) -> String {
    let bare = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        name.to_owned()
    } else {
        format!("{name:?}")
    }
}

fn unknown_table(table: &str) -> String {
    let known: Vec<String> = TABLES.iter().map(|t| format!("`{}`", t.name())).collect();
    format!(
        "unknown table `{table}`, expected one of {}",
        known.join(", ")
    )
}

fn not_a_table(kind: &dyn Kind) -> String {
    if kind.keyed() {
        format!("must be a table of names (`[{}.NAME]`)", kind.name())
    } else {
        format!("must be a table of fields (`[{}]`)", kind.name())
    }
}

/// Whether the runtime's `name` is what an environment variable wrote as `wanted`:
/// case-insensitively, a `_` also matching `.` or `-`.
fn env_matches(name: &str, wanted: &str) -> bool {
    name.len() == wanted.len()
        && name
            .bytes()
            .zip(wanted.bytes())
            .all(|(n, w)| n.eq_ignore_ascii_case(&w) || (w == b'_' && (n == b'.' || n == b'-')))
}

/// A variable's value read as a TOML value, else as a string.
fn env_value(raw: &str) -> toml::Value {
    match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut table) if table.len() == 1 => table
            .remove("v")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// Sets `path` in `value`, making tables on the way (a non-table in the way is replaced).
fn set_path(value: &mut toml::Value, path: &[String], new: toml::Value) {
    let Some((last, parents)) = path.split_last() else {
        *value = new;
        return;
    };
    let mut at = value;
    for part in parents {
        if !at.is_table() {
            *at = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(table) = at else {
            return;
        };
        at = table
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
    }
    if !at.is_table() {
        *at = toml::Value::Table(toml::Table::new());
    }
    if let toml::Value::Table(table) = at {
        table.insert(last.clone(), new);
    }
}

/// The process's `RESILIENCE__…` variables; one whose value is not UTF-8 is an error.
fn env_vars() -> Result<Vec<(String, String)>, LoadError> {
    let mut vars = Vec::new();
    for (key, value) in std::env::vars_os() {
        let Some(key) = key.to_str().filter(|k| k.starts_with(ENV_PREFIX)) else {
            continue;
        };
        match value.into_string() {
            Ok(value) => vars.push((key.to_owned(), value)),
            Err(_) => return Err(LoadError::new(key, "the value is not UTF-8")),
        }
    }
    Ok(vars)
}
