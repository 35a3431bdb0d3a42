//! Configuration layered field by field, environment over file over code, and every
//! attribute's instance known from the program's start (API.md section 10).
//!
//! Its own binary: it reads the global registry before any call, and sets
//! `RESILIENCE__…` variables. Every test holds `SERIAL` (a load reads every variable)
//! and uses names of its own.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use resilience::{adaptive_limit, bulkhead, circuit_breaker, config, hedge, rate_limit, registry};
use resilience::{BreakerSnapshot, BulkheadFull, CircuitOpen, Overloaded, RateLimited, Scope};
use resilience_tests::temp_file::{eventually, TempFile};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug, thiserror::Error)]
enum Down {
    #[error("down")]
    Failed,
    #[error(transparent)]
    Open(#[from] CircuitOpen),
    #[error(transparent)]
    Full(#[from] BulkheadFull),
    #[error(transparent)]
    Limited(#[from] RateLimited),
    #[error(transparent)]
    Overloaded(#[from] Overloaded),
}

// The code's configuration of each instance: its attribute's keys.

#[circuit_breaker(name = "layers.load", failure_threshold = 5, recovery_timeout = 2s)]
fn by_load() -> Result<(), Down> {
    Err(Down::Failed)
}

#[circuit_breaker(name = "layers.watch", failure_threshold = 5, recovery_timeout = 2s)]
fn by_watch() -> Result<(), Down> {
    Err(Down::Failed)
}

#[rate_limit(name = "fleet.orders", limit = 10, per = 1s, scope = cluster)]
async fn fleet_orders() -> Result<(), Down> {
    Ok(())
}

#[circuit_breaker(name = "inventory.stock", failure_threshold = 5, recovery_timeout = 2s)]
fn inventory_stock() -> Result<(), Down> {
    Err(Down::Failed)
}

#[circuit_breaker(name = "never.called", failure_threshold = 7, recovery_timeout = 3s)]
fn never_called_breaker() -> Result<(), Down> {
    Ok(())
}

#[bulkhead(name = "never.called.bulkhead", max_concurrent = 3)]
fn never_called_bulkhead() -> Result<(), Down> {
    Ok(())
}

#[bulkhead(key = tenant, max_concurrent = 4)]
fn keyed_never_called(tenant: &str) -> Result<(), Down> {
    let _ = tenant;
    Ok(())
}

#[hedge(name = "never.called.hedge", delay = 30ms, max_hedges = 2)]
async fn never_called_hedge() -> Result<(), Down> {
    Ok(())
}

#[adaptive_limit(name = "never.called.adaptive", initial_limit = 6, max_limit = 40)]
fn never_called_adaptive() -> Result<(), Down> {
    Ok(())
}

#[hedge(name = "gw.fanout", delay = 30ms, max_hedges = 1)]
async fn gw_fanout() -> Result<(), Down> {
    Ok(())
}

#[adaptive_limit(name = "gw.search", initial_limit = 6, max_limit = 40)]
fn gw_search() -> Result<(), Down> {
    Ok(())
}

/// The breaker `name`'s (failure_threshold, recovery_timeout) in force.
fn breaker(name: &str) -> (u32, Duration) {
    let b = registry().breaker(name).expect("known from the start");
    let c = b.config();
    (c.failure_threshold, c.recovery_timeout)
}

#[test]
fn a_partial_table_keeps_the_codes_other_fields_and_removing_it_restores_them_with_load() {
    let _serial = serial();
    // Before any call, the code's values: the attribute's.
    assert_eq!(breaker("layers.load"), (5, Duration::from_secs(2)));
    let limit = registry().rate_limit_config("fleet.orders").unwrap();
    assert_eq!((limit.limit, limit.scope), (10, Scope::Cluster));

    let file = TempFile::new(
        "load",
        "[breaker.\"layers.load\"]\nfailure_threshold = 3\nrecovery_timeout = \"9s\"\n\n\
         [rate_limit.\"fleet.orders\"]\nlimit = 30\n",
    );
    config::load(&file.0).unwrap();
    assert_eq!(breaker("layers.load"), (3, Duration::from_secs(9)));
    let limit = registry().rate_limit_config("fleet.orders").unwrap();
    assert_eq!((limit.limit, limit.scope), (30, Scope::Cluster));

    // A field removed: back to the code's value; the others stay.
    file.write("[breaker.\"layers.load\"]\nfailure_threshold = 3\n\n[rate_limit.\"fleet.orders\"]\nlimit = 30\n");
    config::load(&file.0).unwrap();
    assert_eq!(breaker("layers.load"), (3, Duration::from_secs(2)));

    // The code changing under the file's field: the field still wins, the rest follows.
    by_load().unwrap_err(); // the first call changes nothing
    assert_eq!(breaker("layers.load"), (3, Duration::from_secs(2)));

    // The tables removed: the code's values, all of them.
    file.write("");
    config::load(&file.0).unwrap();
    assert_eq!(breaker("layers.load"), (5, Duration::from_secs(2)));
    let limit = registry().rate_limit_config("fleet.orders").unwrap();
    assert_eq!((limit.limit, limit.scope), (10, Scope::Cluster));
    assert!(registry().rate_limiter("fleet.orders").is_some());
    let _ = fleet_orders; // called nowhere: known all the same
}

#[test]
fn a_partial_table_keeps_the_codes_other_fields_and_removing_it_restores_them_with_watch() {
    let _serial = serial();
    assert_eq!(breaker("layers.watch"), (5, Duration::from_secs(2)));
    let file = TempFile::new(
        "watch",
        "[breaker.\"layers.watch\"]\nfailure_threshold = 3\n",
    );
    let watcher = config::watch_every(&file.0, Duration::from_millis(10)).unwrap();
    assert_eq!(breaker("layers.watch"), (3, Duration::from_secs(2)));

    file.write("[breaker.\"layers.watch\"]\nrecovery_timeout = \"7s\"\n");
    eventually("the threshold back to the code's", || {
        breaker("layers.watch") == (5, Duration::from_secs(7))
    });
    by_watch().unwrap_err();

    file.write("# nothing\n");
    eventually("the table removed", || {
        breaker("layers.watch") == (5, Duration::from_secs(2))
    });
    assert_eq!(watcher.last_error(), None);
}

#[test]
fn an_environment_override_reaches_an_attributes_breaker_before_its_first_call() {
    let _serial = serial();
    let var = "RESILIENCE__BREAKER__INVENTORY_STOCK__FAILURE_THRESHOLD";
    std::env::set_var(var, "2");
    let file = TempFile::new("env", "");
    let loaded = config::load(&file.0);
    std::env::remove_var(var);
    let loaded = loaded.unwrap();
    assert!(
        loaded.unknown_env().is_empty(),
        "{:?}",
        loaded.unknown_env()
    );
    // The code's other fields stay.
    assert_eq!(breaker("inventory.stock"), (2, Duration::from_secs(2)));
    assert!(
        registry().breaker("inventory_stock").is_none(),
        "no phantom instance"
    );
    let names: Vec<String> = registry().breakers().into_iter().map(|b| b.name).collect();
    assert!(!names.iter().any(|n| n == "inventory_stock"), "{names:?}");
    // Two failures open it: the override, not the attribute's 5.
    inventory_stock().unwrap_err();
    inventory_stock().unwrap_err();
    assert!(matches!(inventory_stock(), Err(Down::Open(_))));
}

#[test]
fn never_called_attribute_instances_are_in_health_with_the_codes_configuration() {
    let health = serde_json::to_value(registry().health()).unwrap();
    let never = health["breakers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "never.called")
        .unwrap_or_else(|| panic!("`never.called` not in health: {health}"));
    assert_eq!(never["state"], "closed");
    assert_eq!(never["config"]["failure_threshold"], 7);
    let never: BreakerSnapshot = registry()
        .breakers()
        .into_iter()
        .find(|b| b.name == "never.called")
        .unwrap();
    assert_eq!(never.config.recovery_timeout, Duration::from_secs(3));
    let bulkhead = health["bulkheads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["name"] == "never.called.bulkhead")
        .unwrap_or_else(|| panic!("`never.called.bulkhead` not in health: {health}"));
    assert_eq!(bulkhead["config"]["max_concurrent"], 3);
    // A keyed site's name is known, with its configuration, before any key.
    let keyed = concat!(module_path!(), "::keyed_never_called");
    assert_eq!(
        registry().bulkhead_config(keyed).map(|c| c.max_concurrent),
        Some(4)
    );
    let _ = (
        never_called_breaker,
        never_called_bulkhead,
        keyed_never_called,
    );
}

#[test]
fn never_called_attribute_hedges_and_adaptive_limits_are_in_health_with_the_codes_configuration() {
    let health = serde_json::to_value(registry().health()).unwrap();
    let find = |list: &str, name: &str| {
        health[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("`{name}` not in health's {list}: {health}"))
    };
    let hedge = find("hedges", "never.called.hedge");
    assert_eq!(hedge["config"]["max_hedges"], 2);
    let delay = registry()
        .hedge("never.called.hedge")
        .unwrap()
        .config()
        .delay;
    assert_eq!(delay, Duration::from_millis(30));
    let adaptive = find("adaptive_limits", "never.called.adaptive");
    assert_eq!(adaptive["limit"], 6);
    assert_eq!(adaptive["config"]["max_limit"], 40);
    let _ = (never_called_hedge, never_called_adaptive);
}

#[test]
fn an_environment_override_reaches_an_attributes_hedge_and_adaptive_limit_before_their_first_call()
{
    let _serial = serial();
    let vars = [
        ("RESILIENCE__HEDGE__GW_FANOUT__MAX_HEDGES", "3"),
        ("RESILIENCE__ADAPTIVE_LIMIT__GW_SEARCH__MAX_LIMIT", "12"),
    ];
    for (var, value) in vars {
        std::env::set_var(var, value);
    }
    let file = TempFile::new("env_hedge_adaptive", "");
    let loaded = config::load(&file.0);
    for (var, _) in vars {
        std::env::remove_var(var);
    }
    let loaded = loaded.unwrap();
    assert!(
        loaded.unknown_env().is_empty(),
        "{:?}",
        loaded.unknown_env()
    );
    // The override, and the code's other fields.
    let hedge = registry().hedge("gw.fanout").unwrap().config();
    assert_eq!(
        (hedge.max_hedges, hedge.delay),
        (3, Duration::from_millis(30))
    );
    let adaptive = registry().adaptive_limit("gw.search").unwrap().config();
    assert_eq!((adaptive.max_limit, adaptive.initial_limit), (12, 6));
    // No phantom named as the variable spells it.
    assert!(registry().hedge("gw_fanout").is_none(), "no phantom hedge");
    assert!(
        registry().adaptive_limit("gw_search").is_none(),
        "no phantom adaptive limit"
    );
    let _ = (gw_fanout, gw_search);
}

#[test]
fn an_environment_variable_naming_nothing_known_is_a_warning_naming_it() {
    let _serial = serial();
    let warnings = Warnings::global();
    let var = "RESILIENCE__BULKHEAD__GW_NOWHERE__MAX_CONCURRENT";
    std::env::set_var(var, "1");
    let file = TempFile::new("unknown", "");
    let loaded = config::load(&file.0);
    std::env::remove_var(var);
    let loaded = loaded.unwrap();
    assert_eq!(loaded.unknown_env(), [var]);
    assert!(loaded.is_empty());
    assert!(
        registry().bulkhead("gw_nowhere").is_none(),
        "no phantom bulkhead"
    );
    let said = warnings.containing(var);
    assert_eq!(said.len(), 1, "{said:?}");
}

#[test]
fn a_variable_naming_no_hedge_or_adaptive_limit_is_a_warning_naming_it() {
    let _serial = serial();
    let warnings = Warnings::global();
    let vars = [
        "RESILIENCE__HEDGE__GW_NOWHERE__MAX_HEDGES",
        "RESILIENCE__ADAPTIVE_LIMIT__GW_NOWHERE__MAX_LIMIT",
    ];
    for var in vars {
        std::env::set_var(var, "2");
    }
    let file = TempFile::new("unknown_hedge_adaptive", "");
    let loaded = config::load(&file.0);
    for var in vars {
        std::env::remove_var(var);
    }
    let loaded = loaded.unwrap();
    let mut unknown = loaded.unknown_env().to_vec();
    unknown.sort();
    assert_eq!(unknown, [vars[1], vars[0]]);
    assert!(loaded.is_empty());
    assert!(registry().hedge("gw_nowhere").is_none(), "no phantom hedge");
    assert!(
        registry().adaptive_limit("gw_nowhere").is_none(),
        "no phantom adaptive limit"
    );
    for var in vars {
        assert_eq!(warnings.containing(var).len(), 1, "{var}");
    }
}

/// Every WARN of the `resilience::config` target, from any thread.
#[derive(Clone, Default)]
struct Warnings(Arc<Mutex<Vec<String>>>);

impl Warnings {
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
