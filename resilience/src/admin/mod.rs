//! The operator's page and routes (feature `admin`): [`router`] is an [`axum::Router`]
//! to mount in a service, showing every breaker, bulkhead, rate limiter and adaptive
//! limit of a registry as they move, with guarded controls for the breakers.
//!
//! ```
//! use resilience::admin::{router, AdminConfig};
//!
//! let admin = router(AdminConfig {
//!     token: std::env::var("RESILIENCE_ADMIN_TOKEN").ok(),
//!     ..Default::default()
//! });
//! // Mounted under a prefix, behind the service's own authentication:
//! let app: axum::Router = axum::Router::new().nest("/admin", admin);
//! # drop(app);
//! ```
//!
//! | route | what |
//! |---|---|
//! | `GET /` | the page: one self-contained HTML document (inline CSS and JavaScript, nothing fetched from elsewhere; its `Content-Security-Policy` forbids it) |
//! | `GET /health` | [`Registry::health`](crate::registry::Registry::health) as JSON |
//! | `GET /events` | server-sent events: one JSON [`Event`](crate::Event) each (`data:` line); a receiver that fell behind gets an `event: lagged` whose data is the count it missed |
//! | `GET /cluster` | with the cluster connected (feature `redis`), every live instance's health summary ([`cluster::health`](crate::cluster)), else `[]` |
//! | `POST /breakers/{name}/{open,close,reset,disable}` | forces the breaker open, closes it (`close` and `reset` both end any state with a closed breaker, counts cleared), or disables it; with the cluster connected, published for every instance to apply |
//!
//! Security: nothing is served unless the router is mounted. A `POST` needs
//! `Authorization: Bearer <token>`, compared in constant time (`401` without it or with
//! another); with no token configured every `POST` answers `403`. An unknown breaker or
//! action is `404` (after the token is checked, so names cannot be probed). Request
//! bodies are never read (and bounded at 1 KiB should a layer read them). The `GET`
//! routes show state only: no Redis URL or password, no environment, and by default no
//! error messages (an event's `error` is left out unless
//! [`AdminConfig::error_messages`] says otherwise: a message may quote a caller's data).
//! Mount it behind the service's own authentication as well: the page shows the names of
//! every protected dependency.

mod auth;
mod routes;

use crate::registry::Registry;

/// The admin router's settings.
///
/// ```
/// use resilience::admin::AdminConfig;
/// let config = AdminConfig { token: Some("s3cret".into()), ..Default::default() };
/// assert!(!format!("{config:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub struct AdminConfig {
    /// The bearer token a `POST` must carry; `None`: every `POST` answers `403`.
    pub token: Option<String>,
    /// The registry shown and acted on. Default: the global one,
    /// [`registry()`](crate::registry()).
    pub registry: &'static Registry,
    /// Whether `/events` carries the error messages of retry events. Default `false`.
    pub error_messages: bool,
}

impl Default for AdminConfig {
    fn default() -> AdminConfig {
        AdminConfig {
            token: None,
            registry: crate::registry(),
            error_messages: false,
        }
    }
}

impl core::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdminConfig")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("error_messages", &self.error_messages)
            .finish_non_exhaustive()
    }
}

/// The operator's page and routes over `config.registry` (see the [module](self)).
///
/// ```
/// use resilience::admin::{router, AdminConfig};
/// let app: axum::Router = router(AdminConfig::default()); // read-only: every POST is 403
/// # drop(app);
/// ```
pub fn router(config: AdminConfig) -> axum::Router {
    routes::router(config)
}
