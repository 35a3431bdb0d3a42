//! `resilience::admin::router` in process, through tower's `oneshot`: who may change a
//! breaker (401, 403, and nothing applied), a forced open that a decorated function then
//! sees, the health JSON, and the event stream as server-sent events.
//! `cargo test -p resilience-tests --features admin --test admin`.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use resilience::admin::{router, AdminConfig};
use resilience::{circuit_breaker, registry, BreakerState, CircuitOpen, MarcusError};
use tower::ServiceExt;

const TOKEN: &str = "correct horse battery staple";

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum BoardError {
    #[error("the board is down")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
}

#[circuit_breaker(name = "admin.board", failure_threshold = 50)]
fn board() -> Result<&'static str, BoardError> {
    Ok("board")
}

#[circuit_breaker(name = "admin.guarded")]
fn guarded() -> Result<(), BoardError> {
    Err(BoardError::Down)
}

#[circuit_breaker(name = "admin.streamed")]
fn streamed() -> Result<(), BoardError> {
    Ok(())
}

fn admin(token: Option<&str>) -> Router {
    router(AdminConfig {
        token: token.map(str::to_owned),
        ..Default::default()
    })
}

fn post(path: &str, authorization: Option<&str>) -> Request<Body> {
    let mut request = Request::builder().method(Method::POST).uri(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    request.body(Body::empty()).unwrap()
}

fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

async fn body_json(response: axum::response::Response) -> serde_json::Value {
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn a_missing_wrong_or_non_bearer_token_is_401_and_changes_nothing() {
    guarded().ok(); // registered, closed
    let breaker = registry().breaker("admin.guarded").expect("registered");
    for authorization in [
        None,
        Some("Bearer wrong"),
        Some("Bearer correct horse battery stapl"),
        Some("Basic Y29ycmVjdCBob3JzZQ=="),
        Some(TOKEN),
        Some("bearer correct horse battery staple"),
    ] {
        let response = admin(Some(TOKEN))
            .oneshot(post("/breakers/admin.guarded/open", authorization))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "{authorization:?}"
        );
        assert_eq!(response.headers()[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(breaker.state(), BreakerState::Closed, "{authorization:?}");
    }
    // An unknown breaker is 404 only once the token is right (names cannot be probed).
    let probe = admin(Some(TOKEN))
        .oneshot(post("/breakers/no.such/open", None))
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::UNAUTHORIZED);
    let unknown = admin(Some(TOKEN))
        .oneshot(post(
            "/breakers/no.such/open",
            Some(&format!("Bearer {TOKEN}")),
        ))
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let action = admin(Some(TOKEN))
        .oneshot(post(
            "/breakers/admin.guarded/explode",
            Some(&format!("Bearer {TOKEN}")),
        ))
        .await
        .unwrap();
    assert_eq!(action.status(), StatusCode::NOT_FOUND);
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[tokio::test]
async fn without_a_configured_token_every_post_is_403() {
    guarded().ok();
    let breaker = registry().breaker("admin.guarded").expect("registered");
    for authorization in [None, Some("Bearer anything"), Some("Bearer ")] {
        let response = admin(None)
            .oneshot(post("/breakers/admin.guarded/disable", authorization))
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{authorization:?}"
        );
        assert_ne!(breaker.state(), BreakerState::Disabled);
    }
    // The GET routes stay open.
    let health = admin(None).oneshot(get("/health")).await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_forced_open_is_what_the_decorated_function_then_sees() {
    assert_eq!(board().unwrap(), "board");
    let bearer = format!("Bearer {TOKEN}");
    let opened = admin(Some(TOKEN))
        .oneshot(post("/breakers/admin.board/open", Some(&bearer)))
        .await
        .unwrap();
    assert_eq!(opened.status(), StatusCode::OK);
    let answer = body_json(opened).await;
    assert_eq!(answer["state"], "forced_open", "{answer}");
    assert_eq!(answer["published"], false, "no cluster: {answer}");
    assert!(matches!(board(), Err(BoardError::Open(_))));

    let closed = admin(Some(TOKEN))
        .oneshot(post("/breakers/admin.board/close", Some(&bearer)))
        .await
        .unwrap();
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(board().unwrap(), "board");

    let disabled = admin(Some(TOKEN))
        .oneshot(post("/breakers/admin.board/disable", Some(&bearer)))
        .await
        .unwrap();
    assert_eq!(body_json(disabled).await["state"], "disabled");
    let reset = admin(Some(TOKEN))
        .oneshot(post("/breakers/admin.board/reset", Some(&bearer)))
        .await
        .unwrap();
    assert_eq!(body_json(reset).await["state"], "closed");
}

#[tokio::test]
async fn health_is_the_registrys_json_and_shows_no_secret() {
    board().ok();
    let response = admin(Some(TOKEN)).oneshot(get("/health")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
    let health = body_json(response).await;
    let names: Vec<&str> = health["breakers"]
        .as_array()
        .expect("a list of breakers")
        .iter()
        .filter_map(|b| b["name"].as_str())
        .collect();
    assert!(names.contains(&"admin.board"), "{names:?}");
    assert!(health["cluster"]["connected"].is_boolean(), "{health}");
    assert!(!health.to_string().contains(TOKEN));
}

#[tokio::test]
async fn the_page_is_one_document_that_fetches_nothing_from_elsewhere() {
    let response = admin(None).oneshot(get("/")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let policy = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(policy.starts_with("default-src 'none'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let page = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    for outside in [
        "http://",
        "https://",
        "//cdn",
        "<link",
        "<script src",
        "@import",
    ] {
        let allowed = page.matches(outside).count()
            == page.matches("http://www.w3.org/2000/svg").count()
                * usize::from(outside == "http://");
        assert!(allowed, "the page names {outside:?}");
    }
}

#[tokio::test]
async fn events_are_server_sent_one_json_data_line_each() {
    streamed().ok();
    let response = admin(None).oneshot(get("/events")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    // The stream subscribed as the response was made: an opening now reaches it.
    registry()
        .breaker("admin.streamed")
        .expect("registered")
        .force_open();
    let mut body = response.into_body();
    let mut text = String::new();
    // Bounded: at most 20 frames and 10 s (other tests' events may come first).
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        for _ in 0..20 {
            let Some(Ok(frame)) = body.frame().await else {
                return None;
            };
            if let Ok(data) = frame.into_data() {
                text.push_str(&String::from_utf8_lossy(&data));
            }
            let opening = text
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .find_map(|data| {
                    let event: serde_json::Value = serde_json::from_str(data).expect("JSON data");
                    (event["name"] == "admin.streamed").then_some(event)
                });
            if opening.is_some() {
                return opening;
            }
        }
        None
    })
    .await
    .expect("an event within 10 s")
    .expect("the opening on the stream");
    assert_eq!(found["pattern"], "breaker");
    assert_eq!(found["kind"], "state_change");
    assert_eq!(found["from"], "closed");
    assert_eq!(found["to"], "forced_open");
    assert!(found["at"].as_u64().unwrap() > 1_700_000_000_000);
    assert!(found["key"].is_null());
}
