//! Issue 16, item 6: as the reference's `execute_if_enabled`, an enabled feature whose
//! call fails answers with its fallback, and the failure still counts toward disabling it.

use std::sync::atomic::{AtomicU32, Ordering};

use resilience::{degradation, feature_switch};

#[derive(Debug, thiserror::Error)]
#[error("ranking service down")]
struct Down;

static RUNS: AtomicU32 = AtomicU32::new(0);

#[feature_switch("fixes.ranking")]
fn ranking(fail: bool) -> Result<Vec<u32>, Down> {
    RUNS.fetch_add(1, Ordering::SeqCst);
    if fail {
        Err(Down)
    } else {
        Ok(vec![3, 1, 2])
    }
}

#[feature_switch("fixes.no_fallback")]
fn without_fallback() -> Result<u32, Down> {
    Err(Down)
}

#[test]
fn an_enabled_features_failure_answers_its_fallback_and_counts() {
    let switches = degradation();
    switches.register("fixes.ranking", vec![0_u32]);
    assert_eq!(ranking(false).unwrap(), vec![3, 1, 2]);
    assert_eq!(
        ranking(true).unwrap(),
        vec![0],
        "the fallback answers a failure"
    );
    assert!(switches.is_enabled("fixes.ranking"));
    assert_eq!(ranking(true).unwrap(), vec![0]);
    assert_eq!(ranking(true).unwrap(), vec![0]);
    assert!(
        !switches.is_enabled("fixes.ranking"),
        "three failures in a row still disable it"
    );
    let runs = RUNS.load(Ordering::SeqCst);
    assert_eq!(ranking(false).unwrap(), vec![0]);
    assert_eq!(
        RUNS.load(Ordering::SeqCst),
        runs,
        "disabled: the body did not run"
    );
}

#[test]
fn without_a_fallback_the_error_is_returned() {
    assert!(without_fallback().is_err());
}
