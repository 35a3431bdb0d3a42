//! Issue 16, item 1: a method's default name carries its `Self` type, so two types'
//! methods of one name in one module get a breaker each, and events, metrics and monitor
//! records name the method by its type.

use std::marker::PhantomData;

use resilience::{
    circuit_breaker, monitor, registry, retry, BreakerState, CircuitOpen, MarcusError,
};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum FetchError {
    #[error("upstream failed")]
    Failed,
    #[error(transparent)]
    #[marcus(transparent)]
    Open(#[from] CircuitOpen),
}

trait Source {
    fn fetch(&self, fail: bool) -> Result<u32, FetchError>;
}

struct Payments;
struct Inventory;

impl Source for Payments {
    #[circuit_breaker(failure_threshold = 2)]
    fn fetch(&self, fail: bool) -> Result<u32, FetchError> {
        if fail {
            Err(FetchError::Failed)
        } else {
            Ok(1)
        }
    }
}

impl Source for Inventory {
    #[circuit_breaker(failure_threshold = 2)]
    fn fetch(&self, fail: bool) -> Result<u32, FetchError> {
        if fail {
            Err(FetchError::Failed)
        } else {
            Ok(2)
        }
    }
}

#[test]
fn two_types_methods_of_one_name_have_a_breaker_each() {
    assert!(Payments.fetch(true).is_err());
    assert!(Payments.fetch(true).is_err());
    assert!(matches!(Payments.fetch(false), Err(FetchError::Open(_))));
    assert_eq!(
        Inventory.fetch(false).unwrap(),
        2,
        "Inventory's breaker is its own"
    );
    let reg = registry();
    assert_eq!(
        reg.breaker("method_names::Payments::fetch")
            .map(|b| b.state()),
        Some(BreakerState::Open)
    );
    assert_eq!(
        reg.breaker("method_names::Inventory::fetch")
            .map(|b| b.state()),
        Some(BreakerState::Closed)
    );
    assert!(
        reg.breaker("method_names::fetch").is_none(),
        "no shared breaker"
    );
}

struct Repo<T>(PhantomData<T>);

impl<T> Repo<T> {
    /// A generic `Self`: every instantiation shares the site, named without generics.
    #[circuit_breaker(failure_threshold = 10)]
    fn load(&self) -> Result<u32, FetchError> {
        Ok(3)
    }

    /// An associated function whose signature names `Self` is a method too.
    #[circuit_breaker(failure_threshold = 10)]
    fn create() -> Result<Self, FetchError> {
        Ok(Repo(PhantomData))
    }

    /// `name = "..."` still wins.
    #[circuit_breaker(name = "fixes.repo.named", failure_threshold = 10)]
    fn named(&self) -> Result<u32, FetchError> {
        Ok(4)
    }
}

#[test]
fn a_generic_self_is_named_without_its_arguments() {
    let repo = Repo::<String>::create().unwrap();
    assert_eq!(repo.load().unwrap(), 3);
    assert_eq!(Repo::<u8>(PhantomData).load().unwrap(), 3);
    assert_eq!(repo.named().unwrap(), 4);
    let names: Vec<String> = registry().breakers().into_iter().map(|b| b.name).collect();
    assert!(
        names.iter().any(|n| n == "method_names::Repo::load"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "method_names::Repo::create"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "fixes.repo.named"), "{names:?}");
    assert!(!names.iter().any(|n| n.contains("Repo<")), "{names:?}");
}

struct Ledger;

impl Ledger {
    #[retry(max_attempts = 2, backoff = none)]
    fn post(&self) -> Result<(), FetchError> {
        Err(FetchError::Failed)
    }
}

#[test]
fn a_methods_monitor_record_names_its_type() {
    assert!(Ledger.post().is_err());
    let operations: Vec<String> = monitor()
        .history()
        .into_iter()
        .filter_map(|r| r.operation.map(|o| o.into_owned()))
        .collect();
    assert!(
        operations.iter().any(|o| o == "method_names::Ledger::post"),
        "{operations:?}"
    );
}
