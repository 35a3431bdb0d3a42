//! The atomics the runtime's shared state is built from, swapped for loom's under
//! `--cfg loom` so the breaker's state machine can be model-checked.

#[cfg(loom)]
pub(crate) use loom::sync::atomic;

#[cfg(not(loom))]
pub(crate) use std::sync::atomic;
