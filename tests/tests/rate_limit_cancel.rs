//! A delayed `#[rate_limit]` call dropped while it waits (a client's timeout, a
//! `select!`) gives its place back, on paused tokio time: before, 15 calls cancelled
//! after 1 ms made the next call wait 1.57 s, and under load with client timeouts 62 of
//! 63 admitted places went to calls already cancelled.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use resilience::{rate_limit, registry, RateLimited};
use tokio::time::{advance, Instant};

static RAN: AtomicU32 = AtomicU32::new(0);

#[rate_limit(name = "cancel.attr", limit = 10, per = 1s, burst = 1, max_delay = 2s)]
async fn limited() -> Result<(), RateLimited> {
    RAN.fetch_add(1, Ordering::SeqCst);
    Ok(())
}

/// Polls `fut` once: whether it is still waiting.
async fn pending<F: Future>(fut: &mut Pin<Box<F>>) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(fut.as_mut().poll(cx).is_pending())).await
}

#[tokio::test(start_paused = true)]
async fn fifteen_cancelled_delayed_calls_keep_no_place() {
    limited().await.unwrap();
    let mut waiting = Vec::new();
    for _ in 0..15 {
        let mut call = Box::pin(limited());
        assert!(pending(&mut call).await, "delayed, not refused");
        waiting.push(call);
    }
    advance(Duration::from_millis(1)).await;
    drop(waiting);
    assert_eq!(
        RAN.load(Ordering::SeqCst),
        1,
        "none of the cancelled calls ran"
    );

    let start = Instant::now();
    limited().await.unwrap();
    let waited = start.elapsed();
    assert!(waited <= Duration::from_millis(100), "waited {waited:?}");

    // And the rate still holds for the calls that run: ten more take a second.
    let start = Instant::now();
    for _ in 0..10 {
        limited().await.unwrap();
    }
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(RAN.load(Ordering::SeqCst), 12);
    assert_eq!(
        registry()
            .rate_limiter("cancel.attr")
            .unwrap()
            .snapshot()
            .rejections,
        0
    );
}
