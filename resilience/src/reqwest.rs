//! [`ResilienceMiddleware`] (feature `reqwest`): a circuit breaker per host and retries of
//! transient failures for a reqwest client, as a `reqwest_middleware::Middleware`.
//!
//! ```no_run
//! use resilience::{reqwest::ResilienceMiddleware, RetryConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!     .with(ResilienceMiddleware::new().retry(RetryConfig { max_attempts: 4, ..Default::default() })?)
//!     .build();
//! let board = client.get("http://127.0.0.1:8080/boards/7").send().await?;
//! # let _ = board;
//! # Ok(())
//! # }
//! ```

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use ::reqwest::{Request, Response, StatusCode};
use ::reqwest_middleware::{Error, Middleware, Next};
use http::{Extensions, Method};
use rand::rngs::SmallRng;
use rand::SeedableRng;

use crate::breaker::Breaker;
use crate::keyed::{KeyText, Keyed};
use crate::{retry_budget, BreakerConfig, ConfigError, RetryConfig};

const TARGET: &str = "resilience::reqwest";

/// A `reqwest_middleware::Middleware` that puts each host behind its own circuit breaker
/// and retries transient failures.
///
/// - **Breakers**: one per host and port: keyed instances of the breaker `name`
///   (`"reqwest"` unless [`name`](Self::name) says otherwise) in the global
///   [`registry`](crate::registry()), with key `"{host}:{port}"`
///   (`registry().breaker_for(name, key)`, key from [`breaker_key`](Self::breaker_key)),
///   configured by [`breaker`](Self::breaker) or the registry. At most
///   [`max_keys`](Self::max_keys) hosts' breakers stay live, whatever their state (the
///   one whose loss changes least makes room, `docs/keys.md`), so a client calling ever
///   new hosts does not grow. A 5xx
///   answer, a connect error and a timeout count as failures; every other answer
///   (a 404, a 429: the host is up) as a success. While a host's breaker is open, a
///   request to it fails at once with `Error::Middleware` holding a
///   [`CircuitOpen`](crate::CircuitOpen), without being sent.
/// - **Retries**: of connect errors, timeouts, 5xx and 429 answers, for idempotent
///   methods only (`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS`, `TRACE`) whose body can be
///   copied, as the [`RetryConfig`] says (default: 3 attempts). A `Retry-After` header
///   (seconds or an HTTP date) is a floor under the delay; one longer than
///   [`max_retry_after`](Self::max_retry_after) (default 60 s) ends the retries at once
///   with that answer.
/// - Each decision (retrying, giving up and why, not retrying a non-idempotent request,
///   refusing for an open breaker) is a `tracing` event with target `resilience::reqwest`.
///
/// ```
/// use resilience::reqwest::ResilienceMiddleware;
/// use std::time::Duration;
///
/// let middleware = ResilienceMiddleware::new()
///     .name("kanban-api")
///     .max_retry_after(Duration::from_secs(10));
/// assert_eq!(middleware.breaker_key("api.kanban.example", 443), "api.kanban.example:443");
/// ```
pub struct ResilienceMiddleware {
    name: String,
    breaker: Option<BreakerConfig>,
    retry: RetryConfig,
    max_retry_after: Duration,
    max_keys: usize,
    /// The registry's keyed store of the name, found on the first request.
    store: OnceLock<Arc<Keyed<Breaker>>>,
}

impl core::fmt::Debug for ResilienceMiddleware {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResilienceMiddleware")
            .field("name", &self.name)
            .field("breaker", &self.breaker)
            .field("retry", &self.retry)
            .field("max_retry_after", &self.max_retry_after)
            .field("max_keys", &self.max_keys)
            .finish_non_exhaustive()
    }
}

impl Default for ResilienceMiddleware {
    fn default() -> Self {
        ResilienceMiddleware::new()
    }
}

impl ResilienceMiddleware {
    /// The middleware with the defaults: breakers of the name `"reqwest"`, keyed by host, with
    /// the registry's (or the default) configuration, [`RetryConfig::default`], a
    /// `max_retry_after` of 60 s.
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new();
    /// assert_eq!(m.breaker_key("localhost", 80), "localhost:80");
    /// ```
    pub fn new() -> Self {
        ResilienceMiddleware {
            name: "reqwest".to_owned(),
            breaker: None,
            retry: RetryConfig::default(),
            max_retry_after: Duration::from_secs(60),
            max_keys: crate::keyed::DEFAULT_MAX_KEYS,
            store: OnceLock::new(),
        }
    }

    /// The name of the hosts' breakers in the registry (each host a key of it).
    ///
    /// ```
    /// use resilience::{registry, reqwest::ResilienceMiddleware};
    /// let m = ResilienceMiddleware::new().name("github");
    /// // After a request to https://api.github.com/...:
    /// let _breaker = registry().breaker_for("github", &m.breaker_key("api.github.com", 443));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The configuration each host's breaker is registered with (a configuration the
    /// registry holds for that breaker's name wins), or the error naming its invalid field.
    ///
    /// ```
    /// use resilience::{reqwest::ResilienceMiddleware, BreakerConfig};
    /// let err = ResilienceMiddleware::new()
    ///     .breaker(BreakerConfig { failure_threshold: 0, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "failure_threshold");
    /// ```
    pub fn breaker(mut self, config: BreakerConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        self.breaker = Some(config);
        Ok(self)
    }

    /// The retry policy, or the error naming its invalid field.
    ///
    /// ```
    /// use resilience::{reqwest::ResilienceMiddleware, RetryConfig};
    /// let err = ResilienceMiddleware::new()
    ///     .retry(RetryConfig { max_attempts: 0, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "max_attempts");
    /// ```
    pub fn retry(mut self, config: RetryConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        self.retry = config;
        Ok(self)
    }

    /// The longest `Retry-After` waited; a longer one ends the retries with its answer.
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new().max_retry_after(std::time::Duration::ZERO);
    /// # let _ = m;
    /// ```
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = max;
        self
    }

    /// At most `max_keys` hosts' breakers live (default 1024; at least 1), the
    /// `max_keys` of their `BreakerConfig`: when a new host would pass it, the breaker
    /// whose loss changes least makes room (`docs/keys.md`). The first middleware or
    /// attribute to make the name's store sets it.
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new().max_keys(64);
    /// # let _ = m;
    /// ```
    pub fn max_keys(mut self, max_keys: usize) -> Self {
        self.max_keys = max_keys.max(1);
        self
    }

    /// The key of the breaker for `host` and `port`, under this middleware's name in the
    /// registry: `registry().breaker_for(name, &key)`.
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new();
    /// assert_eq!(m.breaker_key("127.0.0.1", 8080), "127.0.0.1:8080");
    /// ```
    pub fn breaker_key(&self, host: &str, port: u16) -> String {
        format!("{host}:{port}")
    }

    /// The host's breaker (a keyed breaker store has room for any key: never `Err`).
    fn breaker_for(&self, url: &::reqwest::Url) -> Result<Arc<Breaker>, crate::CircuitOpen> {
        let host = url.host_str().unwrap_or("");
        let port = url.port_or_known_default().unwrap_or(0);
        let store = self.store.get_or_init(|| {
            let config = self.breaker.clone().unwrap_or_default();
            crate::registry().table::<Breaker>().keyed(
                &self.name,
                crate::BreakerConfig {
                    max_keys: self.max_keys,
                    ..config
                },
            )
        });
        store.get(KeyText::of(&format_args!("{host}:{port}")).as_str())
    }
}

/// What one attempt's outcome means.
enum Verdict {
    /// Return it as it is.
    Done,
    /// Transient: retry if allowed, waiting at least `retry_after`.
    Transient {
        reason: &'static str,
        retry_after: Option<Duration>,
    },
}

/// Whether an outcome counts against the host's breaker: `Some(true)` a failure,
/// `Some(false)` a success, `None` nothing (a middleware's error, not the host's).
fn breaker_failure(outcome: &Result<Response, Error>) -> Option<bool> {
    match outcome {
        Ok(res) => Some(res.status().is_server_error()),
        Err(Error::Reqwest(e)) => Some(e.is_connect() || e.is_timeout()),
        Err(_) => None,
    }
}

fn judge(outcome: &Result<Response, Error>) -> Verdict {
    match outcome {
        Ok(res)
            if res.status().is_server_error() || res.status() == StatusCode::TOO_MANY_REQUESTS =>
        {
            let retry_after = res
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            Verdict::Transient {
                reason: if res.status() == StatusCode::TOO_MANY_REQUESTS {
                    "429 too many requests"
                } else {
                    "5xx server error"
                },
                retry_after,
            }
        }
        Err(Error::Reqwest(e)) if e.is_connect() => Verdict::Transient {
            reason: "connect error",
            retry_after: None,
        },
        Err(Error::Reqwest(e)) if e.is_timeout() => Verdict::Transient {
            reason: "timeout",
            retry_after: None,
        },
        _ => Verdict::Done,
    }
}

/// Whether retrying `method` is safe: the idempotent methods of RFC 9110, section 9.2.2.
///
/// ```
/// use http::Method;
/// use resilience::reqwest::is_idempotent;
/// assert!(is_idempotent(&Method::GET) && is_idempotent(&Method::PUT));
/// assert!(!is_idempotent(&Method::POST) && !is_idempotent(&Method::PATCH));
/// ```
pub fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// A `Retry-After` header's wait from `now`: delay-seconds (`"120"`) or an HTTP date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`, a date past giving zero). `None` when it is
/// neither.
///
/// ```
/// use resilience::reqwest::parse_retry_after;
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// let now = UNIX_EPOCH + Duration::from_secs(1_445_412_470); // 07:27:50 GMT
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Absurdly long digit strings saturate rather than fail.
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[async_trait::async_trait]
impl Middleware for ResilienceMiddleware {
    async fn handle(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let breaker = self.breaker_for(req.url()).map_err(Error::middleware)?;
        let idempotent = is_idempotent(req.method());
        let started = tokio::time::Instant::now();
        let mut schedule = None;
        let mut attempt = 0u32;
        let mut request = req;
        loop {
            attempt += 1;
            // A copy for a retry, when the method allows one and the body can be copied.
            let spare = if idempotent {
                request.try_clone()
            } else {
                None
            };
            let permit = match breaker.acquire() {
                Ok(permit) => permit,
                Err(open) => {
                    tracing::warn!(target: TARGET, breaker = open.name, url = %request.url(), "refused: the host's breaker is open");
                    return Err(Error::middleware(open));
                }
            };
            let outcome = next.clone().run(request, extensions).await;
            match breaker_failure(&outcome) {
                Some(true) => permit.record_failure(),
                Some(false) => permit.record_success(),
                None => drop(permit),
            }
            let Verdict::Transient {
                reason,
                retry_after,
            } = judge(&outcome)
            else {
                return outcome;
            };
            let Some(spare) = spare else {
                let why = if idempotent {
                    "its body is a stream that cannot be copied"
                } else {
                    "its method is not idempotent"
                };
                tracing::info!(target: TARGET, reason, attempt, why, "not retried");
                return outcome;
            };
            if let Some(wait) = retry_after.filter(|w| *w > self.max_retry_after) {
                tracing::warn!(
                    target: TARGET,
                    reason,
                    attempt,
                    retry_after_s = wait.as_secs(),
                    max_retry_after_s = self.max_retry_after.as_secs(),
                    "giving up: Retry-After is longer than max_retry_after"
                );
                return outcome;
            }
            let schedule =
                schedule.get_or_insert_with(|| self.retry.schedule(SmallRng::from_os_rng()));
            let delay = match schedule.next_delay(started.elapsed(), retry_after) {
                Ok(delay) => delay,
                Err(give_up) => {
                    tracing::warn!(target: TARGET, reason, attempt, why = give_up.as_str(), "giving up");
                    return outcome;
                }
            };
            if let Some(budget) = self.retry.budget.as_deref() {
                if !retry_budget(budget).try_withdraw() {
                    tracing::warn!(target: TARGET, reason, attempt, why = "budget empty", "giving up");
                    return outcome;
                }
            }
            tracing::info!(
                target: TARGET,
                reason,
                attempt,
                delay_ms = delay.as_millis() as u64,
                retry_after_ms = retry_after.map(|d| d.as_millis() as u64),
                "retrying"
            );
            drop(outcome);
            tokio::time::sleep(delay).await;
            request = spare;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_470);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(10))
        );
        // A date already past: no wait.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["", "-1", "1.5", "tomorrow", "Wed, 21 Oct 2015"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn only_idempotent_methods_are_retried() {
        for m in [
            Method::GET,
            Method::HEAD,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
            Method::TRACE,
        ] {
            assert!(is_idempotent(&m), "{m}");
        }
        for m in [Method::POST, Method::PATCH, Method::CONNECT] {
            assert!(!is_idempotent(&m), "{m}");
        }
    }
}
