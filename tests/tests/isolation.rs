//! A `Registry::new()` is a world of its own: configuring it changes nothing global.

use resilience::registry::Registry;
use resilience::{registry, RetryConfig};

#[resilience::retry(policy = "isolation.policy", max_attempts = 2, backoff = none)]
fn flaky(calls: &mut u32) -> Result<(), std::io::Error> {
    *calls += 1;
    Err(std::io::Error::other("503 unavailable"))
}

#[test]
fn a_new_registry_keeps_its_retry_policies_to_itself() {
    let own = Registry::new();
    own.configure_retry(
        "isolation.policy",
        RetryConfig {
            max_attempts: 9,
            ..Default::default()
        },
    )
    .expect("a valid policy");
    assert_eq!(
        own.retry_policy("isolation.policy").map(|c| c.max_attempts),
        Some(9)
    );
    assert_eq!(
        registry().retry_policy("isolation.policy"),
        None,
        "the global registry is untouched"
    );

    // The attribute follows the global registry: its own keys while it has no policy.
    let mut calls = 0;
    assert!(flaky(&mut calls).is_err());
    assert_eq!(calls, 2);
}

#[test]
fn two_new_registries_do_not_share_policies() {
    let a = Registry::new();
    let b = Registry::new();
    a.configure_retry(
        "isolation.shared",
        RetryConfig {
            max_attempts: 4,
            ..Default::default()
        },
    )
    .expect("a valid policy");
    assert_eq!(b.retry_policy("isolation.shared"), None);
}

#[derive(Debug, thiserror::Error)]
#[error("down")]
struct Down;

#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Down(#[from] Down),
    #[error(transparent)]
    Open(#[from] resilience::CircuitOpen),
}

static WORLD: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(Registry::new);

#[resilience::circuit_breaker(registry = WORLD, name = "isolation.world")]
fn in_world() -> Result<(), Failure> {
    Err(Down.into())
}

#[test]
fn a_new_registry_shows_nothing_of_the_global_world_in_its_health() {
    // The global world: a breaker, a feature switch, a recovering service.
    registry()
        .register("isolation.global", Default::default())
        .unwrap();
    resilience::degradation().register("isolation.feature", 0_u32);
    resilience::recovery().report_failure("isolation.service");

    let fresh = Registry::new();
    let health = fresh.health();
    assert_eq!(health.total, 0);
    assert!(health.breakers.is_empty());
    assert_eq!(
        health.features.total, 0,
        "feature switches are the registry's"
    );
    assert!(
        health.recovery.services.is_empty(),
        "recovery is the registry's"
    );
    assert_eq!(fresh.monitor().total_recorded(), 0);

    // And what a registry holds shows in its own health only.
    fresh.degradation().register("isolation.own_feature", 1_u32);
    fresh.recovery().report_failure("isolation.own_service");
    let health = fresh.health();
    assert_eq!(health.features.total, 1);
    assert_eq!(health.recovery.services.len(), 1);
    let global = registry().health();
    assert!(global
        .features
        .features
        .iter()
        .all(|f| f.name != "isolation.own_feature"));
    assert!(global
        .recovery
        .services
        .iter()
        .all(|s| s.name != "isolation.own_service"));
}

#[test]
fn an_attribute_s_errors_go_to_its_registry_s_monitor() {
    assert!(in_world().is_err());
    assert_eq!(WORLD.monitor().total_recorded(), 1);
    assert_eq!(
        WORLD.monitor().snapshot().recent[0].error_type,
        "isolation::Failure"
    );
    // Only this function raises a `Failure`: the global monitor never saw one.
    assert!(resilience::monitor()
        .snapshot()
        .recent
        .iter()
        .all(|r| r.error_type != "isolation::Failure"));
}
