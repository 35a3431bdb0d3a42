//! Weighted calls through `#[rate_limit(cost = expr)]` (issue 30): a call takes `cost`
//! units of the limit. On an injected clock (a registry on a `ManualClock`) and on
//! paused tokio time: 60 then 50 units of a burst of 100 leave the second call exactly
//! the 10 units missing to wait; a cost above the burst is refused at once and a
//! `#[retry]` outside does not retry it; a cost of 0 takes nothing.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use resilience::clock::ManualClock;
use resilience::registry::Registry;
use resilience::{rate_limit, retry, MarcusError, RateLimited};

static CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(Arc::new(CLOCK.clone())));

static RAN: AtomicU32 = AtomicU32::new(0);

/// 100 tokens a second, a burst of 100 (the default: the limit).
#[rate_limit(name = "cost.sync", limit = 100, per = 1s, cost = tokens, registry = REG)]
fn complete(tokens: usize) -> Result<usize, RateLimited> {
    RAN.fetch_add(1, Ordering::SeqCst);
    Ok(tokens)
}

#[test]
fn sixty_then_fifty_of_a_hundred_waits_for_the_ten_units_missing() {
    assert_eq!(complete(60), Ok(60));
    let limited = complete(50).unwrap_err();
    // 10 units of 10 ms, exactly: the clock did not move.
    assert_eq!(limited.retry_after, Duration::from_millis(100));
    assert_eq!(limited.cost, 50);
    assert!(limited.retryable());
    CLOCK.advance(Duration::from_millis(99));
    assert!(complete(50).is_err(), "one unit still missing");
    CLOCK.advance(Duration::from_millis(1));
    assert_eq!(complete(50), Ok(50));
    let limiter = REG.rate_limiter("cost.sync").unwrap();
    assert_eq!(limiter.snapshot().available, 0);
    assert_eq!(limiter.snapshot().rejections, 2);
    // A cost of 0 takes nothing, even with nothing left.
    assert_eq!(complete(0), Ok(0));
    assert_eq!(RAN.load(Ordering::SeqCst), 3);
}

static TRIED: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = none)]
#[rate_limit(name = "cost.over_burst", limit = 100, per = 1s, burst = 20, cost = units)]
fn batch(units: u32) -> Result<(), RateLimited> {
    TRIED.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[test]
fn a_cost_above_the_burst_is_refused_at_once_and_not_retried() {
    let limited = batch(21).unwrap_err();
    assert_eq!((limited.cost, limited.over_burst), (21, Some(20)));
    assert!(!limited.retryable());
    assert_eq!(limited.retry_after(), None);
    assert!(
        limited
            .to_string()
            .contains("can never admit a call of cost 21"),
        "{limited}"
    );
    // One refusal: the retry saw it could never fit.
    let limiter = resilience::registry()
        .rate_limiter("cost.over_burst")
        .unwrap();
    assert_eq!(limiter.snapshot().rejections, 1);
    assert_eq!(TRIED.load(Ordering::SeqCst), 0);
    // The burst itself fits.
    batch(20).unwrap();
    assert_eq!(TRIED.load(Ordering::SeqCst), 1);
}

static LIT: AtomicU32 = AtomicU32::new(0);

#[rate_limit(name = "cost.literal", limit = 10, per = 1m, cost = 4)]
async fn heavy() -> Result<(), RateLimited> {
    LIT.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[rate_limit(name = "cost.async", limit = 100, per = 1s, max_delay = 1s, cost = *tokens)]
async fn stream(tokens: &u64) -> Result<u64, RateLimited> {
    Ok(*tokens)
}

#[tokio::test(start_paused = true)]
async fn an_async_call_waits_exactly_for_its_units() {
    assert_eq!(stream(&60).await, Ok(60));
    let start = tokio::time::Instant::now();
    assert_eq!(stream(&50).await, Ok(50));
    assert_eq!(start.elapsed(), Duration::from_millis(100));
    // A literal cost: 4 of 10, twice; the third is 2 units short.
    heavy().await.unwrap();
    heavy().await.unwrap();
    let limited = heavy().await.unwrap_err();
    assert_eq!(limited.retry_after, Duration::from_secs(12));
    assert_eq!(LIT.load(Ordering::SeqCst), 2);
}
