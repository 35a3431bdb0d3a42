//! Where a breaker's transitions go beyond this process. The cluster (feature `redis`)
//! installs its publisher when it connects, so the breaker never names the cluster: the
//! registry and the cluster depend on breakers, never the reverse.

use std::sync::OnceLock;

use super::{Breaker, BreakerState};
use crate::Scope;

/// Takes a transition of `breaker` to the cluster; `true` when the cluster owns it
/// (published, or applied from the cluster), `false` when the breaker runs locally.
pub(crate) type Publisher = fn(&Breaker, BreakerState, BreakerState) -> bool;

static PUBLISHER: OnceLock<Publisher> = OnceLock::new();

/// Sends every breaker's transitions to `publisher` from now on (the first one stays).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn install(publisher: Publisher) {
    let _ = PUBLISHER.set(publisher);
}

/// Called by the state machine after every transition (never on a call through a
/// closed breaker). Without a publisher, or when it declines, a cluster-scoped breaker
/// runs on local state and says so once.
pub(super) fn transitioned(breaker: &Breaker, from: BreakerState, to: BreakerState) {
    if PUBLISHER
        .get()
        .is_some_and(|publish| publish(breaker, from, to))
    {
        return;
    }
    if breaker.config().scope == Scope::Cluster {
        warn_local_once(breaker.name());
    }
}

/// One WARN per process: a cluster-scoped breaker runs on local state.
fn warn_local_once(name: &str) {
    static WARNED: crate::scope_warning::WarnOnce = crate::scope_warning::WarnOnce::new();
    WARNED.warn(name, "");
}
