//! The tracing events of retries, in one place so their fields stay consistent.
//!
//! Target `resilience::retry`. Each retry: `DEBUG` with `function`, `attempt` (the call
//! that failed, 1-based), `delay_ms`, `error`, `code`. Giving up: `WARN` with `function`,
//! `attempts` (calls made), `reason` ([`GiveUp::as_str`]), `error`, `code` — or `DEBUG`
//! when a first call's error was simply not to be retried (not retryable, or
//! `max_attempts = 1`), which is no retry story at all.

use std::time::Duration;

use super::GiveUp;
use crate::view::View;

pub(crate) const TARGET: &str = "resilience::retry";

/// What the events say about an error, read while the error is borrowed by its view.
pub(crate) struct Seen {
    pub(crate) retryable: bool,
    pub(crate) retry_after: Option<Duration>,
    code: &'static str,
    /// The error's message, formatted only when someone listens.
    message: Option<String>,
}

impl Seen {
    pub(crate) fn of(view: &View<'_>) -> Self {
        let listening = tracing::enabled!(target: TARGET, tracing::Level::DEBUG)
            || tracing::enabled!(target: TARGET, tracing::Level::WARN);
        let message = listening.then(|| match view {
            View::Marcus(e) => e.to_string(),
            View::Error(e) => e.to_string(),
            View::Dyn(e) => e.to_string(),
            View::Opaque(name) => format!("a `{name}`"),
        });
        Seen {
            retryable: view.retryable(),
            retry_after: view.retry_after(),
            code: view.kind(),
            message,
        }
    }

    fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }
}

pub(crate) fn retrying(function: &'static str, attempt: u32, delay: Duration, seen: &Seen) {
    tracing::debug!(
        target: TARGET,
        function,
        attempt,
        delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        error = seen.message(),
        code = seen.code,
        "retrying after an error"
    );
}

pub(crate) fn gave_up(function: &'static str, attempts: u32, reason: GiveUp, seen: &Seen) {
    if attempts <= 1 && matches!(reason, GiveUp::NotRetryable | GiveUp::AttemptsExhausted) {
        tracing::debug!(
            target: TARGET,
            function,
            attempts,
            reason = reason.as_str(),
            error = seen.message(),
            code = seen.code,
            "not retrying"
        );
    } else {
        crate::metrics::retry_exhausted(function);
        tracing::warn!(
            target: TARGET,
            function,
            attempts,
            reason = reason.as_str(),
            error = seen.message(),
            code = seen.code,
            "giving up retrying"
        );
    }
}

pub(crate) fn adapted(function: &'static str, max_attempts: u32) {
    tracing::debug!(target: TARGET, function, max_attempts, "adaptive retry changed its attempts");
}
