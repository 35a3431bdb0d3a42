//! The call sites: the `static` each attribute puts in the decorated function, and the
//! calls its generated code makes on it (named in [`crate::__private`]).
//!
//! A site sits above everything it ties together: it finds or registers its pattern's
//! instance in its registry on first use (one generic [`site::Site`] for every pattern the
//! registry keeps), reads the configuration in force, runs
//! the pattern's algorithm, records in the monitor and reports its events. So the
//! patterns (`breaker/`, `retry/`, ...) and the registry never depend on a site: the
//! layers are pattern, registry, site, `__private`.

pub(crate) mod adaptive_limit;
pub(crate) mod breaker;
pub(crate) mod bulkhead;
#[cfg(feature = "chaos")]
pub(crate) mod chaos;
pub(crate) mod cluster_rate_limit;
pub(crate) mod error_context;
pub(crate) mod fallback;
#[cfg(any(feature = "tower", feature = "reqwest"))]
pub(crate) mod faults;
pub(crate) mod feature;
pub(crate) mod hedge;
pub(crate) mod rate_limit;
mod registry;
pub(crate) mod retry;
pub(crate) mod site;
pub(crate) mod timeout;
