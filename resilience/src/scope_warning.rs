//! The WARN that a cluster-scoped pattern runs on local state (before
//! `cluster::connect`, or without the `redis` feature), and the flag that gives it once.
//! A module of its own, free of the patterns, so every pattern can call it.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

/// A WARN given once, by whoever holds the flag: the breakers share one per process, a
/// cluster-scoped rate limit's call site has its own, the retry budgets one.
pub(crate) struct WarnOnce(AtomicBool);

impl WarnOnce {
    pub(crate) const fn new() -> WarnOnce {
        WarnOnce(AtomicBool::new(false))
    }

    /// [`warn_local`], the first time only. A load first: after the WARN, a caller only
    /// reads the flag.
    #[inline]
    pub(crate) fn warn(&self, name: &str, detail: &str) {
        if !self.0.load(Relaxed) && !self.0.swap(true, Relaxed) {
            warn_local(name, detail);
        }
    }
}

/// The WARN that a cluster-scoped pattern runs on local state (before `connect`, or
/// without the feature); `detail` says what that means for the pattern, if anything.
#[cold]
pub(crate) fn warn_local(name: &str, detail: &str) {
    let separator = if detail.is_empty() { "" } else { ": " };
    tracing::warn!(
        target: "resilience::cluster",
        name,
        reason = if cfg!(feature = "redis") { "cluster::connect has not been called" } else { "the `redis` feature is off" },
        "`scope = cluster` runs on local state{separator}{detail}"
    );
}
