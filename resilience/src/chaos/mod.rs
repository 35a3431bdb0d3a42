//! Fault injection ("chaos", the cargo feature `chaos`): switch faults on at run time for
//! the calls through a named breaker, bulkhead, rate limiter, hedge or decorated
//! function, whichever front end reaches it, to see the resilience around them work.
//!
//! ```
//! use resilience::chaos::{chaos, Fault};
//! use std::time::Duration;
//!
//! chaos().seed(7); // repeatable draws
//! chaos().inject("docs.kanban", Fault::error(0.10))?; // 10 % of calls fail
//! chaos().inject("docs.kanban", Fault::latency(0.05, Duration::from_millis(200)))?;
//! assert_eq!(chaos().snapshot().faults.len(), 2);
//! chaos().clear("docs.kanban");
//! assert!(chaos().snapshot().faults.iter().all(|f| f.site != "docs.kanban"));
//! # Ok::<(), resilience::chaos::ChaosError>(())
//! ```
//!
//! - **The feature.** Without `chaos` the attributes emit no fault gate, this module does
//!   not exist, and a `[chaos.NAME]` table or a `RESILIENCE__CHAOS__…` variable is an
//!   `Err` naming the feature: nothing in a production build can switch a fault on.
//! - **Tables.** Each [`Registry`](crate::Registry) has its own [`Chaos`] table
//!   ([`Registry::chaos`](crate::Registry::chaos)); [`chaos()`] is the global registry's.
//!   A call site draws from the table of the registry it registers in (`registry = STATIC`
//!   on an attribute, `.registry(..)` on a layer), so a test's `Registry::new()` keeps
//!   its faults to itself.
//! - **Sites.** A fault named as a breaker applies to the calls through that breaker
//!   (inside its permit: an injected error counts against it, a refusal returns its
//!   `CircuitOpen` without counting); a fault named as a bulkhead or rate limiter applies
//!   to the calls through it (inside its place, or once admitted: a refusal returns its
//!   `BulkheadFull` or `RateLimited`, not counted as its own); a fault named as a hedge
//!   applies to each of its runs; a fault named as a decorated function's default name
//!   (the `module::path::name` of its events) applies to each run of its body, inside
//!   every layer (so a `#[retry]` retries it, and each run of a `#[hedge]` draws it).
//!   Refusals apply to breakers, bulkheads and rate limiters (they refuse calls);
//!   errors and latency to every site.
//! - **Front ends.** The same faults reach a breaker, bulkhead or rate limiter through
//!   its attribute, its tower layer (`CircuitBreakerLayer`, `BulkheadLayer`,
//!   `RateLimitLayer`, named as the layer), and the reqwest middleware (named as its
//!   breakers' name), and a hedge through `#[hedge]` and `HedgeLayer`.
//! - **Errors.** An injected error is [`InjectedFault`], converted
//!   through the function's `From<InjectedFault>` (a tower layer's or the middleware's
//!   error: see their docs). A site whose error type has no such impl cannot take it:
//!   [`Chaos::inject`] on such a site is an `Err` naming it.
//! - **Unknown names.** A site becomes known the first time it runs while any fault is
//!   set. A fault for a name not yet known is accepted and applied when its site appears;
//!   if that site then cannot take it, the fault is marked refused in the
//!   [snapshot](ChaosSnapshot) (with the reason, and a WARN event) and injects nothing.
//! - **Cost.** While no fault is set in any registry, a call pays one relaxed atomic
//!   load and a not-taken branch.
//! - **Marks.** Every injected fault is a `tracing` event (target `resilience::chaos`,
//!   field `injected = true`) and, with the `metrics` feature, a count in
//!   `resilience_chaos_injected_total{site, fault}`.
//! - **Configuration.** [`FaultConfig`] is the serde form of one site's faults, the
//!   `[chaos.NAME]` table of a configuration file; [`Chaos::configure`] applies it.

mod config;
mod fault;
mod snapshot;
mod table;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use crate::injected_fault::InjectedFault;
pub use config::FaultConfig;
pub use fault::{Fault, FaultKind};
pub use snapshot::{ChaosSnapshot, FaultSnapshot, SiteSnapshot};
pub use table::{Chaos, ChaosError};
pub(crate) use table::{Drawn, NO_FROM};

/// How many tables (one per registry) have a fault set: the one thing a call reads
/// while none has.
static ARMED_TABLES: AtomicUsize = AtomicUsize::new(0);

/// Whether any registry has a fault set (one relaxed load; the generated code's only
/// chaos cost).
#[inline(always)]
pub(crate) fn armed() -> bool {
    ARMED_TABLES.load(Ordering::Relaxed) != 0
}

/// The fault table of the global [`registry()`](crate::registry()): the one every call
/// site without `registry = ..` (and every layer without `.registry(..)`) draws from.
///
/// ```
/// use resilience::chaos::{chaos, Fault};
/// chaos().inject("docs.chaos.fn", Fault::error(0.5)).unwrap();
/// assert!(std::ptr::eq(chaos(), resilience::registry().chaos()));
/// chaos().clear("docs.chaos.fn");
/// ```
pub fn chaos() -> &'static Chaos {
    // Kept here, not in the global registry's struct: the registry sits above the
    // patterns, and its `chaos()` returns this one.
    static GLOBAL: std::sync::OnceLock<Chaos> = std::sync::OnceLock::new();
    GLOBAL.get_or_init(Chaos::new)
}
