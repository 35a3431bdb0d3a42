//! Issue 16, item 8: two call sites naming one breaker with different keys get a WARN,
//! once, naming both sites and the configuration kept (the first site registered's). (Its own test binary: a tracing
//! callsite first hit with no subscriber would stay silent for the rest of the process.)

use resilience::{circuit_breaker, registry, CircuitOpen};
use resilience_tests::capture::Capture;

#[derive(Debug)]
struct Down;

impl From<CircuitOpen> for Down {
    fn from(_: CircuitOpen) -> Self {
        Down
    }
}

#[circuit_breaker(name = "fixes.shared", failure_threshold = 3)]
fn boards() -> Result<u32, Down> {
    Ok(1)
}

#[circuit_breaker(name = "fixes.shared", failure_threshold = 9)]
fn cards() -> Result<u32, Down> {
    Ok(2)
}

#[circuit_breaker(name = "fixes.shared", failure_threshold = 3)]
fn lanes() -> Result<u32, Down> {
    Ok(3)
}

#[test]
fn two_sites_configuring_one_breaker_differently_warn_once() {
    let capture = Capture::new();
    tracing::subscriber::with_default(capture.subscriber(), || {
        assert_eq!(boards().unwrap(), 1);
        assert_eq!(lanes().unwrap(), 3); // same keys: no warning
        assert_eq!(cards().unwrap(), 2);
        assert_eq!(cards().unwrap(), 2);
    });
    let warnings: Vec<_> = (capture.of("resilience::breaker").into_iter())
        .filter(|e| e.level == tracing::Level::WARN)
        .map(|e| e.fields)
        .collect();
    let about: Vec<_> = warnings
        .iter()
        .filter(|w| w.get("name").map(String::as_str) == Some("fixes.shared"))
        .collect();
    assert_eq!(about.len(), 1, "{warnings:#?}");
    let w = about[0];
    // Every site is registered at the start (link-time registration), in the order the
    // linker lists them: the first registered keeps its configuration, whichever it is.
    // The WARN names the one site that differs from it and that first site.
    let threshold_of = |site: &str| if site.ends_with("::cards") { 9 } else { 3 };
    let (site, first) = (w["site"].as_str(), w["first_site"].as_str());
    assert!(
        [site, first].contains(&"conflicting_site_configs::cards"),
        "the site with the other configuration is named: {w:?}"
    );
    assert_ne!(threshold_of(site), threshold_of(first), "{w:?}");
    let kept = registry()
        .breaker("fixes.shared")
        .unwrap()
        .config()
        .failure_threshold;
    assert_eq!(
        kept,
        threshold_of(first),
        "the first site's configuration stays"
    );
    assert!(
        w["kept"].contains(&format!("failure_threshold: {kept}")),
        "{w:?}"
    );
    assert!(
        w["ignored"].contains(&format!("failure_threshold: {}", threshold_of(site))),
        "{w:?}"
    );
}
