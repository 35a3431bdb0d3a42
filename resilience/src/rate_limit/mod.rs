//! Rate limits: `limit` calls per `per` at the long-run rate, and after a quiet spell up
//! to `burst` (default: `limit`) at once, so a window of `per` just after one may admit
//! `burst + limit` (see `docs/rate-limit.md`).
//!
//! [`RateLimiter`] admits calls by GCRA (the generic cell rate algorithm, a token bucket
//! kept as one number): the state is the theoretical arrival time of the next call, on
//! one `AtomicU64`, moved by one compare-and-swap per admitted call. A call that does
//! not fit may be delayed up to [`max_delay`](RateLimitConfig::max_delay); otherwise it
//! is refused with [`RateLimited`], whose `retry_after` is the wait until a call would
//! be admitted. `#[rate_limit]` puts a function behind a limiter of the global
//! [`registry`](crate::registry()).
//!
//! A delayed async call that is dropped while it waits (a client's timeout, a
//! `select!`) gives its place back ([`Wait`]), attribute and tower layer alike: the next
//! delayed call takes it, so cancelled calls never hold places that live calls wait
//! behind. A clock that goes back never makes a wait longer than one `per`; near the end
//! of the clock's range, calls are refused rather than admitted.
//!
//! Ours rather than `governor`'s: the limit changes at run time
//! (`registry().configure_rate_limit`), time comes from the crate's [`clock`](crate::clock)
//! (tokio's paused time, a [`ManualClock`](crate::clock::ManualClock)), snapshots say how
//! many calls are free now, and an admitted call costs one clock read and one CAS. The
//! benchmark group `rate_limit` measures it beside governor's direct limiter.
//!
//! ```
//! use resilience::{clock::ManualClock, rate_limit::RateLimiter, RateLimitConfig};
//! use std::{sync::Arc, time::Duration};
//!
//! let clock = ManualClock::new();
//! let limiter = RateLimiter::new("api", RateLimitConfig { limit: 10, per: Duration::from_secs(1), burst: Some(2), ..Default::default() })?
//!     .with_clock(Arc::new(clock.clone()));
//! assert!(limiter.check().is_ok());
//! assert!(limiter.check().is_ok());
//! let limited = limiter.check().unwrap_err();
//! assert_eq!(limited.retry_after, Duration::from_millis(100)); // one interval
//! clock.advance(Duration::from_millis(100));
//! assert!(limiter.check().is_ok());
//! # Ok::<(), resilience::ConfigError>(())
//! ```

mod config;
mod cost;
mod events;
mod gaps;
pub(crate) mod gcra;
mod limited;
mod machine;
mod pattern;
mod place;
mod snapshot;
mod wait;

pub use config::RateLimitConfig;
pub use cost::Cost;
pub use limited::RateLimited;
pub use machine::RateLimiter;
pub use place::Place;
pub use snapshot::RateLimiterSnapshot;
pub use wait::Wait;
