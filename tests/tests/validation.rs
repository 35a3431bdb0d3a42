//! Validation refuses what cannot work, with an `Err` naming the field and the value:
//! names that are empty or hold control characters, durations no pattern can keep, an
//! unbounded history.

use std::time::Duration;

use resilience::monitor::{Monitor, MonitorConfig};
use resilience::rate_limit::RateLimiter;
use resilience::registry::Registry;
use resilience::{
    BreakerConfig, BulkheadConfig, ConfigError, HedgeConfig, RateLimitConfig, RetryConfig,
};

fn field_and_value(result: Result<impl Sized, ConfigError>) -> (String, String) {
    let err = result.err().expect("refused");
    (err.field().to_owned(), err.value().to_owned())
}

#[test]
fn a_rate_limit_over_ten_years_is_refused_not_admitting_everything() {
    // Passed before, and then admitted 10 calls of 10.
    let config = RateLimitConfig {
        limit: 1,
        per: Duration::from_nanos(u64::MAX),
        ..Default::default()
    };
    let err = config.validate().unwrap_err();
    assert_eq!(err.field(), "per");
    assert!(err.reason().contains("3650 days"), "{err}");
    assert!(RateLimiter::new("validation.per", config).is_err());
    // A burst the limiter could not keep either.
    let err = RateLimitConfig {
        limit: 1,
        per: Duration::from_secs(86_400 * 365),
        burst: Some(20),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!((err.field(), err.value()), ("burst", "20"));
    let err = RateLimitConfig {
        max_delay: Duration::from_secs(86_400 * 4_000),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.field(), "max_delay");
}

#[test]
fn a_recovery_timeout_no_breaker_can_keep_is_refused() {
    // Accepted before and silently capped at 34.8 years.
    let timeout = Duration::from_secs(999_999_999_999 * 3_600);
    let err = BreakerConfig {
        recovery_timeout: timeout,
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.field(), "recovery_timeout");
    assert!(err.reason().contains("3650 days"), "{err}");
    let reg = Registry::new();
    let refused = reg.configure(
        "validation.timeout",
        BreakerConfig {
            recovery_timeout: timeout,
            ..Default::default()
        },
    );
    assert_eq!(field_and_value(refused).0, "recovery_timeout");
    // Ten years is the bound, for the bulkhead's wait as for the breaker.
    assert!(BreakerConfig {
        recovery_timeout: Duration::from_secs(3_650 * 86_400),
        ..Default::default()
    }
    .validate()
    .is_ok());
    let err = BulkheadConfig {
        max_wait: Duration::from_secs(3_651 * 86_400),
        ..Default::default()
    }
    .validate()
    .unwrap_err();
    assert_eq!(err.field(), "max_wait");
}

#[test]
fn every_configure_refuses_an_empty_name_or_a_control_character() {
    let reg = Registry::new();
    let names = [
        ("", "\"\""),
        ("   ", "\"   \""),
        ("kanban\0boards", "\"kanban\\0boards\""),
        ("kanban\nboards", "\"kanban\\nboards\""),
        ("red\u{1b}[31m", "\"red\\u{1b}[31m\""),
    ];
    for (name, shown) in names {
        let results = [
            field_and_value(reg.configure(name, BreakerConfig::default())),
            field_and_value(reg.register(name, BreakerConfig::default())),
            field_and_value(reg.configure_bulkhead(name, BulkheadConfig::default())),
            field_and_value(reg.configure_rate_limit(name, RateLimitConfig::default())),
            field_and_value(reg.configure_retry(name, RetryConfig::default())),
            field_and_value(reg.configure_hedge(name, HedgeConfig::default())),
        ];
        for result in results {
            assert_eq!(result, ("name".to_owned(), shown.to_owned()), "{name:?}");
        }
    }
    // Nothing was made or kept for any of them.
    assert!(reg.breakers().is_empty());
    assert!(reg.bulkhead("").is_none());
    assert!(reg.rate_limiter("").is_none());
    // A name that is fine stays fine.
    assert!(reg
        .configure("kanban.boards", BreakerConfig::default())
        .is_ok());
}

#[test]
fn the_monitor_s_history_is_bounded() {
    let config = MonitorConfig {
        history_capacity: usize::MAX,
        ..Default::default()
    };
    let err = config.clone().validate().unwrap_err();
    assert_eq!(err.field(), "history_capacity");
    assert!(Monitor::new(config.clone()).is_err());
    assert!(Monitor::default().configure(config).is_err());
    assert!(MonitorConfig {
        history_capacity: resilience::monitor::MAX_HISTORY,
        ..Default::default()
    }
    .validate()
    .is_ok());
}
