//! [`ErrorRecord`]: what the monitor keeps of one error.

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::error::rfc3339;
use crate::view::View;
use crate::{Category, ErrorContext, MarcusError, Severity};

/// One recorded error, as kept in the monitor's history.
///
/// Serialize-only: `code` and `error_type` borrow `'static` names so recording copies no
/// text but the context's.
///
/// ```
/// use resilience::monitor::{Monitor, MonitorConfig};
/// use resilience::{Category, MarcusError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("disk full")]
/// struct DiskFull;
/// impl MarcusError for DiskFull {
///     fn code(&self) -> &'static str { "DISK_FULL" }
///     fn category(&self) -> Category { Category::System }
/// }
///
/// let monitor = Monitor::new(MonitorConfig::default()).unwrap();
/// monitor.record(&DiskFull);
/// let record = &monitor.history()[0];
/// assert_eq!((record.code, record.error_type), ("DISK_FULL", "DiskFull"));
/// assert_eq!(serde_json::to_value(record).unwrap()["category"], "system");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ErrorRecord {
    /// The error's code (a `MarcusError`'s), or for another error its type name: the
    /// fingerprint the patterns group "the same error type" by.
    pub code: &'static str,
    /// The error's type name, short (`"KanbanIntegrationError"`), or the full path of a
    /// foreign type.
    pub error_type: &'static str,
    /// Its tier (a foreign error's is guessed by [`classify`](crate::classify)).
    pub category: Category,
    /// Its severity.
    pub severity: Severity,
    /// The operation from its context, else the decorated function's name.
    pub operation: Option<Cow<'static, str>>,
    /// The agent from its context.
    pub agent_id: Option<String>,
    /// The integration from its context.
    pub integration: Option<String>,
    /// The correlation id from its context.
    pub correlation_id: Option<String>,
    /// When it was recorded, on the monitor's clock (serialized as `"30s"`; a number of seconds is read too).
    #[serde(with = "crate::duration_serde")]
    pub at: Duration,
    /// When it was recorded, as wall time derived from the monitor's clock.
    #[serde(with = "rfc3339")]
    pub wall: SystemTime,
    /// The decorated function that raised it, when an attribute recorded it.
    pub function: Option<&'static str>,
    /// Whether the call still answered: retried to success, or answered by a fallback.
    /// The health score's error rate counts only the unrecovered; patterns see all.
    pub recovered: bool,
}

/// A record before the monitor stamps its times.
pub(crate) struct Facts {
    pub(crate) code: &'static str,
    pub(crate) error_type: &'static str,
    pub(crate) category: Category,
    pub(crate) severity: Severity,
    pub(crate) operation: Option<Cow<'static, str>>,
    pub(crate) agent_id: Option<String>,
    pub(crate) integration: Option<String>,
    pub(crate) correlation_id: Option<String>,
    pub(crate) function: Option<&'static str>,
}

impl Facts {
    /// The facts a [`MarcusError`] states, and its context's.
    pub(crate) fn of_marcus<E: MarcusError + ?Sized>(
        error: &E,
        function: Option<&'static str>,
    ) -> Facts {
        Facts::with_context(
            error.code(),
            error.error_type(),
            error.category(),
            error.severity(),
            error.context(),
            function,
        )
    }

    /// What can be learned from a [`View`]: all of a `MarcusError`, a guess from a plain
    /// error's message (and its `'static` sources), only the type name of anything else.
    pub(crate) fn of_view(
        view: &View<'_>,
        function: &'static str,
        type_name: Option<&'static str>,
    ) -> Facts {
        match view {
            View::Marcus(error) => Facts::of_marcus(&**error, Some(function)),
            View::Error(error) => {
                let error: &dyn std::error::Error = &**error;
                // `classify` needs a `'static` error to downcast; the error itself may
                // borrow, but its sources are `'static`. Its own words come first.
                let own = crate::classification::classify_message(&error.to_string());
                let found = match (own == crate::Classification::UNKNOWN, error.source()) {
                    (true, Some(source)) => crate::classify(source),
                    _ => own,
                };
                let name = type_name.unwrap_or("dyn std::error::Error");
                Facts::with_context(
                    name,
                    name,
                    found.category,
                    found.severity,
                    None,
                    Some(function),
                )
            }
            View::Dyn(error) => match view.inner() {
                Some(ours) => Facts::of_marcus(ours, Some(function)),
                None => {
                    let found = crate::classify(*error);
                    let name = type_name.unwrap_or("dyn std::error::Error");
                    Facts::with_context(
                        name,
                        name,
                        found.category,
                        found.severity,
                        None,
                        Some(function),
                    )
                }
            },
            View::Opaque(name) => {
                // Nothing but the name is known: an integration failure of medium
                // severity is the least alarming honest guess for a value returned as
                // an error.
                let category = Category::Integration;
                Facts::with_context(
                    name,
                    name,
                    category,
                    category.default_severity(),
                    None,
                    Some(function),
                )
            }
        }
    }

    fn with_context(
        code: &'static str,
        error_type: &'static str,
        category: Category,
        severity: Severity,
        ctx: Option<&ErrorContext>,
        function: Option<&'static str>,
    ) -> Facts {
        let operation = match ctx {
            Some(ctx) if !ctx.operation.is_empty() => Some(Cow::Owned(ctx.operation.clone())),
            _ => function.map(Cow::Borrowed),
        };
        Facts {
            code,
            error_type,
            category,
            severity,
            operation,
            agent_id: ctx.and_then(|c| c.agent_id.clone()),
            integration: ctx.and_then(|c| c.integration_name.clone()),
            correlation_id: ctx.map(|c| c.correlation_id.clone()),
            function,
        }
    }

    /// Takes what the error's own context did not give from `ctx` (an
    /// `#[error_context]` scope's, for an error without a context slot).
    pub(crate) fn fill_missing(&mut self, ctx: &ErrorContext) {
        if !ctx.operation.is_empty() {
            self.operation = Some(Cow::Owned(ctx.operation.clone()));
        }
        if self.agent_id.is_none() {
            self.agent_id.clone_from(&ctx.agent_id);
        }
        if self.integration.is_none() {
            self.integration.clone_from(&ctx.integration_name);
        }
        if self.correlation_id.is_none() {
            self.correlation_id = Some(ctx.correlation_id.clone());
        }
    }

    pub(crate) fn stamp(self, at: Duration, wall: SystemTime) -> ErrorRecord {
        ErrorRecord {
            code: self.code,
            error_type: self.error_type,
            category: self.category,
            severity: self.severity,
            operation: self.operation,
            agent_id: self.agent_id,
            integration: self.integration,
            correlation_id: self.correlation_id,
            at,
            wall,
            function: self.function,
            recovered: false,
        }
    }
}
