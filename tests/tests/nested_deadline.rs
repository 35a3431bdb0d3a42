//! Nested retries and deadlines (issue 30, API.md section 13) through the attributes, as a
//! user writes them, on paused tokio time: a retry inside another retry's attempt makes
//! one attempt unless `nested = independent`; a `#[timeout]` sets a deadline that the
//! retries, hedges, bulkheads, rate limits and adaptive limits inside it respect.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{
    adaptive_limit, bulkhead, deadline, hedge, rate_limit, retry, timeout, BulkheadFull,
    MarcusError, Overloaded, RateLimited, TimedOut,
};
use tokio::time::Instant;

#[derive(Debug, PartialEq, thiserror::Error, MarcusError)]
enum CallError {
    #[error("the upstream failed (call {0})")]
    #[marcus(category = transient)]
    Upstream(u32),
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// --- Nested retries: sync -------------------------------------------------------------

static SYNC_DEFER_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = none)]
fn sync_inner_defer() -> Result<(), CallError> {
    let n = SYNC_DEFER_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Err(CallError::Upstream(n))
}

#[retry(max_attempts = 3, backoff = none)]
fn sync_outer_defer() -> Result<(), CallError> {
    sync_inner_defer()
}

#[test]
fn three_attempts_inside_three_make_three_calls() {
    assert_eq!(sync_outer_defer(), Err(CallError::Upstream(3)));
    assert_eq!(SYNC_DEFER_CALLS.load(Ordering::SeqCst), 3);
    // Alone (outside every retry), the inner retry retries.
    SYNC_DEFER_CALLS.store(0, Ordering::SeqCst);
    assert_eq!(sync_inner_defer(), Err(CallError::Upstream(3)));
    assert_eq!(SYNC_DEFER_CALLS.load(Ordering::SeqCst), 3);
}

static SYNC_INDEPENDENT_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = none, nested = independent)]
fn sync_inner_independent() -> Result<(), CallError> {
    let n = SYNC_INDEPENDENT_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Err(CallError::Upstream(n))
}

#[retry(max_attempts = 3, backoff = none)]
fn sync_outer_independent() -> Result<(), CallError> {
    sync_inner_independent()
}

#[test]
fn nested_independent_retries_at_both_levels() {
    assert_eq!(sync_outer_independent(), Err(CallError::Upstream(9)));
    assert_eq!(SYNC_INDEPENDENT_CALLS.load(Ordering::SeqCst), 9);
}

// --- Nested retries: async ------------------------------------------------------------

static ASYNC_DEFER_CALLS: AtomicU32 = AtomicU32::new(0);
static ASYNC_INDEPENDENT_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none)]
async fn async_inner_defer() -> Result<(), CallError> {
    tokio::task::yield_now().await;
    let n = ASYNC_DEFER_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Err(CallError::Upstream(n))
}

#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none, nested = independent)]
async fn async_inner_independent() -> Result<(), CallError> {
    tokio::task::yield_now().await;
    let n = ASYNC_INDEPENDENT_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Err(CallError::Upstream(n))
}

#[retry(max_attempts = 3, backoff = fixed(10ms), jitter = none)]
async fn async_outer(independent: bool) -> Result<(), CallError> {
    tokio::time::sleep(ms(1)).await;
    if independent {
        async_inner_independent().await
    } else {
        async_inner_defer().await
    }
}

#[tokio::test(start_paused = true)]
async fn async_nested_retries_defer_unless_independent() {
    let start = Instant::now();
    assert_eq!(async_outer(false).await, Err(CallError::Upstream(3)));
    assert_eq!(ASYNC_DEFER_CALLS.load(Ordering::SeqCst), 3);
    // Only the outer retry slept: twice 10 ms, and its three attempts' 1 ms.
    assert_eq!(start.elapsed(), ms(23));

    assert_eq!(async_outer(true).await, Err(CallError::Upstream(9)));
    assert_eq!(ASYNC_INDEPENDENT_CALLS.load(Ordering::SeqCst), 9);
}

#[tokio::test(start_paused = true)]
async fn a_task_beside_an_attempt_is_not_inside_it() {
    static CALLS: AtomicU32 = AtomicU32::new(0);
    #[retry(max_attempts = 3, backoff = none)]
    async fn alone() -> Result<(), CallError> {
        tokio::task::yield_now().await;
        Err(CallError::Upstream(
            CALLS.fetch_add(1, Ordering::SeqCst) + 1,
        ))
    }
    #[retry(max_attempts = 2, backoff = none)]
    async fn spawning() -> Result<(), CallError> {
        // A task the attempt spawns runs on its own: its retry is not nested.
        tokio::spawn(alone()).await.unwrap()
    }
    assert_eq!(spawning().await, Err(CallError::Upstream(6)));
    assert_eq!(CALLS.load(Ordering::SeqCst), 6);
}

// --- Deadlines ------------------------------------------------------------------------

static DEADLINE_CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 10, backoff = fixed(300ms), jitter = none)]
async fn every_300ms() -> Result<(), CallError> {
    let n = DEADLINE_CALLS.fetch_add(1, Ordering::SeqCst) + 1;
    Err(CallError::Upstream(n))
}

#[timeout(1s)]
async fn within_a_second() -> Result<(), CallError> {
    every_300ms().await
}

#[tokio::test(start_paused = true)]
async fn a_retry_under_a_timeout_returns_its_own_error_before_the_deadline() {
    let start = Instant::now();
    // Attempts at 0, 300, 600 and 900 ms; one at 1200 ms would be past the deadline.
    assert_eq!(within_a_second().await, Err(CallError::Upstream(4)));
    assert_eq!(DEADLINE_CALLS.load(Ordering::SeqCst), 4);
    assert_eq!(
        start.elapsed(),
        ms(900),
        "it returned at once, not at the deadline"
    );
}

#[timeout(2s)]
async fn outer_deadline(inner_first: bool) -> Result<Option<Duration>, CallError> {
    tokio::time::sleep(ms(500)).await;
    if inner_first {
        inner_deadline().await
    } else {
        Ok(deadline::remaining())
    }
}

#[timeout(1s)]
async fn inner_deadline() -> Result<Option<Duration>, CallError> {
    tokio::time::sleep(ms(100)).await;
    Ok(deadline::remaining())
}

#[timeout(10s)]
async fn long_outer() -> Result<Option<Duration>, CallError> {
    inner_deadline().await
}

#[tokio::test(start_paused = true)]
async fn nested_timeouts_take_the_earlier_deadline() {
    assert_eq!(deadline::remaining(), None, "outside every timeout");
    assert_eq!(outer_deadline(false).await, Ok(Some(ms(1500))));
    // The inner deadline (1 s from 500 ms) is before the outer one (2 s).
    assert_eq!(outer_deadline(true).await, Ok(Some(ms(900))));
    // The outer deadline is the later one: the inner one holds.
    assert_eq!(long_outer().await, Ok(Some(ms(900))));
    assert_eq!(deadline::remaining(), None, "not left set after the calls");
}

#[tokio::test(start_paused = true)]
async fn sync_code_polled_inside_a_timeout_sees_its_deadline() {
    fn sync_helper() -> Option<Duration> {
        deadline::remaining()
    }
    #[timeout(3s)]
    async fn calls_sync() -> Result<Option<Duration>, CallError> {
        tokio::time::sleep(ms(1000)).await;
        Ok(sync_helper())
    }
    assert_eq!(calls_sync().await, Ok(Some(ms(2000))));
    assert_eq!(sync_helper(), None);
}

// --- Hedges, bulkheads and rate limits under a deadline -------------------------------

static HEDGE_RUNS: AtomicU32 = AtomicU32::new(0);

#[hedge(name = "nested_deadline.hedge", delay = 500ms, max_hedges = 3)]
async fn slow_replica() -> Result<(), CallError> {
    HEDGE_RUNS.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    Ok(())
}

#[timeout(1s)]
async fn hedged_within_a_second() -> Result<(), CallError> {
    slow_replica().await
}

#[tokio::test(start_paused = true)]
async fn no_hedge_starts_at_or_past_the_deadline() {
    let err = hedged_within_a_second().await.unwrap_err();
    assert!(matches!(err, CallError::TimedOut(_)), "{err:?}");
    // Runs at 0 and 500 ms; the one due at 1 s, the deadline, never starts.
    assert_eq!(HEDGE_RUNS.load(Ordering::SeqCst), 2);
}

#[bulkhead(name = "nested_deadline.bulkhead", max_concurrent = 1, max_wait = 10s)]
async fn one_at_a_time(hold: Duration) -> Result<(), CallError> {
    tokio::time::sleep(hold).await;
    Ok(())
}

#[timeout(1s)]
async fn bulkhead_within_a_second() -> Result<(), CallError> {
    one_at_a_time(Duration::ZERO).await
}

#[tokio::test(start_paused = true)]
async fn a_bulkhead_waits_no_longer_than_the_deadline() {
    let holder = tokio::spawn(one_at_a_time(Duration::from_secs(5)));
    tokio::task::yield_now().await;
    let start = Instant::now();
    match bulkhead_within_a_second().await {
        Err(CallError::Full(full)) => assert_eq!(full.waited, Duration::from_secs(1)),
        other => panic!("expected the bulkhead's own refusal, got {other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    holder.await.unwrap().unwrap();
}

#[rate_limit(name = "nested_deadline.rate", limit = 1, per = 2s, burst = 1, max_delay = 5s)]
async fn once_per_two_seconds() -> Result<(), CallError> {
    Ok(())
}

#[timeout(1s)]
async fn rate_limited_within_a_second() -> Result<(), CallError> {
    once_per_two_seconds().await
}

#[tokio::test(start_paused = true)]
async fn a_rate_limit_refuses_at_once_a_wait_past_the_deadline() {
    once_per_two_seconds().await.unwrap();
    let start = Instant::now();
    let err = rate_limited_within_a_second().await.unwrap_err();
    assert!(matches!(err, CallError::Limited(_)), "{err:?}");
    assert_eq!(start.elapsed(), Duration::ZERO, "refused at once");
    // Outside the timeout the same call waits its turn (its place was not taken).
    once_per_two_seconds().await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(2));
}

#[adaptive_limit(name = "nested_deadline.adaptive", min_limit = 1, max_limit = 1, max_wait = 10s)]
async fn one_adaptive_place(hold: Duration) -> Result<(), CallError> {
    tokio::time::sleep(hold).await;
    Ok(())
}

#[timeout(1s)]
async fn adaptive_within_a_second() -> Result<(), CallError> {
    one_adaptive_place(Duration::ZERO).await
}

#[tokio::test(start_paused = true)]
async fn an_adaptive_limit_waits_no_longer_than_the_deadline() {
    let holder = tokio::spawn(one_adaptive_place(Duration::from_secs(5)));
    tokio::task::yield_now().await;
    let start = Instant::now();
    match adaptive_within_a_second().await {
        Err(CallError::Overloaded(o)) => assert_eq!(o.waited, Duration::from_secs(1)),
        other => panic!("expected the limit's own refusal, got {other:?}"),
    }
    assert_eq!(start.elapsed(), Duration::from_secs(1));
    holder.await.unwrap().unwrap();
}
