//! Adaptive concurrency limits: how many calls of one name run at once is not a fixed
//! guess but found from the calls' own latency and outcomes, as TCP finds a link's
//! capacity, and under overload the calls that matter least are refused first.
//!
//! [`AdaptiveLimiter`] admits a call while fewer than its limit run (one atomic
//! compare-and-swap, as a bulkhead), measures the round-trip time of the calls that end
//! over a short window (about two round trips), and after each window lets its
//! [`Algorithm`] move the limit, within `[min_limit, max_limit]`:
//!
//! - [`Algorithm::Vegas`] (TCP Vegas, Netflix's `VegasLimit`): the queue the limit
//!   builds is `limit × (1 − rtt_noload / rtt)`, with `rtt_noload` the lowest time seen
//!   (measured again now and then); below `alpha` (3 × log10 of the limit) the limit
//!   grows, above `beta` (6 × log10) it shrinks.
//! - [`Algorithm::Gradient2`] (Netflix's `Gradient2Limit`, the default): the limit is
//!   multiplied by `tolerance × long-term RTT / short-term RTT`, kept in `[0.5, 1]`, and
//!   while that is 1 (no queueing) it grows by a queue allowance.
//! - [`Algorithm::Aimd`]: +1 per window in which the limit was in use, ×
//!   [`backoff_ratio`](AdaptiveLimitConfig::backoff_ratio) on a drop.
//!
//! A *drop* is a call that timed out, or that further down was refused for overload (an
//! [`Overloaded`], a `BulkheadFull`, a `RateLimited`, a 429 or 503): the plainest sign
//! that the limit is too high. Vegas and Gradient2 shrink on it too.
//!
//! A call over the limit waits up to [`max_wait`](AdaptiveLimitConfig::max_wait) for a
//! place, then is refused with [`Overloaded`] (transient, retryable, with the wait until
//! a place is expected to free as its `retry_after`). Waiting calls are served by
//! [`Priority`], first come first served within one, and a full waiting room (as many
//! waiting as may run) refuses the newest call of the lowest priority first.
//!
//! The limit is per process (there is no `scope = cluster`): it bounds the calls *this*
//! process has in flight, from the latency *this* process sees; a shared limit would
//! have to learn every instance's calls and latencies on every call.
//!
//! ```
//! use resilience::adaptive_limit::AdaptiveLimiter;
//! use resilience::{AdaptiveLimitConfig, Priority};
//!
//! let l = AdaptiveLimiter::new("search", AdaptiveLimitConfig { initial_limit: 1, ..Default::default() })?;
//! let permit = l.try_acquire().expect("a free place");
//! assert!(l.acquire_blocking(Priority::High).is_err()); // at the limit, no wait
//! permit.succeeded(); // its round-trip time is measured
//! assert!(l.try_acquire().is_some());
//! # Ok::<(), resilience::ConfigError>(())
//! ```

mod algorithm;
mod config;
mod events;
mod machine;
pub(crate) mod metrics;
mod overloaded;
mod pattern;
mod places;
mod priority;
mod snapshot;
mod window;

pub use config::{AdaptiveLimitConfig, Algorithm};
#[cfg(feature = "tower")]
pub(crate) use machine::Wait;
pub use machine::{AdaptiveLimiter, AdaptivePermit};
pub use overloaded::Overloaded;
pub use priority::Priority;
pub use snapshot::AdaptiveLimitSnapshot;
