//! Hedging: when a call is slow to answer, start the same call again beside it and take
//! whichever answers first — the runtime behind `#[hedge]`.
//!
//! A [`Hedge`] is a named policy of the [`registry`](crate::registry()) (its
//! [`HedgeConfig`]: `delay` and `max_hedges`, changeable at run time, and counts in a
//! [`HedgeSnapshot`]); the runner polls the runs of one call side by side in the
//! caller's task, without spawning, and drops the losers as soon as one run answers.
//! Tracing events (target `resilience::hedge`) and the metrics
//! [`HEDGES`](crate::metrics::HEDGES) and [`HEDGE_WINS`](crate::metrics::HEDGE_WINS) tell of hedges started and won; a call answered by its first run in
//! time reports nothing.
//!
//! # `#[hedge(...)]`, on an `async fn`
//!
//! | key | meaning | default |
//! |---|---|---|
//! | `delay = D` | how long the call may go without an answer before the next run starts (a duration literal such as `50ms`, or a `Duration` expression); `0ms` starts every run at once | 50 ms |
//! | `max_hedges = N` | extra runs a call may start, 1 to [`MAX_HEDGES`] | 1 |
//! | `name = "..."` | the hedge's name in the registry, shared by the sites that give it | the function's path (`app::search::lookup`) |
//!
//! The first `Ok` is returned and the other runs are dropped at once. A run that fails
//! with a retryable error (as `#[retry]` decides without `retry_if`) starts the next run
//! at once; one that fails with an error that is not retryable ends the call with that
//! error; when every run has failed, the last error is returned. Runs overlap, so
//! `&mut self`, `&mut` arguments and `mut` bindings are compile errors, as is `#[hedge]`
//! on a sync function. [`registry().configure_hedge`](crate::Registry::configure_hedge)
//! wins over the keys.
//!
//! ```
//! use resilience::hedge;
//! use std::sync::atomic::{AtomicU32, Ordering};
//! use std::time::Duration;
//!
//! #[derive(Debug)]
//! struct Slow;
//!
//! static CALLS: AtomicU32 = AtomicU32::new(0);
//!
//! #[hedge(delay = 20ms, max_hedges = 1)]
//! async fn lookup(key: &str) -> Result<String, std::io::Error> {
//!     // The first run is stuck; the hedge, started 20 ms in, answers.
//!     if CALLS.fetch_add(1, Ordering::SeqCst) == 0 {
//!         tokio::time::sleep(Duration::from_secs(5)).await;
//!     }
//!     Ok(format!("value of {key}"))
//! }
//!
//! # #[tokio::main(flavor = "current_thread", start_paused = true)]
//! # async fn main() {
//! let started = tokio::time::Instant::now();
//! assert_eq!(lookup("k").await.unwrap(), "value of k");
//! assert_eq!(started.elapsed(), Duration::from_millis(20));
//! # }
//! ```

mod config;
pub(crate) mod events;
mod instance;
pub(crate) mod runner;
#[doc(hidden)]
mod snapshot;
mod table;

pub use config::{HedgeConfig, MAX_HEDGES};
pub use instance::Hedge;
pub use snapshot::HedgeSnapshot;
pub(crate) use table::HedgeTable;
