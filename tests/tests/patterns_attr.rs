//! `#[bulkhead]`, `#[rate_limit]` and `key = expr` as a user writes them (API.md
//! section 5), on paused tokio time: every rule of the section, and stacking in reading
//! order with the other attributes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use resilience::{
    bulkhead, circuit_breaker, error_context, fallback, rate_limit, registry, resilient, retry,
    timeout, BulkheadConfig, BulkheadFull, CircuitOpen, ErrorContext, MarcusError, RateLimitConfig,
    RateLimited, TimedOut,
};
use tokio::time::{advance, sleep, Instant};

#[derive(Debug, thiserror::Error, MarcusError)]
enum UpstreamError {
    #[error("upstream down")]
    #[marcus(category = transient)]
    Down(#[context] Box<ErrorContext>),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    TimedOut(#[from] TimedOut),
}

// ---- bulkhead ----------------------------------------------------------------------

static RUNNING: AtomicU32 = AtomicU32::new(0);
static HIGH_WATER: AtomicU32 = AtomicU32::new(0);

#[bulkhead(name = "patterns.hwm", max_concurrent = 5, max_wait = 10s)]
async fn guarded() -> Result<(), UpstreamError> {
    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
    HIGH_WATER.fetch_max(now, Ordering::SeqCst);
    sleep(Duration::from_millis(100)).await;
    RUNNING.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn fifty_tasks_never_exceed_max_concurrent() {
    let tasks: Vec<_> = (0..50).map(|_| tokio::spawn(guarded())).collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(
        HIGH_WATER.load(Ordering::SeqCst),
        5,
        "the limit is reached, never passed"
    );
    let b = registry().bulkhead("patterns.hwm").unwrap();
    assert_eq!(b.in_flight(), 0);
    assert_eq!(
        b.snapshot().rejections,
        0,
        "every one waited its turn within 10 s"
    );
}

#[bulkhead(name = "patterns.refuse", max_concurrent = 1)]
async fn refusing(hold: Duration) -> Result<(), UpstreamError> {
    sleep(hold).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn without_max_wait_a_full_bulkhead_refuses_at_once() {
    let holder = tokio::spawn(refusing(Duration::from_secs(1)));
    tokio::task::yield_now().await;
    let start = Instant::now();
    let Err(UpstreamError::Full(full)) = refusing(Duration::ZERO).await else {
        panic!("expected BulkheadFull")
    };
    assert_eq!(start.elapsed(), Duration::ZERO);
    assert_eq!((full.name, full.max_concurrent), ("patterns.refuse", 1));
    assert!(full.retryable());
    assert_eq!(full.code(), "BULKHEAD_FULL_ERROR");
    holder.await.unwrap().unwrap();
    assert!(
        refusing(Duration::ZERO).await.is_ok(),
        "the place came back"
    );
}

#[bulkhead(name = "patterns.dropped", max_concurrent = 1, max_wait = 1h)]
async fn long_wait(hold: Duration) -> Result<(), UpstreamError> {
    sleep(hold).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn a_dropped_waiting_or_running_call_gives_its_place_back() {
    // Running, then dropped.
    let running = tokio::spawn(long_wait(Duration::from_secs(3600)));
    tokio::task::yield_now().await;
    let b = registry().bulkhead("patterns.dropped").unwrap();
    assert_eq!(b.in_flight(), 1);
    // Waiting, then dropped.
    let waiting = tokio::time::timeout(Duration::from_secs(1), long_wait(Duration::ZERO)).await;
    assert!(waiting.is_err(), "it was still waiting");
    assert_eq!(b.snapshot().waiting, 0);
    running.abort();
    let _ = running.await;
    assert_eq!(b.in_flight(), 0);
    let start = Instant::now();
    long_wait(Duration::ZERO).await.unwrap();
    assert_eq!(start.elapsed(), Duration::ZERO, "admitted at once");
}

#[bulkhead(name = "patterns.sync", max_concurrent = 2, max_wait = 30s)]
fn sync_guarded(
    gate: &std::sync::Barrier,
    running: &AtomicU32,
    peak: &AtomicU32,
) -> Result<(), UpstreamError> {
    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
    peak.fetch_max(now, Ordering::SeqCst);
    gate.wait();
    running.fetch_sub(1, Ordering::SeqCst);
    Ok(())
}

#[test]
fn sync_calls_wait_on_their_thread_for_a_place() {
    // Pairs of calls meet at the barrier; a third thread per pair would deadlock if the
    // bulkhead let it in instead of making it wait.
    let gate = Arc::new(std::sync::Barrier::new(2));
    let running = Arc::new(AtomicU32::new(0));
    let peak = Arc::new(AtomicU32::new(0));
    let threads: Vec<_> = (0..6)
        .map(|_| {
            let (gate, running, peak) = (gate.clone(), running.clone(), peak.clone());
            std::thread::spawn(move || sync_guarded(&gate, &running, &peak))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[bulkhead(name = "patterns.configured", max_concurrent = 1)]
async fn configured(hold: Duration) -> Result<(), UpstreamError> {
    sleep(hold).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn registry_configuration_wins_over_the_attribute() {
    registry()
        .configure_bulkhead(
            "patterns.configured",
            BulkheadConfig {
                max_concurrent: 3,
                ..Default::default()
            },
        )
        .unwrap();
    let tasks: Vec<_> = (0..3)
        .map(|_| tokio::spawn(configured(Duration::from_secs(1))))
        .collect();
    tokio::task::yield_now().await;
    assert!(matches!(
        configured(Duration::ZERO).await,
        Err(UpstreamError::Full(_))
    ));
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let health = serde_json::to_value(registry().health()).unwrap();
    let snap = health["bulkheads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "patterns.configured")
        .unwrap()
        .clone();
    assert_eq!(snap["config"]["max_concurrent"], 3);
    assert_eq!(snap["rejections"], 1);
    assert_eq!(snap["key"], serde_json::Value::Null);
}

// ---- rate limit --------------------------------------------------------------------

static LIMITED_RUNS: AtomicU32 = AtomicU32::new(0);

#[rate_limit(name = "patterns.rate", limit = 10, per = 1s, burst = 3)]
async fn limited() -> Result<(), UpstreamError> {
    LIMITED_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn exactly_burst_at_once_then_one_per_interval() {
    for _ in 0..3 {
        limited().await.unwrap();
    }
    let Err(UpstreamError::Limited(refused)) = limited().await else {
        panic!("the fourth call at once is refused")
    };
    assert_eq!(
        refused.retry_after,
        Duration::from_millis(100),
        "the interval, per / limit"
    );
    assert_eq!(refused.retry_after(), Some(Duration::from_millis(100)));
    assert_eq!(
        LIMITED_RUNS.load(Ordering::SeqCst),
        3,
        "a refused call does not run"
    );
    for _ in 0..5 {
        advance(Duration::from_millis(99)).await;
        assert!(limited().await.is_err(), "not before the interval");
        advance(Duration::from_millis(1)).await;
        limited().await.unwrap();
        assert!(limited().await.is_err(), "one per interval");
    }
    let snap = registry().rate_limiter("patterns.rate").unwrap().snapshot();
    assert_eq!(snap.rejections, 11);
}

static RETRIED_RUNS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 3, backoff = fixed(1ms), jitter = none)]
#[rate_limit(name = "patterns.retry", limit = 4, per = 1s, burst = 1)]
async fn retried() -> Result<Instant, UpstreamError> {
    RETRIED_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok(Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_retry_outside_a_rate_limit_waits_exactly_retry_after() {
    let first = retried().await.unwrap();
    let second = retried().await.unwrap();
    assert_eq!(
        second - first,
        Duration::from_millis(250),
        "retry_after, not the 1 ms backoff"
    );
    assert_eq!(RETRIED_RUNS.load(Ordering::SeqCst), 2);
}

#[rate_limit(name = "patterns.delay", limit = 10, per = 1s, burst = 1, max_delay = 250ms)]
async fn delayed() -> Result<Instant, UpstreamError> {
    Ok(Instant::now())
}

#[tokio::test(start_paused = true)]
async fn a_call_within_max_delay_is_delayed_not_refused() {
    let start = Instant::now();
    let calls: Vec<_> = (0..4).map(|_| tokio::spawn(delayed())).collect();
    let mut outcomes = Vec::new();
    for c in calls {
        outcomes.push(c.await.unwrap());
    }
    let waits: Vec<_> = outcomes[..3]
        .iter()
        .map(|o| *o.as_ref().unwrap() - start)
        .collect();
    assert_eq!(
        waits,
        [
            Duration::ZERO,
            Duration::from_millis(100),
            Duration::from_millis(200)
        ]
    );
    // A fourth would wait 300 ms, over max_delay: refused, admitted (delayed) in 50 ms.
    let Err(UpstreamError::Limited(l)) = &outcomes[3] else {
        panic!("refused")
    };
    assert_eq!(l.retry_after, Duration::from_millis(50));
}

#[rate_limit(name = "patterns.delay_sync", limit = 100, per = 1s, burst = 1, max_delay = 1s)]
fn delayed_sync() -> Result<std::time::Instant, UpstreamError> {
    Ok(std::time::Instant::now())
}

#[test]
fn a_sync_call_is_delayed_on_its_thread() {
    let first = delayed_sync().unwrap();
    let second = delayed_sync().unwrap();
    assert!(
        second - first >= Duration::from_millis(9),
        "{:?}",
        second - first
    );
}

#[rate_limit(name = "patterns.rate_configured", limit = 1, per = 1h)]
async fn rate_configured() -> Result<(), UpstreamError> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn rate_limit_configuration_at_run_time_wins() {
    rate_configured().await.unwrap();
    assert!(rate_configured().await.is_err());
    registry()
        .configure_rate_limit(
            "patterns.rate_configured",
            RateLimitConfig {
                limit: 1,
                per: Duration::from_secs(3600),
                burst: Some(5),
                ..Default::default()
            },
        )
        .unwrap();
    for _ in 0..4 {
        rate_configured().await.unwrap();
    }
    assert!(rate_configured().await.is_err());
}

// ---- keys --------------------------------------------------------------------------

#[rate_limit(name = "patterns.per_host", limit = 1, per = 1s, burst = 1, key = host, max_keys = 100)]
async fn per_host(host: &str) -> Result<(), UpstreamError> {
    let _ = host;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn one_rate_limiter_per_key() {
    per_host("a").await.unwrap();
    per_host("b").await.unwrap();
    let Err(UpstreamError::Limited(l)) = per_host("a").await else {
        panic!("a is spent")
    };
    assert_eq!(l.key.as_deref(), Some("a"));
    assert!(registry()
        .rate_limiter_for("patterns.per_host", "b")
        .is_some());
    let keys: Vec<_> = registry()
        .rate_limiters()
        .into_iter()
        .filter(|s| s.name == "patterns.per_host")
        .map(|s| s.key)
        .collect();
    assert_eq!(keys, [Some("a".to_owned()), Some("b".to_owned())]);
}

#[circuit_breaker(name = "patterns.breaker_per_host", key = host, failure_threshold = 1, max_keys = 64)]
async fn breaker_per_host(host: &str, fail: bool) -> Result<(), UpstreamError> {
    let _ = host;
    if fail {
        Err(UpstreamError::Down(Box::new(ErrorContext::new())))
    } else {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn one_breaker_per_key_and_idle_ones_bounded() {
    assert!(breaker_per_host("down.example", true).await.is_err());
    let Err(UpstreamError::Open(open)) = breaker_per_host("down.example", false).await else {
        panic!("its breaker is open")
    };
    assert_eq!(
        open.name, "patterns.breaker_per_host",
        "the name, shared: not one leak per key"
    );
    breaker_per_host("up.example", false).await.unwrap();
    let open_one = registry()
        .breaker_for("patterns.breaker_per_host", "down.example")
        .unwrap();
    assert_eq!(open_one.state(), resilience::BreakerState::Open);
    let snaps: Vec<_> = registry()
        .breakers()
        .into_iter()
        .filter(|s| s.name == "patterns.breaker_per_host")
        .collect();
    assert_eq!(snaps.len(), 2);
    assert!(snaps.iter().any(|s| s.key.as_deref() == Some("up.example")));
    drop(open_one);
    for i in 0..1000 {
        breaker_per_host(&format!("host{i}"), false).await.unwrap();
    }
    let live = registry()
        .breakers()
        .into_iter()
        .filter(|s| s.name == "patterns.breaker_per_host")
        .count();
    assert!(live <= 64, "{live} live keys");
    assert!(
        registry()
            .breaker_for("patterns.breaker_per_host", "down.example")
            .is_some(),
        "an open breaker goes only once no breaker holding nothing is left"
    );
}

#[bulkhead(name = "patterns.bulk_per_tenant", max_concurrent = 1, key = tenant)]
async fn per_tenant(tenant: u32, hold: Duration) -> Result<(), UpstreamError> {
    sleep(hold).await;
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn one_bulkhead_per_key() {
    let holder = tokio::spawn(per_tenant(1, Duration::from_secs(1)));
    tokio::task::yield_now().await;
    assert!(
        matches!(per_tenant(1, Duration::ZERO).await, Err(UpstreamError::Full(f)) if f.key.as_deref() == Some("1"))
    );
    per_tenant(2, Duration::ZERO).await.unwrap();
    assert_eq!(
        registry()
            .bulkhead_for("patterns.bulk_per_tenant", "1")
            .unwrap()
            .in_flight(),
        1
    );
    holder.await.unwrap().unwrap();
}

// ---- stacking, in reading order ----------------------------------------------------

static STACK_RUNS: AtomicU32 = AtomicU32::new(0);

async fn served_stale() -> Result<&'static str, UpstreamError> {
    Ok("stale")
}

#[fallback(served_stale)]
#[error_context("stacked")]
#[rate_limit(name = "patterns.stack", limit = 1, per = 1h)]
#[bulkhead(name = "patterns.stack", max_concurrent = 1)]
#[circuit_breaker(name = "patterns.stack", failure_threshold = 100)]
#[timeout(1s)]
async fn stacked() -> Result<&'static str, UpstreamError> {
    STACK_RUNS.fetch_add(1, Ordering::SeqCst);
    Ok("fresh")
}

#[tokio::test(start_paused = true)]
async fn stacks_with_every_attribute_in_reading_order() {
    assert_eq!(stacked().await.unwrap(), "fresh");
    // The rate limit (inside the fallback) refuses; the fallback answers.
    assert_eq!(stacked().await.unwrap(), "stale");
    assert_eq!(STACK_RUNS.load(Ordering::SeqCst), 1);
}

static RESILIENT_RUNS: AtomicU32 = AtomicU32::new(0);

#[resilient(name = "patterns.resilient", max_attempts = 3, backoff = none, limit = 1, per = 1s, max_concurrent = 1, timeout = 50ms)]
async fn resilient_all(hang: bool) -> Result<(), UpstreamError> {
    RESILIENT_RUNS.fetch_add(1, Ordering::SeqCst);
    if hang {
        sleep(Duration::from_secs(10)).await;
    }
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn resilient_takes_the_rate_limit_bulkhead_and_timeout_keys() {
    let start = Instant::now();
    // Attempt 1 times out after 50 ms (transient, retried at once); attempt 2 is refused
    // by the rate limit (retry_after 950 ms), which the retry, outermost, waits; attempt
    // 3 runs and times out.
    let Err(UpstreamError::TimedOut(_)) = resilient_all(true).await else {
        panic!("timed out")
    };
    assert_eq!(RESILIENT_RUNS.load(Ordering::SeqCst), 2);
    assert_eq!(start.elapsed(), Duration::from_millis(1050));
    assert!(registry().rate_limiter("patterns.resilient").is_some());
    assert!(registry().bulkhead("patterns.resilient").is_some());
    assert!(registry().breaker("patterns.resilient").is_some());
}
