//! The routes: the page, the health JSON, the event stream, the cluster's view, and the
//! breakers' controls.

use std::convert::Infallible;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::{auth, AdminConfig};
use crate::breaker::Breaker;

/// The page: one document, its CSS and JavaScript inline.
const PAGE: &str = include_str!("page.html");

/// What the page may do: run its own inline script and style, talk to its own origin,
/// draw its sparklines; nothing from elsewhere, no frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'unsafe-inline'; \
     style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

type Config = State<Arc<AdminConfig>>;

pub(super) fn router(config: AdminConfig) -> Router {
    Router::new()
        .route("/", get(page))
        .route("/health", get(health))
        .route("/events", get(events))
        .route("/cluster", get(cluster))
        .route("/breakers/{name}/{action}", post(act))
        // No route reads a body; should a layer of the service's read one, 1 KiB at most.
        .layer(DefaultBodyLimit::max(1024))
        .with_state(Arc::new(config))
}

async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        PAGE,
    )
        .into_response()
}

async fn health(State(config): Config) -> Response {
    (
        [(header::CACHE_CONTROL, "no-store")],
        Json(config.registry.health()),
    )
        .into_response()
}

/// Every event of the registry from now on, one JSON `data:` line each.
async fn events(State(config): Config) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let receiver = config.registry.events();
    let messages = config.error_messages;
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| async move {
        let item = match receiver.recv().await {
            Ok(event) => {
                let event = if messages {
                    event
                } else {
                    event.without_message()
                };
                // An `Event` is strings and numbers: it always serializes.
                let data = serde_json::to_string(&event).unwrap_or_default();
                SseEvent::default().data(data)
            }
            Err(RecvError::Lagged(missed)) => {
                SseEvent::default().event("lagged").data(missed.to_string())
            }
            Err(RecvError::Closed) => return None,
        };
        Some((Ok(item), receiver))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

/// Every live instance's health summary, when the cluster is connected.
async fn cluster() -> Response {
    #[cfg(feature = "redis")]
    if crate::cluster::is_connected() {
        if let Ok(instances) = crate::cluster::health().await {
            return Json(instances).into_response();
        }
    }
    Json(json!([])).into_response()
}

/// What an operator may do to a breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Open,
    Close,
    Reset,
    Disable,
}

impl Action {
    fn parse(text: &str) -> Option<Action> {
        Some(match text {
            "open" => Action::Open,
            "close" => Action::Close,
            "reset" => Action::Reset,
            "disable" => Action::Disable,
            _ => return None,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Action::Open => "open",
            Action::Close => "close",
            Action::Reset => "reset",
            Action::Disable => "disable",
        }
    }

    fn apply(self, breaker: &Breaker) {
        match self {
            Action::Open => breaker.force_open(),
            Action::Close | Action::Reset => breaker.reset(),
            Action::Disable => breaker.disable(),
        }
    }

    /// The same action, told to every other instance of the cluster; `true` once Redis
    /// took it.
    async fn publish(self, name: &str) -> bool {
        #[cfg(feature = "redis")]
        {
            let manual = match self {
                Action::Open => crate::cluster::Manual::ForceOpen,
                Action::Close | Action::Reset => crate::cluster::Manual::Reset,
                Action::Disable => crate::cluster::Manual::Disable,
            };
            crate::cluster::publish_manual(name, manual).await
        }
        #[cfg(not(feature = "redis"))]
        {
            let _ = name;
            false
        }
    }
}

async fn act(
    State(config): Config,
    Path((name, action)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = auth::check(config.token.as_deref(), &headers) {
        let message = match refused {
            auth::Refused::NoToken => "no admin token is configured: the routes are read-only",
            auth::Refused::Unauthorized => "send Authorization: Bearer <token>",
        };
        return (
            refused.status(),
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": message })),
        )
            .into_response();
    }
    let Some(action) = Action::parse(&action) else {
        return not_found("no such action: use open, close, reset or disable");
    };
    let Some(breaker) = config.registry.breaker(&name) else {
        return not_found("no breaker of that name");
    };
    action.apply(&breaker);
    tracing::warn!(
        target: "resilience::admin",
        breaker = breaker.name(),
        action = action.as_str(),
        "breaker changed by hand"
    );
    let published = action.publish(breaker.name()).await;
    Json(json!({
        "name": breaker.name(),
        "action": action.as_str(),
        "state": breaker.state(),
        "published": published,
    }))
    .into_response()
}

fn not_found(message: &str) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": message }))).into_response()
}
