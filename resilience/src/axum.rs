//! Refusals as HTTP answers (feature `axum`): each of this crate's refusals is an
//! [`IntoResponse`] for axum, and [`handle_error`] is the function axum's
//! `HandleErrorLayer` takes in front of this crate's tower layers (feature `tower`).
//!
//! | refusal | status | `Retry-After` |
//! |---|---|---|
//! | [`CircuitOpen`] | `503 Service Unavailable` | the time left until the next trial, when one is scheduled |
//! | [`BulkheadFull`] | `503 Service Unavailable` | none (a place frees when a running call ends) |
//! | `Overloaded` (adaptive limit) | `503 Service Unavailable` | when it knows its wait |
//! | [`RateLimited`] | `429 Too Many Requests` | the wait until the call would be admitted |
//! | [`TimedOut`] | `504 Gateway Timeout` | none |
//!
//! `Retry-After` is in whole seconds, rounded up (RFC 9110 section 10.2.3 allows no
//! fraction): a wait of 1.2 s says `2`, so a client that waits as told is not refused
//! again. It is written whenever the refusal knows its wait ([`MarcusError::retry_after`]).
//! The body is the refusal's message as plain text (`circuit breaker `kanban` is open;
//! next trial in 12s`); it names the instance, so map the error yourself where a
//! client must not learn the names of your dependencies.
//!
//! ```
//! use resilience::{axum::handle_error, BreakerState, CircuitOpen};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let open = CircuitOpen {
//!     name: "kanban",
//!     state: BreakerState::Open,
//!     retry_after: Some(Duration::from_millis(1_200)),
//! };
//! let response = handle_error(Box::new(open)).await;
//! assert_eq!(response.status(), 503);
//! assert_eq!(response.headers()["retry-after"], "2");
//!
//! // An error that is none of the refusals: a 500 that tells the client nothing more.
//! let response = handle_error("the database said no".into()).await;
//! assert_eq!(response.status(), 500);
//! # });
//! ```
//!
//! On axum routes, the usual recipe (`docs/axum.md` has the whole of it):
//! `ServiceBuilder::new().layer(HandleErrorLayer::new(handle_error)).layer(CircuitBreakerLayer::new("kanban")).map_err(BoxError::from)`
//! around a route's handler: the handler's `Infallible` error made a `BoxError` for
//! the layer, and the layer's refusal made a response by [`handle_error`].

use std::time::Duration;

use axum_core::response::{IntoResponse, Response};
use axum_core::BoxError;
use http::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use http::StatusCode;

use crate::adaptive_limit::Overloaded;
use crate::breaker::CircuitOpen;
use crate::bulkhead::BulkheadFull;
use crate::error::MarcusError;
use crate::rate_limit::RateLimited;
use crate::timeout::TimedOut;

/// `503 Service Unavailable`, with `Retry-After` when the breaker says when its next
/// trial is.
impl IntoResponse for CircuitOpen {
    fn into_response(self) -> Response {
        refusal(StatusCode::SERVICE_UNAVAILABLE, &self)
    }
}

/// `503 Service Unavailable`.
impl IntoResponse for BulkheadFull {
    fn into_response(self) -> Response {
        refusal(StatusCode::SERVICE_UNAVAILABLE, &self)
    }
}

/// `429 Too Many Requests`, with `Retry-After` when the wait is known.
impl IntoResponse for RateLimited {
    fn into_response(self) -> Response {
        refusal(StatusCode::TOO_MANY_REQUESTS, &self)
    }
}

/// `504 Gateway Timeout`.
impl IntoResponse for TimedOut {
    fn into_response(self) -> Response {
        refusal(StatusCode::GATEWAY_TIMEOUT, &self)
    }
}

/// `503 Service Unavailable`, with `Retry-After` (the limiter's estimate of when a place
/// frees).
impl IntoResponse for Overloaded {
    fn into_response(self) -> Response {
        refusal(StatusCode::SERVICE_UNAVAILABLE, &self)
    }
}

/// The answer to an error of this crate's tower layers, for axum's `HandleErrorLayer`:
/// a refusal (here or as the `source` of the error) answers as its [`IntoResponse`]
/// says; any other error is `500 Internal Server Error` with a body that tells nothing
/// more, and an ERROR event (target `resilience::axum`) with the error.
///
/// ```
/// use resilience::{axum::handle_error, RateLimited};
/// use std::time::Duration;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let limited = RateLimited::new("search", None, Duration::from_secs(3));
/// let response = handle_error(Box::new(limited)).await;
/// assert_eq!(response.status(), 429);
/// assert_eq!(response.headers()["retry-after"], "3");
/// # });
/// ```
pub async fn handle_error(error: BoxError) -> Response {
    if let Some(response) = refusal_of(&*error) {
        return response;
    }
    tracing::error!(target: "resilience::axum", %error, "a layer failed with an error that is not a refusal; answering 500");
    let mut response = (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
    plain_text(&mut response);
    response
}

/// The answer of the first refusal among `error` and its sources.
fn refusal_of(error: &(dyn std::error::Error + 'static)) -> Option<Response> {
    let mut next = Some(error);
    while let Some(error) = next {
        let answer = try_answer::<CircuitOpen>(error)
            .or_else(|| try_answer::<BulkheadFull>(error))
            .or_else(|| try_answer::<RateLimited>(error))
            .or_else(|| try_answer::<TimedOut>(error))
            .or_else(|| try_answer::<Overloaded>(error));
        if answer.is_some() {
            return answer;
        }
        next = error.source();
    }
    None
}

fn try_answer<R>(error: &(dyn std::error::Error + 'static)) -> Option<Response>
where
    R: std::error::Error + IntoResponse + Clone + 'static,
{
    error.downcast_ref::<R>().map(|r| r.clone().into_response())
}

/// `status` with the refusal's message as plain text, and `Retry-After` when it knows
/// its wait.
fn refusal<R: MarcusError>(status: StatusCode, refusal: &R) -> Response {
    let mut response = (status, refusal.to_string()).into_response();
    plain_text(&mut response);
    if let Some(wait) = refusal.retry_after() {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(whole_seconds(wait)));
    }
    response
}

fn plain_text(response: &mut Response) {
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
}

/// `wait` in whole seconds, rounded up: a client that waits this long is not early.
fn whole_seconds(wait: Duration) -> u64 {
    wait.as_secs()
        .saturating_add(u64::from(wait.subsec_nanos() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BreakerState;

    fn open(retry_after: Option<Duration>) -> CircuitOpen {
        CircuitOpen {
            name: "kanban",
            state: BreakerState::Open,
            retry_after,
        }
    }

    fn retry_after(response: &Response) -> Option<&str> {
        response
            .headers()
            .get(RETRY_AFTER)
            .map(|v| v.to_str().unwrap())
    }

    #[test]
    fn every_refusal_answers_its_status() {
        let full = BulkheadFull {
            name: "db",
            key: None,
            max_concurrent: 4,
            waited: Duration::ZERO,
        };
        let limited = RateLimited::new("search", None, Duration::from_millis(2_500));
        let timed_out = TimedOut {
            function: "app::fetch",
            limit: Duration::from_secs(2),
        };
        let overloaded = Overloaded {
            name: "search",
            key: None,
            limit: 8,
            priority: crate::adaptive_limit::Priority::Low,
            waited: Duration::ZERO,
            retry_after: Duration::from_millis(1_200),
        };
        let cases = [
            (
                open(Some(Duration::from_secs(12))).into_response(),
                503,
                Some("12"),
            ),
            (full.into_response(), 503, None),
            (limited.into_response(), 429, Some("3")),
            (timed_out.into_response(), 504, None),
            (overloaded.into_response(), 503, Some("2")),
        ];
        for (response, status, wait) in cases {
            assert_eq!(response.status(), status);
            assert_eq!(retry_after(&response), wait, "{status}");
            assert_eq!(
                response.headers()[CONTENT_TYPE],
                "text/plain; charset=utf-8"
            );
        }
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_absent_when_unknown() {
        assert_eq!(whole_seconds(Duration::ZERO), 0);
        assert_eq!(whole_seconds(Duration::from_nanos(1)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1_000)), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1_001)), 2);
        assert_eq!(whole_seconds(Duration::MAX), u64::MAX);
        let forced = CircuitOpen {
            state: BreakerState::ForcedOpen,
            ..open(None)
        };
        assert_eq!(retry_after(&forced.into_response()), None);
    }

    #[test]
    fn a_refusal_behind_another_error_is_found_by_its_source() {
        #[derive(Debug, thiserror::Error)]
        #[error("the upstream call failed")]
        struct Wrapped(#[source] CircuitOpen);

        let wrapped = Wrapped(open(Some(Duration::from_millis(10))));
        let response = refusal_of(&wrapped).expect("found");
        assert_eq!(
            (response.status(), retry_after(&response)),
            (StatusCode::SERVICE_UNAVAILABLE, Some("1"))
        );
        assert!(refusal_of(&std::fmt::Error).is_none());
    }
}
