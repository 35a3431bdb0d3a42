//! What the tower breaker layer costs per call, beside tower-resilience's circuit-breaker
//! layer, in one run: `cargo bench -p resilience --bench tower --features tower`.
//!
//! Each contender is the same `service_fn` (its future ready at once) behind nothing
//! (`bare`), behind our `CircuitBreakerLayer` (closed), and behind tower-resilience's
//! `CircuitBreakerLayer` (closed, count-based window, its defaults otherwise). A call is
//! `poll_ready`, `call`, and polling the response future to its end with a no-op waker,
//! as an executor polls a task. A layer's time minus `bare` is its overhead; the README
//! reports the ratio of the two overheads.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
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

fn breaker(c: &mut Criterion) {
    // tower-resilience's layer may look for a tokio runtime (its events, its clock).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();

    let mut group = c.benchmark_group("tower_breaker");
    let mut bare = service_fn(work);
    group.bench_function("bare", |b| b.iter(|| one_call(&mut bare, black_box(7))));

    let mut ours =
        resilience::tower::CircuitBreakerLayer::new("bench.tower").layer(service_fn(work));
    group.bench_function("resilience", |b| {
        b.iter(|| one_call(&mut ours, black_box(7)))
    });

    let layer = tower_resilience_circuitbreaker::CircuitBreakerLayer::builder()
        .build()
        .expect("a valid configuration");
    let mut theirs = layer.layer(service_fn(work));
    group.bench_function("tower-resilience", |b| {
        b.iter(|| one_call(&mut theirs, black_box(7)))
    });
    group.finish();
}

criterion_group!(tower_layers, breaker);
criterion_main!(tower_layers);
