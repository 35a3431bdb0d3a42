//! What the attributes tell `tracing`: retries and giving up (`resilience::retry`),
//! breaker state changes (`resilience::breaker`) and fallbacks taken
//! (`resilience::fallback`) and feature switches (`resilience::degradation`), captured
//! by a subscriber layer as an application's would be; bulkhead and rate-limit refusals
//! (`resilience::bulkhead`, `resilience::rate_limit`) and a rate limit's delays too.
//!
//! Each test here runs under a subscriber of its own, and no test outside this binary
//! shares its callsites: a callsite first hit on a thread with no subscriber is cached as
//! uninteresting, which raced with the test that listened for it.

use std::time::Duration;

use resilience::{circuit_breaker, fallback, registry, retry, CircuitOpen, MarcusError};
use resilience_tests::capture::Capture;
use tracing::Level;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum FeedError {
    #[error("the feed timed out")]
    #[marcus(category = transient)]
    Timeout,
    #[error(transparent)]
    CircuitOpen(#[from] CircuitOpen),
}

#[retry(max_attempts = 3, backoff = none)]
fn always_times_out() -> Result<u32, FeedError> {
    Err(FeedError::Timeout)
}

#[test]
fn each_retry_and_the_giving_up_are_events_of_the_retry_target() {
    let capture = Capture::default();
    let result = tracing::subscriber::with_default(capture.subscriber(), always_times_out);
    assert!(matches!(result, Err(FeedError::Timeout)));

    let events = capture.of("resilience::retry");
    let retries: Vec<_> = events
        .iter()
        .filter(|e| e.field("message") == "retrying after an error")
        .collect();
    assert_eq!(retries.len(), 2, "{events:#?}");
    for (n, event) in retries.iter().enumerate() {
        assert_eq!(event.level, Level::DEBUG);
        assert!(
            event.field("name").ends_with("always_times_out"),
            "{event:?}"
        );
        assert_eq!(event.field("via"), "attribute");
        assert_eq!(event.field("attempt"), (n + 1).to_string());
        assert_eq!(event.field("delay_ms"), "0");
        assert_eq!(event.field("code"), "FEED_ERROR_TIMEOUT");
        assert_eq!(event.field("error"), "the feed timed out");
    }
    let gave_up: Vec<_> = events
        .iter()
        .filter(|e| e.field("message") == "giving up retrying")
        .collect();
    assert_eq!(gave_up.len(), 1, "{events:#?}");
    assert_eq!(gave_up[0].level, Level::WARN);
    assert_eq!(gave_up[0].field("attempts"), "3");
}

#[circuit_breaker(name = "tracing_events.feed", failure_threshold = 2, recovery_timeout = 60s)]
fn feed(fail: bool) -> Result<u32, FeedError> {
    if fail {
        Err(FeedError::Timeout)
    } else {
        Ok(1)
    }
}

fn transitions(capture: &Capture, name: &str) -> Vec<(String, String, Level)> {
    capture
        .of("resilience::breaker")
        .into_iter()
        .filter(|e| {
            e.field("name") == name && e.field("message") == "circuit breaker state changed"
        })
        .map(|e| {
            (
                e.field("from").to_owned(),
                e.field("to").to_owned(),
                e.level,
            )
        })
        .collect()
}

#[test]
fn state_changes_are_events_of_the_breaker_target_warning_when_it_opens() {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.subscriber(), || {
        assert!(feed(false).is_ok());
        assert!(matches!(feed(true), Err(FeedError::Timeout)));
        assert!(matches!(feed(true), Err(FeedError::Timeout)));
        assert!(matches!(feed(false), Err(FeedError::CircuitOpen(_))));
        registry()
            .breaker("tracing_events.feed")
            .expect("registered")
            .reset();
    });
    assert_eq!(
        transitions(&capture, "tracing_events.feed"),
        [
            ("closed".to_owned(), "open".to_owned(), Level::WARN),
            ("open".to_owned(), "closed".to_owned(), Level::INFO),
        ]
    );
}

#[circuit_breaker(
    name = "tracing_events.recovering",
    failure_threshold = 1,
    success_threshold = 1,
    recovery_timeout = 5s
)]
async fn recovering(fail: bool) -> Result<u32, FeedError> {
    if fail {
        Err(FeedError::Timeout)
    } else {
        Ok(2)
    }
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn an_async_breaker_reports_each_step_of_its_recovery() {
    let capture = Capture::default();
    let _default = tracing::subscriber::set_default(capture.subscriber());
    assert!(recovering(true).await.is_err());
    // The breaker keeps its deadline in whole milliseconds, rounded up.
    tokio::time::advance(Duration::from_millis(5_001)).await;
    assert_eq!(recovering(false).await.unwrap(), 2);
    let steps: Vec<_> = transitions(&capture, "tracing_events.recovering")
        .into_iter()
        .map(|(from, to, _)| format!("{from} -> {to}"))
        .collect();
    assert_eq!(
        steps,
        ["closed -> open", "open -> half_open", "half_open -> closed"]
    );
}

fn stale_price(item: &str) -> Result<u32, String> {
    Err(format!("no stale price for {item}"))
}

fn list_price(item: &str) -> Result<u32, String> {
    Ok(item.len() as u32)
}

#[fallback(stale_price, list_price)]
fn live_price(item: &str) -> Result<u32, String> {
    Err(format!("pricing is down, asked for {item}"))
}

#[test]
fn each_fallback_taken_is_an_event_of_the_fallback_target() {
    let capture = Capture::default();
    let price = tracing::subscriber::with_default(capture.subscriber(), || live_price("tea"));
    assert_eq!(price, Ok(3));

    let events = capture.of("resilience::fallback");
    let taken: Vec<_> = events
        .iter()
        .map(|e| {
            (
                e.field("fallback").to_owned(),
                e.field("index").to_owned(),
                e.level,
            )
        })
        .collect();
    assert_eq!(
        taken,
        [
            ("stale_price".to_owned(), "0".to_owned(), Level::WARN),
            ("list_price".to_owned(), "1".to_owned(), Level::WARN),
        ]
    );
    assert!(
        events
            .iter()
            .all(|e| e.field("function").ends_with("live_price")),
        "{events:#?}"
    );
}

/// The attributes stacked: a caller listening to all three targets sees one story.
#[fallback(cached_feed)]
#[retry(max_attempts = 2, backoff = none)]
#[circuit_breaker(name = "tracing_events.stacked", failure_threshold = 2, recovery_timeout = 60s)]
fn stacked() -> Result<u32, FeedError> {
    Err(FeedError::Timeout)
}

fn cached_feed() -> Result<u32, FeedError> {
    Ok(0)
}

#[test]
fn stacked_attributes_report_retry_then_state_change_then_fallback() {
    let capture = Capture::default();
    let answer = tracing::subscriber::with_default(capture.subscriber(), stacked);
    assert_eq!(answer.unwrap(), 0);

    let all = capture.events();
    let story: Vec<&str> = all
        .iter()
        .filter(|e| e.target.starts_with("resilience::"))
        .filter(|e| {
            e.target != "resilience::breaker" || e.field("name") == "tracing_events.stacked"
        })
        .map(|e| e.target.as_str())
        .collect();
    assert_eq!(
        story,
        [
            "resilience::retry",    // attempt 1 failed, retrying
            "resilience::breaker",  // attempt 2's failure opened the breaker
            "resilience::retry",    // attempts exhausted
            "resilience::fallback", // cached_feed answers
        ],
        "{all:#?}"
    );
}

#[test]
fn every_switch_change_is_an_event_of_the_degradation_target() {
    let capture = Capture::default();
    tracing::subscriber::with_default(capture.subscriber(), || {
        let d = resilience::degradation::Degradation::new();
        let f = d.register("traced", ());
        (0..4).for_each(|_| f.report_failure()); // the fourth changes nothing
        f.enable();
        f.enable(); // already on: no event
        f.disable();
        f.disable();
    });
    let seen: Vec<String> = capture
        .of("resilience::degradation")
        .iter()
        .map(|e| {
            let failures = e.fields.get("failures").map(|n| format!(" failures={n}"));
            format!(
                "{} feature={}{}",
                e.field("message"),
                e.field("feature"),
                failures.unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            "feature disabled after consecutive failures feature=traced failures=3",
            "feature enabled feature=traced",
            "feature disabled by hand feature=traced",
        ]
    );
}

// Issue 16, items 1 and 2: a method's events name its `Self` type; an error behind
// `anyhow::Error` reports the code of the crate's error inside it.

struct Feeds;

impl Feeds {
    #[retry(max_attempts = 2, backoff = none)]
    fn pull(&self) -> anyhow::Result<u32> {
        Err(resilience::errors::NetworkTimeout::new("feed").into())
    }
}

#[test]
fn a_methods_retry_events_name_its_type_and_the_inner_code() {
    let capture = Capture::default();
    let result = tracing::subscriber::with_default(capture.subscriber(), || Feeds.pull());
    assert!(result.is_err());
    let events = capture.of("resilience::retry");
    let retry = events
        .iter()
        .find(|e| e.field("message") == "retrying after an error")
        .expect("a retry event");
    assert_eq!(retry.field("name"), "tracing_events::Feeds::pull");
    assert_eq!(retry.field("code"), "NETWORK_TIMEOUT_ERROR");
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum PoolError {
    #[error(transparent)]
    Full(#[from] resilience::BulkheadFull),
    #[error(transparent)]
    Limited(#[from] resilience::RateLimited),
}

/// With `nested`, the call holds the tenant's one place while it calls again.
#[resilience::bulkhead(name = "tracing_events.pool", max_concurrent = 1, key = tenant)]
fn pooled(tenant: &str, nested: bool) -> Result<u32, PoolError> {
    if nested {
        return pooled(tenant, false).map(|n| n + 1);
    }
    Ok(1)
}

#[test]
fn a_bulkhead_refusal_is_a_warning_naming_the_bulkhead_and_key_and_an_admission_is_silent() {
    let capture = Capture::default();
    let (admitted, refused) = tracing::subscriber::with_default(capture.subscriber(), || {
        (pooled("eu", false), pooled("eu", true))
    });
    assert_eq!(admitted.unwrap(), 1);
    assert!(matches!(refused, Err(PoolError::Full(_))), "{refused:?}");

    let events = capture.of("resilience::bulkhead");
    assert_eq!(events.len(), 1, "only the refusal reports: {events:#?}");
    let event = &events[0];
    assert_eq!(event.level, Level::WARN);
    // At most one WARN a second per instance, with the refusals since the last one
    // (docs/reliability.md, "Refusal warnings"): the first refusal is logged, counting 1.
    assert_eq!(
        event.field("message"),
        "bulkhead full; calls refused (`refused`: since the last such warning, at most one a second)"
    );
    assert_eq!(event.field("bulkhead"), "tracing_events.pool");
    assert_eq!(event.field("key"), "eu");
    assert_eq!(event.field("refused"), "1");
    assert_eq!(event.field("waited_ms"), "0");
}

#[resilience::rate_limit(name = "tracing_events.quota", limit = 1, per = 60s)]
fn quota() -> Result<u32, PoolError> {
    Ok(1)
}

#[test]
fn a_rate_limit_refusal_is_a_warning_with_the_wait_and_an_admission_is_silent() {
    let capture = Capture::default();
    let (admitted, refused) =
        tracing::subscriber::with_default(capture.subscriber(), || (quota(), quota()));
    assert_eq!(admitted.unwrap(), 1);
    let Err(PoolError::Limited(limited)) = refused else {
        panic!("the second call in the minute was not refused: {refused:?}");
    };

    let events = capture.of("resilience::rate_limit");
    assert_eq!(events.len(), 1, "only the refusal reports: {events:#?}");
    let event = &events[0];
    assert_eq!(event.level, Level::WARN);
    // At most one WARN a second per instance, with the refusals since the last one
    // (docs/reliability.md, "Refusal warnings"): the first refusal is logged, counting 1.
    assert_eq!(
        event.field("message"),
        "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)"
    );
    assert_eq!(event.field("rate_limiter"), "tracing_events.quota");
    assert_eq!(event.field("key"), "", "an unkeyed limiter names no key");
    assert_eq!(event.field("refused"), "1");
    assert_eq!(
        event.field("retry_after_ms"),
        limited.retry_after.as_millis().to_string()
    );
    assert!(limited.retry_after > Duration::from_secs(59), "{limited:?}");
}

#[resilience::rate_limit(
    name = "tracing_events.paced",
    limit = 10,
    per = 1s,
    burst = 1,
    max_delay = 1s
)]
async fn paced() -> Result<u32, PoolError> {
    Ok(1)
}

#[tokio::test(start_paused = true)]
async fn a_delayed_call_is_a_debug_event_with_its_delay() {
    let capture = Capture::default();
    let _guard = tracing::subscriber::set_default(capture.subscriber());
    let started = tokio::time::Instant::now();
    assert_eq!(paced().await.unwrap(), 1);
    assert_eq!(paced().await.unwrap(), 1);
    // Paused time: the second call waited exactly one interval (1 s / 10).
    assert_eq!(started.elapsed(), Duration::from_millis(100));

    let events = capture.of("resilience::rate_limit");
    assert_eq!(events.len(), 1, "{events:#?}");
    assert_eq!(events[0].level, Level::DEBUG);
    assert_eq!(events[0].field("message"), "call delayed to fit the rate");
    assert_eq!(events[0].field("rate_limiter"), "tracing_events.paced");
    assert_eq!(events[0].field("delay_ms"), "100");
}
