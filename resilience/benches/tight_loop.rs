//! Each attribute in the tight-loop shape of issue 28 (`#[inline(never)]` functions whose
//! body is `Ok(black_box(x) + 1)`, a 16-byte `Result`), beside its peers in one run:
//! `cargo bench -p resilience --bench tight_loop`. The cases are in `tight/attributes.rs`;
//! `cargo bench -p resilience --bench ratios -- tight_` prints the table of ratios
//! (overhead = time − bare; ratio = our overhead over the best peer's).
//!
//! `overhead.rs` keeps the other shape, a 40-byte `Result` through `black_box`, whose
//! copy stalls for several ns on every call and hides part of what the wrappers cost.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

#[path = "tight/attributes.rs"]
mod attributes;
#[path = "tight/contenders.rs"]
mod contenders;

/// Puts each contender in the group as one criterion benchmark.
struct Group<'a, 'c>(&'a mut BenchmarkGroup<'c, WallTime>);

impl contenders::Contenders for Group<'_, '_> {
    fn contender<R>(&mut self, name: &str, mut call: impl FnMut(u64) -> R) {
        self.0
            .bench_function(name, |b| b.iter(|| call(black_box(1))));
    }
}

fn tight(c: &mut Criterion) {
    for group in attributes::GROUPS {
        let mut g = c.benchmark_group(*group);
        attributes::run(group, &mut Group(&mut g));
        g.finish();
    }
}

criterion_group!(tight_loop, tight);
criterion_main!(tight_loop);
