//! The tower layers in the shape of issue 28, each beside tower-resilience's same layer:
//! a call is `poll_ready`, `call` and one poll of the response future with a no-op
//! waker; the inner service (`bare`) answers at once, with a ready future. `bare` is that
//! service alone.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tower::{service_fn, BoxError, Layer, Service};

use crate::contenders::Contenders;

/// The groups, in the order they run.
pub const GROUPS: &[&str] = &[
    "tower_breaker",
    "tower_bulkhead",
    "tower_rate_limit",
    "tower_retry",
];

/// The inner service's answer, ready at once.
#[inline(never)]
fn work(x: u64) -> std::future::Ready<Result<u64, BoxError>> {
    std::future::ready(Ok(x.wrapping_mul(3).wrapping_add(1)))
}

/// One call through `svc`: ready, call, and one poll of the response, which must answer.
#[inline(always)]
fn one_call<S: Service<u64, Response = u64>>(svc: &mut S, x: u64) -> u64 {
    let cx = &mut Context::from_waker(Waker::noop());
    match svc.poll_ready(cx) {
        Poll::Ready(ready) => assert!(ready.is_ok(), "a service refused to be ready"),
        Poll::Pending => panic!("a service was not ready at once"),
    }
    let future = pin!(svc.call(x));
    match future.poll(cx) {
        Poll::Ready(out) => out.ok().unwrap_or(0),
        Poll::Pending => panic!("a response was not ready at its first poll"),
    }
}

/// Hands the contenders of `group` (one of [`GROUPS`]) to `to`. Call it inside a tokio
/// runtime's context: tower-resilience's layers may look for one.
pub fn run(group: &str, to: &mut impl Contenders) {
    let mut bare = service_fn(work);
    to.contender("bare", |x| one_call(&mut bare, x));
    match group {
        "tower_breaker" => {
            let mut ours = resilience::tower::CircuitBreakerLayer::new("tight.tower.breaker")
                .layer(service_fn(work));
            to.contender("resilience", |x| one_call(&mut ours, x));
            let layer = tower_resilience_circuitbreaker::CircuitBreakerLayer::builder()
                .build()
                .expect("a valid configuration");
            let mut theirs = layer.layer(service_fn(work));
            to.contender("tower-resilience", |x| one_call(&mut theirs, x));
        }
        "tower_bulkhead" => {
            let config = resilience::BulkheadConfig {
                max_concurrent: 1000,
                ..Default::default()
            };
            let mut ours = resilience::tower::BulkheadLayer::new("tight.tower.bulkhead")
                .config(config)
                .layer(service_fn(work));
            to.contender("resilience", |x| one_call(&mut ours, x));
            let layer = tower_resilience_bulkhead::BulkheadLayer::builder()
                .max_concurrent_calls(1000)
                .build()
                .expect("a valid configuration");
            let mut theirs = layer.layer(service_fn(work));
            to.contender("tower-resilience", |x| one_call(&mut theirs, x));
        }
        "tower_rate_limit" => {
            // Never refused at any rate a loop reaches (see `attributes::ours_rate_limit`).
            let config = resilience::RateLimitConfig {
                limit: 1_000_000_000,
                per: Duration::from_secs(1),
                ..Default::default()
            };
            let mut ours = resilience::tower::RateLimitLayer::new("tight.tower.rate_limit")
                .config(config)
                .layer(service_fn(work));
            to.contender("resilience", |x| one_call(&mut ours, x));
            let layer = tower_resilience_ratelimiter::RateLimiterLayer::builder()
                .limit_for_period(usize::MAX / 2)
                .refresh_period(Duration::from_secs(1))
                .build()
                .expect("a valid configuration");
            let mut theirs = layer.layer(service_fn(work));
            to.contender("tower-resilience", |x| one_call(&mut theirs, x));
        }
        "tower_retry" => {
            let config = resilience::RetryConfig {
                max_attempts: 3,
                ..Default::default()
            };
            let mut ours = resilience::tower::RetryLayer::new(config).layer(service_fn(work));
            to.contender("resilience", |x| one_call(&mut ours, x));
            let layer = tower_resilience_retry::RetryLayer::<u64, u64, BoxError>::builder()
                .max_attempts(3)
                .exponential_backoff(Duration::from_millis(100))
                .build();
            let mut theirs = layer.layer(service_fn(work));
            to.contender("tower-resilience", |x| one_call(&mut theirs, x));
        }
        other => panic!("no tower group {other}"),
    }
}
