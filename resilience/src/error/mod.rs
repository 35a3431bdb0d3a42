//! The structured error model: the [`MarcusError`] trait, its six-tier [`Category`],
//! [`Severity`], [`Remediation`], [`ErrorContext`] and the [`ErrorReport`] renders.
//!
//! Errors usually get the trait from `#[derive(MarcusError)]`; foreign errors are
//! described by [`classify`](fn@crate::classify) (module `classification`, above this one).

mod category;
mod context;
pub(crate) mod delegate;
mod remediation;
mod report;

use std::time::Duration;

pub use category::{Category, Severity};
pub use context::ErrorContext;
pub(crate) use context::{install_correlation_source, new_id, rfc3339};
pub use remediation::Remediation;
pub use report::ErrorReport;

/// An error that knows its code, tier, severity, retry advice and remediation.
///
/// Derive it with `#[derive(MarcusError)]`, or implement it by hand: only
/// [`code`](MarcusError::code) and [`category`](MarcusError::category) are required; the
/// other methods default to the category's defaults.
///
/// ```
/// use resilience::{Category, MarcusError, Severity};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("the disk is full")]
/// struct DiskFull;
///
/// impl MarcusError for DiskFull {
///     fn code(&self) -> &'static str { "DISK_FULL" }
///     fn category(&self) -> Category { Category::System }
/// }
///
/// assert_eq!(DiskFull.severity(), Severity::Critical);
/// assert!(!DiskFull.retryable());
/// assert_eq!(DiskFull.report().to_mcp_json()["error"]["code"], "DISK_FULL");
/// ```
pub trait MarcusError: std::error::Error {
    /// A stable, SCREAMING_SNAKE_CASE code such as `"KANBAN_TIMEOUT"`.
    fn code(&self) -> &'static str;

    /// One of the six tiers.
    fn category(&self) -> Category;

    /// How bad it is; the category's default unless overridden.
    fn severity(&self) -> Severity {
        self.category().default_severity()
    }

    /// Whether retrying may succeed; the category's default unless overridden.
    fn retryable(&self) -> bool {
        self.category().default_retryable()
    }

    /// How long to wait before retrying, when the error knows (a rate limit's window).
    fn retry_after(&self) -> Option<Duration> {
        None
    }

    /// What to do about it; the category's generic advice unless overridden.
    fn remediation(&self) -> Remediation {
        Remediation::for_category(self.category())
    }

    /// The context the error carries, if it has a place for one.
    fn context(&self) -> Option<&ErrorContext> {
        None
    }

    /// The context, mutably, so attributes can fill it on the way out.
    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        None
    }

    /// The error's type name as shown in reports (`"KanbanIntegrationError"`).
    fn error_type(&self) -> &'static str {
        short_type_name(core::any::type_name::<Self>())
    }

    /// A serializable report of everything above, with the four renders.
    fn report(&self) -> ErrorReport {
        ErrorReport::from_error(self)
    }
}

/// `"a::b::Name<c::D>"` → `"Name"`.
fn short_type_name(full: &'static str) -> &'static str {
    let base = full.split('<').next().unwrap_or(full);
    base.rsplit("::").next().unwrap_or(base)
}

impl<E: MarcusError> MarcusError for Box<E> {
    fn code(&self) -> &'static str {
        (**self).code()
    }
    fn category(&self) -> Category {
        (**self).category()
    }
    fn severity(&self) -> Severity {
        (**self).severity()
    }
    fn retryable(&self) -> bool {
        (**self).retryable()
    }
    fn retry_after(&self) -> Option<Duration> {
        (**self).retry_after()
    }
    fn remediation(&self) -> Remediation {
        (**self).remediation()
    }
    fn context(&self) -> Option<&ErrorContext> {
        (**self).context()
    }
    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        (**self).context_mut()
    }
    fn error_type(&self) -> &'static str {
        (**self).error_type()
    }
    fn report(&self) -> ErrorReport {
        (**self).report()
    }
}

#[cfg(test)]
mod tests {
    use super::short_type_name;

    #[test]
    fn short_type_names_drop_paths_and_generics() {
        assert_eq!(short_type_name("a::b::Name<c::D>"), "Name");
        assert_eq!(short_type_name("Name"), "Name");
    }
}
