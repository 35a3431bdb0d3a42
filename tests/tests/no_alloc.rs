//! The hot path allocates nothing: a retry whose first attempt succeeds, and a call
//! through a closed breaker, once their call sites are warm. A counting global
//! allocator in its own test binary watches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use resilience::{circuit_breaker, retry, CircuitOpen};

struct Counting;

thread_local! {
    // Per thread: the harness and the other tests allocate on their own threads, at the
    // same time.
    static WATCHED: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if WATCHED.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    ALLOCATIONS.with(|n| n.set(0));
    WATCHED.with(|w| w.set(true));
    f();
    WATCHED.with(|w| w.set(false));
    ALLOCATIONS.with(Cell::get)
}

#[derive(Debug)]
enum Failure {
    Down,
    Open(CircuitOpen),
}

impl From<CircuitOpen> for Failure {
    fn from(open: CircuitOpen) -> Self {
        Failure::Open(open)
    }
}

#[retry(max_attempts = 3)]
fn first_time(x: u64) -> Result<u64, Failure> {
    Ok(x + 1)
}

#[circuit_breaker(name = "no_alloc.closed")]
fn through_breaker(x: u64) -> Result<u64, Failure> {
    Ok(x * 2)
}

#[circuit_breaker(name = "no_alloc.open", failure_threshold = 1, recovery_timeout = 1h)]
fn refused(fail: bool) -> Result<u64, Failure> {
    if fail {
        Err(Failure::Down)
    } else {
        Ok(1)
    }
}

#[circuit_breaker(
    name = "no_alloc.rate",
    failure_rate = 50,
    minimum_calls = 100,
    window_size = 100
)]
fn through_rate_breaker(x: u64) -> Result<u64, Failure> {
    Ok(x * 2)
}

#[retry(max_attempts = 3)]
async fn first_time_async(x: u64) -> Result<u64, Failure> {
    Ok(x + 1)
}

#[test]
fn the_counter_sees_allocations() {
    assert!(allocations_during(|| drop(std::hint::black_box(Box::new(7u64)))) >= 1);
}

#[test]
fn a_first_attempt_that_succeeds_and_a_closed_breaker_allocate_nothing() {
    // Warm the call sites: the first call registers the breaker and builds the policy.
    first_time(0).unwrap();
    through_breaker(0).unwrap();

    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(first_time(i).unwrap(), i + 1);
            assert_eq!(through_breaker(i).unwrap(), i * 2);
        }
    });
    assert_eq!(n, 0, "the hot path allocated {n} times");
}

/// The failure-rate window: successes on its striped counters, failures (one in four,
/// under the 50 % that would open it) through its lock, checks included.
#[test]
fn the_failure_rate_window_allocates_nothing() {
    through_rate_breaker(0).unwrap();
    let b = resilience::breaker::Breaker::new(
        "no_alloc.rate.direct",
        resilience::BreakerConfig {
            failure_rate: Some(50.0),
            minimum_calls: 10,
            window_size: 100,
            failure_threshold: 1_000,
            ..Default::default()
        },
    )
    .unwrap();
    b.acquire().unwrap().record_success();
    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(through_rate_breaker(i).unwrap(), i * 2);
            let permit = b.acquire().expect("stays closed at 25 %");
            if i % 4 == 0 {
                permit.record_failure();
            } else {
                permit.record_success();
            }
        }
    });
    assert_eq!(n, 0, "the rate window allocated {n} times");
    assert_eq!(
        b.snapshot().window_failures,
        25,
        "the window saw the failures"
    );
}

#[test]
fn a_refused_call_allocates_nothing() {
    assert!(refused(true).is_err(), "the failure opens it");
    assert!(matches!(refused(false), Err(Failure::Open(open)) if open.name == "no_alloc.open"));
    let n = allocations_during(|| {
        for _ in 0..1_000 {
            assert!(
                matches!(refused(false), Err(Failure::Open(open)) if open.name == "no_alloc.open")
            );
        }
    });
    assert_eq!(n, 0, "a refusal allocated {n} times");
}

#[test]
fn an_async_first_attempt_that_succeeds_allocates_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(first_time_async(0)).unwrap();
    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(rt.block_on(first_time_async(i)).unwrap(), i + 1);
        }
    });
    assert_eq!(n, 0, "the async hot path allocated {n} times");
}

// ---- bulkhead, rate limit, keyed instances (API.md section 5) ----------------------

// The refusals are held only to be matched in failure messages.
#[allow(dead_code)]
#[derive(Debug)]
enum PatternFailure {
    Full(resilience::BulkheadFull),
    Limited(resilience::RateLimited),
    Open(CircuitOpen),
}

impl From<resilience::BulkheadFull> for PatternFailure {
    fn from(e: resilience::BulkheadFull) -> Self {
        PatternFailure::Full(e)
    }
}

impl From<resilience::RateLimited> for PatternFailure {
    fn from(e: resilience::RateLimited) -> Self {
        PatternFailure::Limited(e)
    }
}

impl From<CircuitOpen> for PatternFailure {
    fn from(e: CircuitOpen) -> Self {
        PatternFailure::Open(e)
    }
}

#[resilience::bulkhead(name = "no_alloc.bulkhead", max_concurrent = 4)]
fn in_bulkhead(x: u64) -> Result<u64, PatternFailure> {
    Ok(x + 3)
}

#[resilience::bulkhead(name = "no_alloc.bulkhead_async", max_concurrent = 4)]
async fn in_bulkhead_async(x: u64) -> Result<u64, PatternFailure> {
    Ok(x + 3)
}

#[resilience::rate_limit(name = "no_alloc.rate", limit = 1000000000, per = 1s)]
fn rate_limited(x: u64) -> Result<u64, PatternFailure> {
    Ok(x + 4)
}

#[circuit_breaker(name = "no_alloc.keyed_breaker", key = host)]
#[resilience::bulkhead(name = "no_alloc.keyed_bulkhead", key = host)]
#[resilience::rate_limit(name = "no_alloc.keyed_rate", limit = 1000000000, per = 1s, key = host)]
fn keyed(host: &str, x: u64) -> Result<u64, PatternFailure> {
    let _ = host;
    Ok(x + 5)
}

#[test]
fn an_admitted_bulkhead_rate_limited_or_keyed_call_allocates_nothing() {
    let hosts = ["a.example", "b.example", "c.example"];
    in_bulkhead(0).unwrap();
    rate_limited(0).unwrap();
    for host in hosts {
        keyed(host, 0).unwrap();
    }
    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(in_bulkhead(i).unwrap(), i + 3);
            assert_eq!(rate_limited(i).unwrap(), i + 4);
            assert_eq!(keyed(hosts[i as usize % 3], i).unwrap(), i + 5);
        }
    });
    assert_eq!(n, 0, "an admitted call allocated {n} times");
}

#[test]
fn an_admitted_async_bulkhead_call_allocates_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    rt.block_on(in_bulkhead_async(0)).unwrap();
    let n = allocations_during(|| {
        for i in 0..1_000 {
            assert_eq!(rt.block_on(in_bulkhead_async(i)).unwrap(), i + 3);
        }
    });
    assert_eq!(n, 0, "the async bulkhead allocated {n} times");
}
