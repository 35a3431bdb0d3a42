//! The serde snapshot of the fault table, part of `registry().health()`.

use serde::Serialize;

use super::FaultKind;

/// The faults set and the sites seen, as one serde value (the `chaos` field of
/// [`RegistryHealth`](crate::RegistryHealth)).
///
/// ```
/// use resilience::chaos::{chaos, Fault};
/// chaos().inject("docs.snap", Fault::error(0.5))?;
/// let snap = chaos().snapshot();
/// assert!(snap.armed);
/// let json = serde_json::to_value(&snap).unwrap();
/// assert!(json["faults"].as_array().unwrap().iter().any(|f| f["site"] == "docs.snap" && f["fault"] == "error"));
/// chaos().clear("docs.snap");
/// # Ok::<(), resilience::chaos::ChaosError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ChaosSnapshot {
    /// Whether any fault is set.
    pub armed: bool,
    /// The seed the faults draw from.
    pub seed: u64,
    /// Every fault set, by site name then kind.
    pub faults: Vec<FaultSnapshot>,
    /// Every site that ran while a fault was set.
    pub sites: Vec<SiteSnapshot>,
}

/// One fault set.
///
/// ```
/// use resilience::chaos::{chaos, Fault, FaultKind};
/// chaos().inject("docs.fault.snap", Fault::refusal(0.5))?;
/// let snap = chaos().snapshot();
/// let f = snap.faults.iter().find(|f| f.site == "docs.fault.snap").unwrap();
/// assert_eq!((f.fault, f.rate, f.calls, f.injected), (FaultKind::Refusal, 0.5, 0, 0));
/// chaos().clear("docs.fault.snap");
/// # Ok::<(), resilience::chaos::ChaosError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct FaultSnapshot {
    /// The site's name.
    pub site: String,
    /// What it does (`"error"`, `{"latency": "200ms"}`, `"refusal"`).
    pub fault: FaultKind,
    /// The share of calls it hits.
    pub rate: f64,
    /// Calls it was drawn for.
    pub calls: u64,
    /// Calls it hit.
    pub injected: u64,
    /// Why its site refused it, if it did (it then injects nothing).
    pub refused: Option<String>,
}

/// One site that ran while a fault was set.
///
/// ```
/// let s = resilience::chaos::chaos().snapshot();
/// assert!(s.sites.iter().all(|site| !site.name.is_empty()));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct SiteSnapshot {
    /// Its name: a breaker's, or a function's `module::path::name`.
    pub name: String,
    /// Whether its error type has `From<InjectedFault>`.
    pub takes_error: bool,
    /// Whether it can refuse calls (a breaker).
    pub refuses: bool,
}
