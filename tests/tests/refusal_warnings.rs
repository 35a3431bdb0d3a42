//! A refusal (open breaker, full bulkhead, spent rate) is at most one WARN per instance
//! per second (the next 1 to 2 seconds after the last), carrying the count of refusals
//! since the last one (API.md section 10):
//! before, every refused call was a WARN (570 lines in a 1.2 s run).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::breaker::Breaker;
use resilience::bulkhead::Bulkhead;
use resilience::clock::ManualClock;
use resilience::rate_limit::RateLimiter;
use resilience::{rate_limit, BreakerConfig, BulkheadConfig, RateLimitConfig, RateLimited};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

/// The WARN events of one target: the value of their `refused` field.
#[derive(Clone)]
struct Warns {
    target: &'static str,
    refused: Arc<Mutex<Vec<u64>>>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warns {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Refused(Option<u64>);
        impl Visit for Refused {
            fn record_u64(&mut self, field: &Field, value: u64) {
                if field.name() == "refused" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
        }
        let meta = event.metadata();
        if meta.target() == self.target && *meta.level() == tracing::Level::WARN {
            let mut refused = Refused(None);
            event.record(&mut refused);
            // A refusal WARN without the count is a WARN per call: count it as one.
            self.refused.lock().unwrap().push(refused.0.unwrap_or(0));
        }
    }
}

fn warns(target: &'static str) -> (Arc<Mutex<Vec<u64>>>, tracing::subscriber::DefaultGuard) {
    let refused = Arc::new(Mutex::new(Vec::new()));
    let layer = Warns {
        target,
        refused: refused.clone(),
    };
    let guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(layer));
    (refused, guard)
}

#[test]
fn an_open_breaker_warns_once_a_second_with_the_count() {
    let (seen, _guard) = warns("resilience::breaker");
    let clock = ManualClock::new();
    let breaker = Breaker::new("warns.breaker", BreakerConfig::default())
        .unwrap()
        .with_clock(Arc::new(clock.clone()));
    breaker.force_open();
    // The state change's own WARN.
    seen.lock().unwrap().clear();
    // 500 refusals in 450 ms.
    for _ in 0..500 {
        assert!(breaker.acquire().is_err());
        clock.advance(Duration::from_micros(900));
    }
    assert_eq!(
        *seen.lock().unwrap(),
        [1],
        "one WARN, for the first refusal"
    );
    // None in the second after the first either (at 1 s); the next, after it (at 2 s),
    // counts the rest.
    clock.advance(Duration::from_millis(550));
    assert!(breaker.acquire().is_err());
    assert_eq!(*seen.lock().unwrap(), [1]);
    clock.advance(Duration::from_secs(1));
    assert!(breaker.acquire().is_err());
    assert_eq!(*seen.lock().unwrap(), [1, 501], "the next counts the rest");
    assert_eq!(breaker.snapshot().rejections, 502);
}

#[test]
fn a_spent_rate_warns_once_a_second_with_the_count() {
    let (seen, _guard) = warns("resilience::rate_limit");
    let clock = ManualClock::new();
    let limiter = RateLimiter::new(
        "warns.rate",
        RateLimitConfig {
            limit: 1,
            per: Duration::from_secs(3600),
            ..Default::default()
        },
    )
    .unwrap()
    .with_clock(Arc::new(clock.clone()));
    limiter.check().unwrap();
    for _ in 0..500 {
        assert!(limiter.check().is_err());
        clock.advance(Duration::from_micros(900));
    }
    assert_eq!(*seen.lock().unwrap(), [1]);
    clock.advance(Duration::from_secs(2));
    assert!(limiter.check().is_err());
    assert_eq!(*seen.lock().unwrap(), [1, 500]);
}

#[tokio::test(start_paused = true)]
async fn a_full_bulkhead_warns_once_a_second_with_the_count() {
    let (seen, _guard) = warns("resilience::bulkhead");
    let bulkhead = Bulkhead::new(
        "warns.bulkhead",
        BulkheadConfig {
            max_concurrent: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let _held = bulkhead.try_acquire().unwrap();
    for _ in 0..500 {
        assert!(bulkhead.acquire().await.is_err());
        tokio::time::advance(Duration::from_micros(900)).await;
    }
    let first = seen.lock().unwrap().clone();
    assert_eq!(first, [1], "one WARN, for the first refusal");
    tokio::time::advance(Duration::from_secs(2)).await;
    assert!(bulkhead.acquire().await.is_err());
    assert_eq!(*seen.lock().unwrap(), [1, 500]);
}

#[rate_limit(name = "warns.attribute", limit = 1, per = 1h)]
async fn limited() -> Result<(), RateLimited> {
    Ok(())
}

#[tokio::test(start_paused = true)]
async fn an_attribute_s_refusals_warn_once_a_second() {
    let (seen, _guard) = warns("resilience::rate_limit");
    limited().await.unwrap();
    for _ in 0..500 {
        assert!(limited().await.is_err());
        tokio::time::advance(Duration::from_micros(900)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.len() <= 2,
        "{} WARNs for 500 refusals in 0.45 s",
        seen.len()
    );
    assert_eq!(seen.first(), Some(&1));
}
