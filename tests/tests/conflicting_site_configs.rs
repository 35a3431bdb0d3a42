//! Issue 16, item 8: two call sites naming one breaker with different keys get a WARN,
//! once, naming both sites and the configuration kept (the first site registered's). (Its own test binary: a tracing
//! callsite first hit with no subscriber would stay silent for the rest of the process.)

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, PoisonError};

use resilience::{circuit_breaker, registry, CircuitOpen};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<BTreeMap<String, String>>>>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        if event.metadata().target() == "resilience::breaker"
            && *event.metadata().level() == tracing::Level::WARN
        {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(fields.0);
        }
    }
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

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
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    tracing::subscriber::with_default(subscriber, || {
        assert_eq!(boards().unwrap(), 1);
        assert_eq!(lanes().unwrap(), 3); // same keys: no warning
        assert_eq!(cards().unwrap(), 2);
        assert_eq!(cards().unwrap(), 2);
    });
    let warnings = capture.0.lock().unwrap().clone();
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
