//! The six tiers of the error taxonomy and the severity scale.

use serde::{Deserialize, Serialize};

/// The tier an error belongs to; it decides the defaults for [`Severity`] and retryability.
///
/// ```
/// use resilience::{Category, Severity};
///
/// assert!(Category::Transient.default_retryable());
/// assert!(!Category::Configuration.default_retryable());
/// assert_eq!(Category::System.default_severity(), Severity::Critical);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Auto-recoverable: timeouts, temporary outages, rate limits.
    Transient,
    /// User-resolvable: missing credentials, malformed settings.
    Configuration,
    /// A rule of the domain was violated: validation, workflow, state conflicts.
    BusinessLogic,
    /// An external service failed or refused.
    Integration,
    /// A security boundary was crossed.
    Security,
    /// Infrastructure failed: resources, corrupted state, databases.
    System,
}

impl Category {
    /// Every tier, in the order of the taxonomy.
    pub const ALL: [Category; 6] = [
        Category::Transient,
        Category::Configuration,
        Category::BusinessLogic,
        Category::Integration,
        Category::Security,
        Category::System,
    ];

    /// The severity of an error of this tier unless it says otherwise.
    ///
    /// ```
    /// use resilience::{Category, Severity};
    /// assert_eq!(Category::Security.default_severity(), Severity::High);
    /// ```
    pub const fn default_severity(self) -> Severity {
        match self {
            Category::Transient => Severity::Medium,
            Category::Configuration => Severity::High,
            Category::BusinessLogic => Severity::Medium,
            Category::Integration => Severity::Medium,
            Category::Security => Severity::High,
            Category::System => Severity::Critical,
        }
    }

    /// Whether an error of this tier is worth retrying unless it says otherwise:
    /// transient and integration errors are, the others are not.
    ///
    /// ```
    /// use resilience::Category;
    /// assert!(Category::Integration.default_retryable());
    /// assert!(!Category::Security.default_retryable());
    /// ```
    pub const fn default_retryable(self) -> bool {
        matches!(self, Category::Transient | Category::Integration)
    }

    /// The tier's name as written in attributes and JSON (`"business_logic"`).
    ///
    /// ```
    /// assert_eq!(resilience::Category::BusinessLogic.as_str(), "business_logic");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Transient => "transient",
            Category::Configuration => "configuration",
            Category::BusinessLogic => "business_logic",
            Category::Integration => "integration",
            Category::Security => "security",
            Category::System => "system",
        }
    }
}

impl core::fmt::Display for Category {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How bad an error is, ordered from [`Low`](Severity::Low) to [`Critical`](Severity::Critical).
///
/// ```
/// use resilience::Severity;
/// assert!(Severity::Low < Severity::Critical);
/// assert_eq!(Severity::High.as_str(), "high");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a log line.
    Low,
    /// Degrades one operation.
    Medium,
    /// Degrades a feature or needs a person soon.
    High,
    /// Threatens the system; counted against health at once.
    Critical,
}

impl Severity {
    /// The severity's name as written in attributes and JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl core::fmt::Display for Severity {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
