//! [`ErrorReport`]: one error, rendered for agents, APIs, logs and people.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::{Category, ErrorContext, MarcusError, Remediation, Severity};

/// Everything known about one error, serializable, with the four renders of the error
/// framework: [`to_mcp_json`](Self::to_mcp_json), [`to_api_json`](Self::to_api_json),
/// [`to_log_json`](Self::to_log_json) and [`to_user_message`](Self::to_user_message).
///
/// ```
/// use resilience::{errors::NetworkTimeout, MarcusError};
///
/// let report = NetworkTimeout::new("board sync timed out").report();
/// let mcp = report.to_mcp_json();
/// assert_eq!(mcp["success"], false);
/// assert_eq!(mcp["error"]["code"], "NETWORK_TIMEOUT_ERROR");
/// assert_eq!(mcp["error"]["retryable"], true);
/// assert!(report.to_user_message().contains("board sync timed out"));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// The error's code.
    pub code: String,
    /// The error's `Display` text.
    pub message: String,
    /// The error's type name.
    pub error_type: String,
    /// Its tier.
    pub category: Category,
    /// Its severity.
    pub severity: Severity,
    /// Whether retrying may help.
    pub retryable: bool,
    /// How long to wait before retrying, when known.
    #[serde(with = "crate::duration_serde::option", default)]
    pub retry_after: Option<Duration>,
    /// The context the error carried.
    pub context: Option<ErrorContext>,
    /// What to do about it.
    pub remediation: Remediation,
    /// The `Display` text of each error in the source chain, outermost first.
    pub caused_by: Vec<String>,
}

impl ErrorReport {
    /// Builds the report of any [`MarcusError`] (what [`MarcusError::report`] does).
    pub fn from_error<E: MarcusError + ?Sized>(error: &E) -> Self {
        let mut caused_by = Vec::new();
        let mut source = error.source();
        while let Some(cause) = source {
            caused_by.push(cause.to_string());
            source = cause.source();
        }
        ErrorReport {
            code: error.code().to_owned(),
            message: error.to_string(),
            error_type: error.error_type().to_owned(),
            category: error.category(),
            severity: error.severity(),
            retryable: error.retryable(),
            retry_after: error.retry_after(),
            context: error.context().cloned(),
            remediation: error.remediation(),
            caused_by,
        }
    }

    /// The Model Context Protocol tool response:
    /// `{"success": false, "error": {code, message, type, severity, retryable, context, remediation}}`.
    ///
    /// `context` holds the set fields of the context; `remediation` the given advice and,
    /// for a retryable error, the retry plan.
    pub fn to_mcp_json(&self) -> Value {
        json!({
            "success": false,
            "error": {
                "code": self.code,
                "message": self.message,
                "type": self.error_type,
                "severity": self.severity,
                "retryable": self.retryable,
                "context": self.context_summary(),
                "remediation": self.remediation_json(),
            }
        })
    }

    /// The body of an HTTP API error response:
    /// `{"error": {code, message, type, category, severity, retryable, retry_after_seconds,
    /// correlation_id, operation_id, timestamp, remediation}}`.
    pub fn to_api_json(&self) -> Value {
        let ctx = self.context.as_ref();
        json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "type": self.error_type,
                "category": self.category,
                "severity": self.severity,
                "retryable": self.retryable,
                "retry_after_seconds": self.retry_after.map(|d| d.as_secs_f64()),
                "correlation_id": ctx.map(|c| c.correlation_id.as_str()),
                "operation_id": ctx.map(|c| c.operation_id.as_str()),
                "timestamp": ctx.map(|c| super::rfc3339::format(&c.timestamp)),
                "remediation": self.remediation_json(),
            }
        })
    }

    /// One structured log record: level, timestamp, code, type, category, context fields,
    /// retry advice, `caused_by` (the source chain) and the custom context.
    pub fn to_log_json(&self) -> Value {
        let ctx = self.context.as_ref();
        let timestamp = ctx.map_or_else(std::time::SystemTime::now, |c| c.timestamp);
        json!({
            "level": match self.severity {
                Severity::Low => "warning",
                Severity::Medium | Severity::High => "error",
                Severity::Critical => "critical",
            },
            "timestamp": super::rfc3339::format(&timestamp),
            "message": self.message,
            "error_code": self.code,
            "error_type": self.error_type,
            "category": self.category,
            "severity": self.severity,
            "retryable": self.retryable,
            "retry_after_seconds": self.retry_after.map(|d| d.as_secs_f64()),
            "correlation_id": ctx.map(|c| c.correlation_id.as_str()),
            "operation_id": ctx.map(|c| c.operation_id.as_str()),
            "operation": ctx.map(|c| c.operation.as_str()).filter(|op| !op.is_empty()),
            "agent_id": ctx.and_then(|c| c.agent_id.as_deref()),
            "task_id": ctx.and_then(|c| c.task_id.as_deref()),
            "integration": ctx.and_then(|c| c.integration_name.as_deref()),
            "attempt": ctx.map(|c| c.attempt),
            "caused_by": self.caused_by,
            "custom_context": ctx.map_or_else(|| Value::Object(Map::new()), |c| Value::Object(c.custom.clone())),
        })
    }

    /// A message a person reads: what happened, what to do, the alternative and the
    /// retry plan, one per line.
    ///
    /// ```
    /// use resilience::{errors::RateLimit, MarcusError};
    /// use std::time::Duration;
    ///
    /// let msg = RateLimit::new("quota exceeded")
    ///     .with_retry_after(Duration::from_secs(30))
    ///     .report()
    ///     .to_user_message();
    /// assert!(msg.starts_with("quota exceeded"));
    /// assert!(msg.contains("What to do:"));
    /// assert!(msg.contains("30s"));
    /// ```
    pub fn to_user_message(&self) -> String {
        let mut out = self.message.clone();
        if let Some(immediate) = &self.remediation.immediate {
            out.push_str("\nWhat to do: ");
            out.push_str(immediate);
        }
        if let Some(fallback) = &self.remediation.fallback {
            out.push_str("\nAlternative: ");
            out.push_str(fallback);
        }
        out.push_str("\nRetry: ");
        out.push_str(&self.retry_plan());
        if let Some(escalation) = &self.remediation.escalation {
            out.push_str("\nIf it persists: ");
            out.push_str(escalation);
        }
        out
    }

    /// The retry plan in words: the error's own advice, or one made from its retry facts.
    fn retry_plan(&self) -> String {
        if let Some(plan) = &self.remediation.retry {
            return plan.to_string();
        }
        if !self.retryable {
            return "Retrying will not help; fix the cause first.".to_owned();
        }
        let attempt = self.context.as_ref().map_or(0, |c| c.attempt);
        let when = match self.retry_after {
            Some(wait) => format!("Retry after {}", humantime::format_duration(wait)),
            None => "Retry with exponential backoff".to_owned(),
        };
        if attempt > 0 {
            format!("{when} ({attempt} attempt(s) made so far).")
        } else {
            format!("{when}.")
        }
    }

    fn context_summary(&self) -> Value {
        let Some(ctx) = &self.context else {
            return Value::Object(Map::new());
        };
        let mut map = Map::new();
        if !ctx.operation.is_empty() {
            map.insert("operation".into(), ctx.operation.clone().into());
        }
        map.insert("operation_id".into(), ctx.operation_id.clone().into());
        map.insert("correlation_id".into(), ctx.correlation_id.clone().into());
        for (key, value) in [
            ("agent_id", &ctx.agent_id),
            ("task_id", &ctx.task_id),
            ("integration_name", &ctx.integration_name),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), value.clone().into());
            }
        }
        if ctx.attempt > 0 {
            map.insert("attempt".into(), ctx.attempt.into());
        }
        if !ctx.custom.is_empty() {
            map.insert("custom".into(), Value::Object(ctx.custom.clone()));
        }
        Value::Object(map)
    }

    fn remediation_json(&self) -> Value {
        let r = &self.remediation;
        let mut map = Map::new();
        for (key, value) in [
            ("immediate", &r.immediate),
            ("fallback", &r.fallback),
            ("long_term", &r.long_term),
            ("escalation", &r.escalation),
        ] {
            if let Some(value) = value {
                map.insert(key.into(), Value::String(value.to_string()));
            }
        }
        if self.retryable || r.retry.is_some() {
            map.insert("retry".into(), Value::String(self.retry_plan()));
        }
        Value::Object(map)
    }
}
