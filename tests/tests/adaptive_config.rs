//! `[adaptive_limit.NAME]` in a configuration file (feature `config`): applied to the
//! limit of that name, before or after its first use, and refused as a whole, naming the
//! line and the key, when a value is invalid.
//! `cargo test -p resilience-tests --features config --test adaptive_config`.

use std::time::Duration;

use resilience::adaptive_limit::Algorithm;
use resilience::{config, registry, AdaptiveLimitConfig};
use resilience_tests::temp_file::TempFile;

#[test]
fn a_table_configures_the_limit_of_its_name_and_a_bad_value_applies_nothing() {
    let live = registry()
        .register_adaptive_limit("cfg.adaptive.live", AdaptiveLimitConfig::default())
        .unwrap();
    let file = TempFile::new(
        "good",
        r#"
[adaptive_limit."cfg.adaptive.live"]
algorithm = "vegas"
min_limit = 4
max_limit = 40
initial_limit = 10
max_wait = "50ms"

[adaptive_limit."cfg.adaptive.later"]
algorithm = "aimd"
backoff_ratio = 0.5
"#,
    );
    config::load(&file.0).unwrap();
    let c = live.config();
    assert_eq!(
        (c.algorithm, c.min_limit, c.max_limit),
        (Algorithm::Vegas, 4, 40)
    );
    assert_eq!(c.max_wait, Duration::from_millis(50));
    assert!((4..=40).contains(&live.limit()));
    let later = registry()
        .adaptive_limit("cfg.adaptive.later")
        .expect("made by the file");
    assert_eq!(
        (later.config().algorithm, later.config().backoff_ratio),
        (Algorithm::Aimd, 0.5)
    );

    let bad = TempFile::new(
        "bad",
        "[adaptive_limit.\"cfg.adaptive.live\"]\nmin_limit = 50\nmax_limit = 10\n",
    );
    let err = config::load(&bad.0).unwrap_err().to_string();
    assert!(err.contains("min_limit"), "{err}");
    assert_eq!(live.config().min_limit, 4, "nothing applied");
}
