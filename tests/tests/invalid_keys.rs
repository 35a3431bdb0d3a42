//! An attribute key whose expression is invalid at run time goes back to its default and
//! the attribute keeps every other key, with an ERROR naming the key: before, one
//! invalid key dropped them all (`max_elapsed = Duration::ZERO` made a `#[retry]` of 5
//! attempts with a fixed backoff run 3 attempts with the default backoff).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use resilience::{bulkhead, circuit_breaker, rate_limit, registry, retry, BulkheadFull};
use resilience::{CircuitOpen, MarcusError, RateLimited};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Debug, thiserror::Error, MarcusError)]
enum CallError {
    #[error("down")]
    #[marcus(category = transient)]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
}

/// The ERROR events of the `resilience::config` target, as text.
#[derive(Clone, Default)]
struct Errors(Arc<Mutex<Vec<String>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Errors {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Text(String);
        impl Visit for Text {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let meta = event.metadata();
        if meta.target() == "resilience::config" && *meta.level() == tracing::Level::ERROR {
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0.lock().unwrap().push(text.0);
        }
    }
}

fn capture() -> (Errors, tracing::subscriber::DefaultGuard) {
    let errors = Errors::default();
    let guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(errors.clone()));
    (errors, guard)
}

static CALLS: AtomicU32 = AtomicU32::new(0);

#[retry(max_attempts = 5, backoff = fixed(10ms), jitter = none, max_elapsed = Duration::ZERO)]
async fn flaky() -> Result<(), CallError> {
    CALLS.fetch_add(1, Ordering::SeqCst);
    Err(CallError::Down)
}

#[tokio::test(start_paused = true)]
async fn a_retry_keeps_its_valid_keys_and_names_the_invalid_one() {
    let (errors, _guard) = capture();
    let started = tokio::time::Instant::now();
    assert!(flaky().await.is_err());
    assert_eq!(
        CALLS.load(Ordering::SeqCst),
        5,
        "3 before: every key dropped"
    );
    // The fixed backoff kept: four delays of 10 ms.
    assert_eq!(started.elapsed(), Duration::from_millis(40));
    let seen = errors.0.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert!(seen[0].contains("field=\"max_elapsed\""), "{seen:?}");
    assert!(seen[0].contains("attribute=\"#[retry]\""), "{seen:?}");
    assert!(seen[0].contains("invalid_keys::flaky"), "{seen:?}");
}

fn zero() -> Duration {
    Duration::ZERO
}

#[circuit_breaker(name = "invalid_keys.breaker", failure_threshold = 2, recovery_timeout = zero())]
fn guarded() -> Result<(), CallError> {
    Err(CallError::Down)
}

#[bulkhead(name = "invalid_keys.bulkhead", max_concurrent = 3, max_wait = Duration::from_secs(4_000 * 86_400))]
fn confined() -> Result<(), CallError> {
    Ok(())
}

#[rate_limit(name = "invalid_keys.rate", limit = 7, per = zero())]
fn limited() -> Result<(), CallError> {
    Ok(())
}

#[test]
fn every_pattern_keeps_its_valid_keys() {
    let (errors, _guard) = capture();
    let _ = guarded();
    let breaker = registry().breaker("invalid_keys.breaker").unwrap().config();
    assert_eq!(
        (breaker.failure_threshold, breaker.recovery_timeout),
        (2, Duration::from_secs(60))
    );
    confined().unwrap();
    let bulkhead = registry()
        .bulkhead("invalid_keys.bulkhead")
        .unwrap()
        .config();
    assert_eq!(
        (bulkhead.max_concurrent, bulkhead.max_wait),
        (3, Duration::ZERO)
    );
    limited().unwrap();
    let rate = registry()
        .rate_limiter("invalid_keys.rate")
        .unwrap()
        .config();
    assert_eq!((rate.limit, rate.per), (7, Duration::from_secs(1)));
    let seen = errors.0.lock().unwrap().clone();
    for field in ["recovery_timeout", "max_wait", "per"] {
        assert!(
            seen.iter()
                .any(|e| e.contains(&format!("field=\"{field}\""))),
            "{field}: {seen:?}"
        );
    }
}
