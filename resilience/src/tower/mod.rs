//! The patterns as tower layers (feature `tower`): circuit breaker, retry, timeout, hedge
//! and fallback, for axum, tonic, hyper and any other `tower::Service`.
//!
//! Each layer runs on the same runtime as the attributes: a [`CircuitBreakerLayer`]
//! named `"upstream"` and a `#[circuit_breaker(name = "upstream")]` share one breaker of
//! the global [`registry`](crate::registry()), one state, one snapshot.
//!
//! Every middleware follows tower's shape: a `Layer`, the `Service` it makes and that
//! service's response future, hand-written (no boxing) and pinned without `unsafe`.
//!
//! - A layer's `Service::Error` is the inner service's error; what the layer adds
//!   ([`CircuitOpen`](crate::CircuitOpen), [`TimedOut`](crate::TimedOut),
//!   [`BulkheadFull`](crate::BulkheadFull), [`RateLimited`](crate::RateLimited)) is converted into
//!   it by `From`, so `tower::BoxError` works, and so does your own error type with a
//!   `From` for each.
//! - `poll_ready` is the inner service's: an open breaker refuses in `call`, with an
//!   error future, so a `tower::buffer::Buffer` in front of it never sees a failed
//!   `poll_ready` (which would shut its worker down for good).
//!
//! ```
//! use resilience::tower::{CircuitBreakerLayer, RetryLayer, TimeoutLayer};
//! use resilience::{retry::Backoff, RetryConfig};
//! use std::time::Duration;
//! use tower::{service_fn, BoxError, ServiceBuilder, ServiceExt};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), BoxError> {
//! let svc = ServiceBuilder::new()
//!     .layer(RetryLayer::new(RetryConfig { max_attempts: 3, backoff: Backoff::None, ..Default::default() }))
//!     .layer(CircuitBreakerLayer::new("docs.tower"))
//!     .layer(TimeoutLayer::new(Duration::from_secs(2)))
//!     .service(service_fn(|name: &'static str| async move { Ok::<_, BoxError>(format!("hello {name}")) }));
//! assert_eq!(svc.oneshot("world").await?, "hello world");
//! # Ok(())
//! # }
//! ```
//!
//! [`BulkheadLayer`] and [`RateLimitLayer`] put a service behind the bulkhead or rate
//! limiter of the same name as `#[bulkhead]` and `#[rate_limit]` (one response future
//! for both, which waits for the admission and then calls the inner service).
//! `.key(|req| ..)` on [`CircuitBreakerLayer`], [`BulkheadLayer`] and [`RateLimitLayer`]
//! gives one instance per key, in the registry's keyed store of the name that
//! `key = expr` on the attribute of the same name uses too.
//!
//! Those three layers are one shape: [`PatternLayer`] (the builder: `new`, `config`,
//! `try_config`, `key`), [`PatternService`], [`KeyedLayer`] and [`KeyedService`], generic
//! over the pattern, which each pattern's names (`CircuitBreakerLayer`, `BulkheadService`,
//! `KeyedRateLimitLayer`, ...) are type aliases of; only what a call does is each
//! pattern's own.

mod adaptive_limit;
mod breaker;
mod bulkhead;
mod fallback;
mod hedge;
mod pattern;
mod rate_limit;
mod retry;
mod timeout;
mod wait_then_call;

pub use adaptive_limit::{
    AdaptiveLimitLayer, AdaptiveLimitService, NoResponseOverloads, NormalPriority, OverloadIf,
    PriorityOf, ResponseFuture as AdaptiveLimitFuture,
};
pub use breaker::{
    CircuitBreaker, CircuitBreakerLayer, FailureIf, KeyedCircuitBreaker, KeyedCircuitBreakerLayer,
    NoResponseFails, ResponseFuture as BreakerFuture,
};
pub use bulkhead::{
    BulkheadLayer, BulkheadService, KeyedBulkheadLayer, KeyedBulkheadService,
    ResponseFuture as BulkheadFuture,
};
pub use fallback::{Fallback, FallbackLayer, ResponseFuture as FallbackFuture};
pub use hedge::{Hedge, HedgeLayer, ResponseFuture as HedgeFuture};
pub use pattern::{KeyedLayer, KeyedService, PatternLayer, PatternService};
pub use rate_limit::{
    CostFn, CostOf, KeyedRateLimitLayer, KeyedRateLimitService, PerCall, RateLimitLayer,
    RateLimitOptions, RateLimitService, ResponseFuture as RateLimitFuture,
};
pub use retry::{
    Classified, NoResponseRetried, ResponseFuture as RetryFuture, Retry, RetryDecision, RetryIf,
    RetryLayer, RetryResponse,
};
pub use timeout::{ResponseFuture as TimeoutFuture, Timeout, TimeoutLayer};

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

/// A `'static` reference to an instance the registry keeps for the life of the program
/// (a breaker, bulkhead or rate limiter without key), so a response future can hold a
/// [`Permit<'static>`](crate::Permit) or a `BulkheadPermit<'static>`, or wait on it,
/// without a reference count per call.
///
/// One `Arc` is leaked per distinct instance the first time a layer uses it; the registry
/// keeps every instance it makes for the life of the program anyway (as each attribute's
/// call site's `static` does), so this bounds the memory by the instances a program
/// ever makes.
pub(crate) fn pin<T: Send + Sync + 'static>(instance: Arc<T>) -> &'static T {
    match pin_any(instance).downcast_ref::<T>() {
        Some(pinned) => pinned,
        // Unreachable: an address belongs to one live allocation, of one type.
        None => unreachable!("an address pinned for another type"),
    }
}

/// [`pin`]'s work, not generic: compiled once here, not in every crate that makes a layer.
fn pin_any(instance: Arc<dyn Any + Send + Sync>) -> &'static (dyn Any + Send + Sync) {
    static PINNED: Mutex<Option<HashMap<usize, &'static (dyn Any + Send + Sync)>>> =
        Mutex::new(None);
    let key = Arc::as_ptr(&instance) as *const () as usize;
    // A map of leaked references is whole after any panic.
    let mut pinned = PINNED.lock().unwrap_or_else(PoisonError::into_inner);
    let map = pinned.get_or_insert_with(HashMap::new);
    // The leaked `Arc` keeps the allocation alive, so no other instance (of any type)
    // can reuse the address a key was made from.
    *map.entry(key)
        .or_insert_with(|| &**Box::leak(Box::new(instance)))
}

/// Polls `fut` once: true if it is pending.
#[cfg(test)]
pub(crate) async fn is_pending<F: std::future::Future>(fut: &mut std::pin::Pin<Box<F>>) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::breaker::Breaker;
    use crate::BreakerConfig;

    #[test]
    fn one_static_reference_per_breaker() {
        let a = Arc::new(Breaker::new("tower.pin.a", BreakerConfig::default()).unwrap());
        let b = Arc::new(Breaker::new("tower.pin.a", BreakerConfig::default()).unwrap());
        let pa = pin(a.clone());
        assert!(std::ptr::eq(pa, pin(a.clone())));
        assert!(std::ptr::eq(pa, Arc::as_ptr(&a)));
        assert!(!std::ptr::eq(pa, pin(b)));
    }
}
