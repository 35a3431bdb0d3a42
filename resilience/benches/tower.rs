//! The tower layers (breaker, bulkhead, rate limit, retry) beside tower-resilience's same
//! layers, in one run: `cargo bench -p resilience --bench tower --features tower`.
//!
//! A call is `poll_ready`, `call` and one poll of the response future with a no-op
//! waker, as an executor polls a task; the inner service answers at once (a ready
//! future), and `bare` is that service alone. A layer's time minus `bare` is its
//! overhead; `cargo bench -p resilience --bench ratios -- tower_` prints the ratios of
//! the overheads. The cases are in `tight/layers.rs`.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

#[path = "tight/contenders.rs"]
mod contenders;
#[path = "tight/layers.rs"]
mod layers;

/// Puts each contender in the group as one criterion benchmark.
struct Group<'a, 'c>(&'a mut BenchmarkGroup<'c, WallTime>);

impl contenders::Contenders for Group<'_, '_> {
    fn contender<R>(&mut self, name: &str, mut call: impl FnMut(u64) -> R) {
        self.0
            .bench_function(name, |b| b.iter(|| call(black_box(7))));
    }
}

fn tower_layers(c: &mut Criterion) {
    // tower-resilience's layers may look for a tokio runtime (their events, their clock).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();
    for group in layers::GROUPS {
        let mut g = c.benchmark_group(*group);
        layers::run(group, &mut Group(&mut g));
        g.finish();
    }
}

criterion_group!(tower, tower_layers);
criterion_main!(tower);
