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

use ::reqwest::{Request, Response};
use ::reqwest_middleware::{Error, Middleware, Next};
use http::{Extensions, Method};
use tracing::Instrument;

use crate::breaker::Breaker;
use crate::classification::{ours_in, Verdict};
use crate::clock::{Clock, SystemClock};
use crate::keyed::{KeyText, Keyed};
use crate::pattern::Pattern;
use crate::registry::table::Table;
use crate::registry::Registry;
use crate::retry::engine::Attempts;
use crate::retry::nested::{in_attempt, Nested};
use crate::retry::Via;
use crate::sites::faults::draw_named;
use crate::sites::retry::NamedPolicy;
use crate::timeout::TimedOut;
use crate::{BreakerConfig, ConfigError, RetryConfig};

const TARGET: &str = "resilience::reqwest";

/// A predicate over answers, shared by the middleware's clones.
type RetryIfOk = Arc<dyn Fn(&Response) -> bool + Send + Sync>;

/// A `reqwest_middleware::Middleware` that puts each host behind its own circuit breaker
/// and retries transient failures.
///
/// - **Breakers**: one per host and port: keyed instances of the breaker `name`
///   (`"reqwest"` unless [`name`](Self::name) says otherwise) in the
///   [`registry`](Self::registry) (the global one unless told), with key `"{host}:{port}"`
///   (`registry().breaker_for(name, key)`, key from [`breaker_key`](Self::breaker_key)),
///   configured by [`breaker`](Self::breaker) or the registry. At most
///   [`max_keys`](Self::max_keys) hosts' breakers stay live, whatever their state (the
///   one whose loss changes least makes room, `docs/keys.md`), so a client calling ever
///   new hosts does not grow. A 5xx
///   answer, a connect error and a timeout (the request's own, or the deadline of a
///   `#[timeout]` around it cutting the attempt off) count as failures; every other answer
///   (a 404, a 429: the host is up) as a success; a refusal of this crate's from a
///   middleware further down (an inner breaker's `CircuitOpen`) as neither. While a
///   host's breaker is open, a request to it fails at once with `Error::Middleware`
///   holding a [`CircuitOpen`](crate::CircuitOpen), without being sent.
/// - **Retries**: of connect errors, timeouts, 5xx and 429 answers, for idempotent
///   methods only (`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS`, `TRACE`) whose body can be
///   copied, as the [`RetryConfig`] says (default: 3 attempts), through the same engine
///   as `#[retry]` and `RetryLayer`: the budget's withdrawals and deposits, adaptive
///   attempts, `max_elapsed`. A `Retry-After` header (seconds or an HTTP date) is a floor
///   under the delay; one longer than `max_retry_after` ([`max_retry_after`](Self::max_retry_after),
///   the configuration's field, default 60 s) ends the retries at once with that answer.
///   The budget and a retry policy of the middleware's name come from its registry.
/// - Events: the retries' are the engine's (target `resilience::retry`, `name`,
///   `via = "reqwest"`), inside a span `request` carrying `host`, `method` and `path`;
///   a refusal for an open breaker is a WARN with target `resilience::reqwest`, in the
///   same span.
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
    name: &'static str,
    breaker: Option<BreakerConfig>,
    retry: RetryConfig,
    /// `max_retry_after(..)`, over the retry configuration's, in whichever order set.
    max_retry_after: Option<Duration>,
    /// `nested(..)`, over the retry configuration's, in whichever order set.
    nested: Option<Nested>,
    /// `retry_if_ok(..)`: an answer the HTTP rules call a success, retried all the same.
    retry_if_ok: Option<RetryIfOk>,
    /// `max_keys(..)`, over the breaker configuration's, in whichever order set.
    max_keys: Option<usize>,
    registry: &'static Registry,
    /// The registry's keyed store of the name, found on the first request.
    store: OnceLock<Arc<Keyed<Breaker>>>,
    /// The retry policy, made on the first request (its name and registry are set by then).
    policy: OnceLock<NamedPolicy>,
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
            name: "reqwest",
            breaker: None,
            retry: RetryConfig::default(),
            max_retry_after: None,
            nested: None,
            retry_if_ok: None,
            max_keys: None,
            registry: crate::registry(),
            store: OnceLock::new(),
            policy: OnceLock::new(),
        }
    }

    /// The name of the hosts' breakers in the registry (each host a key of it), and of its
    /// retries in events, metrics and the registry's retry policies.
    ///
    /// ```
    /// use resilience::{registry, reqwest::ResilienceMiddleware};
    /// let m = ResilienceMiddleware::new().name("github");
    /// // After a request to https://api.github.com/...:
    /// let _breaker = registry().breaker_for("github", &m.breaker_key("api.github.com", 443));
    /// ```
    pub fn name(mut self, name: impl AsRef<str>) -> Self {
        self.name = crate::names::intern(name.as_ref());
        self
    }

    /// The registry the hosts' breakers, the retry budget and a retry policy of the
    /// middleware's name come from (the global one unless told).
    ///
    /// ```
    /// use resilience::{registry::Registry, reqwest::ResilienceMiddleware};
    /// use std::sync::LazyLock;
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// let m = ResilienceMiddleware::new().registry(&REG);
    /// # let _ = m;
    /// ```
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The configuration each host's breaker is registered with (a configuration the
    /// registry holds for that breaker's name wins, and a configuration file's fields lie
    /// over it), or the error naming its invalid field. A name has one configuration: when
    /// other code (an attribute, a layer, another middleware) registered the breakers of
    /// this middleware's name first with another, that one stays; this is then an error
    /// naming the first field that differs (give [`name`](Self::name) and
    /// [`registry`](Self::registry) first), and if the clash comes only later, at the
    /// first request, a WARN (target `resilience::reqwest`, once per name) says so.
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
        let table = self.registry.table::<Breaker>();
        if let Some(clash) = table.clash(self.name, |first| self.wanted(first)) {
            return Err(clash.error(<Breaker as Pattern>::KIND, self.name));
        }
        Ok(self)
    }

    /// The retry policy (its `max_retry_after` is the longest `Retry-After` waited), or
    /// the error naming its invalid field.
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
    /// It overrides the retry configuration's
    /// [`max_retry_after`](RetryConfig::max_retry_after), whether given before or after
    /// [`retry`](Self::retry).
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new().max_retry_after(std::time::Duration::ZERO);
    /// # let _ = m;
    /// ```
    pub fn max_retry_after(mut self, max: Duration) -> Self {
        self.max_retry_after = Some(max);
        self
    }

    /// Retries an answer its HTTP rules call a success (a 2xx, a 404) when `retry_if_ok`
    /// says so (a `202 Accepted` still pending), like a retryable failure, for idempotent
    /// requests: the same attempts, backoff and budget; out of attempts, the last answer
    /// is returned. It does not count against the host's breaker (the host answered).
    /// `#[retry(retry_if_ok = ..)]` for the middleware.
    ///
    /// ```
    /// let m = resilience::reqwest::ResilienceMiddleware::new()
    ///     .retry_if_ok(|res: &reqwest::Response| res.status() == 202);
    /// # let _ = m;
    /// ```
    pub fn retry_if_ok(
        mut self,
        retry_if_ok: impl Fn(&Response) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.retry_if_ok = Some(Arc::new(retry_if_ok));
        self
    }

    /// What the middleware does inside another retry's attempt (a `#[retry]` or a
    /// `RetryLayer` around the code sending the request): by default
    /// ([`Nested::Defer`]) one attempt, leaving the retrying to the outer retry, so the
    /// attempts of the two levels do not multiply; [`Nested::Independent`] retries at
    /// both levels. It overrides the retry configuration's
    /// [`nested`](RetryConfig::nested), whether given before or after
    /// [`retry`](Self::retry).
    ///
    /// ```
    /// use resilience::{reqwest::ResilienceMiddleware, retry::Nested};
    /// let m = ResilienceMiddleware::new().nested(Nested::Independent);
    /// # let _ = m;
    /// ```
    pub fn nested(mut self, nested: Nested) -> Self {
        self.nested = Some(nested);
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
        self.max_keys = Some(max_keys.max(1));
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
            let table = self.registry.table::<Breaker>();
            let store = table.keyed(self.name, self.wanted(&BreakerConfig::default()));
            if self.breaker.is_some() || self.max_keys.is_some() {
                self.warn_if_clash(&table);
            }
            store
        });
        store.get(KeyText::of(&format_args!("{host}:{port}")).as_str())
    }

    /// The configuration of the hosts' breakers this middleware asks for: what
    /// [`breaker`](Self::breaker) and [`max_keys`](Self::max_keys) say, over `base` (the
    /// defaults, or the configuration the name was first registered with).
    fn wanted(&self, base: &BreakerConfig) -> BreakerConfig {
        let config = self.breaker.clone().unwrap_or_else(|| base.clone());
        BreakerConfig {
            max_keys: self.max_keys.unwrap_or(config.max_keys),
            ..config
        }
    }

    /// A WARN, once per name, when the hosts' breakers were registered first by other
    /// code with another configuration than this middleware's (which does not apply).
    #[cold]
    fn warn_if_clash(&self, table: &Table<Breaker>) {
        if let Some(clash) = table.clash(self.name, |first| self.wanted(first)) {
            if table.report_clash(self.name) {
                tracing::warn!(
                    target: TARGET,
                    name = self.name,
                    fields = clash.fields_text(),
                    kept = ?clash.kept,
                    ignored = ?clash.given,
                    "the hosts' breakers are already registered by other code (an attribute, a layer, another middleware) with another configuration, which stays; this middleware's does not apply (give it another name, or configure the name in the registry)"
                );
            }
        }
    }

    fn policy(&self) -> &NamedPolicy {
        self.policy.get_or_init(|| {
            let mut config = self.retry.clone();
            if let Some(max) = self.max_retry_after {
                config.max_retry_after = max;
            }
            if let Some(nested) = self.nested {
                config.nested = nested;
            }
            NamedPolicy::new(self.name, Via::Reqwest, self.registry, config)
        })
    }
}

/// The middleware's HTTP rules, as the one classification: a 5xx a retryable failure
/// (503 an overload), a 429 retryable but no failure of the host (it answered), both
/// waiting at least their `Retry-After`; a connect error a retryable failure, a timeout a
/// retryable failure and an overload; an error of a middleware further down by what it
/// holds (an inner breaker's `CircuitOpen`: a refusal), else nothing to count or retry;
/// every other answer a success.
fn verdict(outcome: &Result<Response, Error>) -> Verdict {
    match outcome {
        Ok(res) => {
            let verdict = Verdict::of_status(res.status().as_u16());
            if !verdict.retryable {
                return verdict;
            }
            let retry_after = res
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            verdict.after(retry_after)
        }
        Err(Error::Reqwest(e)) if e.is_connect() => Verdict::retry().coded("CONNECT_ERROR"),
        Err(Error::Reqwest(e)) if e.is_timeout() => {
            Verdict::retry().overloaded(true).coded("TIMEOUT")
        }
        Err(Error::Reqwest(_)) => Verdict::fail().failing(false).coded("REQUEST_ERROR"),
        Err(Error::Middleware(e)) => match ours_in(Some(e.as_ref())) {
            Some(ours) => Verdict::of_marcus(ours),
            None => Verdict::fail().failing(false).coded("MIDDLEWARE_ERROR"),
        },
    }
}

/// The outcome in words, for events.
fn describe(outcome: &Result<Response, Error>, why_not: Option<&str>) -> String {
    let what = match outcome {
        Ok(res) => format!("HTTP {}", res.status()),
        Err(e) => e.to_string(),
    };
    match why_not {
        Some(why) => format!("{what}; not retried: {why}"),
        None => what,
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
        // Every event of this request (the engine's retries, a refusal) in one span
        // naming it.
        let span = tracing::info_span!(
            target: crate::retry::events::TARGET,
            "request",
            host = req.url().host_str().unwrap_or(""),
            method = %req.method(),
            path = req.url().path(),
        );
        self.run(req, extensions, next).instrument(span).await
    }
}

impl ResilienceMiddleware {
    /// The driver: an attempt through the host's breaker, its outcome told to the retry
    /// engine, the engine's delay slept.
    async fn run(
        &self,
        req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<Response> {
        let breaker = self.breaker_for(req.url()).map_err(Error::middleware)?;
        let idempotent = is_idempotent(req.method());
        let policy = self.policy().current();
        let started = policy.start();
        let mut attempts: Option<Attempts> = None;
        let mut request = req;
        loop {
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
            // No attempt outlives the deadline of a `#[timeout]` or `TimeoutLayer` around
            // the request (`crate::deadline`): a timeout of the request's own is clipped
            // to what is left. Without one, the attempt is bounded from here instead, as
            // a request timeout would replace the client's (`ClientBuilder::timeout`),
            // which may be shorter.
            let left = crate::deadline::remaining();
            let bound = match (left, request.timeout_mut()) {
                (Some(left), Some(own)) => {
                    *own = (*own).min(left);
                    None
                }
                (left, _) => left,
            };
            // The attempt runs marked: a retry inside it (another retrying middleware
            // further down) leaves the retrying to this one (`retry/nested.rs`). Faults
            // named as the middleware's breakers (feature `chaos`), inside the permit.
            let attempt = in_attempt(async {
                match draw_named::<Error, _>(self.name, self.registry, &*breaker) {
                    Ok(fault) => fault.gate(|| next.clone().run(request, extensions)).await,
                    Err(open) => Err(Error::middleware(open)),
                }
            });
            let outcome = match bound {
                None => attempt.await,
                Some(left) => match tokio::time::timeout(left, attempt).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(Error::middleware(TimedOut {
                        function: self.name,
                        limit: left,
                    })),
                },
            };
            let mut verdict = verdict(&outcome);
            if let (Ok(res), Some(retry_if_ok)) = (&outcome, &self.retry_if_ok) {
                if !verdict.failure && !verdict.retryable && retry_if_ok(res) {
                    verdict = Verdict::retry().failing(false).coded("RETRY_IF_OK");
                }
            }
            match &outcome {
                // Another middleware's error (not the host's answer, not a refusal of
                // ours, not an injected fault, which stands for the host's, not the
                // deadline cutting the attempt off, which is the host being slow):
                // nothing to count.
                Err(Error::Middleware(e))
                    if verdict.refusal.is_none()
                        && !e.is::<crate::InjectedFault>()
                        && !e.is::<TimedOut>() =>
                {
                    drop(permit)
                }
                _ => crate::sites::breaker::record(permit, &verdict),
            }
            if outcome.is_ok() && !verdict.retryable {
                policy.succeeded_at(started, attempts.as_ref());
                return outcome;
            }
            let why_not = match (&spare, idempotent) {
                (Some(_), _) => None,
                (None, true) => Some("its body is a stream that cannot be copied"),
                (None, false) => Some("its method is not idempotent"),
            };
            let verdict = if why_not.is_some() {
                verdict.retrying(false)
            } else {
                verdict
            };
            let attempts = attempts.get_or_insert_with(|| Attempts::starting(&policy));
            let elapsed = started.map(|started| SystemClock.now().saturating_sub(started));
            let message = || describe(&outcome, why_not);
            let delay = match attempts.failed(&policy, &verdict, elapsed, &message) {
                Ok(delay) => delay,
                Err(_) => return outcome,
            };
            let Some(spare) = spare else {
                return outcome;
            };
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
