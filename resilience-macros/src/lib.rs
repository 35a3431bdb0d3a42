//! Procedural macros of the [`resilience`](https://docs.rs/resilience) crate.
//!
//! Depend on `resilience`, which re-exports these; the generated code calls its runtime.
//! Each entry point here is thin: argument parsing lives in one module per attribute,
//! function rewriting in `rewrite`, and the derive in `derive/`.

use proc_macro::TokenStream;

mod args;
mod derive;
#[cfg(test)]
mod doc_tables;
mod errors;
mod rewrite;

/// Retries a function that returns `Result` when it fails: `#[retry(max_attempts = 3,
/// backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]`.
///
/// ```
/// use resilience::{retry, MarcusError};
///
/// #[derive(Debug, thiserror::Error, MarcusError)]
/// #[error("the board service timed out")]
/// #[marcus(category = transient)]
/// struct Timeout;
///
/// #[retry(max_attempts = 3, backoff = none)]
/// fn fetch(calls: &mut u32) -> Result<u32, Timeout> {
///     *calls += 1;
///     if *calls < 3 { Err(Timeout) } else { Ok(*calls) }
/// }
///
/// let mut calls = 0;
/// assert_eq!(fetch(&mut calls).unwrap(), 3);
/// ```
///
/// | key | meaning | default |
/// |---|---|---|
/// | `max_attempts = N` | calls in all, the first included | 3 |
/// | `backoff = none \| fixed(D) \| linear(base = D, step = D) \| exponential(base = D, factor = F, max = D)` | delay before attempt 2, 3, … | `exponential(base = 1s, factor = 2.0, max = 60s)` |
/// | `jitter = none \| full \| equal \| decorrelated \| spread(F)` | randomisation of each delay | `spread(0.5)` (50–150 %) |
/// | `max_elapsed = D` | no new attempt once this much time has passed | none |
/// | `max_retry_after = D` | the longest `retry_after()` waited; a longer one ends the retries at once with that error | 60s |
/// | `retry_if = path` | `fn(&E) -> bool`: whether an error is retried | see below |
/// | `retry_if_ok = path` | `fn(&T) -> bool`: an `Ok` to retry like an error; out of attempts the last `Ok` is returned | none |
/// | `on_retry = path` | `fn(&E, attempt: u32, delay: Duration)`, called before each sleep | none |
/// | `budget = "name"` | draw retries from a shared token bucket (`resilience::retry_budget("name")`) | none |
/// | `adaptive = true` | attempts adapt to recent outcomes (`resilience::retry::adapted_max_attempts`) | off |
/// | `policy = "name"` | the configuration of `registry().configure_retry("name", ..)`, these keys being its defaults | none |
/// | `registry = STATIC` | whose policies and budgets to use: a `static` holding a `Registry` (`static REG: LazyLock<Registry> = LazyLock::new(Registry::new)`), as tests use to stay apart | the global `registry()` |
///
/// Durations are suffixed literals (`250ms`, `2s`, `1.5s`, `5m`; units `ns us ms s m
/// h`) or any expression of type `std::time::Duration`.
///
/// Without `retry_if`, an error type that implements `MarcusError` is retried only if
/// `retryable()`, and its `retry_after()` is waited (never shortened by the backoff) up
/// to `max_retry_after`. Any other error type is classified by `resilience::classify`: a
/// "404" or "401" is not retried, an unknown error is. An error seen through `dyn Error`
/// (`anyhow::Error`, `Box<dyn Error + Send + Sync>`, a `source()` chain) that holds one
/// of the crate's errors (`CircuitOpen`, `TimedOut`, the `resilience::errors` types)
/// decides by it: an open breaker's refusal is not retried. After the last attempt the
/// last error is returned, its context's `attempt` saying how many calls were made.
///
/// The body runs again on every attempt, so it may not move what it does not own anew
/// each time: an argument taken by value and moved in the body (`consume(message)`) is
/// rustc's E0382 "value moved here, in previous iteration of loop", the loop being the
/// retry; move a clone (`consume(message.clone())`) or take the argument by reference.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_retry(args.into(), item.into()).into()
}

/// Guards a function with a circuit breaker from the global registry:
/// `#[circuit_breaker(name = "kanban", failure_threshold = 5, recovery_timeout = 30s)]`.
///
/// ```
/// use resilience::{circuit_breaker, CircuitOpen};
///
/// #[derive(Debug, thiserror::Error)]
/// enum BoardError {
///     #[error("the board service failed")]
///     Down,
///     #[error(transparent)]
///     Open(#[from] CircuitOpen),
/// }
///
/// #[circuit_breaker(name = "docs.kanban", failure_threshold = 2)]
/// fn fetch(up: bool) -> Result<u32, BoardError> {
///     if up { Ok(1) } else { Err(BoardError::Down) }
/// }
///
/// assert!(fetch(false).is_err());
/// assert!(fetch(false).is_err());
/// assert!(matches!(fetch(true), Err(BoardError::Open(_)))); // open: the body did not run
/// ```
///
/// | key | meaning | default |
/// |---|---|---|
/// | `name = "..."` | breakers with one name share one state, in the global registry | the function's module path, its `Self` type for a method, and its name (`app::client::Payments::fetch`) |
/// | `failure_threshold = N` | consecutive failures that open it | 5 |
/// | `success_threshold = N` | successes in half-open that close it | 2 |
/// | `recovery_timeout = D` | time open before a trial call is let through | 60s |
/// | `half_open_max_calls = N` | trial calls at once in half-open | 1 |
/// | `window = D, max_failures_per_window = N` | also open on N failures within the window | off |
/// | `failure_rate = P, minimum_calls = N, window_size = N` | open when P % of the last `window_size` calls (at least `minimum_calls`) failed | off |
/// | `slow_call = D, slow_call_rate = P` | open when P % of the window were slower than D | off |
/// | `rate_window = D` | the rates over the calls of the last D (1s ..= 24h; a time window of 64 slices) instead of the last `window_size` calls; not with `window_size` | off |
/// | `recovery_factor = F` | each failed half-open trial keeps it open F (at least 1) times longer than the last; a closing starts again at `recovery_timeout` | 1 |
/// | `max_recovery_timeout = D` | with `recovery_factor` above 1: the longest open period (at least `recovery_timeout`) | none |
/// | `record_if = path` | `fn(&E) -> bool`: which errors count as failures | a dependency's faults (transient, integration and system tiers, timeouts, foreign errors nothing is known about); not business-logic, configuration or security errors; never this crate's own refusals from layers inside (`RateLimited`, `BulkheadFull`, `Overloaded`, an inner breaker's `CircuitOpen`), which count as neither success nor failure |
/// | `parent = "name"` | also refuse while that breaker (or an ancestor) is open within its recovery timeout, or forced open | none |
/// | `key = expr` | one breaker per distinct key value (`expr` is `Display`, evaluated before the call); `registry().breaker_for(name, key)` finds one | none |
/// | `max_keys = N` | at most N keys live per name, whatever their state; a new key takes the place of the breaker whose loss changes least (`docs/keys.md`) | 1024 |
/// | `scope = local \| cluster` | `cluster`: the breaker's openings are shared through Redis (feature `redis`, after `resilience::cluster::connect`) | `local` |
/// | `quorum = N` | with `scope = cluster`: distinct live instances that must have it open before it opens everywhere | 1 |
/// | `registry = STATIC` | the registry the breaker lives in: a `static` holding a `Registry` (`LazyLock<Registry>`, made with `Registry::with_clock` to test recovery on a `ManualClock`) | the global `registry()` |
///
/// While open, the function returns `Err(E::from(resilience::CircuitOpen { .. }))` at
/// once without running its body; an `E` without `From<CircuitOpen>` is a compile error
/// that says what to add. Registry configuration (`registry().configure(name, ..)`) wins
/// over these values. A method's default name carries its `Self` type; a generic `Self`
/// is named without its arguments, all its instantiations sharing one breaker. Two call
/// sites naming one breaker with different keys: the first configuration stays (or the
/// registry's), and a `tracing` WARN names both sites once.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_circuit_breaker(args.into(), item.into()).into()
}

/// Calls another function with the same arguments when this one fails:
/// `#[fallback(cached_board)]`, `#[fallback(f, g)]`, `#[fallback(f, with_error)]`.
///
/// ```
/// use resilience::fallback;
///
/// fn cached(id: u32) -> Result<String, std::io::Error> {
///     Ok(format!("cached {id}"))
/// }
///
/// #[fallback(cached)]
/// fn live(id: u32) -> Result<String, std::io::Error> {
///     Err(std::io::Error::other(format!("board {id} is down")))
/// }
///
/// assert_eq!(live(7).unwrap(), "cached 7");
/// ```
///
/// | argument | meaning |
/// |---|---|
/// | `f` (a path) | on `Err`, call `f` with the same arguments (`Self::f` in a method) and return its result; several are tried in order |
/// | `with_error` | also pass the error, by value, as the last argument |
/// | `cached` | when every fallback failed too, return the call site's last successful value (`T: Clone`) |
///
/// The fallback of an `async fn` is an `async fn`. A fallback whose signature does not
/// fit is a compile error at its name. An answer from a fallback marks the failed call's
/// monitor records `recovered`.
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_fallback(args.into(), item.into()).into()
}

/// Fills the error's context on failure: `#[error_context("fetch_board", agent_id = agent)]`.
///
/// ```
/// use resilience::{error_context, ErrorContext, MarcusError};
///
/// #[derive(Debug, thiserror::Error, MarcusError)]
/// #[error("the board is gone")]
/// #[marcus(category = business_logic)]
/// struct Gone {
///     #[context]
///     ctx: ErrorContext,
/// }
///
/// #[error_context("fetch_board", agent_id = agent, board = id)]
/// fn fetch(agent: &str, id: u32) -> Result<(), Gone> {
///     Err(Gone { ctx: ErrorContext::new() })
/// }
///
/// let ctx = fetch("agent-1", 7).unwrap_err().ctx;
/// assert_eq!((ctx.operation.as_str(), ctx.agent_id.as_deref()), ("fetch_board", Some("agent-1")));
/// assert_eq!(ctx.custom["board"], 7);
/// ```
///
/// | argument | meaning |
/// |---|---|
/// | `"operation"` (first, required) | the context's `operation`, if the error has none |
/// | `agent_id = expr`, `task_id = expr`, `integration_name = expr` | those fields (any `ToString`) |
/// | `key = expr` (any other key) | `custom[key]`, through serde |
///
/// The expressions are evaluated only on failure. Scopes nest: errors raised inside one
/// outer scope share its `correlation_id`, on threads and across `.await`. An error is
/// filled only if it has a context slot, a `#[context] ctx: ErrorContext` field; a
/// `#[from]` variant cannot have one (thiserror allows no other field), so write it as
/// `Io { #[source] source: io::Error, #[context] ctx: ErrorContext }` with a hand-written
/// `From`. An error without a slot is left as it is, but the scope's operation, ids and
/// keys still reach its monitor record and a DEBUG event of target `resilience::context`.
#[proc_macro_attribute]
pub fn error_context(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_error_context(args.into(), item.into()).into()
}

/// `#[retry]` written before `#[circuit_breaker]`, in one attribute taking the keys of
/// both: `#[resilient(max_attempts = 3, failure_threshold = 5, name = "kanban")]`.
///
/// ```
/// use resilience::{resilient, CircuitOpen};
///
/// #[derive(Debug, thiserror::Error)]
/// enum SyncError {
///     #[error("the upstream timed out")]
///     Timeout,
///     #[error(transparent)]
///     Open(#[from] CircuitOpen),
/// }
///
/// #[resilient(max_attempts = 2, backoff = none, name = "docs.resilient", failure_threshold = 5)]
/// fn sync(calls: &mut u32) -> Result<(), SyncError> {
///     *calls += 1;
///     if *calls < 2 { Err(SyncError::Timeout) } else { Ok(()) }
/// }
///
/// let mut calls = 0;
/// sync(&mut calls).unwrap();
/// assert_eq!(calls, 2);
/// ```
///
/// Its keys are those of [`retry`](macro@retry) (`max_attempts`, `backoff`, `jitter`,
/// `max_elapsed`, `max_retry_after`, `retry_if`, `retry_if_ok`, `on_retry`, `budget`, `adaptive`,
/// `policy`, `registry`: every layer lives in that registry) and of
/// [`circuit_breaker`](macro@circuit_breaker) (`name`,
/// `failure_threshold`, `success_threshold`, `recovery_timeout`, `recovery_factor`,
/// `max_recovery_timeout`, `half_open_max_calls`, `window`, `max_failures_per_window`,
/// `failure_rate`, `minimum_calls`, `window_size`, `rate_window`, `slow_call`,
/// `slow_call_rate`, `record_if`, `parent`, `key`, `max_keys`, `scope`, `quorum`), of
/// [`rate_limit`](macro@rate_limit) (`limit`, `per`, `burst`, `max_delay`,
/// `expected_instances`; `scope` applies to the rate limit too), of
/// [`bulkhead`](macro@bulkhead) (`max_concurrent`, `max_wait`) and `timeout = D`, with the
/// same meanings and defaults as in their tables. Its layers, outermost first: retry,
/// circuit breaker, rate limit, bulkhead, timeout (each only when one of its keys is given).
#[proc_macro_attribute]
pub fn resilient(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_resilient(args.into(), item.into()).into()
}

/// Cuts an `async fn` off after a duration: `#[timeout(5s)]` returns
/// `Err(E::from(resilience::TimedOut { .. }))` when the call takes longer.
///
/// ```
/// use resilience::{timeout, TimedOut};
/// use std::time::Duration;
///
/// #[derive(Debug, thiserror::Error)]
/// enum CallError {
///     #[error(transparent)]
///     TimedOut(#[from] TimedOut),
/// }
///
/// #[timeout(10ms)]
/// async fn fetch() -> Result<(), CallError> {
///     Ok(())
/// }
///
/// #[timeout(Duration::from_millis(250))] // any `Duration` expression
/// async fn store() -> Result<(), CallError> {
///     Ok(())
/// }
/// ```
///
/// | argument | meaning |
/// |---|---|
/// | `D` (a duration literal or expression, required) | the limit; past it the call's future is dropped |
///
/// Only an `async fn` (a running sync call cannot be cut off). `TimedOut` is a transient,
/// retryable `MarcusError`, so a `#[retry]` written before `#[timeout]` retries it.
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_timeout(args.into(), item.into()).into()
}

/// An adaptive concurrency limit: `#[adaptive_limit(name = "search", algorithm =
/// gradient2, min_limit = 2, max_limit = 200, max_wait = 50ms, priority = p)]` lets as
/// many calls of the name run at once as the dependency's latency and drops say it
/// takes, and returns `Err(E::from(resilience::Overloaded { .. }))` for a call over the
/// limit that found no place within `max_wait`. Keys: `name`, `algorithm` (`vegas`,
/// `gradient2`, `aimd`), `min_limit`, `max_limit`, `initial_limit`, `max_wait`,
/// `priority` (an expression of type `resilience::Priority`), `backoff_ratio` (AIMD's),
/// `scope = local` (the only scope: a concurrency limit is per process), and
/// `registry = STATIC`.
#[proc_macro_attribute]
pub fn adaptive_limit(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_adaptive_limit(args.into(), item.into()).into()
}

/// Limits the calls of a function running at once: `#[bulkhead(max_concurrent = 10,
/// max_wait = 100ms)]` returns `Err(E::from(resilience::BulkheadFull { .. }))` when no
/// place frees in time. Keys: `max_concurrent`, `max_wait`, `name`, `key`, `max_keys`,
/// and `registry = STATIC` (the registry it lives in, a `static` holding a `Registry`;
/// the global `registry()` by default).
#[proc_macro_attribute]
pub fn bulkhead(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_bulkhead(args.into(), item.into()).into()
}

/// Limits the rate of a function's calls: `#[rate_limit(limit = 100, per = 1s, burst =
/// 20)]` returns `Err(E::from(resilience::RateLimited { .. }))` for a call over the rate.
/// Keys: `limit`, `per`, `burst`, `max_delay`, `name`, `key`, `max_keys`, `scope` and
/// `expected_instances`, and `registry = STATIC` (the registry it lives in, a `static`
/// holding a `Registry`; the global `registry()` by default).
///
/// `scope = cluster` (default `scope = local`; feature `redis` of `resilience`, an
/// `async fn` without `key` or `max_delay`): one limit shared by every instance connected
/// to the cluster's Redis, each admission decided there (`resilience::cluster`), as in
/// `#[rate_limit(name = "openai", limit = 500, per = 1m, scope = cluster)]`. While Redis
/// is unreachable each instance admits `limit / expected_instances` (default 1) calls per
/// `per` locally; before `cluster::connect`, or without the feature, the local limiter
/// decides, and says so once (a WARN).
///
/// `cost = expr` (an unsigned integer, evaluated per call, may use the arguments): the
/// call takes `expr` units of the limit (tokens per minute), as in
/// `#[rate_limit(name = "llm", limit = 90000, per = 1m, cost = tokens)]`; a cost above the
/// burst is refused at once and is not retryable (see `docs/rate-limit.md`).
#[proc_macro_attribute]
pub fn rate_limit(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_rate_limit(args.into(), item.into()).into()
}

/// Hedges an `async fn`: `#[hedge(delay = 50ms, max_hedges = 1)]` starts another run of
/// the body beside the first when no answer has come within `delay`, and returns the
/// first `Ok`, dropping the other runs.
///
/// See the `resilience` crate's documentation of `hedge` for every key (`delay`,
/// `max_hedges`, `name`, `registry`).
#[proc_macro_attribute]
pub fn hedge(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_hedge(args.into(), item.into()).into()
}

/// Puts a function behind a feature switch of `resilience::degradation()`:
/// `#[feature_switch("recommendations")]`. While the feature is disabled the function
/// returns `Ok` of the feature's registered fallback value without running; while
/// enabled, a failing call returns `Ok` of the fallback value too (as the reference's
/// `execute_if_enabled`; the error is returned only when no fallback of the function's
/// `Ok` type is registered), and its failures are counted: enough in a row disable the
/// feature.
///
/// ```
/// use resilience::{degradation, feature_switch};
///
/// #[feature_switch("docs.recommendations")]
/// fn recommendations(user: u32) -> Result<Vec<String>, std::io::Error> {
///     Ok(vec![format!("for {user}")])
/// }
///
/// degradation().register("docs.recommendations", vec!["popular".to_string()]);
/// assert_eq!(recommendations(1).unwrap(), ["for 1"]);
/// degradation().disable("docs.recommendations");
/// assert_eq!(recommendations(1).unwrap(), ["popular"]);
/// ```
///
/// | argument | meaning |
/// |---|---|
/// | `"name"` (required) | the feature of `resilience::degradation()`; its fallback value is registered there, of the function's `Ok` type |
#[proc_macro_attribute]
pub fn feature_switch(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_feature_switch(args.into(), item.into()).into()
}

/// Derives [`MarcusError`](https://docs.rs/resilience/latest/resilience/trait.MarcusError.html):
/// codes, category, severity, retryability, retry delay, remediation and context.
///
/// ```
/// use std::time::Duration;
/// use resilience::{Category, ErrorContext, MarcusError, Severity};
///
/// #[derive(Debug, thiserror::Error, MarcusError)]
/// #[marcus(category = integration)]                 // defaults for every variant
/// enum KanbanError {
///     #[error("board {board} timed out")]
///     #[marcus(category = transient, severity = medium,
///              remediation(immediate = "Retry with backoff",
///                          fallback = "Create the task locally and sync later"))]
///     Timeout { board: String, #[context] ctx: ErrorContext },
///
///     #[error("rate limited")]
///     #[marcus(code = "KANBAN_RATE_LIMITED", category = transient, retry_after = wait)]
///     RateLimited { wait: Duration },
///
///     #[error("bad credentials")]
///     #[marcus(category = configuration, severity = high)]
///     Auth,
///
///     #[error("the board service failed")]
///     #[marcus(retryable = false)]
///     Upstream,
/// }
///
/// let e = KanbanError::Timeout { board: "b1".into(), ctx: ErrorContext::new() };
/// assert_eq!(e.code(), "KANBAN_ERROR_TIMEOUT");
/// assert_eq!(e.category(), Category::Transient);
/// assert!(e.retryable());
/// assert_eq!(e.remediation().immediate.as_deref(), Some("Retry with backoff"));
/// assert!(e.context().is_some());
///
/// let limited = KanbanError::RateLimited { wait: Duration::from_secs(30) };
/// assert_eq!(limited.code(), "KANBAN_RATE_LIMITED");
/// assert_eq!(limited.retry_after(), Some(Duration::from_secs(30)));
///
/// assert_eq!(KanbanError::Auth.severity(), Severity::High);
/// assert!(!KanbanError::Auth.retryable());
/// assert_eq!(KanbanError::Upstream.category(), Category::Integration);
/// assert!(!KanbanError::Upstream.retryable());
/// ```
///
/// # Keys of `#[marcus(...)]`
///
/// On a variant, or on a struct:
///
/// | key | meaning | default |
/// |---|---|---|
/// | `code = "..."` | the stable code, SCREAMING_SNAKE_CASE | see below |
/// | `category = name` | `transient`, `configuration`, `business_logic`, `integration`, `security` or `system` | the enum's; required if it has none |
/// | `severity = name` | `low`, `medium`, `high` or `critical` | the enum's, else the category's |
/// | `retryable`, `retryable = bool` | whether retrying may help | the enum's, else the category's (transient and integration: yes) |
/// | `retry_after = field` | a `Duration` or `Option<Duration>` field holding the delay (`retry_after = 0` for a tuple field) | none |
/// | `remediation(immediate = "..", fallback = "..", retry = "..", long_term = "..", escalation = "..")` | advice; fields not given come from the enum's `remediation(...)`, then from `Remediation::for_category` | the category's advice |
/// | `transparent` | the one field is a `MarcusError` that answers every method | off |
///
/// On the enum, `category`, `severity`, `retryable` and `remediation(...)` give the
/// defaults of its variants; a variant's own keys win, key by key.
///
/// A `#[context]` field, of type `ErrorContext` or `Box<ErrorContext>`, is what
/// `context()` and `context_mut()` return, and where `#[error_context]` and `#[retry]`
/// write; without one they return `None`.
///
/// # Default codes
///
/// Names are split into words at case changes, an acronym staying one word (`AIProvider`
/// is `AI_PROVIDER`, `Http2Error` is `HTTP2_ERROR`), and written in SCREAMING_SNAKE_CASE:
///
/// - a variant's code is the enum's name and the variant's: `KanbanError::Timeout` is
///   `KANBAN_ERROR_TIMEOUT`;
/// - a struct's code is its name followed by `_ERROR`, unless it ends so already:
///   `NetworkTimeout` is `NETWORK_TIMEOUT_ERROR`, `DiskError` is `DISK_ERROR`.
///
/// Two variants with the same code, given or default, are a compile error.
///
/// # Delegation
///
/// A variant marked `#[marcus(transparent)]`, and a variant whose `#[from]` field (the
/// attribute of `thiserror`) is itself a `MarcusError`, answers every method with that
/// field's answer: code, category, severity, retry advice, remediation, context and type
/// name. A `#[from]` field that is not a `MarcusError` (a `std::io::Error`) leaves the
/// variant its own keys and defaults; it then needs a category like any other variant.
///
/// ```
/// use resilience::{Category, MarcusError};
///
/// #[derive(Debug, thiserror::Error, MarcusError)]
/// #[error("the vault is sealed")]
/// #[marcus(category = security)]
/// struct VaultSealed;
///
/// #[derive(Debug, thiserror::Error, MarcusError)]
/// #[marcus(category = system)]
/// enum AppError {
///     #[error(transparent)]
///     Vault(#[from] VaultSealed),
///     #[error("i/o failed")]
///     Io(#[from] std::io::Error),
/// }
///
/// assert_eq!(AppError::from(VaultSealed).code(), "VAULT_SEALED_ERROR");
/// assert_eq!(AppError::from(VaultSealed).category(), Category::Security);
/// let io = AppError::from(std::io::Error::other("disk"));
/// assert_eq!((io.code(), io.category()), ("APP_ERROR_IO", Category::System));
/// ```
///
/// Generic enums and structs keep their parameters and where-clauses; the impl requires
/// the type to be a `std::error::Error` and each generic transparent field a
/// `MarcusError`.
#[proc_macro_derive(MarcusError, attributes(marcus, context))]
pub fn derive_marcus_error(item: TokenStream) -> TokenStream {
    expand_derive_marcus_error(item.into()).into()
}

// What each entry point expands to, on `proc_macro2` tokens, so the expansion snapshots
// (`snapshots.rs`, cases in `tests/expand/`) run outside the compiler.

type Tokens = proc_macro2::TokenStream;

pub(crate) fn expand_retry(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Retry, attr, item)
}

pub(crate) fn expand_circuit_breaker(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::CircuitBreaker, attr, item)
}

pub(crate) fn expand_fallback(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Fallback, attr, item)
}

pub(crate) fn expand_error_context(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::ErrorContext, attr, item)
}

pub(crate) fn expand_resilient(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Resilient, attr, item)
}

pub(crate) fn expand_timeout(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Timeout, attr, item)
}

pub(crate) fn expand_feature_switch(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::FeatureSwitch, attr, item)
}

pub(crate) fn expand_bulkhead(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Bulkhead, attr, item)
}

pub(crate) fn expand_rate_limit(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::RateLimit, attr, item)
}

pub(crate) fn expand_adaptive_limit(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::AdaptiveLimit, attr, item)
}

pub(crate) fn expand_hedge(attr: Tokens, item: Tokens) -> Tokens {
    rewrite::expand(rewrite::Kind::Hedge, attr, item)
}

pub(crate) fn expand_derive_marcus_error(item: Tokens) -> Tokens {
    match syn::parse2::<syn::DeriveInput>(item) {
        Ok(input) => derive::derive(input),
        Err(error) => error.to_compile_error(),
    }
}

/// The expansion function of the attribute written `name` (the last segment of its
/// path), or `None` when it is not one of ours. One line per attribute: a new attribute
/// adds its own here, and snapshot cases using it work.
#[cfg(test)]
pub(crate) fn expander(name: &str) -> Option<fn(Tokens, Tokens) -> Tokens> {
    Some(match name {
        "retry" => expand_retry,
        "circuit_breaker" => expand_circuit_breaker,
        "fallback" => expand_fallback,
        "error_context" => expand_error_context,
        "resilient" => expand_resilient,
        "timeout" => expand_timeout,
        "feature_switch" => expand_feature_switch,
        "bulkhead" => expand_bulkhead,
        "rate_limit" => expand_rate_limit,
        "hedge" => expand_hedge,
        "adaptive_limit" => expand_adaptive_limit,
        _ => return None,
    })
}

#[cfg(test)]
mod snapshots;
