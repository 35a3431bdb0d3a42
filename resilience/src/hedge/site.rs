//! The contract with `#[hedge]`'s generated code. Not a public API.
//!
//! The generated code makes the body a closure returning a fresh `async` block, in the
//! function's own body, and hands it to [`hedge`] with the call site's static
//! [`HedgeSite`]; the runner decides when each run starts and which answer returns.

use std::sync::{Arc, OnceLock};

use super::{Hedge, HedgeConfig};

pub use super::runner::hedge;

/// One call site's hedge, found once.
///
/// ```
/// use resilience::__private::HedgeSite;
/// use resilience::HedgeConfig;
///
/// static SITE: HedgeSite = HedgeSite::new("docs.hedge_site", "docs::search", || HedgeConfig {
///     max_hedges: 2,
///     ..Default::default()
/// });
/// assert_eq!(SITE.hedge().config().max_hedges, 2);
/// assert!(std::ptr::eq(SITE.hedge(), SITE.hedge()));
/// assert!(resilience::registry().hedge("docs.hedge_site").is_some());
/// ```
pub struct HedgeSite {
    name: &'static str,
    function: &'static str,
    init: fn() -> HedgeConfig,
    hedge: OnceLock<Arc<Hedge>>,
}

impl HedgeSite {
    /// A site of the hedge `name` on `function`, whose attribute values `init` returns.
    pub const fn new(
        name: &'static str,
        function: &'static str,
        init: fn() -> HedgeConfig,
    ) -> HedgeSite {
        HedgeSite {
            name,
            function,
            init,
            hedge: OnceLock::new(),
        }
    }

    /// The hedge's name.
    ///
    /// ```
    /// static SITE: resilience::__private::HedgeSite =
    ///     resilience::__private::HedgeSite::new("h", "f", Default::default);
    /// assert_eq!((SITE.name(), SITE.function()), ("h", "f"));
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The decorated function's path.
    pub fn function(&self) -> &'static str {
        self.function
    }

    /// The hedge, registered in the global registry on first use (one atomic load
    /// afterwards). A configuration given to the registry wins over `init`'s values; an
    /// invalid `init` (only a `Duration` expression can make one: the macro checks
    /// literals) is logged with `tracing::error!` and replaced by the defaults.
    #[inline]
    pub fn hedge(&'static self) -> &'static Hedge {
        match self.hedge.get() {
            Some(hedge) => hedge,
            None => self.register(),
        }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> &'static Hedge {
        self.hedge.get_or_init(|| {
            let mut config = (self.init)();
            if let Err(error) = config.validate() {
                tracing::error!(
                    target: super::events::TARGET,
                    name = self.name,
                    %error,
                    "invalid #[hedge] configuration; using the defaults"
                );
                config = HedgeConfig::default();
            }
            crate::registry()
                .register_hedge(self.name, config)
                .unwrap_or_else(|_| {
                    // Unreachable: the configuration was validated above. A hedge of
                    // its own still keeps the call going.
                    Arc::new(Hedge::fallback(self.name))
                })
        })
    }
}
