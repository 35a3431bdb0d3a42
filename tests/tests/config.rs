//! `resilience::config`: a TOML file and `RESILIENCE__…` variables, validated all or
//! nothing, applied to every table, watched, and read back as the same TOML.
//!
//! Every test uses names of its own (the runtime's registries are global and shared by
//! the tests of this binary); those that read the process's environment or watch a file
//! hold `SERIAL`, since a load reads every `RESILIENCE__…` variable.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use resilience::config::{self, Config};
use resilience::degradation::FeatureConfig;
use resilience::recovery::RecoveryConfig;
use resilience::retry::{Backoff, BudgetConfig};
use resilience::{
    degradation, monitor, recovery, registry, retry, retry_budget, BreakerConfig, BulkheadConfig,
    MonitorConfig, RateLimitConfig, RetryConfig,
};
use resilience_tests::temp_file::{eventually, TempFile};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

fn breaker_threshold(name: &str) -> u32 {
    registry()
        .register(name, BreakerConfig::default())
        .unwrap()
        .config()
        .failure_threshold
}

#[test]
fn every_table_is_applied() {
    let _serial = serial();
    let file = TempFile::new(
        "every",
        r#"
[breaker.cfg-all]
failure_threshold = 3
recovery_timeout = "30s"

[retry.cfg-all]
max_attempts = 5
backoff = { fixed = "250ms" }
jitter = "none"

[budget.cfg-all]
capacity = 7
refill_per_second = 0.5

[feature."cfg-all.export"]
failure_threshold = 9

[recovery.cfg-all]
degrade_after = 2
fail_after = 4
ramp = { steps = [50, 100], step_interval = "10s" }

[monitor]
burst_threshold = 42
"#,
    );
    let applied = config::load(&file.0).unwrap();
    assert_eq!(applied.len(), 6);

    let breaker = registry()
        .register("cfg-all", BreakerConfig::default())
        .unwrap();
    assert_eq!(breaker.config().failure_threshold, 3);
    assert_eq!(breaker.config().recovery_timeout, Duration::from_secs(30));

    let policy = registry().retry_policy("cfg-all").unwrap();
    assert_eq!(policy.max_attempts, 5);
    assert_eq!(policy.backoff, Backoff::Fixed(Duration::from_millis(250)));

    let budget = retry_budget("cfg-all").config();
    assert_eq!((budget.capacity, budget.refill_per_second), (7, 0.5));

    let features = degradation().snapshot();
    let feature = features.feature("cfg-all.export").unwrap();
    assert_eq!(feature.failure_threshold, 9);

    let services = recovery().snapshot();
    let service = services.service("cfg-all").unwrap();
    assert_eq!(
        (service.config.degrade_after, service.config.fail_after),
        (2, 4)
    );
    assert_eq!(service.config.ramp.steps, [50, 100]);

    assert_eq!(monitor().config().burst_threshold, 42);
    // Untouched fields keep their defaults.
    assert_eq!(
        monitor().config().frequency_threshold,
        MonitorConfig::default().frequency_threshold
    );
}

#[test]
fn an_invalid_file_changes_nothing_and_says_where() {
    let _serial = serial();
    let file = TempFile::new(
        "invalid",
        r#"[retry.cfg-invalid]
max_attempts = 9

[budget.cfg-invalid]
capacity = 3

[breaker.cfg-invalid]
failure_threshold = 0
"#,
    );
    let err = config::load(&file.0).unwrap_err();
    assert_eq!(err.origin(), file.0.display().to_string());
    assert_eq!(err.line(), Some(8));
    assert_eq!(err.key(), Some("breaker.cfg-invalid.failure_threshold"));
    assert_eq!(err.value(), Some("0"));
    assert_eq!(
        err.to_string(),
        format!(
            "{}:8: breaker.cfg-invalid.failure_threshold = 0: {}",
            file.0.display(),
            err.message()
        )
    );
    // The valid tables beside the bad one were not applied either.
    assert_eq!(registry().retry_policy("cfg-invalid"), None);
    assert!(resilience::retry_budgets()
        .iter()
        .all(|b| b.name.as_deref() != Some("cfg-invalid")));
    assert!(registry().breaker("cfg-invalid").is_none());
}

#[test]
fn every_kind_of_mistake_is_an_error_with_its_line_and_key() {
    let cases: &[(&str, usize, Option<&str>, &str)] = &[
        ("[breaker.a]\nfailure_threshold = 3\n[chaos_monkey.a]\n", 3, Some("chaos_monkey"), "unknown table"),
        ("[breaker.a]\nrecovery_timeout = \"30s\"\nfailure_treshold = 3\n", 3, Some("breaker.a.failure_treshold"), "unknown field"),
        ("[breaker.a]\nfailure_threshold = \"three\"\n", 2, Some("breaker.a.failure_threshold"), "invalid type"),
        ("[breaker.a]\nrecovery_timeout = \"soon\"\n", 2, Some("breaker.a.recovery_timeout"), "invalid duration"),
        ("[retry.a]\nbackoff = { exponential = { base = \"1s\", factor = 0.5, max = \"5s\" } }\n", 2, Some("retry.a.backoff.exponential.factor"), "at least 1.0"),
        ("[recovery.a]\n\n\nramp = { steps = [50, 40, 100] }\n", 4, Some("recovery.a.ramp.steps"), ""),
        ("[monitor]\ncascade_similarity = 1.5\n", 2, Some("monitor.cascade_similarity"), ""),
        ("[feature.x]\nfailure_threshold = -1\n", 2, Some("feature.x.failure_threshold"), ""),
        ("breaker = 3\n", 1, Some("breaker"), "must be a table of names"),
        ("[breaker]\nkanban = 3\n", 2, Some("breaker.kanban"), "must be a table of fields"),
        ("[breaker.a\nfailure_threshold = 3\n", 1, None, ""),
        // The missing field: where its table's name was written.
        ("[breaker.a]\nwindow = \"10s\"\n", 1, Some("breaker.a.max_failures_per_window"), "must be set"),
        ("[breaker.a]\nparent = \"b\"\n[breaker.b]\nparent = \"a\"\n", 2, Some("breaker.a.parent"), "its own ancestor"),
        ("[breaker.a]\nfailure_rate = 50\nrate_window = \"60s\"\nwindow_size = 20\n", 4, Some("breaker.a.window_size"), "rate_window"),
        ("[breaker.a]\nfailure_rate = 50\nrate_window = \"100ms\"\n", 3, Some("breaker.a.rate_window"), "between 1s and 1day"),
        ("[breaker.a]\nrecovery_factor = 0.5\n", 2, Some("breaker.a.recovery_factor"), "at least 1"),
        ("[breaker.a]\nrecovery_timeout = \"10s\"\nrecovery_factor = 2\nmax_recovery_timeout = \"5s\"\n", 4, Some("breaker.a.max_recovery_timeout"), "at least `recovery_timeout`"),
        ("[bulkhead.a]\nmax_concurent = 3\n", 2, Some("bulkhead.a.max_concurent"), "unknown field"),
        ("[bulkhead.a]\nmax_wait = \"soon\"\n", 2, Some("bulkhead.a.max_wait"), "invalid duration"),
        ("[rate_limit.a]\nlimit = 5\nburst = 0\n", 3, Some("rate_limit.a.burst"), "at least 1"),
        ("[rate_limit.a]\nrate = 5\n", 2, Some("rate_limit.a.rate"), "unknown field"),
        ("[rate_limit.a]\nscope = \"region\"\n", 2, Some("rate_limit.a.scope"), "unknown variant"),
        ("[rate_limit.a]\nscope = \"cluster\"\nmax_delay = \"10ms\"\n", 3, Some("rate_limit.a.max_delay"), "scope = cluster"),
        ("[rate_limit.a]\nexpected_instances = 0\n", 2, Some("rate_limit.a.expected_instances"), "at least 1"),
    ];
    for (text, line, key, message) in cases {
        let err = Config::parse(text).unwrap_err();
        assert_eq!(err.line(), Some(*line), "{text:?}: {err}");
        assert_eq!(err.key(), *key, "{text:?}: {err}");
        assert!(err.message().contains(message), "{text:?}: {err}");
        assert_eq!(err.origin(), "<string>");
    }
}

#[test]
fn the_environment_wins_over_the_file() {
    let _serial = serial();
    let file = TempFile::new(
        "env",
        "[breaker.\"cfg-env.boards\"]\nfailure_threshold = 7\nrecovery_timeout = \"45s\"\n",
    );
    std::env::set_var(
        "RESILIENCE__BREAKER__CFG_ENV_BOARDS__FAILURE_THRESHOLD",
        "2",
    );
    std::env::set_var("RESILIENCE__RETRY__CFG_ENV_ONLY__MAX_ATTEMPTS", "6");
    let result = config::load(&file.0);
    std::env::remove_var("RESILIENCE__BREAKER__CFG_ENV_BOARDS__FAILURE_THRESHOLD");
    std::env::remove_var("RESILIENCE__RETRY__CFG_ENV_ONLY__MAX_ATTEMPTS");
    result.unwrap();
    let breaker = registry()
        .register("cfg-env.boards", BreakerConfig::default())
        .unwrap();
    assert_eq!(breaker.config().failure_threshold, 2); // the variable's
    assert_eq!(breaker.config().recovery_timeout, Duration::from_secs(45)); // the file's
                                                                            // A name the file does not have is taken in lower case.
    assert_eq!(
        registry()
            .retry_policy("cfg_env_only")
            .unwrap()
            .max_attempts,
        6
    );

    // An invalid variable is refused by name, and nothing is applied.
    std::env::set_var(
        "RESILIENCE__BREAKER__CFG_ENV_BOARDS__FAILURE_THRESHOLD",
        "0",
    );
    let result = config::load(&file.0);
    std::env::remove_var("RESILIENCE__BREAKER__CFG_ENV_BOARDS__FAILURE_THRESHOLD");
    let err = result.unwrap_err();
    assert_eq!(
        err.origin(),
        "RESILIENCE__BREAKER__CFG_ENV_BOARDS__FAILURE_THRESHOLD"
    );
    assert_eq!(
        err.key(),
        Some("breaker.\"cfg-env.boards\".failure_threshold")
    );
    assert_eq!(err.value(), Some("0"));
    assert_eq!(breaker.config().failure_threshold, 2);
}

#[test]
fn environment_names_match_as_documented() {
    let base = Config::parse(
        "[breaker.\"kanban.boards\"]\n[breaker.\"kanban-cards\"]\n[retry.a]\n[monitor]\n",
    )
    .unwrap();
    let vars = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let config = base
        .clone()
        .with_env(vars(&[
            ("RESILIENCE__BREAKER__KANBAN_BOARDS__FAILURE_THRESHOLD", "3"),
            ("RESILIENCE__breaker__Kanban_Cards__recovery_timeout", "90s"),
            ("RESILIENCE__RETRY__A__BACKOFF", "{ fixed = \"1s\" }"),
            ("RESILIENCE__RETRY__A__JITTER", "none"),
            ("RESILIENCE__MONITOR__BURST_THRESHOLD", "11"),
            ("OTHER__BREAKER__X__Y", "ignored"),
        ]))
        .unwrap();
    let breaker = |name| config.get::<BreakerConfig>("breaker", name).unwrap();
    assert_eq!(breaker("kanban.boards").failure_threshold, 3);
    assert_eq!(
        breaker("kanban-cards").recovery_timeout,
        Duration::from_secs(90)
    );
    let retry = config.get::<RetryConfig>("retry", "a").unwrap();
    assert_eq!(retry.backoff, Backoff::Fixed(Duration::from_secs(1)));
    assert_eq!(retry.jitter, resilience::Jitter::None);
    assert_eq!(
        config
            .get::<MonitorConfig>("monitor", "")
            .unwrap()
            .burst_threshold,
        11
    );
    assert_eq!(config.len(), 4);

    for (var, value, message) in [
        (
            "RESILIENCE__BREAKER__KANBAN_BOARDS__FAILURE_TRESHOLD",
            "3",
            "unknown field",
        ),
        (
            "RESILIENCE__BREAKR__A__FAILURE_THRESHOLD",
            "3",
            "unknown table",
        ),
        (
            "RESILIENCE__BREAKER__A",
            "3",
            "RESILIENCE__BREAKER__<NAME>__<FIELD>",
        ),
        ("RESILIENCE__BREAKER____FAILURE_THRESHOLD", "3", "empty"),
        ("RESILIENCE__RETRY__A__MAX_ATTEMPTS", "many", "invalid type"),
    ] {
        let err = base.clone().with_env(vars(&[(var, value)])).unwrap_err();
        assert_eq!(err.origin(), var);
        assert!(err.message().contains(message), "{var}: {err}");
    }
    // Two names that one variable could mean.
    let both = Config::parse("[breaker.\"a.b\"]\n[breaker.a-b]\n").unwrap();
    let err = both
        .with_env(vars(&[(
            "RESILIENCE__BREAKER__A_B__FAILURE_THRESHOLD",
            "3",
        )]))
        .unwrap_err();
    assert!(err.message().contains("matches both"), "{err}");
}

/// Every event of the `resilience::config` target, from any thread.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
    /// The collector of this binary, installed as the global subscriber at first use.
    fn global() -> Warnings {
        static GLOBAL: std::sync::OnceLock<Warnings> = std::sync::OnceLock::new();
        GLOBAL
            .get_or_init(|| {
                let warnings = Warnings::default();
                tracing::subscriber::set_global_default(
                    tracing_subscriber::registry().with(warnings.clone()),
                )
                .expect("the only global subscriber of this binary");
                warnings
            })
            .clone()
    }

    /// The warnings whose text contains `part`.
    fn containing(&self, part: &str) -> Vec<String> {
        let seen = self.0.lock().unwrap();
        seen.iter().filter(|w| w.contains(part)).cloned().collect()
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Warnings {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        struct Text(String);
        impl Visit for Text {
            fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
                self.0.push_str(&format!("{}={value:?} ", field.name()));
            }
        }
        let meta = event.metadata();
        if meta.target() == "resilience::config" && *meta.level() == tracing::Level::WARN {
            let mut text = Text(String::new());
            event.record(&mut text);
            self.0.lock().unwrap().push(text.0);
        }
    }
}

#[test]
fn watch_applies_a_rewrite_and_keeps_the_last_good_one() {
    let _serial = serial();
    let warnings = Warnings::global();

    let file = TempFile::new("watch", "[breaker.cfg-watch]\nfailure_threshold = 3\n");
    let watcher = config::watch_every(&file.0, Duration::from_millis(10)).unwrap();
    assert_eq!(breaker_threshold("cfg-watch"), 3);
    assert_eq!(watcher.reloads(), 1);

    file.write("[breaker.cfg-watch]\nfailure_threshold = 4\n");
    eventually("the rewrite applied", || {
        breaker_threshold("cfg-watch") == 4
    });
    assert_eq!(watcher.reloads(), 2);
    assert_eq!(watcher.last_error(), None);

    // A bad rewrite: a valid table beside an invalid one. Neither applies.
    file.write("[retry.cfg-watch]\nmax_attempts = 8\n[breaker.cfg-watch]\nfailure_threshold = 0\n");
    eventually("the bad rewrite refused", || watcher.last_error().is_some());
    let err = watcher.last_error().unwrap();
    assert_eq!(
        (err.line(), err.key()),
        (Some(4), Some("breaker.cfg-watch.failure_threshold"))
    );
    assert_eq!(breaker_threshold("cfg-watch"), 4);
    assert_eq!(registry().retry_policy("cfg-watch"), None);
    assert_eq!(watcher.reloads(), 2);
    let seen = warnings.0.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|w| w.contains("breaker.cfg-watch.failure_threshold = 0")),
        "{seen:?}"
    );

    // Fixed again: applied, and the error cleared.
    file.write("[breaker.cfg-watch]\nfailure_threshold = 5\n");
    eventually("the fix applied", || breaker_threshold("cfg-watch") == 5);
    assert_eq!(watcher.last_error(), None);

    // Dropped: its thread is joined, and later rewrites are not applied.
    drop(watcher);
    file.write("[breaker.cfg-watch]\nfailure_threshold = 6\n");
    std::thread::sleep(Duration::from_millis(100)); // ten of its intervals
    assert_eq!(breaker_threshold("cfg-watch"), 5);
}

#[test]
fn deleting_the_watched_file_is_a_warning_and_recreating_it_resumes() {
    let _serial = serial();
    let warnings = Warnings::global();
    let file = TempFile::new(
        "watch-delete",
        "[breaker.cfg-watch-delete]\nfailure_threshold = 3\n",
    );
    let path = file.0.display().to_string();
    let watcher = config::watch_every(&file.0, Duration::from_millis(10)).unwrap();
    assert_eq!(breaker_threshold("cfg-watch-delete"), 3);

    std::fs::remove_file(&file.0).unwrap();
    eventually("the deletion reported", || watcher.last_error().is_some());
    let err = watcher.last_error().unwrap();
    assert_eq!(err.origin(), path);
    assert!(
        err.message().contains("gone (deleted or moved away)"),
        "{err}"
    );
    assert!(
        warnings
            .containing("the watched configuration file is gone")
            .iter()
            .any(|w| w.contains(&path)),
        "{:?}",
        warnings.containing("")
    );
    // The last good configuration stays; one WARN however long it is gone.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(breaker_threshold("cfg-watch-delete"), 3);
    let gone = |w: &String| w.contains(&path) && w.contains("is gone");
    assert_eq!(
        warnings.containing("").iter().filter(|w| gone(w)).count(),
        1
    );

    // Back as it was: nothing to apply, and nothing wrong any more.
    file.write("[breaker.cfg-watch-delete]\nfailure_threshold = 3\n");
    eventually("the file back", || watcher.last_error().is_none());
    assert_eq!(watcher.reloads(), 1);

    // Gone again, then back with a change: applied.
    std::fs::remove_file(&file.0).unwrap();
    eventually("the second deletion reported", || {
        watcher.last_error().is_some()
    });
    file.write("[breaker.cfg-watch-delete]\nfailure_threshold = 4\n");
    eventually("the new file applied", || {
        breaker_threshold("cfg-watch-delete") == 4
    });
    assert_eq!(watcher.last_error(), None);
    assert_eq!(watcher.reloads(), 2);

    // A directory in its place cannot be read: said, and the configuration stays.
    std::fs::remove_file(&file.0).unwrap();
    std::fs::create_dir(&file.0).unwrap();
    eventually("the directory refused", || {
        watcher
            .last_error()
            .is_some_and(|e| e.message().contains("is a directory"))
    });
    std::fs::remove_dir(&file.0).unwrap();
    assert_eq!(breaker_threshold("cfg-watch-delete"), 4);
}

#[test]
fn names_with_control_characters_are_refused_in_the_file_and_the_environment() {
    for (text, key) in [
        (
            "[breaker.\"kanban\\u0000boards\"]\nfailure_threshold = 3\n",
            "breaker.\"kanban\\0boards\"",
        ),
        (
            "[rate_limit.\"forged\\nline\"]\nlimit = 3\n",
            "rate_limit.\"forged\\nline\"",
        ),
        (
            "[bulkhead.\"esc\\u001b[31m\"]\nmax_concurrent = 3\n",
            "bulkhead.\"esc\\u{1b}[31m\"",
        ),
    ] {
        let err = Config::parse(text).unwrap_err();
        assert_eq!((err.line(), err.key()), (Some(1), Some(key)), "{err}");
        assert!(err.message().contains("control character"), "{err}");
        assert!(!err.to_string().chars().any(char::is_control), "{err:?}");
    }
    let var = "RESILIENCE__BREAKER__KANBAN\u{1}BOARDS__FAILURE_THRESHOLD".to_owned();
    let err = Config::parse("")
        .unwrap()
        .with_env([(var, "3".to_owned())])
        .unwrap_err();
    assert!(err.message().contains("control character"), "{err}");
    assert!(!err.to_string().chars().any(char::is_control), "{err:?}");
}

#[test]
fn load_refuses_what_is_not_a_regular_file_at_once() {
    let started = Instant::now();
    let err = config::load("/dev/zero").unwrap_err();
    assert!(err.message().contains("not a regular file"), "{err}");
    assert_eq!(err.origin(), "/dev/zero");
    let err = config::watch(std::env::temp_dir()).unwrap_err();
    assert!(err.message().contains("is a directory"), "{err}");
    // Bounded however slow the machine: before, `load("/dev/zero")` never returned.
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn watch_refuses_an_invalid_first_file() {
    let _serial = serial();
    let file = TempFile::new(
        "watch-first",
        "[breaker.cfg-watch-first]\nfailure_threshold = 0\n",
    );
    let err = config::watch(&file.0).unwrap_err();
    assert_eq!(err.line(), Some(2));
    let missing = std::env::temp_dir().join("resilience-config-no-such-file.toml");
    assert!(config::watch(&missing)
        .unwrap_err()
        .message()
        .contains("cannot read"));
}

#[test]
fn the_effective_configuration_round_trips_through_toml() {
    let _serial = serial();
    let file = TempFile::new(
        "effective",
        r#"
[breaker.cfg-effective]
failure_threshold = 4
window = "10s"
max_failures_per_window = 6
failure_rate = 50.0
rate_window = "30s"
recovery_factor = 2.0
max_recovery_timeout = "5m"

[retry."cfg-effective::fetch"]
max_attempts = 4
backoff = { exponential = { base = "100ms", factor = 3.0, max = "2s" } }
jitter = { spread = 0.25 }
max_elapsed = "1m 30s"
budget = "cfg-effective"

[budget.cfg-effective]
capacity = 12

[feature.cfg-effective]
failure_threshold = 2

[recovery.cfg-effective]
recover_after = 5
"#,
    );
    let loaded = config::load(&file.0).unwrap();
    let now = config::effective();
    for (table, name) in loaded.names() {
        assert!(
            now.names().any(|n| n == (table, name)),
            "{table}.{name} missing"
        );
    }
    let text = now.to_toml().unwrap();
    let back = Config::parse(&text).unwrap();
    assert_eq!(back, now, "{text}");
    // Every value as the file said, the fields it left out at their defaults.
    assert_eq!(
        back.get::<BreakerConfig>("breaker", "cfg-effective"),
        loaded.get::<BreakerConfig>("breaker", "cfg-effective")
    );
    assert_eq!(
        back.get::<RetryConfig>("retry", "cfg-effective::fetch"),
        loaded.get::<RetryConfig>("retry", "cfg-effective::fetch")
    );
    assert_eq!(
        back.get::<BudgetConfig>("budget", "cfg-effective")
            .unwrap()
            .capacity,
        12
    );
    assert_eq!(
        back.get::<FeatureConfig>("feature", "cfg-effective"),
        Some(&FeatureConfig {
            failure_threshold: 2
        })
    );
    assert_eq!(
        back.get::<RecoveryConfig>("recovery", "cfg-effective")
            .unwrap()
            .recover_after,
        5
    );

    // Read back from the runtime: a change made in code shows where the file sets
    // nothing; the file's fields stay over it.
    registry()
        .register("cfg-effective", BreakerConfig::default())
        .unwrap();
    registry()
        .configure(
            "cfg-effective",
            BreakerConfig {
                failure_threshold: 11,
                success_threshold: 3,
                ..Default::default()
            },
        )
        .unwrap();
    let now = config::effective();
    let now = now.get::<BreakerConfig>("breaker", "cfg-effective");
    assert_eq!(
        now.map(|c| (c.failure_threshold, c.success_threshold)),
        Some((4, 3))
    );
}

#[derive(Debug, thiserror::Error)]
#[error("down")]
struct Down;

/// No `policy = ".."`: before the file it makes 2 calls, after it as many as the file says.
#[retry(max_attempts = 2, backoff = none, retry_if = always)]
fn by_path(calls: &mut u32, fail: bool) -> Result<u32, Down> {
    *calls += 1;
    if fail {
        Err(Down)
    } else {
        Ok(*calls)
    }
}

fn always(_: &Down) -> bool {
    true
}

#[test]
fn a_retry_without_a_policy_is_found_by_its_function_path() {
    let _serial = serial();
    let mut calls = 0;
    by_path(&mut calls, true).unwrap_err();
    assert_eq!(calls, 2);
    let mut calls = 0;
    assert_eq!(by_path(&mut calls, false).unwrap(), 1);

    let path = concat!(module_path!(), "::by_path");
    Config::parse(&format!(
        "[retry.{path:?}]\nmax_attempts = 4\nbackoff = \"none\"\n"
    ))
    .unwrap()
    .apply()
    .unwrap();
    let mut calls = 0;
    by_path(&mut calls, true).unwrap_err();
    assert_eq!(calls, 4);
    let mut calls = 0;
    assert_eq!(by_path(&mut calls, false).unwrap(), 1);

    // Changed again at run time: the next failing call follows.
    registry()
        .configure_retry(
            path,
            RetryConfig {
                max_attempts: 3,
                backoff: Backoff::None,
                ..Default::default()
            },
        )
        .unwrap();
    let mut calls = 0;
    by_path(&mut calls, true).unwrap_err();
    assert_eq!(calls, 3);
}

#[test]
fn a_parent_that_would_make_a_cycle_with_a_live_breaker_is_refused_before_anything_applies() {
    registry()
        .register(
            "cfg-cycle.child",
            BreakerConfig {
                parent: Some("cfg-cycle".into()),
                ..Default::default()
            },
        )
        .unwrap();
    let err = Config::parse(
        "[retry.cfg-cycle]\nmax_attempts = 2\n[breaker.cfg-cycle]\nparent = \"cfg-cycle.child\"\n",
    )
    .unwrap_err();
    assert_eq!(err.key(), Some("breaker.cfg-cycle.parent"));
    assert_eq!(err.line(), Some(4));
    assert_eq!(registry().retry_policy("cfg-cycle"), None);
    let _ = BTreeMap::<(), ()>::new();
}

#[test]
fn the_bulkhead_and_rate_limit_tables_are_applied_and_read_back() {
    let _serial = serial();
    let file = TempFile::new(
        "patterns",
        r#"
[bulkhead.cfg-pat]
max_concurrent = 4
max_wait = "100ms"

[rate_limit.cfg-pat]
limit = 500
per = "1m"
burst = 20
"#,
    );
    let loaded = config::load(&file.0).unwrap();
    assert_eq!(loaded.len(), 2);

    let bulkhead = registry().bulkhead("cfg-pat").unwrap().config();
    assert_eq!(
        bulkhead,
        BulkheadConfig {
            max_concurrent: 4,
            max_wait: Duration::from_millis(100),
            ..Default::default()
        }
    );
    let limiter = registry().rate_limiter("cfg-pat").unwrap().config();
    assert_eq!(
        (limiter.limit, limiter.per, limiter.burst),
        (500, Duration::from_secs(60), Some(20))
    );
    assert_eq!(limiter.max_delay, Duration::ZERO); // left out: the default

    // Read back from the runtime, through TOML, to the values of the file.
    let now = config::effective();
    let back = Config::parse(&now.to_toml().unwrap()).unwrap();
    for table in ["bulkhead", "rate_limit"] {
        assert!(back.names().any(|n| n == (table, "cfg-pat")), "{table}");
    }
    assert_eq!(
        back.get::<BulkheadConfig>("bulkhead", "cfg-pat"),
        loaded.get::<BulkheadConfig>("bulkhead", "cfg-pat")
    );
    assert_eq!(
        back.get::<RateLimitConfig>("rate_limit", "cfg-pat"),
        loaded.get::<RateLimitConfig>("rate_limit", "cfg-pat")
    );

    // A change made in code shows in `effective` where the file sets nothing; the
    // file's fields stay over it.
    registry()
        .configure_bulkhead(
            "cfg-pat",
            BulkheadConfig {
                max_concurrent: 9,
                max_keys: 7,
                ..Default::default()
            },
        )
        .unwrap();
    let now = config::effective();
    assert_eq!(
        now.get::<BulkheadConfig>("bulkhead", "cfg-pat")
            .map(|b| (b.max_concurrent, b.max_keys)),
        Some((4, 7))
    );
}

#[test]
fn an_invalid_pattern_table_is_refused_with_file_line_key_and_value() {
    let _serial = serial();
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[rate_limit.cfg-bad-pat]\nlimit = 5\n\n[bulkhead.cfg-bad-pat]\nmax_concurrent = 0\n",
            5,
            "bulkhead.cfg-bad-pat.max_concurrent",
            "0",
        ),
        (
            "[bulkhead.cfg-bad-pat]\n\n[rate_limit.cfg-bad-pat]\nlimit = 5\nper = \"0s\"\n",
            5,
            "rate_limit.cfg-bad-pat.per",
            "\"0s\"",
        ),
    ];
    for (text, line, key, value) in cases {
        let file = TempFile::new("bad-pattern", text);
        let err = config::load(&file.0).unwrap_err();
        assert_eq!(err.origin(), file.0.display().to_string(), "{text}");
        assert_eq!(err.line(), Some(*line), "{text}: {err}");
        assert_eq!(err.key(), Some(*key), "{text}: {err}");
        assert_eq!(err.value(), Some(*value), "{text}: {err}");
        // Nothing of the file was applied.
        assert!(registry().bulkhead("cfg-bad-pat").is_none(), "{text}");
        assert!(registry().rate_limiter("cfg-bad-pat").is_none(), "{text}");
    }
}

#[test]
fn a_rate_limit_table_takes_the_cluster_scope() {
    let _serial = serial();
    let file = TempFile::new(
        "rate-scope",
        r#"
[rate_limit.cfg-rate-scope]
limit = 500
per = "1m"
scope = "cluster"
expected_instances = 3
"#,
    );
    let loaded = config::load(&file.0).unwrap();
    let limiter = registry().rate_limiter("cfg-rate-scope").unwrap().config();
    assert_eq!(
        (limiter.scope, limiter.expected_instances),
        (resilience::Scope::Cluster, 3)
    );
    let now = config::effective();
    let back = Config::parse(&now.to_toml().unwrap()).unwrap();
    assert_eq!(
        back.get::<RateLimitConfig>("rate_limit", "cfg-rate-scope"),
        loaded.get::<RateLimitConfig>("rate_limit", "cfg-rate-scope")
    );
}

#[test]
fn the_environment_overrides_a_rate_limit() {
    let _serial = serial();
    let file = TempFile::new(
        "env-rate",
        "[rate_limit.cfg-env-rate]\nlimit = 50\nper = \"10s\"\n",
    );
    std::env::set_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__LIMIT", "7");
    std::env::set_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__MAX_DELAY", "250ms");
    let result = config::load(&file.0);
    std::env::remove_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__LIMIT");
    std::env::remove_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__MAX_DELAY");
    result.unwrap();
    let limiter = registry().rate_limiter("cfg-env-rate").unwrap().config();
    assert_eq!(limiter.limit, 7); // the variable's
    assert_eq!(limiter.max_delay, Duration::from_millis(250)); // the variable's
    assert_eq!(limiter.per, Duration::from_secs(10)); // the file's

    std::env::set_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__LIMIT", "0");
    let result = config::load(&file.0);
    std::env::remove_var("RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__LIMIT");
    let err = result.unwrap_err();
    assert_eq!(err.origin(), "RESILIENCE__RATE_LIMIT__CFG_ENV_RATE__LIMIT");
    assert_eq!(err.key(), Some("rate_limit.cfg-env-rate.limit"));
    assert_eq!(err.value(), Some("0"));
    assert_eq!(
        registry()
            .rate_limiter("cfg-env-rate")
            .unwrap()
            .config()
            .limit,
        7
    );
}

/// Without the `chaos` feature, no file or environment variable can switch a fault on:
/// a `[chaos.NAME]` table is an error naming the feature, at its line, and nothing of the
/// file is applied.
#[cfg(not(feature = "chaos"))]
#[test]
fn a_chaos_table_without_the_feature_is_an_error_naming_it() {
    let _serial = serial();
    let file = TempFile::new(
        "chaos-off",
        "[retry.cfg-chaos-off]\nmax_attempts = 4\n\n[chaos.cfg-chaos-off]\nrefusal_rate = 0.5\n",
    );
    let err = config::load(&file.0).unwrap_err();
    assert_eq!(err.line(), Some(5), "{err}");
    assert_eq!(err.key(), Some("chaos.cfg-chaos-off.refusal_rate"), "{err}");
    assert!(err.message().contains("cargo feature `chaos`"), "{err}");
    assert_eq!(registry().retry_policy("cfg-chaos-off"), None);

    let err = Config::parse("")
        .unwrap()
        .with_env([(
            "RESILIENCE__CHAOS__CFG_CHAOS_OFF__ERROR_RATE".to_owned(),
            "1.0".to_owned(),
        )])
        .unwrap_err();
    assert_eq!(
        err.origin(),
        "RESILIENCE__CHAOS__CFG_CHAOS_OFF__ERROR_RATE",
        "{err}"
    );
    assert!(err.message().contains("cargo feature `chaos`"), "{err}");
}

#[cfg(feature = "redis")]
#[test]
fn the_cluster_table_is_validated_and_kept_not_connected() {
    use resilience::config::ClusterSettings;
    let _serial = serial();
    let file = TempFile::new(
        "cluster",
        "[cluster]\nurl = \"redis://127.0.0.1:1/0\"\nop_timeout = \"20ms\"\ninstance = \"api-1\"\n",
    );
    std::env::set_var("RESILIENCE__CLUSTER__HEARTBEAT", "100ms");
    let result = config::load(&file.0);
    std::env::remove_var("RESILIENCE__CLUSTER__HEARTBEAT");
    let loaded = result.unwrap();
    let cluster = loaded.cluster().unwrap();
    assert_eq!(cluster.url, "redis://127.0.0.1:1/0");
    let c = cluster.cluster_config();
    assert_eq!(c.op_timeout, Duration::from_millis(20));
    assert_eq!(c.heartbeat, Duration::from_millis(100)); // the variable's
    assert_eq!(c.instance_ttl, Duration::from_secs(1)); // the default
    assert_eq!(c.instance.as_deref(), Some("api-1"));
    // `load` does not connect (it cannot: connecting is async).
    assert!(!resilience::cluster::is_connected());
    // Kept as loaded, and written back the same.
    let now = config::effective();
    assert_eq!(now.cluster(), Some(cluster));
    assert_eq!(
        Config::parse(&now.to_toml().unwrap()).unwrap().cluster(),
        Some(cluster)
    );

    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[cluster]\nurl = \"http://127.0.0.1\"\n",
            2,
            "cluster.url",
            "\"http://127.0.0.1\"",
        ),
        (
            "[cluster]\nurl = \"redis://127.0.0.1\"\nop_timeout = \"2s\"\n",
            3,
            "cluster.op_timeout",
            "\"2s\"",
        ),
        (
            "[cluster]\nurl = \"redis://127.0.0.1\"\nheartbeat = \"1s\"\n",
            1,
            "cluster.instance_ttl",
            "1s",
        ),
        (
            "[cluster]\nurl = \"redis://127.0.0.1\"\ninstance = \"a b\"\n",
            3,
            "cluster.instance",
            "\"a b\"",
        ),
        (
            "[cluster]\nurl = \"redis://127.0.0.1\"\nhost = \"x\"\n",
            3,
            "cluster.host",
            "",
        ),
        ("[cluster]\nop_timeout = \"20ms\"\n", 1, "cluster.url", ""),
    ];
    for (text, line, key, value) in cases {
        let file = TempFile::new("cluster-bad", text);
        let err = config::load(&file.0).unwrap_err();
        assert_eq!(err.origin(), file.0.display().to_string());
        assert_eq!(err.line(), Some(*line), "{text}: {err}");
        assert_eq!(err.key(), Some(*key), "{text}: {err}");
        if !value.is_empty() {
            assert_eq!(err.value(), Some(*value), "{text}: {err}");
        }
    }
    // What a program does next, in its runtime: an unreachable Redis is an `Err`.
    let unreachable = ClusterSettings {
        url: "redis://127.0.0.1:1".into(),
        ..Default::default()
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt.block_on(unreachable.connect()).unwrap_err();
    assert!(
        matches!(err, resilience::cluster::ClusterError::Unreachable { .. }),
        "{err}"
    );
}

#[test]
fn the_sample_file_parses_with_one_block_of_each_pattern_table() {
    let sample = include_str!("../../examples/resilience.toml");
    let config = Config::parse(sample).unwrap();
    for (table, name) in [("bulkhead", "db"), ("rate_limit", "api")] {
        assert!(config.names().any(|n| n == (table, name)), "{table}.{name}");
    }
    assert_eq!(
        config
            .get::<RateLimitConfig>("rate_limit", "api")
            .map(|r| r.per),
        Some(Duration::from_secs(60))
    );
    // The commented `[cluster]` block is valid once uncommented (feature `redis`).
    #[cfg(feature = "redis")]
    {
        let uncommented = sample
            .replace("# [cluster]", "[cluster]")
            .replace("# url", "url")
            .replace("# op_timeout", "op_timeout");
        let config = Config::parse(&uncommented).unwrap();
        assert_eq!(config.cluster().unwrap().url, "redis://127.0.0.1:6379");
    }
}

#[test]
fn the_hedge_table_configures_a_hedge_by_name_and_reads_back() {
    let _serial = serial();
    let loaded = Config::parse("[hedge.cfg-hedge]\ndelay = \"30ms\"\nmax_hedges = 2\n").unwrap();
    loaded.apply().unwrap();
    // Made after the table: the table's values win over the code's.
    let hedge = registry()
        .register_hedge("cfg-hedge", resilience::HedgeConfig::default())
        .unwrap();
    assert_eq!(
        hedge.config(),
        resilience::HedgeConfig {
            delay: Duration::from_millis(30),
            max_hedges: 2
        }
    );
    let back = Config::parse(&config::effective().to_toml().unwrap()).unwrap();
    assert_eq!(
        back.get::<resilience::HedgeConfig>("hedge", "cfg-hedge"),
        loaded.get::<resilience::HedgeConfig>("hedge", "cfg-hedge")
    );
    let err = Config::parse("[hedge.cfg-hedge]\n\nmax_hedges = 0\n").unwrap_err();
    assert_eq!(
        (err.line(), err.key()),
        (Some(3), Some("hedge.cfg-hedge.max_hedges"))
    );
}
