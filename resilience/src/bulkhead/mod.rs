//! Bulkheads: at most so many calls of one dependency at once, so a slow dependency
//! holds a bounded share of the threads and tasks.
//!
//! [`Bulkhead`] counts the calls in flight on one atomic; a call over the limit waits up
//! to [`max_wait`](BulkheadConfig::max_wait) for a place (a sync call on its thread, an
//! async one without blocking it), then is refused with [`BulkheadFull`]. The place is
//! held by a [`BulkheadPermit`], so a call that ends in any way (returns, panics, or has
//! its future dropped while waiting or running) gives it back. `#[bulkhead]` puts a
//! function behind a bulkhead of the global [`registry`](crate::registry()).
//!
//! ```
//! use resilience::{bulkhead::Bulkhead, BulkheadConfig};
//!
//! let b = Bulkhead::new("db", BulkheadConfig { max_concurrent: 1, ..Default::default() })?;
//! let first = b.try_acquire().expect("a free place");
//! assert!(b.try_acquire().is_none()); // full
//! drop(first);
//! assert!(b.try_acquire().is_some());
//! # Ok::<(), resilience::ConfigError>(())
//! ```

mod config;
mod events;
mod full;
mod machine;
mod pattern;
mod snapshot;

pub use config::BulkheadConfig;
pub use full::BulkheadFull;
pub use machine::{Bulkhead, BulkheadPermit};
#[cfg(feature = "tower")]
pub(crate) use machine::{OwnedBulkheadPermit, Wait};
pub use snapshot::BulkheadSnapshot;
