//! `key = expr` against hostile key spaces (issue 33, items 1, 2 and 8), as a user writes
//! it: `max_keys` bounds the live instances of a name whatever their state, a keyed
//! limit cannot be reset by churning junk keys (the store refuses a new key instead:
//! failing closed), and a key failing again and again still opens its breaker while
//! healthy keys churn between its calls. The floods of a million keys are in
//! `keys_soak.rs` (release mode); these are the fast, deterministic cases.

use std::sync::LazyLock;
use std::time::Duration;

use resilience::clock::ManualClock;
use resilience::registry::Registry;
use resilience::{
    bulkhead, circuit_breaker, rate_limit, registry, BreakerConfig, BreakerState, BulkheadFull,
    CircuitOpen, RateLimited,
};

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error("down")]
    Down,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
}

fn live_breakers(reg: &Registry, name: &str) -> usize {
    reg.breakers().iter().filter(|s| s.name == name).count()
}

// ---- item 1: max_keys bounds open breakers too -------------------------------------

#[circuit_breaker(name = "keys.failing", key = key, max_keys = 100, failure_threshold = 1, recovery_timeout = 1s)]
fn failing(key: u32) -> Result<(), Failure> {
    let _ = key;
    Err(Failure::Down)
}

#[test]
fn open_breakers_are_bounded_by_max_keys() {
    for key in 0..5_000 {
        assert!(matches!(failing(key), Err(Failure::Down)));
    }
    let live = live_breakers(registry(), "keys.failing");
    assert!(live <= 100, "{live} live breakers for max_keys = 100");
    // The most recent keys are the ones kept, each open.
    let last = registry()
        .breaker_for("keys.failing", "4999")
        .expect("kept");
    assert_eq!(last.state(), BreakerState::Open);
    assert!(registry().breaker_for("keys.failing", "0").is_none());
    // An evicted open breaker is forgotten: its key starts again with a closed one.
    assert!(matches!(failing(0), Err(Failure::Down)), "runs again");
    assert!(
        matches!(failing(0), Err(Failure::Open(_))),
        "and opens again"
    );
}

static CONFIGURED: LazyLock<Registry> = LazyLock::new(|| {
    let reg = Registry::new();
    reg.configure(
        "keys.configured",
        BreakerConfig {
            failure_threshold: 1,
            max_keys: 50,
            ..Default::default()
        },
    )
    .expect("valid");
    reg
});

#[circuit_breaker(registry = CONFIGURED, name = "keys.configured", key = key)]
fn configured(key: u32) -> Result<(), Failure> {
    let _ = key;
    Err(Failure::Down)
}

#[test]
fn max_keys_given_to_the_registry_bounds_the_attribute_s_keys() {
    for key in 0..2_000 {
        let _ = configured(key);
    }
    let live = live_breakers(&CONFIGURED, "keys.configured");
    assert!(
        live <= 50,
        "{live} live breakers for a configured max_keys = 50"
    );
    // A new bound applies from the next new key.
    CONFIGURED
        .configure(
            "keys.configured",
            BreakerConfig {
                failure_threshold: 1,
                max_keys: 10,
                ..Default::default()
            },
        )
        .unwrap();
    let _ = configured(1_000_000);
    assert!(live_breakers(&CONFIGURED, "keys.configured") <= 10);
}

// ---- item 2: a keyed limit cannot be reset by churning keys ------------------------

static LIMITS_CLOCK: LazyLock<ManualClock> = LazyLock::new(ManualClock::new);
static LIMITS: LazyLock<Registry> = LazyLock::new(|| Registry::with_clock(LIMITS_CLOCK.clone()));

#[rate_limit(registry = LIMITS, name = "keys.tenant", limit = 1, per = 1h, key = tenant, max_keys = 100)]
fn per_tenant(tenant: &str) -> Result<(), Failure> {
    let _ = tenant;
    Ok(())
}

#[test]
fn a_tenant_stays_refused_however_many_junk_keys_come_between() {
    per_tenant("tenant").unwrap();
    let mut junk_refused = 0;
    for k in 0..1_500 {
        match per_tenant(&format!("junk-{k}")) {
            Ok(()) => {}
            Err(Failure::Limited(limited)) => {
                assert_eq!(limited.key.as_deref(), Some(format!("junk-{k}").as_str()));
                assert!(limited.retry_after > Duration::from_secs(3500));
                junk_refused += 1;
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    let Err(Failure::Limited(limited)) = per_tenant("tenant") else {
        panic!("the tenant's spent limit was reset by the churn")
    };
    assert_eq!(limited.key.as_deref(), Some("tenant"));
    assert_eq!(
        junk_refused,
        1_500 - 99,
        "the store filled, then failed closed"
    );
    let live = LIMITS
        .rate_limiters()
        .iter()
        .filter(|s| s.name == "keys.tenant")
        .count();
    assert_eq!(live, 100);
    // Once its burst is whole again, a limiter is worth nothing and makes room.
    LIMITS_CLOCK.advance(Duration::from_secs(3600));
    per_tenant("newcomer").unwrap();
    per_tenant("tenant").unwrap();
}

// ---- item 8: a failing key opens despite churn --------------------------------------

#[circuit_breaker(name = "keys.flaky", key = host, failure_threshold = 5, max_keys = 100)]
fn by_host(host: &str, fail: bool) -> Result<(), Failure> {
    let _ = host;
    if fail {
        Err(Failure::Down)
    } else {
        Ok(())
    }
}

#[test]
fn a_key_failing_again_and_again_opens_despite_healthy_keys_between_its_calls() {
    let mut healthy = 0u32;
    for call in 1..=20 {
        let outcome = by_host("failing.example", true);
        if call <= 5 {
            assert!(matches!(outcome, Err(Failure::Down)), "call {call} runs");
        } else {
            assert!(
                matches!(outcome, Err(Failure::Open(_))),
                "call {call}: open since call 5"
            );
        }
        for _ in 0..150 {
            by_host(&format!("healthy-{healthy}.example"), false).unwrap();
            healthy += 1;
        }
    }
    assert!(live_breakers(registry(), "keys.flaky") <= 100);
}

// ---- the bulkhead: a key with calls in it is never forgotten -----------------------

#[bulkhead(name = "keys.busy", max_concurrent = 1, key = tenant, max_keys = 4)]
fn hold(
    tenant: u32,
    gate: &std::sync::Barrier,
    release: &std::sync::Barrier,
) -> Result<(), Failure> {
    let _ = tenant;
    gate.wait();
    release.wait();
    Ok(())
}

#[bulkhead(name = "keys.busy", max_concurrent = 1, key = tenant, max_keys = 4)]
fn quick(tenant: u32) -> Result<(), Failure> {
    let _ = tenant;
    Ok(())
}

#[test]
fn a_new_key_is_refused_while_every_bulkhead_has_a_call_in_it() {
    let gate = std::sync::Arc::new(std::sync::Barrier::new(5));
    let release = std::sync::Arc::new(std::sync::Barrier::new(5));
    let holders: Vec<_> = (0..4)
        .map(|tenant| {
            let (gate, release) = (gate.clone(), release.clone());
            std::thread::spawn(move || hold(tenant, &gate, &release))
        })
        .collect();
    gate.wait(); // all four are inside their bulkhead
    let Err(Failure::Full(full)) = quick(99) else {
        panic!("a fifth key while four are busy: refused, not a bulkhead forgotten")
    };
    assert_eq!(full.key.as_deref(), Some("99"));
    let Err(Failure::Full(_)) = quick(0) else {
        panic!("tenant 0's own bulkhead is full")
    };
    release.wait();
    for holder in holders {
        holder.join().unwrap().unwrap();
    }
    // Empty again: new keys take their places (the store looks again after an eighth
    // of the bound's new keys, at most one here).
    let admitted = (100..104).filter(|t| quick(*t).is_ok()).count();
    assert!(admitted >= 3, "{admitted}");
}
