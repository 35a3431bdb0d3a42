//! Any input to `resilience::config` is `Ok` or `Err`: never a panic, and never a partial
//! apply. An `Err` leaves every value of the runtime as it was; an `Ok` puts every value
//! of the file in force. A binary of its own: it applies to the global monitor. Without
//! the `chaos` feature a document with a `[chaos.NAME]` table is always an `Err`.

use proptest::prelude::*;
#[cfg(feature = "chaos")]
use resilience::chaos::{chaos, FaultConfig, FaultKind};
use resilience::config::Config;
use resilience::degradation::FeatureConfig;
use resilience::recovery::RecoveryConfig;
use resilience::retry::BudgetConfig;
use resilience::retry_budgets;
use resilience::{
    degradation, monitor, recovery, registry, retry_budget, BreakerConfig, BulkheadConfig,
    MonitorConfig, RateLimitConfig, RetryConfig,
};

const NAMES: [&str; 2] = ["prop-a", "prop-b"];

/// Fields each table knows, and one it does not.
fn fields(table: &str) -> &'static [&'static str] {
    match table {
        "breaker" => &[
            "failure_threshold",
            "success_threshold",
            "recovery_timeout",
            "half_open_max_calls",
            "failure_rate",
            "minimum_calls",
            "window_size",
            "rate_window",
            "recovery_factor",
            "max_recovery_timeout",
            "bogus",
        ],
        "retry" => &[
            "max_attempts",
            "backoff",
            "jitter",
            "max_elapsed",
            "adaptive",
            "bogus",
        ],
        "budget" => &[
            "capacity",
            "refill_per_second",
            "deposit_per_success",
            "bogus",
        ],
        "feature" => &["failure_threshold", "bogus"],
        "recovery" => &[
            "degrade_after",
            "fail_after",
            "recover_after",
            "ramp",
            "bogus",
        ],
        "bulkhead" => &["max_concurrent", "max_wait", "max_keys", "bogus"],
        "rate_limit" => &[
            "limit",
            "per",
            "burst",
            "max_delay",
            "max_keys",
            "expected_instances",
            "scope",
            "bogus",
        ],
        "chaos" => &[
            "error_rate",
            "latency_rate",
            "latency",
            "refusal_rate",
            "bogus",
        ],
        _ => &[
            "burst_threshold",
            "history_capacity",
            "cascade_similarity",
            "health_window",
            "bogus",
        ],
    }
}

const VALUES: &[&str] = &[
    "0",
    "1",
    "3",
    "-1",
    "100",
    "2000000",
    "0.5",
    "1.5",
    "-1.0",
    "150.0",
    "true",
    "\"30s\"",
    "\"0s\"",
    "\"soon\"",
    "\"none\"",
    "\"full\"",
    "[50, 100]",
    "[100, 50]",
    "{ fixed = \"1s\" }",
    "{ steps = [50, 100] }",
    "{ exponential = { base = \"1s\", factor = 0.5, max = \"2s\" } }",
];

const TABLES: &[&str] = &[
    "breaker",
    "retry",
    "budget",
    "feature",
    "recovery",
    "monitor",
    "bulkhead",
    "rate_limit",
    "chaos",
    "chaos_monkey",
];

/// A document of a few tables, each with a few fields, from the pools above.
fn document() -> impl Strategy<Value = String> {
    let table = (
        0..TABLES.len(),
        0..NAMES.len(),
        prop::collection::vec((0..16usize, 0..VALUES.len()), 0..4),
    );
    prop::collection::vec(table, 0..5).prop_map(|tables| {
        let mut text = String::new();
        let mut seen = std::collections::HashSet::new();
        for (t, n, pairs) in tables {
            let table = TABLES[t];
            let header = if table == "monitor" {
                table.to_owned()
            } else {
                format!("{table}.{}", NAMES[n])
            };
            if !seen.insert(header.clone()) {
                continue; // a table twice is a TOML error of its own, tested elsewhere
            }
            text.push_str(&format!("[{header}]\n"));
            let known = fields(table);
            let mut written = std::collections::HashSet::new();
            for (f, v) in pairs {
                let field = known[f % known.len()];
                if written.insert(field) {
                    text.push_str(&format!("{field} = {}\n", VALUES[v]));
                }
            }
        }
        text
    })
}

/// Everything the documents can change, as text.
fn observe() -> String {
    let mut out = String::new();
    for name in NAMES {
        out.push_str(&format!(
            "{:?}\n",
            registry().breaker(name).map(|b| b.config())
        ));
        out.push_str(&format!("{:?}\n", registry().retry_policy(name)));
        let budget = retry_budgets()
            .into_iter()
            .find(|b| b.name.as_deref() == Some(name));
        out.push_str(&format!(
            "{:?}\n",
            budget.map(|b| (b.capacity, b.refill_per_second, b.deposit_per_success))
        ));
        out.push_str(&format!(
            "{:?}\n",
            degradation()
                .snapshot()
                .feature(name)
                .map(|f| f.failure_threshold)
        ));
        out.push_str(&format!(
            "{:?}\n",
            recovery()
                .snapshot()
                .service(name)
                .map(|s| s.config.clone())
        ));
        out.push_str(&format!(
            "{:?}\n",
            registry().bulkhead(name).map(|b| b.config())
        ));
        out.push_str(&format!(
            "{:?}\n",
            registry().rate_limiter(name).map(|l| l.config())
        ));
        #[cfg(feature = "chaos")]
        out.push_str(&format!("{:?}\n", faults_of(name)));
    }
    out.push_str(&format!("{:?}\n", monitor().config()));
    out
}

/// The faults set on `name`, as a `[chaos.NAME]` table would write them.
#[cfg(feature = "chaos")]
fn faults_of(name: &str) -> FaultConfig {
    let mut config = FaultConfig::default();
    for f in chaos().snapshot().faults.iter().filter(|f| f.site == name) {
        match f.fault {
            FaultKind::Error => config.error_rate = f.rate,
            FaultKind::Latency(d) => (config.latency_rate, config.latency) = (f.rate, d),
            FaultKind::Refusal => config.refusal_rate = f.rate,
        }
    }
    config
}

/// Every value of `config` is in force.
fn in_force(config: &Config) {
    for (table, name) in config.names() {
        match table {
            "breaker" => assert_eq!(
                registry().breaker(name).map(|b| b.config()).as_ref(),
                config.get::<BreakerConfig>(table, name)
            ),
            "retry" => assert_eq!(
                registry().retry_policy(name).as_ref(),
                config.get::<RetryConfig>(table, name)
            ),
            "budget" => assert_eq!(
                Some(&retry_budget(name).config()),
                config.get::<BudgetConfig>(table, name)
            ),
            "feature" => assert_eq!(
                degradation()
                    .snapshot()
                    .feature(name)
                    .map(|f| FeatureConfig {
                        failure_threshold: f.failure_threshold
                    })
                    .as_ref(),
                config.get::<FeatureConfig>(table, name)
            ),
            "recovery" => assert_eq!(
                recovery()
                    .snapshot()
                    .service(name)
                    .map(|s| s.config.clone())
                    .as_ref(),
                config.get::<RecoveryConfig>(table, name)
            ),
            "monitor" => assert_eq!(
                Some(&monitor().config()),
                config.get::<MonitorConfig>(table, name)
            ),
            "bulkhead" => assert_eq!(
                registry().bulkhead_config(name).as_ref(),
                config.get::<BulkheadConfig>(table, name)
            ),
            "rate_limit" => assert_eq!(
                registry().rate_limit_config(name).as_ref(),
                config.get::<RateLimitConfig>(table, name)
            ),
            // A fault of rate 0 is not set, so its latency is not kept either.
            #[cfg(feature = "chaos")]
            "chaos" => assert_eq!(
                Some(faults_of(name)),
                config.get::<FaultConfig>(table, name).map(|c| FaultConfig {
                    latency: if c.latency_rate == 0.0 {
                        std::time::Duration::ZERO
                    } else {
                        c.latency
                    },
                    ..c.clone()
                })
            ),
            other => panic!("unexpected table {other}"),
        }
    }
}

fn setup() {
    // Every name live, so a value applied or not shows in `observe`.
    for name in NAMES {
        registry().register(name, BreakerConfig::default()).unwrap();
        retry_budget(name);
        degradation()
            .configure(name, FeatureConfig::default())
            .unwrap();
        recovery()
            .configure(name, RecoveryConfig::default())
            .unwrap();
        if registry().bulkhead(name).is_none() {
            registry()
                .configure_bulkhead(name, BulkheadConfig::default())
                .unwrap();
        }
        if registry().rate_limiter(name).is_none() {
            registry()
                .configure_rate_limit(name, RateLimitConfig::default())
                .unwrap();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_document_applies_whole_or_not_at_all(text in document()) {
        setup();
        let before = observe();
        match Config::parse(&text).and_then(|c| c.apply().map(|()| c)) {
            Ok(config) => in_force(&config),
            Err(err) => {
                prop_assert_eq!(observe(), before, "{} changed something:\n{}", err, text);
                prop_assert!(!err.message().is_empty());
            }
        }
    }

    #[test]
    fn any_text_is_ok_or_err(text in any::<String>()) {
        let _ = Config::parse(&text).map(|c| c.to_toml());
    }

    #[test]
    fn any_text_of_toml_characters_is_ok_or_err(text in "[\\[\\]a-z._=\"{}0-9 \n,-]{0,80}") {
        if let Ok(config) = Config::parse(&text) {
            // What parses also writes and reads back the same.
            let back = Config::parse(&config.to_toml().unwrap()).unwrap();
            prop_assert_eq!(back, config);
        }
    }
}
