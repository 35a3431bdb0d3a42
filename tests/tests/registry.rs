//! The breaker registry: one state per name, configuration at run time, snapshots,
//! health, the parent tree, and the call-site glue the attribute uses.

use std::sync::Arc;
use std::time::Duration;

use resilience::__private::BreakerSite;
use resilience::clock::ManualClock;
use resilience::registry::Registry;
use resilience::{registry, BreakerConfig, BreakerState};

const SEC: Duration = Duration::from_secs(1);

fn threshold(n: u32) -> BreakerConfig {
    BreakerConfig {
        failure_threshold: n,
        ..Default::default()
    }
}

fn local() -> (Registry, ManualClock) {
    let clock = ManualClock::new();
    (Registry::with_clock(Arc::new(clock.clone())), clock)
}

#[test]
fn breakers_sharing_a_name_share_one_state() {
    let (reg, _) = local();
    let a = reg.register("kanban", threshold(2)).unwrap();
    let b = reg.register("kanban", threshold(7)).unwrap();
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(
        b.config().failure_threshold,
        2,
        "the first registration made it"
    );
    a.acquire().unwrap().record_failure();
    b.acquire().unwrap().record_failure();
    assert_eq!(reg.breaker("kanban").unwrap().state(), BreakerState::Open);
    assert!(reg.breaker("other").is_none());
}

#[test]
fn configure_before_first_use_wins_over_the_registered_values() {
    let (reg, _) = local();
    reg.configure("kanban", threshold(1)).unwrap();
    let b = reg.register("kanban", threshold(9)).unwrap();
    assert_eq!(b.config(), threshold(1));
    b.acquire().unwrap().record_failure();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn configure_after_first_use_applies_at_once() {
    let (reg, _) = local();
    let b = reg.register("kanban", threshold(5)).unwrap();
    b.acquire().unwrap().record_failure();
    reg.configure("kanban", threshold(2)).unwrap();
    b.acquire().unwrap().record_failure();
    assert_eq!(b.state(), BreakerState::Open);
}

#[test]
fn an_invalid_configuration_is_refused_and_changes_nothing() {
    let (reg, _) = local();
    let b = reg.register("kanban", threshold(3)).unwrap();
    let e = reg
        .configure(
            "kanban",
            BreakerConfig {
                slow_call_rate: Some(101.0),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!((e.field(), e.value()), ("slow_call_rate", "101.0"));
    assert_eq!(b.config(), threshold(3));
    let e = reg.register("new", threshold(0)).unwrap_err();
    assert_eq!((e.field(), e.value()), ("failure_threshold", "0"));
    assert!(reg.breaker("new").is_none());
    // The error is a std error, usable with `?` into anyhow and friends.
    let _: Box<dyn std::error::Error + Send + Sync> = Box::new(e);
}

#[test]
fn snapshots_list_every_breaker_by_name_with_counts() {
    let (reg, clock) = local();
    let b = reg
        .register(
            "b",
            BreakerConfig {
                failure_threshold: 1,
                recovery_timeout: 30 * SEC,
                ..Default::default()
            },
        )
        .unwrap();
    reg.register("a", threshold(5))
        .unwrap()
        .acquire()
        .unwrap()
        .record_failure();
    b.acquire().unwrap().record_failure();
    clock.advance(10 * SEC);
    assert!(b.acquire().is_err());

    let snaps = reg.breakers();
    assert_eq!(
        snaps.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(
        (snaps[0].state, snaps[0].consecutive_failures),
        (BreakerState::Closed, 1)
    );
    let s = &snaps[1];
    assert_eq!(
        (s.state, s.rejections, s.times_opened),
        (BreakerState::Open, 1, 1)
    );
    assert_eq!(s.retry_after, Some(20 * SEC));
}

#[test]
fn health_is_one_json_value_with_counts_by_state() {
    let (reg, _) = local();
    reg.register("closed", threshold(5)).unwrap();
    reg.register("forced", threshold(5)).unwrap().force_open();
    reg.register("disabled", threshold(5)).unwrap().disable();
    let json = serde_json::to_value(reg.health()).unwrap();
    assert_eq!(json["total"], 3);
    assert_eq!(
        (json["closed"].clone(), json["forced_open"].clone()),
        (1.into(), 1.into())
    );
    assert_eq!(json["disabled"], 1);
    assert_eq!(json["open"], 0);
    let names: Vec<_> = json["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].clone())
        .collect();
    assert_eq!(names, ["closed", "disabled", "forced"]);
    assert_eq!(json["breakers"][2]["state"], "forced_open");
    assert_eq!(json["breakers"][0]["config"]["recovery_timeout"], "1m");
    assert!(!reg.health().is_healthy());
}

#[test]
fn reset_all_closes_every_breaker() {
    let (reg, _) = local();
    reg.register("x", threshold(1))
        .unwrap()
        .acquire()
        .unwrap()
        .record_failure();
    reg.register("y", threshold(1)).unwrap().force_open();
    reg.reset_all();
    assert!(reg
        .breakers()
        .iter()
        .all(|s| s.state == BreakerState::Closed && s.consecutive_failures == 0));
}

#[test]
fn a_child_refuses_while_its_parent_is_open() {
    let (reg, clock) = local();
    let child = reg
        .register(
            "kanban.boards",
            BreakerConfig {
                parent: Some("kanban".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let parent = reg.breaker("kanban").expect("registered with its child");
    assert_eq!(reg.children("kanban"), ["kanban.boards"]);
    assert_eq!(reg.breakers()[1].parent.as_deref(), Some("kanban"));

    reg.configure(
        "kanban",
        BreakerConfig {
            failure_threshold: 1,
            recovery_timeout: 10 * SEC,
            ..Default::default()
        },
    )
    .unwrap();
    parent.acquire().unwrap().record_failure();
    let refused = child.acquire().unwrap_err();
    assert_eq!(refused.name, "kanban", "the open breaker is named");
    assert_eq!(refused.retry_after, Some(10 * SEC));
    assert_eq!(child.state(), BreakerState::Closed);
    assert_eq!(child.snapshot().rejections, 1);

    // Once the parent is due for a trial, its children are no longer held back.
    clock.advance(10 * SEC);
    child.acquire().expect("parent due").record_success();
    parent.force_open();
    assert!(child.acquire().is_err());
    parent.reset();
    child.acquire().expect("parent closed").record_success();

    // Removing the parent from the configuration unlinks it.
    reg.configure("kanban.boards", BreakerConfig::default())
        .unwrap();
    parent.force_open();
    assert!(child.acquire().is_ok());
}

#[test]
fn parents_cannot_form_a_cycle_or_change_once_linked() {
    let (reg, _) = local();
    let with_parent = |p: &'static str| BreakerConfig {
        parent: Some(p.into()),
        ..Default::default()
    };
    reg.register("c", with_parent("b")).unwrap();
    reg.configure("b", with_parent("a")).unwrap();
    let e = reg.configure("a", with_parent("c")).unwrap_err();
    assert_eq!((e.field(), e.value()), ("parent", "\"c\""));
    assert!(e.reason().contains("own ancestor"), "{e}");
    let e = reg.configure("x", with_parent("x")).unwrap_err();
    assert_eq!(e.field(), "parent");
    let e = reg.configure("c", with_parent("z")).unwrap_err();
    assert!(e.reason().contains("cannot change"), "{e}");
}

#[test]
fn a_call_site_registers_once_and_the_registry_configuration_wins() {
    fn init() -> BreakerConfig {
        threshold(4)
    }
    static SITE: BreakerSite = BreakerSite::new("registry-test.site", init);
    static SAME_NAME: BreakerSite = BreakerSite::new("registry-test.site", init);
    registry()
        .configure("registry-test.site", threshold(1))
        .unwrap();

    let b = SITE.instance();
    assert!(std::ptr::eq(b, SITE.instance()));
    assert!(
        std::ptr::eq(b, SAME_NAME.instance()),
        "one name, one breaker"
    );
    assert_eq!(b.config().failure_threshold, 1);
    let global = registry().breaker("registry-test.site").unwrap();
    assert!(std::ptr::eq(b, &*global));
}

#[test]
fn an_invalid_attribute_configuration_falls_back_to_the_defaults() {
    fn init() -> BreakerConfig {
        threshold(0)
    }
    static SITE: BreakerSite = BreakerSite::new("registry-test.invalid-init", init);
    assert_eq!(SITE.instance().config(), BreakerConfig::default());
}

#[test]
fn the_global_registry_reports_in_json() {
    let b = registry()
        .register("registry-test.json", threshold(3))
        .unwrap();
    b.acquire().unwrap().record_failure();
    let health = serde_json::to_value(registry().health()).unwrap();
    let me = health["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "registry-test.json")
        .expect("listed")
        .clone();
    assert_eq!(me["consecutive_failures"], 1);
    assert_eq!(me["state"], "closed");
    assert_eq!(me["config"]["failure_threshold"], 3);
}
