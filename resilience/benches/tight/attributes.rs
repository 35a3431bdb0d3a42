//! The attributes in the tight-loop shape of issue 28, each beside its peers: the
//! decorated function is `#[inline(never)]` and its body `Ok(black_box(x) + 1)`,
//! returning a `Result<u64, TightError>` of 16 bytes (two registers), so nothing but the
//! wrapper's own work is measured; `bare` is the same function undecorated, and a peer
//! wraps a call of `bare`.

use std::future::Future;
use std::hint::black_box;
use std::num::NonZeroU32;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use resilience::{circuit_breaker, retry, BulkheadFull, CircuitOpen, RateLimited};

use crate::contenders::Contenders;

/// The groups, in the order they run.
pub const GROUPS: &[&str] = &[
    "tight_retry",
    "tight_retry_async",
    "tight_breaker",
    "tight_breaker_rate",
    "tight_rate_limit",
    "tight_bulkhead",
    "tight_refusal",
];

/// A small error: the refusals convert into a variant without their payload. Its
/// `u64` representation makes `Result<u64, TightError>` a pair of 8-byte scalars, which a
/// function returns in two registers; with a byte-sized error the `Result` went back
/// through memory (its value and its tag stored apart), and the loop's 16-byte copy of it
/// into `black_box` waited on store forwarding in every contender alike, hiding part of
/// what the wrappers add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum TightError {
    Failed,
    Open,
    Full,
    Limited,
}

impl std::fmt::Display for TightError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for TightError {}

impl From<CircuitOpen> for TightError {
    fn from(_: CircuitOpen) -> Self {
        TightError::Open
    }
}

impl From<BulkheadFull> for TightError {
    fn from(_: BulkheadFull) -> Self {
        TightError::Full
    }
}

impl From<RateLimited> for TightError {
    fn from(_: RateLimited) -> Self {
        TightError::Limited
    }
}

type Outcome = Result<u64, TightError>;

#[inline(never)]
pub fn bare(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

#[retry(max_attempts = 3)]
#[inline(never)]
pub fn ours_retry(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

/// `bare` as an `async fn`, ready at its first poll.
#[inline(never)]
pub async fn bare_async(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

#[retry(max_attempts = 3)]
#[inline(never)]
pub async fn ours_retry_async(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

/// Polls `future` once with a no-op waker through `dyn Future` (as an executor polls a
/// task through its vtable, so whether `poll` is inlined here does not depend on how
/// many callers it has) and returns its output: every async case is ready at once.
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

#[circuit_breaker(name = "tight.breaker")]
#[inline(never)]
pub fn ours_breaker(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

#[circuit_breaker(
    name = "tight.breaker_rate",
    failure_rate = 50,
    minimum_calls = 10,
    window_size = 100
)]
#[inline(never)]
pub fn ours_breaker_rate(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

// One call a nanosecond with a one-second burst: never refused at any rate a loop
// reaches, so every iteration is an admitted call.
#[resilience::rate_limit(name = "tight.rate_limit", limit = 1000000000, per = 1s)]
#[inline(never)]
pub fn ours_rate_limit(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

#[resilience::bulkhead(name = "tight.bulkhead", max_concurrent = 1000)]
#[inline(never)]
pub fn ours_bulkhead(x: u64) -> Outcome {
    Ok(black_box(x) + 1)
}

/// Set once to open `ours_open`'s breaker; a refused call never reads it.
static FAIL: AtomicBool = AtomicBool::new(false);

#[circuit_breaker(name = "tight.open", failure_threshold = 1, recovery_timeout = 1h)]
#[inline(never)]
pub fn ours_open(x: u64) -> Outcome {
    if FAIL.load(Relaxed) {
        return Err(TightError::Failed);
    }
    Ok(black_box(x) + 1)
}

type Failsafe = failsafe::StateMachine<
    failsafe::failure_policy::ConsecutiveFailures<failsafe::backoff::Constant>,
    (),
>;

/// failsafe's `consecutive_failures`, its cheapest policy.
fn failsafe_breaker(failures: u32) -> Failsafe {
    let policy = failsafe::failure_policy::consecutive_failures(
        failures,
        failsafe::backoff::constant(Duration::from_secs(3600)),
    );
    failsafe::Config::new().failure_policy(policy).build()
}

/// recloser's failure rate over a ring of the last `closed_len` calls, its only mode.
fn recloser(closed_len: usize) -> recloser::Recloser {
    recloser::Recloser::custom()
        .error_rate(0.5)
        .closed_len(closed_len)
        .open_wait(Duration::from_secs(3600))
        .build()
}

/// Hands the contenders of `group` (one of [`GROUPS`]) to `to`.
pub fn run(group: &str, to: &mut impl Contenders) {
    use backon::BlockingRetryable as _;
    use failsafe::CircuitBreaker as _;
    match group {
        "tight_retry" => {
            to.contender("bare", bare);
            to.contender("resilience", ours_retry);
            let backoff = backon::ExponentialBuilder::default().with_max_times(2);
            to.contender("backon", |x| (|| bare(x)).retry(backoff).call());
        }
        "tight_retry_async" => {
            use backon::Retryable as _;
            // backon's future wants a runtime's context for its (unused) sleeper.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a runtime");
            let _guard = runtime.enter();
            to.contender("bare", |x| poll_once(bare_async(x)));
            to.contender("resilience", |x| poll_once(ours_retry_async(x)));
            let backoff = backon::ExponentialBuilder::default().with_max_times(2);
            to.contender("backon", |x| poll_once((|| bare_async(x)).retry(backoff)));
        }
        "tight_breaker" | "tight_breaker_rate" => {
            let fs = failsafe_breaker(5);
            let rc = recloser(100);
            to.contender("bare", bare);
            if group == "tight_breaker" {
                to.contender("resilience", ours_breaker);
            } else {
                to.contender("resilience", ours_breaker_rate);
            }
            to.contender("failsafe", |x| fs.call(|| bare(x)));
            to.contender("recloser", |x| rc.call(|| bare(x)));
        }
        "tight_rate_limit" => {
            let quota = governor::Quota::per_second(NonZeroU32::MAX);
            let limiter = governor::RateLimiter::direct(quota);
            to.contender("bare", bare);
            to.contender("resilience", ours_rate_limit);
            to.contender("governor", |x| match limiter.check() {
                Ok(()) => bare(x),
                Err(_) => Err(TightError::Limited),
            });
        }
        "tight_bulkhead" => {
            let semaphore = tokio::sync::Semaphore::new(1000);
            to.contender("bare", bare);
            to.contender("resilience", ours_bulkhead);
            to.contender("semaphore_try_acquire", |x| match semaphore.try_acquire() {
                Ok(permit) => {
                    let out = bare(x);
                    drop(permit);
                    out
                }
                Err(_) => Err(TightError::Full),
            });
        }
        "tight_refusal" => {
            FAIL.store(true, Relaxed);
            let _ = ours_open(1);
            FAIL.store(false, Relaxed);
            assert_eq!(ours_open(1), Err(TightError::Open), "ours is open");
            let fs = failsafe_breaker(1);
            let _ = fs.call(|| Err::<u64, _>(TightError::Failed));
            assert!(matches!(
                fs.call(|| bare(1)),
                Err(failsafe::Error::Rejected)
            ));
            let rc = recloser(2);
            // recloser judges its rate once its ring is full: the third failure opens it.
            for _ in 0..3 {
                let _ = rc.call(|| Err::<u64, _>(TightError::Failed));
            }
            assert!(matches!(
                rc.call(|| bare(1)),
                Err(recloser::Error::Rejected)
            ));
            to.contender("bare", bare);
            to.contender("resilience", ours_open);
            to.contender("failsafe", |x| fs.call(|| bare(x)));
            to.contender("recloser", |x| rc.call(|| bare(x)));
        }
        other => panic!("no tight-loop group {other}"),
    }
}
