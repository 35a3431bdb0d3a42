//! [`Clash`]: code that names an instance already registered by other code with another
//! configuration (a layer's `.config(..)` after an attribute's values, two layers of one
//! name). A name has one configuration, so the later one does not apply; the front end
//! says so, as a WARN or, from its fallible builder, an `Err` ([`Clash::error`]).
//!
//! Only code against code clashes: a configuration file's or the environment's fields lie
//! over whatever the code says (the `Overlay` of `table.rs`), and `configure` wins over
//! every registration by rule.

use crate::pattern::PatternConfig;
use crate::ConfigError;

/// A configuration given for a name that keeps the one it was first registered with.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Clash<C> {
    /// The code's first configuration of the name, which stays.
    pub(crate) kept: C,
    /// The configuration that does not apply.
    pub(crate) given: C,
    /// The fields whose values differ, by name.
    pub(crate) fields: Vec<&'static str>,
}

impl<C: PatternConfig> Clash<C> {
    /// The clash between `kept` and `given`, if they differ.
    pub(crate) fn between(kept: &C, given: &C) -> Option<Clash<C>> {
        (kept != given).then(|| Clash {
            fields: differing_fields(kept, given),
            kept: kept.clone(),
            given: given.clone(),
        })
    }

    /// The differing fields as one text, for a log line: `"failure_threshold, max_keys"`.
    pub(crate) fn fields_text(&self) -> String {
        self.fields.join(", ")
    }

    /// The error a fallible builder returns: the first differing field, the value given
    /// for it, and the value that stays.
    pub(crate) fn error(&self, kind: &str, name: &str) -> ConfigError {
        let field = self.fields.first().copied().unwrap_or("config");
        let (given, kept) = (
            field_value(&self.given, field),
            field_value(&self.kept, field),
        );
        ConfigError::new(
            field,
            format_args!("{given}"),
            format!(
                "the {kind} `{name}` is already registered by other code (an attribute or another \
                 layer) with `{field}` = {kept}, and a name has one configuration (fields that \
                 differ: {}); give this one another name, or configure the name in the registry \
                 or a configuration file",
                self.fields_text()
            ),
        )
    }
}

/// The top-level fields of two configurations whose values differ (serialized as they are
/// in a configuration file); `["config"]` for a configuration that is not a struct.
fn differing_fields<C: PatternConfig>(a: &C, b: &C) -> Vec<&'static str> {
    match (serde_json::to_value(a), serde_json::to_value(b)) {
        (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) => {
            let mut fields: Vec<&'static str> = a
                .iter()
                .filter(|(field, value)| b.get(*field) != Some(*value))
                .map(|(field, _)| crate::names::intern(field))
                .collect();
            fields.extend(
                (b.keys())
                    .filter(|field| !a.contains_key(*field))
                    .map(|field| crate::names::intern(field)),
            );
            fields.sort_unstable();
            fields
        }
        _ => vec!["config"],
    }
}

/// `field`'s value in `config`, as a configuration file writes it (the whole
/// configuration's `Debug` if it is not a field).
fn field_value<C: PatternConfig>(config: &C, field: &str) -> String {
    match serde_json::to_value(config) {
        Ok(serde_json::Value::Object(fields)) if fields.contains_key(field) => {
            fields[field].to_string()
        }
        _ => format!("{config:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BreakerConfig;

    #[test]
    fn names_each_differing_field_and_nothing_else() {
        let kept = BreakerConfig {
            failure_threshold: 3,
            ..Default::default()
        };
        let given = BreakerConfig {
            failure_threshold: 9,
            max_keys: 7,
            ..Default::default()
        };
        let clash = Clash::between(&kept, &given).unwrap();
        assert_eq!(clash.fields, ["failure_threshold", "max_keys"]);
        let error = clash.error("circuit breaker", "api");
        assert_eq!((error.field(), error.value()), ("failure_threshold", "9"));
        assert!(
            error.reason().contains("`failure_threshold` = 3"),
            "{error}"
        );
        assert!(Clash::between(&kept, &kept.clone()).is_none());
    }
}
