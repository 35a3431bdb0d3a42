//! What a table of a configuration file is: a [`Table`] names it and says how a value
//! is validated, applied and read back; [`Kind`] is a table without its value type, so
//! the loader can hold every table in one list (`tables.rs`).
//!
//! A table sets only the fields it lists, over the code's values ([`merged`]): for the
//! patterns the registry keeps ([`Layers`]), as an overlay the registry holds apart
//! from the code's configuration; for the other tables, over the value in force when
//! a file first set the name (its baseline, given back when the table goes).

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{lock, Config};
use crate::pattern::Pattern;
use crate::registry::registry;
use crate::registry::table::Overlay;
use crate::ConfigError;

/// Finds another value of the same table in the same file, by name.
pub(crate) type Sibling<'a, C> = &'a dyn Fn(&str) -> Option<C>;

/// One table: `[NAME.<name>]` (keyed) or `[NAME]` (one value), and what to do with it.
pub(crate) struct Table<C> {
    /// The table's name in the file and in `RESILIENCE__<TABLE>__…`.
    pub(crate) name: &'static str,
    /// `[breaker.kanban]` (true) or `[monitor]` (false).
    pub(crate) keyed: bool,
    /// Every rule of the value named `name`; `sibling` finds another value of the same
    /// table in the same file (for rules across names, such as a breaker's parent).
    pub(crate) validate: fn(&str, &C, Sibling<'_, C>) -> Result<(), ConfigError>,
    /// Gives `name` its value at run time.
    pub(crate) apply: fn(&str, &C) -> Result<(), ConfigError>,
    /// The value in force for `name`, if the runtime can say.
    pub(crate) effective: fn(&str) -> Option<C>,
    /// The names the runtime knows (an environment variable may name one of them).
    pub(crate) names: fn() -> Vec<String>,
    /// How the table's fields layer over the code's configuration, when the registry
    /// keeps them apart (`None`: over the baseline, see the module's doc).
    pub(crate) layers: Option<Layers<C>>,
    /// Every name the program uses is known from its start (each attribute's site is
    /// registered then: `registry/known.rs`), so a variable naming none is a mistake
    /// to report, not a name to make.
    pub(crate) every_name_known: bool,
}

/// The registry's two layers of a pattern's configuration: the code's, and the overlay
/// of a file's and the environment's fields over it.
pub(crate) struct Layers<C> {
    /// The code's configuration of the name, if the runtime knows the name.
    code: fn(&str) -> Option<C>,
    /// Sets (or with `None` clears) the name's overlay; returns the one it replaced.
    set: SetOverlay<C>,
}

/// Whether setting an overlay makes the name's instance when it has none yet (as
/// `configure_bulkhead` does, so it is there to be read), or only keeps it for later.
pub(crate) enum Make {
    Instance,
    Later,
}

type SetOverlay<C> = fn(&str, Option<Overlay<C>>) -> Result<Option<Overlay<C>>, ConfigError>;

impl<C> Layers<C> {
    /// The layers of the pattern `P` in the global registry.
    pub(crate) const fn of<P: Pattern<Config = C>>(make: Make) -> Layers<C> {
        Layers {
            code: code_of::<P>,
            set: match make {
                Make::Instance => set_overlay_and_make::<P>,
                Make::Later => set_overlay_of::<P>,
            },
        }
    }
}

fn code_of<P: Pattern>(name: &str) -> Option<P::Config> {
    registry().table::<P>().code(name)
}

fn set_overlay_of<P: Pattern>(
    name: &str,
    overlay: Option<Overlay<P::Config>>,
) -> Result<Option<Overlay<P::Config>>, ConfigError> {
    registry().table::<P>().set_overlay(name, overlay)
}

fn set_overlay_and_make<P: Pattern>(
    name: &str,
    overlay: Option<Overlay<P::Config>>,
) -> Result<Option<Overlay<P::Config>>, ConfigError> {
    let table = registry().table::<P>();
    let replaced = table.set_overlay(name, overlay)?;
    table.make(name)?;
    Ok(replaced)
}

/// What gives back the value in force before an apply (when a later one is refused).
pub(crate) type Undo = Box<dyn FnOnce() + Send>;

/// The value in force for a (table, name) of a table without [`Layers`] before a file
/// first set it: what its fields go over, and what comes back when its table goes
/// (`None`: the runtime had none to give back).
static BASELINES: Mutex<Baselines> = Mutex::new(BTreeMap::new());

/// By (table, name): the value in force before, if any.
type Baselines = BTreeMap<(&'static str, String), Option<Box<dyn Item>>>;

/// `base` with `fields` (a table's fields as written, the environment's over them) in
/// place of its own: a field given replaces the base's whole value of that field (a
/// `backoff = { fixed = "1s" }` the whole backoff); the others stay the base's.
pub(crate) fn merged<C: Value>(base: &C, fields: &toml::Table) -> Result<C, String> {
    let mut value = toml::Value::try_from(base).map_err(|e| e.to_string())?;
    if let toml::Value::Table(table) = &mut value {
        for (field, given) in fields {
            table.insert(field.clone(), given.clone());
        }
    }
    value
        .try_into()
        .map_err(|e: toml::de::Error| e.message().trim().to_owned())
}

/// A [`Table`] without its value type.
pub(crate) trait Kind: Sync {
    fn name(&self) -> &'static str;
    fn keyed(&self) -> bool;
    fn parse(
        &'static self,
        de: toml::de::ValueDeserializer<'_>,
    ) -> Result<Box<dyn Item>, toml::de::Error>;
    fn read_value(&'static self, value: toml::Value) -> Result<Box<dyn Item>, toml::de::Error>;
    fn default_item(&'static self) -> Box<dyn Item>;
    fn effective(&'static self, name: &str) -> Option<Box<dyn Item>>;
    fn names(&self) -> Vec<String>;
    /// Whether [`names`](Kind::names) holds every name the program can have (the
    /// patterns whose attributes are known from the start): a variable naming none of
    /// them is then a WARN, not a new name.
    fn knows_every_name(&self) -> bool;
    /// The value `name`'s fields go over: the code's ([`Layers`]), else the baseline,
    /// else the value in force, else the defaults.
    fn code(&'static self, name: &str) -> Box<dyn Item>;
    /// The code's value of `name` with `fields` over it.
    fn merge(&'static self, name: &str, fields: &toml::Table) -> Result<Box<dyn Item>, String>;
    /// Puts `fields` (whose merged value is `item`, validated) in force for `name`.
    fn put(
        &'static self,
        name: &str,
        fields: &toml::Table,
        item: &dyn Item,
    ) -> Result<Undo, ConfigError>;
    /// Gives `name` back the code's value (its table left the file).
    fn remove(&'static self, name: &str) -> Result<(), ConfigError>;
}

/// One value of a table, typed inside.
pub(crate) trait Item: Send + Sync + fmt::Debug {
    fn kind(&self) -> &'static dyn Kind;
    fn validate(&self, name: &str, config: &Config) -> Result<(), ConfigError>;
    fn apply(&self, name: &str) -> Result<(), ConfigError>;
    fn to_value(&self) -> Result<toml::Value, String>;
    fn clone_box(&self) -> Box<dyn Item>;
    fn as_any(&self) -> &dyn Any;
}

/// What a table's value type must be.
pub(crate) trait Value:
    Serialize + DeserializeOwned + Clone + Default + fmt::Debug + Send + Sync + 'static
{
}
impl<C: Serialize + DeserializeOwned + Clone + Default + fmt::Debug + Send + Sync + 'static> Value
    for C
{
}

struct Typed<C: Value> {
    table: &'static Table<C>,
    config: C,
}

impl<C: Value> fmt::Debug for Typed<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl<C: Value> Kind for Table<C> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn keyed(&self) -> bool {
        self.keyed
    }

    fn parse(
        &'static self,
        de: toml::de::ValueDeserializer<'_>,
    ) -> Result<Box<dyn Item>, toml::de::Error> {
        let config = C::deserialize(de)?;
        Ok(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn read_value(&'static self, value: toml::Value) -> Result<Box<dyn Item>, toml::de::Error> {
        let config: C = value.try_into()?;
        Ok(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn default_item(&'static self) -> Box<dyn Item> {
        Box::new(Typed {
            table: self,
            config: C::default(),
        })
    }

    fn effective(&'static self, name: &str) -> Option<Box<dyn Item>> {
        let config = (self.effective)(name)?;
        Some(Box::new(Typed {
            table: self,
            config,
        }))
    }

    fn names(&self) -> Vec<String> {
        (self.names)()
    }

    fn knows_every_name(&self) -> bool {
        self.every_name_known
    }

    fn code(&'static self, name: &str) -> Box<dyn Item> {
        let config = match &self.layers {
            Some(layers) => (layers.code)(name),
            None => match lock(&BASELINES).get(&(self.name, name.to_owned())) {
                Some(baseline) => baseline
                    .as_ref()
                    .and_then(|b| b.as_any().downcast_ref::<C>().cloned()),
                None => (self.effective)(name),
            },
        };
        Box::new(Typed {
            table: self,
            config: config.unwrap_or_default(),
        })
    }

    fn merge(&'static self, name: &str, fields: &toml::Table) -> Result<Box<dyn Item>, String> {
        let code = self.code(name);
        let base = code
            .as_any()
            .downcast_ref::<C>()
            .cloned()
            .unwrap_or_default();
        Ok(Box::new(Typed {
            table: self,
            config: merged(&base, fields)?,
        }))
    }

    fn put(
        &'static self,
        name: &str,
        fields: &toml::Table,
        item: &dyn Item,
    ) -> Result<Undo, ConfigError> {
        let owned = name.to_owned();
        if let Some(layers) = &self.layers {
            let fields = fields.clone();
            let overlay: Overlay<C> = std::sync::Arc::new(move |code: &C| {
                merged(code, &fields).map_err(|e| {
                    let first = fields.keys().next().map_or("", String::as_str);
                    ConfigError::new(crate::names::intern(first), first, e)
                })
            });
            let set = layers.set;
            let replaced = set(name, Some(overlay))?;
            return Ok(Box::new(move || {
                let _ = set(&owned, replaced);
            }));
        }
        let previous = self.effective(name);
        lock(&BASELINES)
            .entry((self.name, owned.clone()))
            .or_insert_with(|| previous.as_ref().map(|p| p.clone_box()));
        item.apply(name)?;
        Ok(Box::new(move || {
            if let Some(previous) = previous {
                // A value that was in force: the runtime took it before.
                let _ = previous.apply(&owned);
            }
        }))
    }

    fn remove(&'static self, name: &str) -> Result<(), ConfigError> {
        if let Some(layers) = &self.layers {
            return (layers.set)(name, None).map(|_| ());
        }
        let baseline = lock(&BASELINES).remove(&(self.name, name.to_owned()));
        match baseline.flatten() {
            Some(baseline) => baseline.apply(name),
            None => Ok(()),
        }
    }
}

impl<C: Value> Item for Typed<C> {
    fn kind(&self) -> &'static dyn Kind {
        self.table
    }

    fn validate(&self, name: &str, config: &Config) -> Result<(), ConfigError> {
        let sibling = |other: &str| config.get::<C>(self.table.name, other).cloned();
        (self.table.validate)(name, &self.config, &sibling)
    }

    fn apply(&self, name: &str) -> Result<(), ConfigError> {
        (self.table.apply)(name, &self.config)
    }

    fn to_value(&self) -> Result<toml::Value, String> {
        toml::Value::try_from(&self.config).map_err(|e| e.to_string())
    }

    fn clone_box(&self) -> Box<dyn Item> {
        Box::new(Typed {
            table: self.table,
            config: self.config.clone(),
        })
    }

    fn as_any(&self) -> &dyn Any {
        &self.config
    }
}
