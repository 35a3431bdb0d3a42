//! Circuit breakers: stop calling a dependency that keeps failing, and probe it again
//! after a while.
//!
//! [`Breaker`] is the state machine (closed, open, half-open, forced open, disabled),
//! lock-free on every call; [`BreakerConfig`] says what opens and closes it;
//! [`CircuitOpen`] is what a refused call returns. `#[circuit_breaker]` puts a function
//! behind a breaker of the global [`registry`](crate::registry()).
//!
//! ```
//! use resilience::{breaker::Breaker, BreakerConfig, BreakerState, CircuitOpen};
//!
//! let b = Breaker::new("kanban", BreakerConfig { failure_threshold: 2, ..Default::default() })?;
//! for _ in 0..2 {
//!     let _ = b.call(|| Err::<(), _>(CircuitOpen::from_name("upstream")));
//! }
//! assert_eq!(b.state(), BreakerState::Open);
//! let refused = b.call(|| Ok::<_, CircuitOpen>(1)).unwrap_err();
//! assert_eq!(refused.name, "kanban");
//! # Ok::<(), resilience::ConfigError>(())
//! ```

mod chain;
mod circuit_open;
mod claim;
mod config;
mod events;
mod failure_times;
mod live;
mod machine;
pub(crate) mod metrics;
mod open_period;
mod permit;
pub(crate) mod publish;
mod rejections;
mod snapshot;
mod state;
mod window;

pub use circuit_open::CircuitOpen;
pub use config::{
    BreakerConfig, MAX_HALF_OPEN_CALLS, MAX_QUORUM, MAX_RATE_WINDOW, MAX_THRESHOLD, MAX_WINDOW_LEN,
    MIN_RATE_WINDOW,
};
pub use machine::Breaker;
// The gauge values of `metrics::BREAKER_STATE` (here, not in `metrics`, which sits below
// the patterns and cannot name a breaker's state).
pub use metrics::state_value;
pub use permit::{OwnedPermit, Permit};
pub use snapshot::{BreakerSnapshot, WindowKind};
pub use state::BreakerState;
