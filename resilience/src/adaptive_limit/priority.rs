//! [`Priority`]: which calls an overloaded limit refuses first.

use serde::{Deserialize, Serialize};

/// How much a call matters when the limit is reached: the waiting calls of a higher
/// priority get freed places first, and a call of a lower one is refused first.
/// Ordered from `Low` to `Critical`.
///
/// ```
/// use resilience::Priority;
/// assert!(Priority::Critical > Priority::High && Priority::Normal > Priority::Low);
/// assert_eq!(Priority::default(), Priority::Normal);
/// assert_eq!(serde_json::to_value(Priority::High).unwrap(), "high");
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Shed first: batch work, prefetching, retries of retries.
    Low,
    /// The default.
    #[default]
    Normal,
    /// Served before normal calls.
    High,
    /// Shed last: the calls a person waits for, health checks.
    Critical,
}

impl Priority {
    /// Every priority, highest first (the order waiting calls are served in).
    #[cfg(test)]
    pub(crate) const HIGHEST_FIRST: [Priority; 4] = [
        Priority::Critical,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// 0 for `Critical` to 3 for `Low`: the index of its lane of waiting calls.
    pub(crate) const fn lane(self) -> usize {
        match self {
            Priority::Critical => 0,
            Priority::High => 1,
            Priority::Normal => 2,
            Priority::Low => 3,
        }
    }

    /// The priority's name as serialized.
    ///
    /// ```
    /// assert_eq!(resilience::Priority::Critical.as_str(), "critical");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn lanes_follow_the_order() {
        for (i, p) in Priority::HIGHEST_FIRST.into_iter().enumerate() {
            assert_eq!(p.lane(), i);
        }
    }
}
