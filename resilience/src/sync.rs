//! The atomics the runtime's shared state is built from, swapped for loom's under
//! `--cfg loom` so the breaker's state machine can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic;

/// The lock of a rate-mode breaker's window (failures only; successes take none).
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};

#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};
