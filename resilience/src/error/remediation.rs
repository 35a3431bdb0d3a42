//! [`Remediation`]: what to do about an error.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::Category;

/// What to do about an error, from the first step to whom to call.
///
/// Every field is optional; [`Remediation::for_category`] gives a tier's generic advice.
///
/// ```
/// use resilience::Remediation;
///
/// let r = Remediation {
///     immediate: Some("Retry with backoff".into()),
///     fallback: Some("Create the task locally".into()),
///     ..Remediation::default()
/// };
/// assert_eq!(r.immediate.as_deref(), Some("Retry with backoff"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remediation {
    /// The first thing to do, now.
    pub immediate: Option<Cow<'static, str>>,
    /// The alternative that keeps the work going.
    pub fallback: Option<Cow<'static, str>>,
    /// The retry plan.
    pub retry: Option<Cow<'static, str>>,
    /// What prevents it next time.
    pub long_term: Option<Cow<'static, str>>,
    /// Whom to call when nothing else works.
    pub escalation: Option<Cow<'static, str>>,
}

impl Remediation {
    /// The generic advice for an error of `category`, used when an error gives none.
    ///
    /// ```
    /// use resilience::{Category, Remediation};
    /// assert!(Remediation::for_category(Category::Transient).immediate.is_some());
    /// ```
    pub fn for_category(category: Category) -> Self {
        let (immediate, fallback, long_term, escalation): (&str, Option<&str>, &str, Option<&str>) =
            match category {
                Category::Transient => (
                    "Retry the operation with exponential backoff",
                    Some("Use cached or default data until the service recovers"),
                    "Tune timeouts and retry limits for this dependency",
                    None,
                ),
                Category::Configuration => (
                    "Check the configuration and credentials this operation uses",
                    None,
                    "Validate configuration at start-up",
                    Some("Ask the operator who owns this configuration"),
                ),
                Category::BusinessLogic => (
                    "Check the input and the current state against the rule that was violated",
                    None,
                    "Validate earlier, before the operation starts",
                    None,
                ),
                Category::Integration => (
                    "Retry the call; check the external service's status",
                    Some("Degrade gracefully: queue the work or use cached data"),
                    "Protect the integration with a circuit breaker",
                    Some("Contact the external service's owner if it persists"),
                ),
                Category::Security => (
                    "Stop the operation and verify the caller's permissions",
                    None,
                    "Review access policies",
                    Some("Notify the security team"),
                ),
                Category::System => (
                    "Check system resources and the health of core dependencies",
                    None,
                    "Add capacity or fix the failing component",
                    Some("Page the on-call engineer"),
                ),
            };
        Remediation {
            immediate: Some(Cow::Borrowed(immediate)),
            fallback: fallback.map(Cow::Borrowed),
            retry: None,
            long_term: Some(Cow::Borrowed(long_term)),
            escalation: escalation.map(Cow::Borrowed),
        }
    }

    /// Fills every field left empty here from `defaults`.
    ///
    /// ```
    /// use resilience::{Category, Remediation};
    /// let r = Remediation { fallback: Some("queue it".into()), ..Default::default() }
    ///     .or(Remediation::for_category(Category::Transient));
    /// assert_eq!(r.fallback.as_deref(), Some("queue it"));
    /// assert!(r.immediate.is_some());
    /// ```
    pub fn or(self, defaults: Remediation) -> Self {
        Remediation {
            immediate: self.immediate.or(defaults.immediate),
            fallback: self.fallback.or(defaults.fallback),
            retry: self.retry.or(defaults.retry),
            long_term: self.long_term.or(defaults.long_term),
            escalation: self.escalation.or(defaults.escalation),
        }
    }
}
