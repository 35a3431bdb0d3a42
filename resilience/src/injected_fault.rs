//! [`InjectedFault`]: the error a chaos fault puts in place of a call's own outcome.
//!
//! It exists with or without the `chaos` feature, so an error type can carry a
//! `#[from] InjectedFault` variant in every build, the tests' (with the feature) and
//! production's (without it, where nothing ever makes one).

use std::borrow::Cow;

use crate::{Category, ErrorContext, MarcusError, Remediation, Severity};

/// The error an injected error fault returns (`Fault::error`, with the `chaos` feature),
/// converted into the function's error type through its `From<InjectedFault>`.
///
/// Transient, low severity and retryable, like the outage it stands for: a `#[retry]`
/// retries it and a breaker counts it as a failure. Its code, `INJECTED_FAULT`, marks it
/// in the monitor, the events and the `resilience_errors_total` metric.
///
/// ```
/// use resilience::{Category, InjectedFault, MarcusError};
///
/// let fault = InjectedFault::new("kanban");
/// assert_eq!(fault.code(), "INJECTED_FAULT");
/// assert_eq!(fault.category(), Category::Transient);
/// assert!(fault.retryable());
/// assert_eq!(fault.site(), "kanban");
/// assert_eq!(fault.to_string(), "fault injected at `kanban`");
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[error("fault injected at `{site}`")]
pub struct InjectedFault {
    site: Cow<'static, str>,
    context: Box<ErrorContext>,
}

impl InjectedFault {
    /// A fault injected at `site` (a breaker's or a function's name), with a fresh context.
    ///
    /// ```
    /// assert_eq!(resilience::InjectedFault::new("db").site(), "db");
    /// ```
    pub fn new(site: impl Into<Cow<'static, str>>) -> Self {
        InjectedFault {
            site: site.into(),
            context: Box::default(),
        }
    }

    /// The site the fault was injected at.
    ///
    /// ```
    /// assert_eq!(resilience::InjectedFault::new("db").site(), "db");
    /// ```
    pub fn site(&self) -> &str {
        &self.site
    }
}

impl MarcusError for InjectedFault {
    fn code(&self) -> &'static str {
        "INJECTED_FAULT"
    }

    fn category(&self) -> Category {
        Category::Transient
    }

    fn severity(&self) -> Severity {
        Severity::Low
    }

    fn retryable(&self) -> bool {
        true
    }

    fn remediation(&self) -> Remediation {
        Remediation {
            immediate: Some(
                "A chaos fault is switched on for this site: expected while testing".into(),
            ),
            escalation: Some(
                "Clear it with `chaos().clear(name)` if it was not meant to be on".into(),
            ),
            ..Remediation::for_category(Category::Transient)
        }
    }

    fn context(&self) -> Option<&ErrorContext> {
        Some(&self.context)
    }

    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        Some(&mut self.context)
    }
}
