//! Which registry a call site registers in: the global [`registry()`](crate::registry())
//! unless the attribute says `registry = STATIC` (tests pointing attributes at a
//! `Registry::new()`, or a `Registry::with_clock`, of their own).

use crate::registry::Registry;

/// A site's registry: `None` for the global one. Read only when the site first
/// registers (and, for `#[retry]`, when it checks for changed policies).
#[derive(Clone, Copy, Debug)]
pub(crate) struct SiteRegistry(Option<fn() -> &'static Registry>);

impl SiteRegistry {
    /// The global registry.
    pub(crate) const GLOBAL: SiteRegistry = SiteRegistry(None);

    /// The registry `get` returns.
    pub(crate) const fn given(get: fn() -> &'static Registry) -> SiteRegistry {
        SiteRegistry(Some(get))
    }

    /// The registry itself.
    #[inline]
    pub(crate) fn get(self) -> &'static Registry {
        match self.0 {
            None => crate::registry(),
            Some(get) => get(),
        }
    }

    /// Its retry policies (the global ones without a call through `registry()`).
    #[inline]
    pub(crate) fn retry_policies(self) -> &'static crate::retry::policy::RetryPolicies {
        match self.0 {
            None => &crate::retry::policy::GLOBAL,
            Some(get) => get().retry_policies(),
        }
    }
}
