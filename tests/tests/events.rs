//! `registry().events()`: every kind of event on the stream, each compared with the
//! `tracing` event given for the same thing (they come from one place, so they agree),
//! a registry's stream apart from another's, and a slow subscriber that lags without
//! slowing a call.
//!
//! Each test listens to a registry of its own (`Registry::with_clock`), except the
//! injected fault's, which the global fault table reports on the global registry's
//! stream; tracing is captured per thread (`Capture::during`, the tests' library's,
//! which also keeps a global subscriber alive so that which thread reaches a log line
//! first never decides whether a capture sees it).

use std::sync::LazyLock;
use std::time::Duration;

#[cfg(feature = "chaos")]
use resilience::chaos::{chaos, Fault};
use resilience::clock::ManualClock;
use resilience::events::{Event, EventKind};
use resilience::registry::Registry;
use resilience::{
    hedge, retry, AdaptiveLimitConfig, BreakerConfig, BulkheadConfig, InjectedFault,
    RateLimitConfig,
};
use resilience_tests::capture::{Capture, Seen};
use tokio::sync::broadcast::error::TryRecvError;

/// Every event waiting on `rx`.
fn drain(rx: &mut tokio::sync::broadcast::Receiver<Event>) -> Vec<Event> {
    let mut all = Vec::new();
    loop {
        match rx.try_recv() {
            Ok(event) => all.push(event),
            Err(TryRecvError::Empty) => return all,
            Err(other) => panic!("{other:?}"),
        }
    }
}

/// The stream's event as JSON, and the tracing event's fields: each field named in
/// `same` (stream name, tracing name) has one value in both.
fn agree(event: &Event, seen: &Seen, same: &[(&str, &str)]) {
    let json = serde_json::to_value(event).unwrap();
    for (ours, theirs) in same {
        let value = match &json[ours] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Null => String::new(),
            other => other.to_string(),
        };
        assert_eq!(
            value,
            seen.field(theirs),
            "{ours} vs {theirs}: {json} / {seen:?}"
        );
    }
}

/// A log line of its own, reached by no other test.
fn probe() {
    tracing::warn!(target: "events::probe", "probe");
}

/// The cause of the flaky `a_state_change_…` (tracing's per-callsite interest, see the
/// tests' library `capture` module), made certain: another thread, capturing nothing,
/// reaches the log line first. With no other subscriber alive beside the test's capture
/// this fails (always when the test runs by itself).
#[test]
fn a_line_another_thread_reached_first_is_still_captured() {
    let capture = Capture::default();
    capture.during(|| {
        std::thread::spawn(probe).join().unwrap();
        probe();
    });
    assert_eq!(capture.find("events::probe", "probe").len(), 1);
}

#[test]
fn a_state_change_is_one_event_in_the_log_and_on_the_stream() {
    let capture = Capture::default();
    let reg = Registry::new();
    let mut rx = reg.events();
    capture.during(|| {
        let b = reg
            .register(
                "events.kanban",
                BreakerConfig {
                    failure_threshold: 1,
                    ..Default::default()
                },
            )
            .unwrap();
        b.acquire().unwrap().record_failure();
        b.reset();
    });
    let events = drain(&mut rx);
    let logged = capture.find("resilience::breaker", "circuit breaker state changed");
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(logged.len(), 2, "{logged:?}");
    for (event, seen) in events.iter().zip(&logged) {
        assert_eq!(
            (event.pattern.as_ref(), event.key.as_deref()),
            ("breaker", None)
        );
        assert_eq!(event.kind.as_str(), "state_change");
        agree(
            event,
            seen,
            &[("name", "name"), ("from", "from"), ("to", "to")],
        );
    }
    assert_eq!(
        events[0].kind,
        EventKind::StateChange {
            from: "closed".into(),
            to: "open".into()
        }
    );
}

#[test]
fn refusals_of_a_breaker_a_bulkhead_and_a_rate_limiter() {
    let capture = Capture::default();
    let reg = Registry::with_clock(ManualClock::new());
    let mut rx = reg.events();
    capture.during(|| {
        let b = reg
            .register("events.open", BreakerConfig::default())
            .unwrap();
        b.force_open();
        assert!(b.acquire().is_err());
        reg.configure_bulkhead(
            "events.db",
            BulkheadConfig {
                max_concurrent: 1,
                ..Default::default()
            },
        )
        .unwrap();
        let db = reg.bulkhead("events.db").unwrap();
        let _held = db.try_acquire().unwrap();
        assert!(db.acquire_blocking().is_err());
        reg.configure_rate_limit(
            "events.api",
            RateLimitConfig {
                limit: 1,
                per: Duration::from_secs(60),
                ..Default::default()
            },
        )
        .unwrap();
        let api = reg.rate_limiter("events.api").unwrap();
        api.check().unwrap();
        assert!(api.check().is_err());
    });
    let refusals: Vec<Event> = drain(&mut rx)
        .into_iter()
        .filter(|e| e.kind.as_str() == "refused")
        .collect();
    let patterns: Vec<&str> = refusals.iter().map(|e| e.pattern.as_ref()).collect();
    assert_eq!(patterns, ["breaker", "bulkhead", "rate_limit"]);

    let breaker = &capture.find("resilience::breaker", "circuit breaker refusing calls (`refused`: since the last such warning, at most one a second)")[0];
    agree(
        &refusals[0],
        breaker,
        &[("name", "name"), ("refused", "refused")],
    );
    let bulkhead = &capture.find("resilience::bulkhead", "bulkhead full; calls refused (`refused`: since the last such warning, at most one a second)")[0];
    agree(
        &refusals[1],
        bulkhead,
        &[("name", "bulkhead"), ("refused", "refused")],
    );
    let limiter = &capture.find("resilience::rate_limit", "rate limit reached; calls refused (`refused`: since the last such warning, at most one a second)")[0];
    agree(
        &refusals[2],
        limiter,
        &[
            ("name", "rate_limiter"),
            ("refused", "refused"),
            ("retry_after_ms", "retry_after_ms"),
        ],
    );
    assert!(matches!(
        refusals[2].kind,
        EventKind::Refused { refused: 1, retry_after_ms: Some(ms) } if ms > 59_000
    ));
}

#[derive(Debug, thiserror::Error, resilience::MarcusError)]
enum CallError {
    #[error("the upstream is down")]
    #[marcus(category = transient)]
    Down,
    #[error(transparent)]
    #[marcus(transparent)]
    Injected(#[from] InjectedFault),
}

static RETRY_REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[retry(registry = RETRY_REG, max_attempts = 3, backoff = none)]
fn always_down() -> Result<u32, CallError> {
    Err(CallError::Down)
}

#[test]
fn retries_and_the_giving_up_as_the_log_says_them() {
    let capture = Capture::default();
    let mut rx = RETRY_REG.events();
    let result = capture.during(always_down);
    assert!(matches!(result, Err(CallError::Down)));
    let events = drain(&mut rx);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["retry", "retry", "gave_up"]);
    let retries = capture.find("resilience::retry", "retrying after an error");
    let gave_up = capture.find("resilience::retry", "giving up retrying");
    for (event, seen) in events.iter().zip(retries.iter().chain(&gave_up)) {
        assert!(event.name.ends_with("always_down"), "{event:?}");
        agree(
            event,
            seen,
            &[
                ("name", "name"),
                ("via", "via"),
                ("code", "code"),
                ("error", "error"),
            ],
        );
    }
    agree(
        &events[1],
        &retries[1],
        &[("attempt", "attempt"), ("delay_ms", "delay_ms")],
    );
    agree(
        &events[2],
        &gave_up[0],
        &[("attempts", "attempts"), ("reason", "reason")],
    );
    assert!(matches!(
        &events[2].kind,
        EventKind::GaveUp { attempts: 3, reason, error: Some(error), .. }
            if reason == "attempts exhausted" && error == "the upstream is down"
    ));
}

static HEDGE_REG: LazyLock<Registry> = LazyLock::new(Registry::new);

#[hedge(registry = HEDGE_REG, name = "events.search", delay = 10ms)]
async fn slow_first(calls: &std::sync::atomic::AtomicU32) -> Result<u32, CallError> {
    let call = calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    if call == 0 {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(call)
}

#[tokio::test(flavor = "current_thread", start_paused = true)]
async fn a_hedge_started_is_an_event_with_its_run_and_reason() {
    let capture = Capture::default();
    let _capturing = capture.start();
    let mut rx = HEDGE_REG.events();
    let calls = std::sync::atomic::AtomicU32::new(0);
    assert_eq!(slow_first(&calls).await.unwrap(), 1);
    let events = drain(&mut rx);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].pattern.as_ref(), events[0].name.as_ref()),
        ("hedge", "events.search")
    );
    let seen = &capture.find("resilience::hedge", "starting a hedged run")[0];
    agree(
        &events[0],
        seen,
        &[("name", "hedge"), ("run", "run"), ("reason", "reason")],
    );
    assert_eq!(
        events[0].kind,
        EventKind::Hedged {
            run: 2,
            reason: "delay".into()
        }
    );
}

#[test]
fn an_adaptive_limit_changing_and_refusing() {
    let capture = Capture::default();
    let clock = ManualClock::new();
    let reg = Registry::with_clock(clock.clone());
    let mut rx = reg.events();
    capture.during(|| {
        let limit = reg
            .register_adaptive_limit(
                "events.search",
                AdaptiveLimitConfig {
                    algorithm: resilience::adaptive_limit::Algorithm::Aimd,
                    initial_limit: 4,
                    ..Default::default()
                },
            )
            .unwrap();
        // Ten calls of 10 ms, two at a time: one window closes and the limit grows.
        for _ in 0..5 {
            let permits: Vec<_> = (0..2).map(|_| limit.try_acquire().unwrap()).collect();
            clock.advance(Duration::from_millis(10));
            permits.into_iter().for_each(|p| p.succeeded());
        }
        assert_eq!(limit.limit(), 5);
        let held: Vec<_> = (0..5).map(|_| limit.try_acquire().unwrap()).collect();
        assert!(limit
            .acquire_blocking(resilience::Priority::Normal)
            .is_err());
        drop(held);
    });
    let events = drain(&mut rx);
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["limit_changed", "overloaded"]);
    assert_eq!(events[0].kind, EventKind::LimitChanged { from: 4, to: 5 });
    let changed = &capture.find("resilience::adaptive_limit", "adaptive limit changed")[0];
    agree(
        &events[0],
        changed,
        &[("name", "adaptive_limit"), ("from", "from"), ("to", "to")],
    );
    let refused = &capture.find(
        "resilience::adaptive_limit",
        "adaptive limit reached; calls refused",
    )[0];
    agree(
        &events[1],
        refused,
        &[
            ("name", "adaptive_limit"),
            ("refused", "refused"),
            ("limit", "limit"),
            ("priority", "priority"),
        ],
    );
}

#[cfg(feature = "chaos")]
#[resilience::error_context("events.faulty")]
fn faulty() -> Result<u32, CallError> {
    Ok(1)
}

/// (feature `chaos`: `cargo test -p resilience-tests --features chaos --test events`)
#[cfg(feature = "chaos")]
#[test]
fn an_injected_fault_is_an_event_of_the_global_registry() {
    let capture = Capture::default();
    let mut rx = resilience::registry().events();
    let site = concat!(module_path!(), "::faulty");
    chaos().inject(site, Fault::error(1.0)).unwrap();
    let result = capture.during(faulty);
    chaos().clear(site);
    assert!(matches!(result, Err(CallError::Injected(_))));
    let faults: Vec<Event> = drain(&mut rx)
        .into_iter()
        .filter(|e| e.name == site)
        .collect();
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0].pattern, "chaos");
    let seen = &capture.find("resilience::chaos", "fault injected")[0];
    agree(&faults[0], seen, &[("name", "site"), ("fault", "fault")]);
}

#[test]
fn each_registry_has_its_own_stream() {
    let (a, b) = (Registry::new(), Registry::new());
    let (mut on_a, mut on_b) = (a.events(), b.events());
    a.register("events.same", BreakerConfig::default())
        .unwrap()
        .force_open();
    assert_eq!(drain(&mut on_a).len(), 1);
    assert!(drain(&mut on_b).is_empty());
    // An instance of no registry sends nowhere (and costs nothing).
    resilience::breaker::Breaker::new("events.alone", BreakerConfig::default())
        .unwrap()
        .force_open();
    assert!(drain(&mut on_a).is_empty());
}

static KEYED_REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(ManualClock::new()));

#[resilience::rate_limit(registry = KEYED_REG, name = "events.tenant", limit = 1, per = 60s, key = tenant)]
fn per_tenant(tenant: &str) -> Result<(), resilience::RateLimited> {
    let _ = tenant;
    Ok(())
}

#[test]
fn a_keyed_instance_names_its_key() {
    let mut rx = KEYED_REG.events();
    per_tenant("eu").unwrap();
    per_tenant("us").unwrap();
    assert!(per_tenant("eu").is_err());
    let events = drain(&mut rx);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        (events[0].name.as_ref(), events[0].key.as_deref()),
        ("events.tenant", Some("eu"))
    );
}

static FULL_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static FULL_REG: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(FULL_CLOCK.clone()));

#[resilience::rate_limit(registry = FULL_REG, name = "events.full", limit = 1, per = 60s, key = tenant, max_keys = 1)]
fn one_tenant_at_a_time(tenant: &str) -> Result<(), resilience::RateLimited> {
    let _ = tenant;
    Ok(())
}

/// `max_keys` reached with every live key holding a limit: new keys are refused, and
/// the stream says so as the WARN does, at most once a second with the count since.
#[test]
fn a_full_keyed_store_refusing_new_keys_is_a_refusal_of_its_name() {
    let capture = Capture::default();
    let mut rx = FULL_REG.events();
    capture.during(|| {
        one_tenant_at_a_time("eu").unwrap(); // the one live key, its token spent
        for tenant in ["us", "jp", "br"] {
            assert!(one_tenant_at_a_time(tenant).is_err());
        }
        FULL_CLOCK.advance(Duration::from_secs(2));
        assert!(one_tenant_at_a_time("in").is_err());
    });
    let events = drain(&mut rx);
    let logged = capture.find(
        "resilience::keyed",
        "every live key holds a limit that evicting it would reset; new keys are refused until one is free",
    );
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(logged.len(), 2, "{logged:?}");
    for (event, seen) in events.iter().zip(&logged) {
        assert_eq!(
            (
                event.pattern.as_ref(),
                event.name.as_ref(),
                event.key.as_deref()
            ),
            ("rate_limit", "events.full", None)
        );
        agree(event, seen, &[("name", "name"), ("refused", "refused")]);
    }
    // The first refusal of a second is reported at once; the two after it in the
    // second's count.
    assert!(matches!(
        events[0].kind,
        EventKind::Refused { refused: 1, retry_after_ms: Some(ms) } if ms > 59_000
    ));
    assert!(matches!(
        events[1].kind,
        EventKind::Refused { refused: 3, .. }
    ));
}

#[test]
fn a_slow_subscriber_lags_and_the_calls_go_on() {
    let reg = Registry::new();
    let mut slow = reg.events();
    let b = reg
        .register("events.flapping", BreakerConfig::default())
        .unwrap();
    let transitions = resilience::events::CAPACITY + 100;
    for _ in 0..transitions / 2 {
        b.force_open();
        b.reset();
    }
    // The reader is told how many it missed, then reads on from the oldest kept.
    assert_eq!(slow.try_recv(), Err(TryRecvError::Lagged(100)));
    assert_eq!(drain(&mut slow).len(), resilience::events::CAPACITY);
}
