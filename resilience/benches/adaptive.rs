//! What an admitted call costs through an adaptive limit, beside our bulkhead, tower's
//! `ConcurrencyLimit`, `tower-acc` and `tower-resilience-adaptive`, in one run:
//! `cargo bench -p resilience --bench adaptive --features tower`.
//!
//! Two groups. `adaptive_layer`: the same `service_fn` (its future ready at once) behind
//! nothing (`bare`), our `AdaptiveLimitLayer` (Gradient2), our `BulkheadLayer`, tower's
//! `ConcurrencyLimitLayer`, and the two peers' layers with their Gradient2 (limits of
//! 1000, so nothing waits). A call is `poll_ready`, `call`, and polling the response to
//! its end with a no-op waker. `adaptive_attribute`: `#[adaptive_limit]` and
//! `#[bulkhead]` on a sync function, beside the function bare. A case's time minus
//! `bare` is its overhead; docs/adaptive.md reports them and their ratios.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use resilience::adaptive_limit::Algorithm;
use resilience::{AdaptiveLimitConfig, BulkheadConfig};
use tower::{service_fn, BoxError, Layer, Service};

/// One call through `svc`: ready, call, and poll the response to its end.
#[inline(always)]
fn one_call<S: Service<u64, Response = u64>>(svc: &mut S, x: u64) -> u64 {
    let cx = &mut Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(ready) = svc.poll_ready(cx) {
            assert!(ready.is_ok());
            break;
        }
    }
    let mut future = pin!(svc.call(x));
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(cx) {
            return out.ok().unwrap_or(0);
        }
    }
}

#[inline(never)]
fn work(x: u64) -> std::future::Ready<Result<u64, BoxError>> {
    std::future::ready(Ok(x.wrapping_mul(3).wrapping_add(1)))
}

fn config() -> AdaptiveLimitConfig {
    AdaptiveLimitConfig {
        algorithm: Algorithm::Gradient2,
        min_limit: 1000,
        max_limit: 1000,
        initial_limit: 1000,
        ..Default::default()
    }
}

fn layers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();

    let mut group = c.benchmark_group("adaptive_layer");
    let mut bare = service_fn(work);
    group.bench_function("bare", |b| b.iter(|| one_call(&mut bare, black_box(7))));

    let mut ours = resilience::tower::AdaptiveLimitLayer::new("bench.adaptive_layer")
        .config(config())
        .layer(service_fn(work));
    group.bench_function("resilience adaptive", |b| {
        b.iter(|| one_call(&mut ours, black_box(7)))
    });

    let mut bulkhead = resilience::tower::BulkheadLayer::new("bench.adaptive_bulkhead")
        .config(BulkheadConfig {
            max_concurrent: 1000,
            ..Default::default()
        })
        .layer(service_fn(work));
    group.bench_function("resilience bulkhead", |b| {
        b.iter(|| one_call(&mut bulkhead, black_box(7)))
    });

    let mut tower_limit = tower::limit::ConcurrencyLimitLayer::new(1000).layer(service_fn(work));
    group.bench_function("tower ConcurrencyLimit", |b| {
        b.iter(|| one_call(&mut tower_limit, black_box(7)))
    });

    let acc = tower_acc::Gradient2::builder()
        .initial_limit(1000)
        .min_limit(1000)
        .max_limit(1000)
        .build();
    let mut acc = tower_acc::ConcurrencyLimitLayer::new(acc).layer(service_fn(work));
    group.bench_function("tower-acc", |b| b.iter(|| one_call(&mut acc, black_box(7))));

    let tra = tower_resilience_adaptive::Gradient2::builder()
        .initial_limit(1000)
        .min_limit(1000)
        .max_limit(1000)
        .build()
        .expect("a valid configuration");
    let mut tra = tower_resilience_adaptive::AdaptiveLimiterLayer::new(tra).layer(service_fn(work));
    group.bench_function("tower-resilience-adaptive", |b| {
        b.iter(|| {
            let cx = &mut Context::from_waker(Waker::noop());
            while tra.poll_ready(cx).is_pending() {}
            let mut future = pin!(tra.call(black_box(7)));
            loop {
                if let Poll::Ready(out) = future.as_mut().poll(cx) {
                    break out.ok().unwrap_or(0);
                }
            }
        })
    });
    group.finish();
}

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error(transparent)]
    Overloaded(#[from] resilience::Overloaded),
    #[error(transparent)]
    Full(#[from] resilience::BulkheadFull),
}

#[inline(never)]
fn bare_fn(x: u64) -> Result<u64, BenchError> {
    Ok(black_box(x).wrapping_mul(3).wrapping_add(1))
}

#[resilience::adaptive_limit(name = "bench.adaptive_attr", min_limit = 1000, max_limit = 1000)]
fn ours_adaptive(x: u64) -> Result<u64, BenchError> {
    Ok(black_box(x).wrapping_mul(3).wrapping_add(1))
}

#[resilience::bulkhead(name = "bench.adaptive_attr_bulkhead", max_concurrent = 1000)]
fn ours_bulkhead(x: u64) -> Result<u64, BenchError> {
    Ok(black_box(x).wrapping_mul(3).wrapping_add(1))
}

fn attributes(c: &mut Criterion) {
    let mut group = c.benchmark_group("adaptive_attribute");
    group.bench_function("bare", |b| b.iter(|| black_box(bare_fn(black_box(1)))));
    group.bench_function("#[adaptive_limit]", |b| {
        b.iter(|| black_box(ours_adaptive(black_box(1))))
    });
    group.bench_function("#[bulkhead]", |b| {
        b.iter(|| black_box(ours_bulkhead(black_box(1))))
    });
    group.finish();
}

criterion_group!(adaptive, layers, attributes);
criterion_main!(adaptive);
