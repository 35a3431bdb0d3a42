//! Fault tolerance as one attribute.
//!
//! `resilience` gives sync and async functions retries, circuit breakers, fallbacks and
//! structured error context by an attribute, without changing their signatures, and
//! gives errors a code, a tier, a severity and remediation by a derive.
//!
//! ```
//! use resilience::{retry, MarcusError};
//!
//! #[derive(Debug, thiserror::Error, MarcusError)]
//! enum FetchError {
//!     #[error("the upstream timed out")]
//!     #[marcus(category = transient)]
//!     Timeout,
//! }
//!
//! #[retry(max_attempts = 3, backoff = none)]
//! fn fetch(calls: &mut u32) -> Result<u32, FetchError> {
//!     *calls += 1;
//!     if *calls < 3 { Err(FetchError::Timeout) } else { Ok(*calls) }
//! }
//!
//! let mut calls = 0;
//! assert_eq!(fetch(&mut calls).unwrap(), 3);
//! ```
//!
//! The modules, one concept each: [`error`] (the model), [`errors`] (ready-made types),
//! [`retry`](mod@retry), [`breaker`], [`registry`](mod@registry), [`fallback`](mod@fallback),
//! [`context`], [`monitor`](mod@monitor), [`hedge`](mod@hedge), and [`clock`] (the one
//! source of time).
#![warn(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

// The derive and the attributes name paths from `::resilience`; this lets the crate use
// them on its own types.
extern crate self as resilience;

pub mod adaptive_limit;
#[cfg(feature = "admin")]
pub mod admin;
#[cfg(feature = "axum")]
pub mod axum;
pub mod breaker;
pub mod bulkhead;
#[cfg(feature = "chaos")]
pub mod chaos;
pub mod classification;
pub mod clock;
#[cfg(feature = "redis")]
pub mod cluster;
#[cfg(feature = "config")]
pub mod config;
mod config_error;
pub mod context;
pub mod deadline;
pub mod degradation;
mod duration_serde;
pub mod error;
pub mod errors;
pub mod events;
pub mod fallback;
mod health;
pub mod hedge;
mod injected_fault;
mod keyed;
pub mod metrics;
pub mod monitor;
mod names;
mod pattern;
mod question;
pub mod rate_limit;
pub mod recovery;
mod refusals;
pub mod registry;
#[cfg(feature = "reqwest")]
pub mod reqwest;
pub mod retry;
mod scope;
mod scope_warning;
mod site_name;
mod sites;
mod sync;
pub mod timeout;
#[cfg(feature = "tower")]
pub mod tower;
mod view;

#[doc(hidden)]
pub mod __private;

pub use adaptive_limit::{AdaptiveLimitConfig, Overloaded, Priority};
pub use breaker::{Breaker, BreakerConfig, BreakerState, CircuitOpen, Permit};
pub use bulkhead::{BulkheadConfig, BulkheadFull};
pub use classification::{classify, classify_message, Classification};
pub use config_error::ConfigError;
pub use error::{Category, ErrorContext, ErrorReport, MarcusError, Remediation, Severity};
pub use errors::Error;
pub use events::Event;
pub use health::RegistryHealth;
pub use hedge::{HedgeConfig, HedgeSnapshot};
pub use injected_fault::InjectedFault;
pub use monitor::{monitor, BatchFailed, ErrorAggregator, HealthScore, Monitor, MonitorConfig};
pub use rate_limit::{RateLimitConfig, RateLimited};
pub use registry::{
    degradation, recovery, registry, retry_budget, retry_budgets, BreakerSnapshot, Registry,
};
pub use retry::{Backoff, Jitter, RetryBudget, RetryConfig};
pub use scope::{ClusterStatus, Scope};
pub use timeout::TimedOut;

pub use resilience_macros::{
    adaptive_limit, bulkhead, circuit_breaker, error_context, fallback, feature_switch, hedge,
    rate_limit, resilient, retry, timeout, MarcusError,
};
