//! What each attribute costs per call, beside the crates users would pick instead, in one
//! run: `cargo bench --bench overhead`.
//!
//! Every case is one criterion group holding `bare` (the same body with nothing around
//! it), `resilience` (ours, through the public attributes, as a user writes them) and
//! the peers. All of them call the same `#[inline(never)]` body, so a function's time
//! minus `bare` is what its wrapper costs. The README's "Performance" section reports the
//! ratios of these overheads.

use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::mem::size_of_val;
use std::pin::{pin, Pin};
use std::sync::Barrier;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use resilience::{
    circuit_breaker, error_context, fallback, hedge, retry, CircuitOpen, ErrorContext, MarcusError,
};

#[derive(Debug, thiserror::Error, MarcusError)]
enum BenchError {
    #[error("the upstream timed out")]
    #[marcus(category = transient)]
    Timeout,
    #[error("the upstream failed")]
    #[marcus(category = integration)]
    Upstream {
        #[context]
        ctx: Box<ErrorContext>,
    },
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] resilience::BulkheadFull),
    #[error(transparent)]
    Limited(#[from] resilience::RateLimited),
}

// ----- the bodies, shared by every contender ------------------------------------------

#[inline(never)]
fn work(x: u64) -> Result<u64, BenchError> {
    Ok(x.wrapping_mul(3).wrapping_add(1))
}

#[inline(never)]
async fn work_async(x: u64) -> Result<u64, BenchError> {
    work(x)
}

/// Fails twice, then succeeds, round and round: three calls per retried call.
#[inline(never)]
fn flaky(calls: &Cell<u32>) -> Result<u32, BenchError> {
    let n = calls.get();
    calls.set(n.wrapping_add(1));
    if n % 3 == 2 {
        Ok(n)
    } else {
        Err(BenchError::Timeout)
    }
}

#[inline(never)]
async fn flaky_async(calls: &Cell<u32>) -> Result<u32, BenchError> {
    flaky(calls)
}

#[inline(never)]
fn failing(x: u64) -> Result<u64, BenchError> {
    black_box(x);
    Err(BenchError::Timeout)
}

#[inline(never)]
fn backup(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[inline(never)]
fn failing_with_context(agent: &str) -> Result<(), BenchError> {
    black_box(agent);
    Err(BenchError::Upstream {
        ctx: Box::new(ErrorContext::new()),
    })
}

// ----- ours, as a user writes them ----------------------------------------------------
//
// An async `ours_*` is its bare body's `async fn` with the attribute: the same body
// (`work(x)`, as `work_async`'s), so bare polls the undecorated future, the peers wrap it,
// and ours is it, decorated. A sync `ours_*` calls `work` from its body: one call more
// than the bare call, counted against us.

#[circuit_breaker(name = "bench.closed")]
fn ours_closed(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(name = "bench.closed_async")]
async fn ours_closed_async(x: u64) -> Result<u64, BenchError> {
    work(x)
}

/// As `ours_closed_async`, with a `?` in the body, as most real bodies have: the attribute
/// rewrites it as a `break` out of the inline body, and this shows what that costs.
#[circuit_breaker(name = "bench.closed_async_early")]
async fn ours_closed_async_early(x: u64) -> Result<u64, BenchError> {
    let y = work(x)?;
    Ok(y)
}

#[circuit_breaker(
    name = "bench.rate",
    failure_rate = 50,
    minimum_calls = 10,
    window_size = 100
)]
fn ours_rate(x: u64) -> Result<u64, BenchError> {
    work(x)
}

/// As `ours_rate`, the rates over the calls of the last minute (`rate_window`).
#[circuit_breaker(
    name = "bench.rate_time",
    failure_rate = 50,
    minimum_calls = 10,
    rate_window = 60s
)]
fn ours_rate_time(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(name = "bench.open", failure_threshold = 1, recovery_timeout = 1h)]
fn ours_open(x: u64, fail: bool) -> Result<u64, BenchError> {
    if fail {
        failing(x)
    } else {
        work(x)
    }
}

#[circuit_breaker(name = "bench.two_threads")]
fn ours_two_threads(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[retry(max_attempts = 3)]
fn ours_retry(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[retry(max_attempts = 3)]
async fn ours_retry_async(x: u64) -> Result<u64, BenchError> {
    work(x)
}

/// As `ours_retry_async`, with a `?` in the body (see `ours_closed_async_early`).
#[retry(max_attempts = 3)]
async fn ours_retry_async_early(x: u64) -> Result<u64, BenchError> {
    let y = work(x)?;
    Ok(y)
}

#[retry(max_attempts = 3, backoff = none)]
fn ours_flaky(calls: &Cell<u32>) -> Result<u32, BenchError> {
    flaky(calls)
}

#[retry(max_attempts = 3, backoff = none)]
async fn ours_flaky_async(calls: &Cell<u32>) -> Result<u32, BenchError> {
    flaky(calls)
}

#[fallback(backup)]
fn ours_fallback(x: u64) -> Result<u64, BenchError> {
    failing(x)
}

#[error_context("op", agent_id = agent)]
fn ours_context(agent: &str) -> Result<(), BenchError> {
    failing_with_context(agent)
}

// ----- the peers ----------------------------------------------------------------------

type Failsafe = failsafe::StateMachine<
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>,
    (),
>;

/// failsafe with `consecutive_failures`: its fastest policy (the default, a success rate
/// over a time window, is several times slower).
fn failsafe_breaker(failures: u32) -> Failsafe {
    let policy = failsafe::failure_policy::consecutive_failures(
        failures,
        failsafe::backoff::constant(Duration::from_secs(3600)),
    );
    failsafe::Config::new().failure_policy(policy).build()
}

/// recloser counts a failure rate over a ring of the last `closed_len` calls: its only mode.
fn recloser(closed_len: usize) -> recloser::Recloser {
    recloser::Recloser::custom()
        .error_rate(0.5)
        .closed_len(closed_len)
        .open_wait(Duration::from_secs(3600))
        .build()
}

/// Polls `future` once with a no-op waker and returns its output: every async case here
/// completes on its first poll. The `_polled` groups use it instead of criterion's
/// `to_async`, whose own loop is a future too: there every call's future is inlined into
/// the loop's state machine, so what a call costs moves with the code around it more than
/// with its own work (a bare call costs 29 ns there).
///
/// Here each future is moved into a function of its own and polled through
/// `dyn Future`, as an executor moves a spawned task into its cell and polls it through
/// the task's vtable. The indirect call matters: polled directly, the compiler inlines a
/// future's `poll` here or not depending on how many callers it has, and that alone
/// moved one contender by 12 ns between two builds.
#[inline(never)]
fn poll_once<F: Future>(future: F) -> F::Output {
    let mut cx = Context::from_waker(Waker::noop());
    let mut future = pin!(future);
    let task: Pin<&mut dyn Future<Output = F::Output>> = future.as_mut();
    match black_box(task).poll(&mut cx) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("a benchmarked future was not ready at its first poll"),
    }
}

fn current_thread_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("a current-thread runtime")
}

// ----- the cases ----------------------------------------------------------------------

fn closed_breaker_sync(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let fs = failsafe_breaker(5);
    let rc = recloser(100);
    let mut g = c.benchmark_group("closed_breaker_sync");
    g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_closed(black_box(1))))
    });
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(fs.call(|| work(black_box(1)))))
    });
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(rc.call(|| work(black_box(1)))))
    });
    g.finish();
}

fn closed_breaker_async(c: &mut Criterion) {
    let rt = current_thread_runtime();
    let fs = failsafe_breaker(5);
    let rc = recloser::AsyncRecloser::from(recloser(100));
    let mut g = c.benchmark_group("closed_breaker_async");
    g.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(work_async(black_box(1)).await) })
    });
    g.bench_function("resilience", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(ours_closed_async(black_box(1)).await) })
    });
    g.bench_function("failsafe", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(failsafe::futures::CircuitBreaker::call(&fs, work_async(black_box(1))).await)
        })
    });
    g.bench_function("recloser", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(rc.call(work_async(black_box(1))).await) })
    });
    g.finish();
}

/// `closed_breaker_async` polled directly, without criterion's async loop.
fn closed_breaker_async_polled(c: &mut Criterion) {
    let rt = current_thread_runtime();
    let _runtime = rt.enter();
    let fs = failsafe_breaker(5);
    let rc = recloser::AsyncRecloser::from(recloser(100));
    println!(
        "future sizes: bare {} bytes, resilience {} (body with `?`: {}), failsafe {}, recloser {}",
        size_of_val(&work_async(1)),
        size_of_val(&ours_closed_async(1)),
        size_of_val(&ours_closed_async_early(1)),
        size_of_val(&failsafe::futures::CircuitBreaker::call(&fs, work_async(1))),
        size_of_val(&rc.call(work_async(1))),
    );
    let mut g = c.benchmark_group("closed_breaker_async_polled");
    g.bench_function("bare", |b| {
        b.iter(|| black_box(poll_once(work_async(black_box(1)))))
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(poll_once(ours_closed_async(black_box(1)))))
    });
    g.bench_function("resilience_body_with_question_mark", |b| {
        b.iter(|| black_box(poll_once(ours_closed_async_early(black_box(1)))))
    });
    g.bench_function("failsafe", |b| {
        b.iter(|| {
            black_box(poll_once(failsafe::futures::CircuitBreaker::call(
                &fs,
                work_async(black_box(1)),
            )))
        })
    });
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(poll_once(rc.call(work_async(black_box(1))))))
    });
    g.finish();
}

/// Ours counting a failure rate over the last 100 calls, and over the calls of the last
/// minute, against the peers' cheapest mode.
fn rate_window_breaker(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let fs = failsafe_breaker(5);
    let rc = recloser(100);
    let mut g = c.benchmark_group("rate_window_breaker");
    g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_rate(black_box(1))))
    });
    g.bench_function("resilience_time_window", |b| {
        b.iter(|| black_box(ours_rate_time(black_box(1))))
    });
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(fs.call(|| work(black_box(1)))))
    });
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(rc.call(|| work(black_box(1)))))
    });
    g.finish();
}

fn open_breaker_rejection(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let _ = ours_open(1, true);
    assert!(
        matches!(ours_open(1, false), Err(BenchError::Open(_))),
        "ours is open"
    );
    let fs = failsafe_breaker(1);
    let _ = fs.call(|| failing(1));
    assert!(
        matches!(fs.call(|| work(1)), Err(failsafe::Error::Rejected)),
        "failsafe is open"
    );
    let rc = recloser(2);
    // recloser judges the rate once its ring is full: the third failure opens it.
    for _ in 0..3 {
        let _ = rc.call(|| failing(1));
    }
    assert!(
        matches!(rc.call(|| work(1)), Err(recloser::Error::Rejected)),
        "recloser is open"
    );

    let mut g = c.benchmark_group("open_breaker_rejection");
    g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_open(black_box(1), black_box(false))))
    });
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(fs.call(|| work(black_box(1)))))
    });
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(rc.call(|| work(black_box(1)))))
    });
    g.finish();
}

fn retry_first_success_sync(c: &mut Criterion) {
    use backon::BlockingRetryable as _;
    let mut g = c.benchmark_group("retry_first_success_sync");
    g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_retry(black_box(1))))
    });
    g.bench_function("backon", |b| {
        b.iter(|| {
            black_box(
                (|| work(black_box(1)))
                    .retry(backon::ExponentialBuilder::default())
                    .call(),
            )
        })
    });
    g.finish();
}

fn retry_first_success_async(c: &mut Criterion) {
    use backon::Retryable as _;
    let rt = current_thread_runtime();
    let mut g = c.benchmark_group("retry_first_success_async");
    g.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(work_async(black_box(1)).await) })
    });
    g.bench_function("resilience", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(ours_retry_async(black_box(1)).await) })
    });
    g.bench_function("backon", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(
                (|| work_async(black_box(1)))
                    .retry(backon::ExponentialBuilder::default())
                    .await,
            )
        })
    });
    g.bench_function("tokio-retry2", |b| {
        b.to_async(&rt).iter(|| async {
            let strategy = tokio_retry2::strategy::ExponentialBackoff::from_millis(1000).take(2);
            black_box(
                tokio_retry2::Retry::spawn(strategy, || async {
                    work_async(black_box(1))
                        .await
                        .map_err(tokio_retry2::RetryError::transient)
                })
                .await,
            )
        })
    });
    g.finish();
}

/// `retry_first_success_async` polled directly, without criterion's async loop.
fn retry_first_success_async_polled(c: &mut Criterion) {
    use backon::Retryable as _;
    let rt = current_thread_runtime();
    let _runtime = rt.enter();
    let strategy = tokio_retry2::strategy::ExponentialBackoff::from_millis(1000).take(2);
    println!(
        "future sizes: bare {} bytes, resilience {} (body with `?`: {}), backon {}, tokio-retry2 {}",
        size_of_val(&work_async(1)),
        size_of_val(&ours_retry_async(1)),
        size_of_val(&ours_retry_async_early(1)),
        size_of_val(&(|| work_async(1)).retry(backon::ExponentialBuilder::default())),
        size_of_val(&tokio_retry2::Retry::spawn(strategy, || async {
            work_async(1)
                .await
                .map_err(tokio_retry2::RetryError::transient)
        })),
    );
    let mut g = c.benchmark_group("retry_first_success_async_polled");
    g.bench_function("bare", |b| {
        b.iter(|| black_box(poll_once(work_async(black_box(1)))))
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(poll_once(ours_retry_async(black_box(1)))))
    });
    g.bench_function("resilience_body_with_question_mark", |b| {
        b.iter(|| black_box(poll_once(ours_retry_async_early(black_box(1)))))
    });
    g.bench_function("backon", |b| {
        b.iter(|| {
            black_box(poll_once(
                (|| work_async(black_box(1))).retry(backon::ExponentialBuilder::default()),
            ))
        })
    });
    g.bench_function("tokio-retry2", |b| {
        b.iter(|| {
            let strategy = tokio_retry2::strategy::ExponentialBackoff::from_millis(1000).take(2);
            black_box(poll_once(tokio_retry2::Retry::spawn(strategy, || async {
                work_async(black_box(1))
                    .await
                    .map_err(tokio_retry2::RetryError::transient)
            })))
        })
    });
    g.finish();
}

/// Two failures, then a success, with no delay: the retry machinery on its failure path
/// (ours also records each failure in the monitor).
fn retry_two_failures_sync(c: &mut Criterion) {
    use backon::BlockingRetryable as _;
    let calls = Cell::new(0);
    let zero = backon::ConstantBuilder::default()
        .with_delay(Duration::ZERO)
        .with_max_times(2);
    assert!(ours_flaky(&calls).is_ok());
    assert!((|| flaky(&calls)).retry(zero).call().is_ok());

    let mut g = c.benchmark_group("retry_two_failures_sync");
    g.bench_function("bare", |b| {
        b.iter(|| {
            black_box(flaky(black_box(&calls)).ok());
            black_box(flaky(black_box(&calls)).ok());
            black_box(flaky(black_box(&calls)))
        })
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_flaky(black_box(&calls))))
    });
    g.bench_function("backon", |b| {
        b.iter(|| black_box((|| flaky(black_box(&calls))).retry(zero).call()))
    });
    g.finish();
}

fn retry_two_failures_async(c: &mut Criterion) {
    use backon::Retryable as _;
    let rt = current_thread_runtime();
    let calls = Cell::new(0);
    let zero = backon::ConstantBuilder::default()
        .with_delay(Duration::ZERO)
        .with_max_times(2);
    let tokio_retry2_once = || {
        tokio_retry2::Retry::spawn(
            tokio_retry2::strategy::FixedInterval::from_millis(0).take(2),
            || async {
                flaky_async(black_box(&calls))
                    .await
                    .map_err(tokio_retry2::RetryError::transient)
            },
        )
    };
    rt.block_on(async {
        assert!(ours_flaky_async(&calls).await.is_ok());
        assert!((|| flaky_async(&calls)).retry(zero).await.is_ok());
        assert!(tokio_retry2_once().await.is_ok());
    });

    let mut g = c.benchmark_group("retry_two_failures_async");
    g.bench_function("bare", |b| {
        b.to_async(&rt).iter(|| async {
            black_box(flaky_async(black_box(&calls)).await.ok());
            black_box(flaky_async(black_box(&calls)).await.ok());
            black_box(flaky_async(black_box(&calls)).await)
        })
    });
    g.bench_function("resilience", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(ours_flaky_async(black_box(&calls)).await) })
    });
    g.bench_function("backon", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box((|| flaky_async(black_box(&calls))).retry(zero).await) })
    });
    g.bench_function("tokio-retry2", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(tokio_retry2_once().await) })
    });
    g.finish();
}

/// Both threads start together (a barrier) and call `iters` times; the slower one's time
/// is the time of `iters` pairs of calls.
fn two_threads(iters: u64, call: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(2);
    std::thread::scope(|s| {
        let run = || {
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                call();
            }
            start.elapsed()
        };
        let other = s.spawn(run);
        let mine = run();
        mine.max(other.join().expect("a bench thread panicked"))
    })
}

fn two_threads_closed_breaker(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let fs = failsafe_breaker(5);
    let rc = recloser(100);
    let mut g = c.benchmark_group("two_threads_closed_breaker");
    g.bench_function("bare", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(work(black_box(1))).ok();
            })
        })
    });
    g.bench_function("resilience", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(ours_two_threads(black_box(1))).ok();
            })
        })
    });
    g.bench_function("failsafe", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(fs.call(|| work(black_box(1)))).ok();
            })
        })
    });
    g.bench_function("recloser", |b| {
        b.iter_custom(|n| {
            two_threads(n, || {
                black_box(rc.call(|| work(black_box(1)))).ok();
            })
        })
    });
    g.finish();
}

/// `bare` is the fallback written by hand; ours also records the error in the monitor.
fn fallback_taken(c: &mut Criterion) {
    let mut g = c.benchmark_group("fallback_taken");
    g.bench_function("bare", |b| {
        b.iter(|| {
            let x = black_box(1);
            black_box(match failing(x) {
                Err(_) => backup(x),
                ok => ok,
            })
        })
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_fallback(black_box(1))))
    });
    g.finish();
}

/// `bare` returns the same error (whose context is made by `ErrorContext::new`) unfilled;
/// `by_hand` fills the same two fields itself; ours also records the error in the monitor.
fn error_context_filled(c: &mut Criterion) {
    let agent = String::from("agent-7");
    let filled = ours_context(&agent).expect_err("fails");
    assert!(
        matches!(&filled, BenchError::Upstream { ctx } if ctx.operation == "op" && ctx.agent_id.as_deref() == Some("agent-7"))
    );

    let mut g = c.benchmark_group("error_context_filled");
    g.bench_function("bare", |b| {
        b.iter(|| black_box(failing_with_context(black_box(&agent))))
    });
    g.bench_function("by_hand", |b| {
        b.iter(|| {
            let agent = black_box(agent.as_str());
            let mut outcome = failing_with_context(agent);
            if let Err(BenchError::Upstream { ctx }) = &mut outcome {
                if ctx.operation.is_empty() {
                    ctx.operation = String::from("op");
                }
                ctx.agent_id = Some(agent.to_string());
            }
            black_box(outcome)
        })
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(ours_context(black_box(&agent))))
    });
    g.finish();
}

fn monitor_record(c: &mut Criterion) {
    let error = BenchError::Timeout;
    let mut g = c.benchmark_group("monitor_record");
    g.bench_function("bare", |b| b.iter(|| black_box(&error)));
    g.bench_function("resilience", |b| {
        b.iter(|| resilience::monitor().record(black_box(&error)))
    });
    g.finish();
}

// ----- the failure-rate window, one thread and many (issue 22) -------------------------

#[circuit_breaker(name = "bench.window.consecutive")]
fn ours_window_consecutive(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(
    name = "bench.window.rate",
    failure_rate = 50,
    minimum_calls = 100,
    window_size = 100
)]
fn ours_window_rate(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(
    name = "bench.window.rate_threads",
    failure_rate = 50,
    minimum_calls = 100,
    window_size = 100
)]
fn ours_window_rate_threads(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[circuit_breaker(
    name = "bench.window.open",
    failure_threshold = 1,
    recovery_timeout = 1h
)]
fn ours_window_open(x: u64, fail: bool) -> Result<u64, BenchError> {
    if fail {
        failing(x)
    } else {
        work(x)
    }
}

/// One thread: the consecutive mode, the failure-rate mode (`failure_rate = 50,
/// minimum_calls = 100, window_size = 100`) and an open breaker's refusal, beside
/// failsafe's consecutive mode (its cheapest) and recloser's rate ring of 100 calls.
fn window_one_thread(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let fs = failsafe_breaker(5);
    let rc = recloser(100);
    let _ = ours_window_open(1, true);
    assert!(matches!(
        ours_window_open(1, false),
        Err(BenchError::Open(_))
    ));
    let mut g = c.benchmark_group("window_one_thread");
    g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
    g.bench_function("resilience_consecutive", |b| {
        b.iter(|| black_box(ours_window_consecutive(black_box(1))))
    });
    g.bench_function("resilience_rate", |b| {
        b.iter(|| black_box(ours_window_rate(black_box(1))))
    });
    g.bench_function("resilience_refusal", |b| {
        b.iter(|| black_box(ours_window_open(black_box(1), black_box(false))))
    });
    g.bench_function("failsafe", |b| {
        b.iter(|| black_box(fs.call(|| work(black_box(1)))))
    });
    g.bench_function("recloser", |b| {
        b.iter(|| black_box(rc.call(|| work(black_box(1)))))
    });
    g.finish();
}

/// `threads` threads start together (a barrier) and call `iters` times each; the slowest
/// one's time is the time of `iters` rounds of `threads` calls.
fn on_threads(threads: usize, iters: u64, call: impl Fn() + Sync) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let run = || {
            barrier.wait();
            let start = Instant::now();
            for _ in 0..iters {
                call();
            }
            start.elapsed()
        };
        let others: Vec<_> = (1..threads).map(|_| s.spawn(run)).collect();
        let mine = run();
        others
            .into_iter()
            .map(|t| t.join().expect("a bench thread panicked"))
            .fold(mine, Duration::max)
    })
}

/// 1, 2 and 4 threads (4 is more threads than this machine's 2 cores: the OS switches
/// between them) on one rate-mode breaker, beside failsafe and recloser shared the same
/// way: time per round of one call on each thread.
fn window_threads(c: &mut Criterion) {
    use failsafe::CircuitBreaker as _;
    let fs = failsafe_breaker(5);
    let rc = recloser(100);
    for threads in [1, 2, 4] {
        let mut g = c.benchmark_group(format!("window_threads_{threads}"));
        g.bench_function("bare", |b| {
            b.iter_custom(|n| {
                on_threads(threads, n, || {
                    black_box(work(black_box(1))).ok();
                })
            })
        });
        g.bench_function("resilience_rate", |b| {
            b.iter_custom(|n| {
                on_threads(threads, n, || {
                    black_box(ours_window_rate_threads(black_box(1))).ok();
                })
            })
        });
        g.bench_function("failsafe", |b| {
            b.iter_custom(|n| {
                on_threads(threads, n, || {
                    black_box(fs.call(|| work(black_box(1)))).ok();
                })
            })
        });
        g.bench_function("recloser", |b| {
            b.iter_custom(|n| {
                on_threads(threads, n, || {
                    black_box(rc.call(|| work(black_box(1)))).ok();
                })
            })
        });
        g.finish();
    }
}

/// Bulkhead, rate limit and keyed breaker groups (issue 17), each with its peers.
mod patterns {
    use super::*;
    use std::num::NonZeroU32;
    use tower::{Service, ServiceExt};

    #[resilience::bulkhead(name = "bench.bulkhead", max_concurrent = 1000)]
    fn ours_bulkhead(x: u64) -> Result<u64, BenchError> {
        work(x)
    }

    #[resilience::bulkhead(name = "bench.bulkhead_async", max_concurrent = 1000)]
    async fn ours_bulkhead_async(x: u64) -> Result<u64, BenchError> {
        work(x)
    }

    // One call a nanosecond with a one-second burst: never refused at any call rate a
    // benchmark reaches, so every iteration measures an admitted call.
    #[resilience::rate_limit(name = "bench.rate", limit = 1000000000, per = 1s)]
    fn ours_rate_limited(x: u64) -> Result<u64, BenchError> {
        work(x)
    }

    #[resilience::rate_limit(name = "bench.rate_async", limit = 1000000000, per = 1s)]
    async fn ours_rate_limited_async(x: u64) -> Result<u64, BenchError> {
        work(x)
    }

    #[circuit_breaker(name = "bench.keyed", key = host, max_keys = 20000)]
    fn ours_keyed(host: &str, x: u64) -> Result<u64, BenchError> {
        work(x)
    }

    /// An admitted call: ours (sync) against a bare `tokio::sync::Semaphore::try_acquire`
    /// around the same body.
    pub(super) fn bulkhead_admitted(c: &mut Criterion) {
        let semaphore = tokio::sync::Semaphore::new(1000);
        let mut g = c.benchmark_group("bulkhead_admitted");
        g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
        g.bench_function("semaphore_try_acquire", |b| {
            b.iter(|| {
                let permit = semaphore.try_acquire().expect("a place");
                let out = work(black_box(1));
                drop(permit);
                black_box(out)
            })
        });
        g.bench_function("resilience", |b| {
            b.iter(|| black_box(ours_bulkhead(black_box(1))))
        });
        g.finish();
    }

    /// An admitted async call: ours against tower-resilience's bulkhead (a tower service,
    /// readied and called as tower callers do), on one current-thread runtime.
    pub(super) fn bulkhead_admitted_async(c: &mut Criterion) {
        let rt = current_thread_runtime();
        let layer = tower_resilience_bulkhead::BulkheadLayer::builder()
            .max_concurrent_calls(1000)
            .build()
            .expect("valid");
        let svc = tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|x: u64| async move { work(x) });
        let mut g = c.benchmark_group("bulkhead_admitted_async");
        g.bench_function("bare", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(work(black_box(1))) })
        });
        g.bench_function("tower_resilience", |b| {
            b.to_async(&rt).iter(|| {
                let mut svc = svc.clone();
                async move {
                    let ready = svc.ready().await.expect("ready");
                    black_box(ready.call(black_box(1)).await.is_ok())
                }
            })
        });
        g.bench_function("resilience", |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(ours_bulkhead_async(black_box(1)).await) })
        });
        g.finish();
    }

    /// An admitted call: ours (sync) against governor's direct limiter (`check`) around
    /// the same body.
    pub(super) fn rate_limit_admitted(c: &mut Criterion) {
        let quota = governor::Quota::per_second(NonZeroU32::new(u32::MAX).expect("not zero"));
        let limiter = governor::RateLimiter::direct(quota);
        let mut g = c.benchmark_group("rate_limit_admitted");
        g.bench_function("bare", |b| b.iter(|| black_box(work(black_box(1)))));
        g.bench_function("governor", |b| {
            b.iter(|| {
                limiter.check().expect("admitted");
                black_box(work(black_box(1)))
            })
        });
        g.bench_function("resilience", |b| {
            b.iter(|| black_box(ours_rate_limited(black_box(1)).expect("admitted")))
        });
        g.finish();
    }

    /// An admitted async call: ours against tower-resilience's rate limiter.
    pub(super) fn rate_limit_admitted_async(c: &mut Criterion) {
        let rt = current_thread_runtime();
        let layer = tower_resilience_ratelimiter::RateLimiterLayer::builder()
            .limit_for_period(usize::MAX / 2)
            .refresh_period(Duration::from_secs(1))
            .build()
            .expect("valid");
        let svc = tower::ServiceBuilder::new()
            .layer(layer)
            .service_fn(|x: u64| async move { work(x) });
        let mut g = c.benchmark_group("rate_limit_admitted_async");
        g.bench_function("tower_resilience", |b| {
            b.to_async(&rt).iter(|| {
                let mut svc = svc.clone();
                async move {
                    let ready = svc.ready().await.expect("ready");
                    black_box(ready.call(black_box(1)).await.is_ok())
                }
            })
        });
        g.bench_function("resilience", |b| {
            b.to_async(&rt).iter(|| async {
                black_box(
                    ours_rate_limited_async(black_box(1))
                        .await
                        .expect("admitted"),
                )
            })
        });
        g.finish();
    }

    /// A call through a keyed breaker with 10 000 live keys, against our unkeyed one:
    /// `keyed_10000` walks the keys in a scattered order (each call's key, map slot and
    /// breaker likely out of cache, as in a service with many hosts), `keyed_hot` calls
    /// one key of the 10 000 again and again (the lookup's own cost).
    pub(super) fn keyed_breaker(c: &mut Criterion) {
        let hosts: Vec<String> = (0..10_000).map(|i| format!("host-{i}.example")).collect();
        for host in &hosts {
            ours_keyed(host, 1).expect("closed");
        }
        let mut g = c.benchmark_group("keyed_breaker");
        g.bench_function("unkeyed", |b| {
            b.iter(|| black_box(ours_closed(black_box(1))))
        });
        let mut i = 0usize;
        g.bench_function("keyed_10000", |b| {
            b.iter(|| {
                i = (i + 7919) % hosts.len();
                black_box(ours_keyed(black_box(hosts[i].as_str()), black_box(1)))
            })
        });
        g.bench_function("keyed_hot", |b| {
            b.iter(|| black_box(ours_keyed(black_box(hosts[4242].as_str()), black_box(1))))
        });
        g.finish();
    }
}

/// The body of the hedge cases that wait: pending once (as a call that goes out to a
/// dependency is), then the answer, long before any hedge delay.
#[inline(never)]
async fn work_after_a_yield(x: u64) -> Result<u64, BenchError> {
    tokio::task::yield_now().await;
    work(x)
}

#[hedge(delay = 50ms, max_hedges = 1)]
async fn ours_hedge_async(x: u64) -> Result<u64, BenchError> {
    work(x)
}

#[hedge(delay = 50ms, max_hedges = 1)]
async fn ours_hedge_after_a_yield(x: u64) -> Result<u64, BenchError> {
    work_after_a_yield(x).await
}

/// tower's `hedge` as a user sets it up around the same body, with a 50 ms hedge delay
/// (its delay is a latency percentile; the histogram is seeded with 50 ms latencies and
/// rotates once a day, so every call here arms a 50 ms hedge that never fires, as ours
/// does).
fn tower_hedge<F, Fut>(body: F) -> tower::hedge::Hedge<tower::util::ServiceFn<F>, TowerHedgePolicy>
where
    F: FnMut(u64) -> Fut + Clone,
    Fut: Future<Output = Result<u64, BenchError>>,
{
    tower::hedge::Hedge::new_with_mock_latencies(
        tower::service_fn(body),
        TowerHedgePolicy,
        1,
        0.9,
        Duration::from_secs(86_400),
        &[50; 10],
    )
}

#[derive(Clone)]
struct TowerHedgePolicy;

impl tower::hedge::Policy<u64> for TowerHedgePolicy {
    fn clone_request(&self, req: &u64) -> Option<u64> {
        Some(*req)
    }

    fn can_retry(&self, _: &u64) -> bool {
        true
    }
}

/// A hedged call that needs no hedge, its body answering at its first poll: ours makes
/// no timer then; tower's makes its delay's timer on every call.
fn hedge_not_needed_polled(c: &mut Criterion) {
    use tower::{Service as _, ServiceExt as _};
    let rt = current_thread_runtime();
    let _runtime = rt.enter();
    let mut tower = tower_hedge(work_async);
    let mut g = c.benchmark_group("hedge_not_needed_polled");
    g.bench_function("bare", |b| {
        b.iter(|| black_box(poll_once(work_async(black_box(1)))))
    });
    g.bench_function("resilience", |b| {
        b.iter(|| black_box(poll_once(ours_hedge_async(black_box(1)))))
    });
    g.bench_function("tower", |b| {
        b.iter(|| {
            black_box(poll_once(async {
                let service = tower.ready().await.expect("always ready");
                service.call(black_box(1)).await
            }))
        })
    });
    g.finish();
}

/// A hedged call that needs no hedge, its body pending once: both arm their 50 ms timer
/// (ours on the heap, through the crate's sleep) and drop it unfired.
fn hedge_not_needed_async(c: &mut Criterion) {
    use tower::{Service as _, ServiceExt as _};
    let rt = current_thread_runtime();
    let mut g = c.benchmark_group("hedge_not_needed_async");
    g.bench_function("bare", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(work_after_a_yield(black_box(1)).await) })
    });
    g.bench_function("resilience", |b| {
        b.to_async(&rt)
            .iter(|| async { black_box(ours_hedge_after_a_yield(black_box(1)).await) })
    });
    let tower = {
        let _runtime = rt.enter();
        std::cell::RefCell::new(tower_hedge(work_after_a_yield))
    };
    // One call at a time on one thread: the borrow held across the await never meets another.
    #[allow(clippy::await_holding_refcell_ref)]
    g.bench_function("tower", |b| {
        b.to_async(&rt).iter(|| async {
            let mut tower = tower.borrow_mut();
            let service = tower.ready().await.expect("always ready");
            black_box(service.call(black_box(1)).await)
        })
    });
    g.finish();
}

criterion_group!(
    overhead,
    closed_breaker_sync,
    closed_breaker_async,
    closed_breaker_async_polled,
    rate_window_breaker,
    open_breaker_rejection,
    retry_first_success_sync,
    retry_first_success_async,
    retry_first_success_async_polled,
    retry_two_failures_sync,
    retry_two_failures_async,
    two_threads_closed_breaker,
    fallback_taken,
    error_context_filled,
    monitor_record,
    window_one_thread,
    window_threads,
    patterns::bulkhead_admitted,
    patterns::bulkhead_admitted_async,
    patterns::rate_limit_admitted,
    patterns::rate_limit_admitted_async,
    patterns::keyed_breaker,
    hedge_not_needed_polled,
    hedge_not_needed_async,
);
criterion_main!(overhead);
