//! [`RateLimiterSnapshot`]: one rate limiter's state and configuration, serializable.

use serde::{Deserialize, Serialize};

use super::RateLimitConfig;

/// A rate limiter's state and configuration at one moment.
///
/// ```
/// let l = resilience::rate_limit::RateLimiter::new("docs.rate.snapshot", Default::default()).unwrap();
/// let json = serde_json::to_value(l.snapshot()).unwrap();
/// assert_eq!(json["available"], 100);
/// assert_eq!(json["config"]["per"], "1s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateLimiterSnapshot {
    /// The rate limiter's name.
    pub name: String,
    /// Its key, for one instance of a rate limit with `key = expr`.
    pub key: Option<String>,
    /// Calls that would be admitted now without delay.
    pub available: u64,
    /// Calls refused since it was made.
    pub rejections: u64,
    /// The configuration in force.
    pub config: RateLimitConfig,
}
