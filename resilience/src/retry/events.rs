//! The tracing events of retries, in one place so every front end says the same.
//!
//! Target `resilience::retry`, whatever drives the engine. Each carries `name` (the
//! call site's function, or the layer's or middleware's name) and `via` (`"attribute"`,
//! `"tower"` or `"reqwest"`). Each retry: `DEBUG` "retrying after an error" with
//! `attempt` (the call that failed, 1-based), `delay_ms`, `error`, `code`. Giving up:
//! `WARN` "giving up retrying" with `attempts` (calls made), `reason`
//! ([`GiveUp::as_str`]), `error`, `code` — or `DEBUG` "not retrying" when a first call's
//! outcome was simply not to be retried (not retryable, or `max_attempts = 1`), which is
//! no retry story at all. A retry inside another retry's attempt that leaves the retrying
//! to it says so once per instance: `DEBUG` "inside another retry's attempt: …". The reqwest middleware's events add `host`, `method` and `path`
//! through the span it opens around each request.

use std::time::Duration;

use super::GiveUp;
use crate::classification::Verdict;

pub(crate) const TARGET: &str = "resilience::retry";

/// Which front end drives the engine: the `via` field of its events.
///
/// ```
/// use resilience::retry::Via;
/// assert_eq!(Via::Tower.as_str(), "tower");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Via {
    /// `#[retry]` (and `#[resilient]`).
    Attribute,
    /// `resilience::tower::RetryLayer`.
    Tower,
    /// `resilience::reqwest::ResilienceMiddleware`.
    Reqwest,
}

impl Via {
    /// `"attribute"`, `"tower"` or `"reqwest"`.
    ///
    /// ```
    /// assert_eq!(resilience::retry::Via::Attribute.as_str(), "attribute");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Via::Attribute => "attribute",
            Via::Tower => "tower",
            Via::Reqwest => "reqwest",
        }
    }

    /// The front end as its user wrote it, for configuration errors.
    pub(crate) const fn front_end(self) -> &'static str {
        match self {
            Via::Attribute => "#[retry]",
            Via::Tower => "RetryLayer",
            Via::Reqwest => "ResilienceMiddleware",
        }
    }
}

/// Whether anyone listens to retry events (so an outcome's message is worth rendering).
pub(crate) fn listening() -> bool {
    tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
        || tracing::enabled!(target: TARGET, tracing::Level::WARN)
}

/// The outcome's message, rendered only when someone listens.
fn render(message: &dyn Fn() -> String) -> String {
    if listening() {
        message()
    } else {
        String::new()
    }
}

pub(crate) fn retrying(
    name: &'static str,
    via: Via,
    attempt: u32,
    delay: Duration,
    verdict: &Verdict,
    message: &dyn Fn() -> String,
) {
    if !tracing::enabled!(target: TARGET, tracing::Level::DEBUG) {
        return;
    }
    tracing::debug!(
        target: TARGET,
        name,
        via = via.as_str(),
        attempt,
        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        error = render(message),
        code = verdict.code,
        "retrying after an error"
    );
}

pub(crate) fn gave_up(
    name: &'static str,
    via: Via,
    attempts: u32,
    reason: GiveUp,
    verdict: &Verdict,
    message: &dyn Fn() -> String,
) {
    if attempts <= 1 && matches!(reason, GiveUp::NotRetryable | GiveUp::AttemptsExhausted) {
        tracing::debug!(
            target: TARGET,
            name,
            via = via.as_str(),
            attempts,
            reason = reason.as_str(),
            error = render(message),
            code = verdict.code,
            "not retrying"
        );
    } else {
        crate::metrics::retry_exhausted(name);
        tracing::warn!(
            target: TARGET,
            name,
            via = via.as_str(),
            attempts,
            reason = reason.as_str(),
            error = render(message),
            code = verdict.code,
            "giving up retrying"
        );
    }
}

/// A call of the instance `name` failed inside another retry's attempt and left the
/// retrying to it ([`Nested::Defer`](super::Nested)): said once per instance.
pub(crate) fn deferred(name: &'static str, via: Via) {
    tracing::debug!(
        target: TARGET,
        name,
        via = via.as_str(),
        "inside another retry's attempt: one attempt, the outer retry retries (say `nested = independent` to retry at both levels)"
    );
}

pub(crate) fn adapted(name: &'static str, via: Via, max_attempts: u32) {
    tracing::debug!(
        target: TARGET,
        name,
        via = via.as_str(),
        max_attempts,
        "adaptive retry changed its attempts"
    );
}
