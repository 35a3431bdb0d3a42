//! Procedural macros of the [`resilience`](https://docs.rs/resilience) crate.
//!
//! Depend on `resilience`, which re-exports these; the generated code calls its runtime.
//! Each entry point here is thin: argument parsing lives in one module per attribute,
//! function rewriting in `rewrite`, and the derive in `derive/`.

use proc_macro::TokenStream;

mod args;
mod derive;
mod rewrite;

/// Retries a function that returns `Result` when it fails: `#[retry(max_attempts = 3,
/// backoff = exponential(base = 100ms, factor = 2.0, max = 5s))]`.
///
/// See the `resilience` crate's documentation of `retry` for every key.
#[proc_macro_attribute]
pub fn retry(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::Retry, args.into(), item.into()).into()
}

/// Guards a function with a circuit breaker from the global registry:
/// `#[circuit_breaker(name = "kanban", failure_threshold = 5, recovery_timeout = 30s)]`.
///
/// See the `resilience` crate's documentation of `circuit_breaker` for every key.
#[proc_macro_attribute]
pub fn circuit_breaker(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::CircuitBreaker, args.into(), item.into()).into()
}

/// Calls another function with the same arguments when this one fails:
/// `#[fallback(cached_board)]`, `#[fallback(f, g)]`, `#[fallback(f, with_error)]`.
#[proc_macro_attribute]
pub fn fallback(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::Fallback, args.into(), item.into()).into()
}

/// Fills the error's context on failure: `#[error_context("fetch_board", agent_id = agent)]`.
#[proc_macro_attribute]
pub fn error_context(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::ErrorContext, args.into(), item.into()).into()
}

/// `#[retry]` written before `#[circuit_breaker]`, in one attribute taking the keys of
/// both: `#[resilient(max_attempts = 3, failure_threshold = 5, name = "kanban")]`.
#[proc_macro_attribute]
pub fn resilient(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::Resilient, args.into(), item.into()).into()
}

/// Cuts an `async fn` off after a duration: `#[timeout(5s)]` returns
/// `Err(E::from(resilience::TimedOut { .. }))` when the call takes longer.
#[proc_macro_attribute]
pub fn timeout(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::Timeout, args.into(), item.into()).into()
}

/// Hedges an `async fn`: `#[hedge(delay = 50ms, max_hedges = 1)]` starts another run of
/// the body beside the first when no answer has come within `delay`, and returns the
/// first `Ok`, dropping the other runs.
///
/// See the `resilience` crate's documentation of `hedge` for every key.
#[proc_macro_attribute]
pub fn hedge(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::Hedge, args.into(), item.into()).into()
}

/// Puts a function behind a feature switch of `resilience::degradation()`:
/// `#[feature_switch("recommendations")]`. While the feature is disabled the function
/// returns `Ok` of the feature's registered fallback value without running; while
/// enabled, its failures are reported, and enough in a row disable the feature.
#[proc_macro_attribute]
pub fn feature_switch(args: TokenStream, item: TokenStream) -> TokenStream {
    rewrite::expand(rewrite::Kind::FeatureSwitch, args.into(), item.into()).into()
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
    let input = syn::parse_macro_input!(item as syn::DeriveInput);
    derive::derive(input).into()
}
