//! Retry policies: backoff, jitter, elapsed-time limits, shared retry budgets and
//! adaptive attempts — the runtime behind `#[retry]`.
//!
//! A [`RetryConfig`] says how many calls to make ([`max_attempts`]), how long to wait
//! between them ([`Backoff`], randomised by [`Jitter`]), when to stop trying
//! ([`max_elapsed`]) and which shared [`RetryBudget`] to draw retries from. Its
//! arithmetic is the pure [`Schedule`], so delays are tested with a seeded generator
//! instead of a stopwatch.
//!
//! ```
//! use rand::{rngs::SmallRng, SeedableRng};
//! use resilience::retry::{Backoff, Jitter};
//! use resilience::RetryConfig;
//! use std::time::Duration;
//!
//! let config = RetryConfig {
//!     max_attempts: 4,
//!     backoff: Backoff::Exponential {
//!         base: Duration::from_millis(100),
//!         factor: 2.0,
//!         max: Duration::from_secs(5),
//!     },
//!     jitter: Jitter::Full,
//!     ..Default::default()
//! };
//! config.validate()?;
//! let nominal = [100, 200, 400].map(Duration::from_millis);
//! for (delay, nominal) in config.schedule(SmallRng::seed_from_u64(42)).zip(nominal) {
//!     assert!(delay <= nominal);
//! }
//! # Ok::<(), resilience::ConfigError>(())
//! ```
//!
//! The decisions of a retrying call are the engine's (`engine.rs`), which every front end
//! drives: `#[retry]`, `tower::RetryLayer` and the reqwest middleware.
//!
//! The process's named budgets are the global registry's:
//! [`resilience::retry_budget`](crate::retry_budget) and
//! [`resilience::retry_budgets`](crate::retry_budgets).
//!
//! [`max_attempts`]: RetryConfig::max_attempts
//! [`max_elapsed`]: RetryConfig::max_elapsed

pub(crate) mod adapted;
pub(crate) mod adaptive;
mod backoff;
mod budget;
mod config;
pub(crate) mod engine;
pub(crate) mod events;
mod jitter;
pub(crate) mod nested;
pub(crate) mod policy;
pub(crate) mod rng;
pub(crate) mod schedule;

pub use adapted::adapted_max_attempts;
pub use adaptive::AdaptiveAttempts;
pub use backoff::Backoff;
#[cfg(feature = "redis")]
pub(crate) use budget::lease as budget_lease;
pub(crate) use budget::BudgetTable;
pub use budget::{BudgetConfig, BudgetSnapshot, RetryBudget};
pub use config::RetryConfig;
pub use events::Via;
pub use jitter::Jitter;
pub use nested::Nested;
pub use schedule::{GiveUp, Schedule};
