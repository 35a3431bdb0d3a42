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
