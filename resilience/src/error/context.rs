//! [`ErrorContext`]: where, when and for whom an error happened.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// Where, when and for whom an error happened.
///
/// A `#[context]` field of an error holds one; `#[error_context]` and `#[retry]` fill it
/// as the error travels out through the attributes.
///
/// ```
/// use resilience::ErrorContext;
///
/// let mut ctx = ErrorContext::new();
/// assert!(ctx.operation.is_empty());
/// assert_ne!(ctx.operation_id, ctx.correlation_id);
/// ctx.agent_id = Some("agent-7".into());
/// ctx.custom.insert("board".into(), serde_json::json!(42));
/// let json = serde_json::to_value(&ctx).unwrap();
/// assert_eq!(json["agent_id"], "agent-7");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorContext {
    /// What was being attempted; empty until an `#[error_context]` scope or a user sets it.
    pub operation: String,
    /// A unique id of this one operation.
    pub operation_id: String,
    /// Shared by every error raised inside one outermost `#[error_context]` scope.
    pub correlation_id: String,
    /// When the context was created; always set.
    #[serde(with = "rfc3339")]
    pub timestamp: SystemTime,
    /// The agent that met the error.
    pub agent_id: Option<String>,
    /// The task being processed.
    pub task_id: Option<String>,
    /// The external service involved.
    pub integration_name: Option<String>,
    /// Calls made so far; `0` until a `#[retry]` has run.
    pub attempt: u32,
    /// Anything else, as a JSON object.
    pub custom: serde_json::Map<String, serde_json::Value>,
}

impl ErrorContext {
    /// A context with fresh ids and the current time, everything else empty.
    ///
    /// Inside an `#[error_context]` scope the new context takes the scope's correlation id,
    /// so errors created there are tied together even before the scope fills them.
    ///
    /// ```
    /// let ctx = resilience::ErrorContext::new();
    /// assert_eq!(ctx.attempt, 0);
    /// assert_eq!(ctx.operation_id.len(), 36);
    /// ```
    pub fn new() -> Self {
        let correlation_id = current_correlation_id().unwrap_or_else(new_id);
        ErrorContext {
            operation: String::new(),
            operation_id: new_id(),
            correlation_id,
            timestamp: SystemTime::now(),
            agent_id: None,
            task_id: None,
            integration_name: None,
            attempt: 0,
            custom: serde_json::Map::new(),
        }
    }

    /// A new context for `operation`.
    ///
    /// ```
    /// let ctx = resilience::ErrorContext::for_operation("sync_board");
    /// assert_eq!(ctx.operation, "sync_board");
    /// ```
    pub fn for_operation(operation: impl Into<String>) -> Self {
        ErrorContext {
            operation: operation.into(),
            ..ErrorContext::new()
        }
    }
}

impl Default for ErrorContext {
    fn default() -> Self {
        ErrorContext::new()
    }
}

/// `SystemTime` as an RFC 3339 string, both ways.
pub(crate) mod rfc3339 {
    use std::time::SystemTime;

    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub(crate) fn format(time: &SystemTime) -> String {
        humantime::format_rfc3339_millis(*time).to_string()
    }

    pub(crate) fn serialize<S: Serializer>(time: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(time))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        humantime::parse_rfc3339_weak(&text).map_err(D::Error::custom)
    }
}

/// A fresh unique id (a random UUID, hyphenated): a scope's correlation id, an error's
/// operation id.
pub(crate) fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Where [`ErrorContext::new`] reads the current `#[error_context]` scope's correlation
/// id: installed by the scopes (`context`, a layer above this vocabulary) the first time
/// one is entered; before that no scope can be current.
static CORRELATION_SOURCE: std::sync::OnceLock<fn() -> Option<String>> = std::sync::OnceLock::new();

/// Installs the source of the current scope's correlation id (once; later calls are one
/// load).
#[inline]
pub(crate) fn install_correlation_source(source: fn() -> Option<String>) {
    if CORRELATION_SOURCE.get().is_none() {
        let _ = CORRELATION_SOURCE.set(source);
    }
}

fn current_correlation_id() -> Option<String> {
    CORRELATION_SOURCE.get().and_then(|source| source())
}
