//! The tower layers (breaker, bulkhead, rate limit, retry) beside tower-resilience's same
//! layers, in one run: `cargo bench -p resilience --bench tower --features tower`.
//!
//! A call is `poll_ready`, `call` and one poll of the response future with a no-op
//! waker, as an executor polls a task; the inner service answers at once (a ready
//! future), and `bare` is that service alone. A layer's time minus `bare` is its
//! overhead; `cargo bench -p resilience --bench ratios -- tower_` prints the ratios of
//! the overheads. The cases are in `tight/layers.rs`.
//!
//! `RESILIENCE_BENCH_CPU_TIME=1` measures the benchmark thread's CPU time instead of the
//! wall clock (`tight/cpu_time.rs`): on a machine others are building on, the figures
//! then move far less.

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion};

#[path = "tight/contenders.rs"]
mod contenders;
#[path = "tight/cpu_time.rs"]
mod cpu_time;
#[path = "tight/layers.rs"]
mod layers;

/// Puts each contender in the group as one criterion benchmark.
struct Group<'a, 'c, M: Measurement>(&'a mut BenchmarkGroup<'c, M>);

impl<M: Measurement> contenders::Contenders for Group<'_, '_, M> {
    fn contender<R>(&mut self, name: &str, mut call: impl FnMut(u64) -> R) {
        self.0
            .bench_function(name, |b| b.iter(|| call(black_box(7))));
    }
}

fn tower_layers<M: Measurement>(c: &mut Criterion<M>) {
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

/// `criterion_main!`, with the measurement `RESILIENCE_BENCH_CPU_TIME` picks.
fn main() {
    if cpu_time::chosen() {
        let mut c = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        tower_layers(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        tower_layers(&mut c);
        c.final_summary();
    }
}
