//! What a table of a configuration file is: a [`Table`] names it and says how a value
//! is validated, applied and read back; [`Kind`] is a table without its value type, so
//! the loader can hold every table in one list (`tables.rs`).

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::Config;
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
