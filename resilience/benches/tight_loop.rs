//! Each attribute in the tight-loop shape of issue 28 (`#[inline(never)]` functions whose
//! body is `Ok(black_box(x) + 1)`, a 16-byte `Result`), beside its peers in one run:
//! `cargo bench -p resilience --bench tight_loop`. The cases are in `tight/attributes.rs`;
//! `cargo bench -p resilience --bench ratios -- tight_` prints the table of ratios
//! (overhead = time − bare; ratio = our overhead over the best peer's).
//!
//! `overhead.rs` keeps the other shape, a 40-byte `Result` through `black_box`, whose
//! copy stalls for several ns on every call and hides part of what the wrappers cost.
//!
//! `RESILIENCE_BENCH_CPU_TIME=1` measures the benchmark thread's CPU time instead of the
//! wall clock (`tight/cpu_time.rs`): on a machine others are building on, the figures
//! then move far less.

use std::hint::black_box;

use criterion::measurement::Measurement;
use criterion::{BenchmarkGroup, Criterion};

#[path = "tight/attributes.rs"]
mod attributes;
#[path = "tight/contenders.rs"]
mod contenders;
#[path = "tight/cpu_time.rs"]
mod cpu_time;

/// Puts each contender in the group as one criterion benchmark.
struct Group<'a, 'c, M: Measurement>(&'a mut BenchmarkGroup<'c, M>);

impl<M: Measurement> contenders::Contenders for Group<'_, '_, M> {
    fn contender<R>(&mut self, name: &str, mut call: impl FnMut(u64) -> R) {
        self.0
            .bench_function(name, |b| b.iter(|| call(black_box(1))));
    }
}

fn tight<M: Measurement>(c: &mut Criterion<M>) {
    for group in attributes::GROUPS {
        let mut g = c.benchmark_group(*group);
        attributes::run(group, &mut Group(&mut g));
        g.finish();
    }
}

/// `criterion_main!`, with the measurement `RESILIENCE_BENCH_CPU_TIME` picks.
fn main() {
    if cpu_time::chosen() {
        let mut c = Criterion::default()
            .with_measurement(cpu_time::CpuTime)
            .configure_from_args();
        tight(&mut c);
        c.final_summary();
    } else {
        let mut c = Criterion::default().configure_from_args();
        tight(&mut c);
        c.final_summary();
    }
}
