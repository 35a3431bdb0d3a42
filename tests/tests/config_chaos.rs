//! The `[chaos.NAME]` table of `resilience::config` (features `config` and `chaos`): read,
//! validated, applied to the global registry's fault table, read back, refused where a
//! site cannot take a fault (`cargo test -p resilience-tests --features config,chaos
//! --test config_chaos`).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use resilience::chaos::{chaos, Fault, FaultConfig, FaultKind};
use resilience::config::{self, Config};
use resilience_tests::temp_file::TempFile;

/// A load reads every `RESILIENCE__…` variable and the fault table is global: one at a time.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[test]
fn a_mistake_in_a_chaos_table_is_an_error_with_its_line_and_key() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "[chaos.a]\nlatency_rate = 0.5\n",
            1,
            "chaos.a.latency",
            "more than zero",
        ),
        (
            "[chaos.a]\nerror_rte = 0.5\n",
            2,
            "chaos.a.error_rte",
            "unknown field",
        ),
        (
            "[chaos.a]\n\nrefusal_rate = 2.0\n",
            3,
            "chaos.a.refusal_rate",
            "from 0.0 to 1.0",
        ),
    ];
    for (text, line, key, message) in cases {
        let err = Config::parse(text).unwrap_err();
        assert_eq!(err.line(), Some(*line), "{text:?}: {err}");
        assert_eq!(err.key(), Some(*key), "{text:?}: {err}");
        assert!(err.message().contains(message), "{text:?}: {err}");
    }
}

#[test]
fn the_chaos_table_is_applied_and_read_back_and_a_new_one_replaces_the_faults() {
    let _serial = serial();
    let file = TempFile::new(
        "applied",
        "[chaos.cfg-chaos]\nerror_rate = 0.25\nlatency_rate = 0.5\nlatency = \"200ms\"\n",
    );
    let loaded = config::load(&file.0).unwrap();
    let snapshot = chaos().snapshot();
    let mut faults: Vec<(FaultKind, f64)> = snapshot
        .faults
        .iter()
        .filter(|f| f.site == "cfg-chaos")
        .map(|f| (f.fault, f.rate))
        .collect();
    faults.sort_by_key(|f| format!("{:?}", f.0));
    assert_eq!(
        faults,
        [
            (FaultKind::Error, 0.25),
            (FaultKind::Latency(Duration::from_millis(200)), 0.5)
        ]
    );

    // Read back from the runtime, through TOML, to the values of the file.
    let back = Config::parse(&config::effective().to_toml().unwrap()).unwrap();
    assert_eq!(
        back.get::<FaultConfig>("chaos", "cfg-chaos"),
        loaded.get::<FaultConfig>("chaos", "cfg-chaos")
    );

    // A new table replaces the site's faults.
    Config::parse("[chaos.cfg-chaos]\nrefusal_rate = 1.0\n")
        .unwrap()
        .apply()
        .unwrap();
    assert_eq!(
        config::effective().get::<FaultConfig>("chaos", "cfg-chaos"),
        Some(&FaultConfig {
            refusal_rate: 1.0,
            ..Default::default()
        })
    );
    chaos().clear("cfg-chaos");
}

#[test]
fn an_invalid_chaos_table_is_refused_and_nothing_of_the_file_is_applied() {
    let _serial = serial();
    let file = TempFile::new(
        "invalid",
        "[bulkhead.cfg-chaos-bad]\n[chaos.cfg-chaos-bad]\nerror_rate = 1.5\n",
    );
    let err = config::load(&file.0).unwrap_err();
    assert_eq!(err.origin(), file.0.display().to_string());
    assert_eq!(err.line(), Some(3), "{err}");
    assert_eq!(err.key(), Some("chaos.cfg-chaos-bad.error_rate"), "{err}");
    assert_eq!(err.value(), Some("1.5"), "{err}");
    assert!(resilience::registry().bulkhead("cfg-chaos-bad").is_none());
    assert!(chaos()
        .snapshot()
        .faults
        .iter()
        .all(|f| f.site != "cfg-chaos-bad"));
}

#[test]
fn an_environment_variable_sets_a_fault() {
    let _serial = serial();
    let config = Config::parse("[chaos.cfg-chaos-env]\nerror_rate = 0.1\n")
        .unwrap()
        .with_env([(
            "RESILIENCE__CHAOS__CFG_CHAOS_ENV__ERROR_RATE".to_owned(),
            "0.75".to_owned(),
        )])
        .unwrap();
    config.apply().unwrap();
    let snapshot = chaos().snapshot();
    let fault = snapshot
        .faults
        .iter()
        .find(|f| f.site == "cfg-chaos-env")
        .expect("the fault");
    assert_eq!((fault.fault, fault.rate), (FaultKind::Error, 0.75));
    chaos().clear("cfg-chaos-env");
}

/// Its error type has no `From<InjectedFault>`: an error fault cannot be set on it.
#[resilience::error_context("cfg plain")]
fn cfg_plain() -> Result<(), String> {
    Ok(())
}

#[test]
fn a_chaos_table_a_known_site_cannot_take_is_refused_at_apply() {
    let _serial = serial();
    let name = concat!(module_path!(), "::cfg_plain");
    // Make the site known: it runs once while a fault is set.
    chaos()
        .inject(name, Fault::latency(1.0, Duration::from_millis(1)))
        .unwrap();
    cfg_plain().unwrap();
    assert!(chaos().snapshot().sites.iter().any(|s| s.name == name));

    let text =
        format!("[chaos.\"{name}\"]\nlatency_rate = 0.5\nlatency = \"1ms\"\nerror_rate = 0.5\n");
    let err = Config::parse(&text).unwrap().apply().unwrap_err();
    assert_eq!(err.line(), Some(4), "{err}");
    assert_eq!(
        err.key(),
        Some(format!("chaos.\"{name}\".error_rate").as_str())
    );
    assert_eq!(err.value(), Some("0.5"));
    assert!(
        err.message().contains("From<resilience::InjectedFault>"),
        "{err}"
    );
    // The site's faults are as they were.
    let snapshot = chaos().snapshot();
    let faults: Vec<_> = snapshot.faults.iter().filter(|f| f.site == name).collect();
    assert_eq!(faults.len(), 1);
    assert_eq!(faults[0].rate, 1.0);
    chaos().clear(name);
}
