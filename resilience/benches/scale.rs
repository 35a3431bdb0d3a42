//! The registry at scale: `cargo bench --bench scale`.
//!
//! - the time of a call through one breaker while 10, 1 000 and 100 000 breakers are
//!   registered (through `#[circuit_breaker]`, whose call site finds its breaker once;
//!   and, for comparison, looking the breaker up by name on every call);
//! - the time of `registry().breakers()` with 100 000 breakers registered;
//! - the bytes each breaker costs, measured by a counting global allocator (the net
//!   bytes the registry holds after registering 99 000 more breakers, divided by their
//!   number; this includes the name, the registry's map entry and the `Arc`), and the
//!   allocations a closed call and a refused call make (expected: none).
//!
//! The memory figures are printed before criterion's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};

use criterion::{BenchmarkId, Criterion};
use resilience::registry::Registry;
use resilience::{circuit_breaker, registry, Breaker, BreakerConfig, CircuitOpen};

/// Counts allocations and the bytes held; otherwise the system allocator, unchanged.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
static HELD: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; only counters change.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        HELD.fetch_add(layout.size() as isize, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        HELD.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        // SAFETY: the caller's contract is passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[derive(Debug)]
enum ScaleError {
    Down,
    Open,
}

impl From<CircuitOpen> for ScaleError {
    fn from(_: CircuitOpen) -> Self {
        ScaleError::Open
    }
}

#[inline(never)]
fn work(x: u64) -> Result<u64, ScaleError> {
    Ok(x.wrapping_mul(3).wrapping_add(1))
}

/// The first breaker registered: every registry size includes it.
#[circuit_breaker(name = "scale.000000")]
fn through_target(x: u64) -> Result<u64, ScaleError> {
    work(x)
}

#[circuit_breaker(name = "scale.refusing", failure_threshold = 1, recovery_timeout = 1h)]
fn refusing(fail: bool) -> Result<u64, ScaleError> {
    if fail {
        Err(ScaleError::Down)
    } else {
        work(1)
    }
}

fn name(i: usize) -> String {
    format!("scale.{i:06}")
}

/// Registers `scale.<from>` .. `scale.<to - 1>` with the default configuration.
fn register(from: usize, to: usize) {
    for i in from..to {
        registry()
            .register(&name(i), BreakerConfig::default())
            .expect("a valid default");
    }
}

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.load(Relaxed);
    f();
    ALLOCATIONS.load(Relaxed) - before
}

fn report_allocations_per_call() {
    const CALLS: usize = 10_000;
    // Warm: the call sites register their breakers on first use.
    black_box(through_target(1)).ok();
    black_box(refusing(true)).ok();
    assert!(matches!(refusing(false), Err(ScaleError::Open)));
    let closed = allocations_during(|| {
        for _ in 0..CALLS {
            black_box(through_target(black_box(1))).ok();
        }
    });
    let refused = allocations_during(|| {
        for _ in 0..CALLS {
            black_box(refusing(black_box(false))).ok();
        }
    });
    println!(
        "allocations per call, closed breaker: {}",
        closed as f64 / CALLS as f64
    );
    println!(
        "allocations per call, open breaker (refused): {}",
        refused as f64 / CALLS as f64
    );
}

/// Net bytes held per breaker registered in `reg` between `from` and `to`.
fn bytes_per_breaker(
    reg: &Registry,
    from: usize,
    to: usize,
    config: impl Fn() -> BreakerConfig,
) -> f64 {
    let before = HELD.load(Relaxed);
    for i in from..to {
        reg.register(&name(i), config())
            .expect("a valid configuration");
    }
    (HELD.load(Relaxed) - before) as f64 / (to - from) as f64
}

fn scale(c: &mut Criterion) {
    let mut g = c.benchmark_group("call_with_n_registered");
    let mut registered = 1; // scale.000000, through_target's
    black_box(through_target(1)).ok();
    for n in [10, 1_000, 100_000] {
        if n == 100_000 {
            let bytes = bytes_per_breaker(registry(), registered, n, BreakerConfig::default);
            println!("bytes per registered breaker, default (consecutive) mode: {bytes:.0}");
        } else {
            register(registered, n);
        }
        registered = n;
        let k = name(n / 2);
        g.bench_with_input(BenchmarkId::new("attribute", n), &n, |b, _| {
            b.iter(|| black_box(through_target(black_box(1))))
        });
        g.bench_with_input(BenchmarkId::new("lookup_by_name", n), &k, |b, k| {
            b.iter(|| {
                let breaker = registry().breaker(black_box(k)).expect("registered");
                black_box(breaker.call(|| work(black_box(1))))
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("registry_snapshot");
    g.sample_size(10);
    let total = registry().breakers().len();
    g.bench_with_input(BenchmarkId::new("breakers", total), &total, |b, _| {
        b.iter(|| black_box(registry().breakers()))
    });
    g.finish();
}

fn main() {
    println!(
        "size_of::<Breaker>(): {} bytes",
        std::mem::size_of::<Breaker>()
    );
    report_allocations_per_call();
    // A rate-window breaker also holds its ring of `window_size` one-byte slots.
    let rate = || BreakerConfig {
        failure_rate: Some(50.0),
        minimum_calls: 10,
        window_size: 100,
        ..BreakerConfig::default()
    };
    // In a registry of its own, so the global one holds 100 000 breakers (and two more).
    let bytes = bytes_per_breaker(&Registry::new(), 0, 10_000, rate);
    println!("bytes per registered breaker, failure_rate mode, window_size = 100: {bytes:.0}");
    // A time-window breaker holds its 64 slices and a striped success counter instead.
    let time = || BreakerConfig {
        failure_rate: Some(50.0),
        minimum_calls: 10,
        rate_window: Some(std::time::Duration::from_secs(60)),
        ..BreakerConfig::default()
    };
    let bytes = bytes_per_breaker(&Registry::new(), 0, 10_000, time);
    println!("bytes per registered breaker, failure_rate mode, rate_window = 60s: {bytes:.0}");

    let mut c = Criterion::default().configure_from_args();
    scale(&mut c);
    c.final_summary();
}
