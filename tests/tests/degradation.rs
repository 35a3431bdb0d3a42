//! Feature switches: self-disabling at exactly the threshold, manual switching, typed
//! fallbacks, handles sharing one switch, the call helpers, the snapshot's JSON, the
//! call-site glue the attributes use (its tracing events are in `tracing_events.rs`).

use std::sync::{Arc, Mutex};

use resilience::__private::{FeatureArm, FeatureSite, Observe, View};
use resilience::degradation::{Degradation, DisabledBy, FeatureConfig};
use resilience::{degradation, ConfigError};
use serde_json::json;

#[test]
fn a_feature_disables_itself_at_the_third_consecutive_failure_by_default() {
    let d = Degradation::new();
    let f = d.register("search", Vec::<u32>::new());
    f.report_failure();
    f.report_failure();
    assert!(f.is_enabled(), "two failures are below the threshold");
    f.report_failure();
    assert!(!f.is_enabled());
    assert_eq!(f.disabled_by(), Some(DisabledBy::Failures));
    assert_eq!(d.disabled_by("search"), Some(DisabledBy::Failures));
}

#[test]
fn a_success_restarts_the_run_of_failures() {
    let d = Degradation::new();
    for _ in 0..2 {
        d.report_failure("x");
    }
    d.report_success("x");
    for _ in 0..2 {
        d.report_failure("x");
    }
    assert!(d.is_enabled("x"));
    d.report_failure("x");
    assert!(!d.is_enabled("x"));
}

#[test]
fn the_threshold_is_configurable_per_feature() {
    let d = Degradation::new();
    let five = d
        .register_with(
            "five",
            0_u8,
            FeatureConfig {
                failure_threshold: 5,
            },
        )
        .unwrap();
    let one = d
        .register_with(
            "one",
            0_u8,
            FeatureConfig {
                failure_threshold: 1,
            },
        )
        .unwrap();
    for i in 1..=5 {
        five.report_failure();
        assert_eq!(five.is_enabled(), i < 5, "after {i} failures");
    }
    one.report_failure();
    assert!(!one.is_enabled());

    d.configure(
        "later",
        FeatureConfig {
            failure_threshold: 2,
        },
    )
    .unwrap();
    d.report_failure("later");
    assert!(d.is_enabled("later"));
    d.report_failure("later");
    assert!(!d.is_enabled("later"));
}

#[test]
fn a_zero_threshold_is_a_config_error_naming_field_and_value() {
    let d = Degradation::new();
    let err: ConfigError = d
        .register_with(
            "x",
            (),
            FeatureConfig {
                failure_threshold: 0,
            },
        )
        .unwrap_err();
    assert_eq!((err.field(), err.value()), ("failure_threshold", "0"));
    assert!(
        err.to_string()
            .starts_with("invalid `failure_threshold` = 0"),
        "{err}"
    );
    assert_eq!(
        d.configure(
            "x",
            FeatureConfig {
                failure_threshold: 0
            }
        )
        .unwrap_err(),
        err
    );
    assert_eq!(
        d.snapshot().total,
        0,
        "a refused registration registers nothing"
    );
}

#[test]
fn manual_switching_and_who_switched() {
    let d = Degradation::new();
    let f = d.register("export", "csv unavailable");
    d.disable("export");
    assert!(!f.is_enabled());
    assert_eq!(f.disabled_by(), Some(DisabledBy::Manual));

    // Failures do not overwrite a manual switch.
    for _ in 0..5 {
        f.report_failure();
    }
    assert_eq!(f.disabled_by(), Some(DisabledBy::Manual));

    d.enable("export");
    assert!(f.is_enabled());
    assert_eq!(f.disabled_by(), None);
    assert_eq!(
        d.snapshot().features[0].failures,
        0,
        "enable clears the failure count"
    );

    // A feature off by failures, switched off by hand, is now off by hand.
    (0..3).for_each(|_| f.report_failure());
    assert_eq!(f.disabled_by(), Some(DisabledBy::Failures));
    f.disable();
    assert_eq!(f.disabled_by(), Some(DisabledBy::Manual));
}

#[test]
fn unknown_names_are_enabled_and_a_switch_thrown_early_holds() {
    let d = Degradation::new();
    assert!(d.is_enabled("nobody.registered.this"));
    assert_eq!(d.disabled_by("nobody.registered.this"), None);
    d.enable("nobody.registered.this");
    assert_eq!(
        d.snapshot().total,
        0,
        "enabling an unknown name makes nothing"
    );

    d.disable("beta");
    let beta = d.register("beta", 1_i32);
    assert!(
        !beta.is_enabled(),
        "registration keeps a switch thrown before it"
    );
    assert_eq!(beta.fallback(), Some(1));
}

#[test]
fn fallbacks_are_typed_and_the_last_registration_wins() {
    let d = Degradation::new();
    let as_string = d.register("greeting", String::from("hello"));
    assert_eq!(d.fallback::<String>("greeting").as_deref(), Some("hello"));
    assert_eq!(d.fallback::<&str>("greeting"), None, "wrong type");
    assert_eq!(d.fallback::<String>("unknown"), None);

    let as_number = d.register("greeting", 7_u64);
    assert_eq!(
        as_string.fallback(),
        None,
        "re-registered with another type"
    );
    assert_eq!(as_number.fallback(), Some(7));

    let typed_early = d.feature::<u64>("greeting");
    assert_eq!(typed_early.fallback(), Some(7));
    as_number.disable();
    assert!(
        !typed_early.is_enabled() && !as_string.is_enabled(),
        "one name, one switch"
    );
}

#[test]
fn call_runs_while_enabled_and_returns_the_fallback_without_running_when_disabled() {
    let d = Degradation::new();
    let f = d.register("thumbnails", vec![0_u8]);
    let mut runs = 0;
    let mut render = |ok: bool| {
        f.call(|| {
            runs += 1;
            if ok {
                Ok(vec![1, 2, 3])
            } else {
                Err("decoder crashed")
            }
        })
    };
    assert_eq!(render(true), Ok(vec![1, 2, 3]));
    for _ in 0..3 {
        assert_eq!(render(false), Err("decoder crashed"));
    }
    assert_eq!(render(true), Ok(vec![0]), "disabled: the fallback");
    assert_eq!(runs, 4, "the disabled call did not run");
}

#[test]
fn call_without_a_fallback_of_the_type_still_runs() {
    let d = Degradation::new();
    let f = d.feature::<u32>("untyped");
    f.disable();
    assert_eq!(f.call(|| Ok::<_, ()>(5)), Ok(5));
}

#[tokio::test(start_paused = true)]
async fn call_async_does_not_poll_the_future_when_disabled() {
    let d = Degradation::new();
    let f = d.register("ai", String::from("(no summary)"));
    let polled = Arc::new(Mutex::new(0));
    let make = |p: Arc<Mutex<i32>>| async move {
        *p.lock().unwrap() += 1;
        Err::<String, &str>("model overloaded")
    };
    for _ in 0..3 {
        assert!(f.call_async(make(polled.clone())).await.is_err());
    }
    assert_eq!(
        f.call_async(make(polled.clone())).await.as_deref(),
        Ok("(no summary)")
    );
    assert_eq!(*polled.lock().unwrap(), 3);
}

#[test]
fn snapshot_lists_every_feature_as_json() {
    let d = Degradation::new();
    d.register("b.search", 0_u32).report_failure();
    d.register_with(
        "a.pdf",
        String::new(),
        FeatureConfig {
            failure_threshold: 1,
        },
    )
    .unwrap()
    .report_failure();
    d.disable("c.beta");
    let json = serde_json::to_value(d.snapshot()).unwrap();
    assert_eq!(
        json,
        json!({
            "total": 3,
            "disabled": 2,
            "features": [
                {"name": "a.pdf", "enabled": false, "disabled_by": "failures", "failures": 1,
                 "failure_threshold": 1, "fallback_type": "alloc::string::String"},
                {"name": "b.search", "enabled": true, "disabled_by": null, "failures": 1,
                 "failure_threshold": 3, "fallback_type": "u32"},
                {"name": "c.beta", "enabled": false, "disabled_by": "manual", "failures": 0,
                 "failure_threshold": 3, "fallback_type": null},
            ]
        })
    );
    let back: resilience::degradation::DegradationSnapshot = serde_json::from_value(json).unwrap();
    assert_eq!(back, d.snapshot());
}

#[test]
fn concurrent_failures_disable_exactly_once_and_count_every_one() {
    let d = Arc::new(Degradation::new());
    d.configure(
        "hot",
        FeatureConfig {
            failure_threshold: 100,
        },
    )
    .unwrap();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let d = d.clone();
            std::thread::spawn(move || (0..50).for_each(|_| d.report_failure("hot")))
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    let snap = d.snapshot();
    assert_eq!(snap.features[0].failures, 200);
    assert_eq!(snap.features[0].disabled_by, Some(DisabledBy::Failures));
}

// --- the call site the attributes expand to -------------------------------------

static GATED: FeatureSite = FeatureSite::new("tests.degradation.gated");

/// How many times `gated`'s body ran.
static GATED_RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// What a gated function's expansion does, written by hand.
fn gated(fail: bool) -> Result<u32, String> {
    if let Some(value) = GATED.fallback_if_disabled() {
        return Ok(value);
    }
    GATED_RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let outcome: Result<u32, String> = if fail {
        Err("upstream down".to_owned())
    } else {
        Ok(10)
    };
    match outcome {
        Ok(value) => {
            GATED.succeeded();
            Ok(value)
        }
        Err(error) => GATED.failed(
            error,
            |_| View::Opaque("String"),
            FeatureArm {
                observe: Observe::Skip,
            },
        ),
    }
}

#[test]
fn the_glue_gates_a_function_on_the_global_switches() {
    degradation().register("tests.degradation.gated", 99_u32);
    assert_eq!(gated(false), Ok(10));
    let runs = || GATED_RUNS.load(std::sync::atomic::Ordering::Relaxed);
    for _ in 0..3 {
        // Enabled and failing: the fallback answers, and the failure is counted.
        assert_eq!(gated(true), Ok(99));
    }
    let ran = runs();
    assert_eq!(gated(true), Ok(99), "disabled: the fallback");
    assert_eq!(runs(), ran, "disabled: the body did not run");
    assert_eq!(
        degradation().disabled_by("tests.degradation.gated"),
        Some(DisabledBy::Failures)
    );
    degradation().enable("tests.degradation.gated");
    assert_eq!(gated(false), Ok(10));
    degradation().disable("tests.degradation.gated");
    assert_eq!(gated(false), Ok(99));
}

static UNTYPED: FeatureSite = FeatureSite::new("tests.degradation.untyped");

#[test]
fn the_glue_runs_the_body_when_the_fallback_has_another_type() {
    degradation().register("tests.degradation.untyped", "a string, not a u32");
    degradation().disable("tests.degradation.untyped");
    assert_eq!(UNTYPED.fallback_if_disabled::<u32>(), None);
    assert_eq!(
        UNTYPED.fallback_if_disabled::<&str>(),
        Some("a string, not a u32")
    );
}

static EARLY: FeatureSite = FeatureSite::new("tests.degradation.early");

#[test]
fn a_site_used_before_registration_sees_the_later_registration() {
    assert_eq!(EARLY.fallback_if_disabled::<u8>(), None);
    degradation().register("tests.degradation.early", 3_u8);
    degradation().disable("tests.degradation.early");
    assert_eq!(EARLY.fallback_if_disabled::<u8>(), Some(3));
}
