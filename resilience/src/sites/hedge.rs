//! The contract with `#[hedge]`'s generated code. Not a public API.
//!
//! The generated code makes the body a closure returning a fresh `async` block, in the
//! function's own body, and hands it to [`hedge`] with the call site's static
//! [`HedgeSite`]; the runner decides when each run starts and which answer returns.

use crate::sites::registry::SiteRegistry;
use std::sync::{Arc, OnceLock};

use core::future::Future;

use crate::hedge::events::{Caller, Via};
use crate::hedge::runner;
use crate::hedge::{Hedge, HedgeConfig};
use crate::monitor::observe::Observe;
use crate::view::View;

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
    /// The decorated function's path, and the front end, for the events.
    caller: Caller,
    init: fn() -> HedgeConfig,
    hedge: OnceLock<Arc<Hedge>>,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
    /// The faults named as the hedge, drawn at the start of each run (feature `chaos`).
    #[cfg(feature = "chaos")]
    chaos: crate::sites::chaos::ChaosSite,
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
            caller: Caller {
                function,
                via: Via::Attribute,
            },
            init,
            registry: SiteRegistry::GLOBAL,
            hedge: OnceLock::new(),
            #[cfg(feature = "chaos")]
            chaos: crate::sites::chaos::ChaosSite::function(name),
        }
    }

    /// The gate of each run (faults named as the hedge, drawn where the run starts).
    ///
    /// ```
    /// use resilience::__private::HedgeSite;
    /// static SITE: HedgeSite = HedgeSite::new("docs.hedge_site.chaos", "docs::f", Default::default);
    /// assert_eq!(SITE.chaos().name(), "docs.hedge_site.chaos");
    /// ```
    #[cfg(feature = "chaos")]
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static crate::sites::chaos::ChaosSite {
        &self.chaos
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
        self.caller.function
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

    /// Registers the hedge before its first call: the site's line in the sites known
    /// from the program's start (`known!(SITE.declare)`), so `health()`, a `[hedge.NAME]`
    /// table and a `RESILIENCE__HEDGE__…` variable find it by name.
    ///
    /// ```
    /// use resilience::__private::HedgeSite;
    /// static SITE: HedgeSite = HedgeSite::new("docs.hedge_site.declare", "docs::f", Default::default);
    /// SITE.declare();
    /// assert!(resilience::registry().hedge("docs.hedge_site.declare").is_some());
    /// ```
    #[cold]
    pub fn declare(&'static self) {
        self.hedge();
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> &'static Hedge {
        self.hedge.get_or_init(|| {
            let config = crate::config_error::valid_fields(
                (self.init)(),
                HedgeConfig::validate,
                "#[hedge]",
                self.name,
            );
            self.registry
                .get()
                .register_hedge(self.name, config)
                .unwrap_or_else(|_| {
                    // Unreachable: the configuration was validated above. A hedge of
                    // its own still keeps the call going.
                    Arc::new(Hedge::fallback(self.name))
                })
        })
    }
}

/// Runs `run()` as `#[hedge]` says: another `run()` starts beside the first when no
/// answer came within the hedge's `delay` (then again after each further `delay`), up
/// to `max_hedges` extra runs; a run that fails with a retryable error starts the next at
/// once; the first `Ok` is returned and the other runs are dropped; a run that fails with
/// an error that is not retryable ends the call with that error (the others dropped);
/// when every run has failed, the last error is returned.
///
/// `run` comes before `view`: closures are type-checked in argument order, and `view`'s
/// method resolution (autoref specialization) needs the error type, which `run` fixes.
///
/// Retryable is decided as `#[retry]` decides without `retry_if`: through `view`, a
/// [`MarcusError`](crate::MarcusError) by its `retryable()`. Each run's error is recorded
/// in the monitor first when `observe` names the function.
///
/// ```
/// use resilience::__private::{hedge, HedgeSite, Observe, View};
/// use resilience::HedgeConfig;
/// use std::time::Duration;
///
/// static SITE: HedgeSite = HedgeSite::new("docs.runner", "docs::fetch", || HedgeConfig {
///     delay: Duration::from_millis(10),
///     max_hedges: 1,
/// });
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let runs = std::sync::atomic::AtomicU32::new(0);
/// let body = || async {
///     let run = runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
///     if run == 1 {
///         tokio::time::sleep(Duration::from_secs(1)).await; // the slow first run
///     }
///     Ok(run)
/// };
/// let answer: Result<u32, String> = hedge(&SITE, Observe::Skip, body, |_| View::Opaque("String")).await;
/// assert_eq!(answer, Ok(2)); // the hedge, started after 10 ms, answered first
/// # }
/// ```
pub fn hedge<T, E, Fut, F, V>(
    site: &'static HedgeSite,
    observe: Observe,
    run: F,
    view: V,
) -> impl Future<Output = Result<T, E>>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Result<T, E>>,
    V: for<'a> Fn(&'a mut E) -> View<'a>,
{
    let first = run();
    runner::race(site.hedge(), site.caller, observe, first, run, view)
}

impl HedgeSite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::HedgeSite;
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: HedgeSite = HedgeSite::new("docs.hedge.registry", "docs::f", Default::default)
    ///     .in_registry(|| &REG);
    /// SITE.hedge();
    /// assert!(REG.hedge("docs.hedge.registry").is_some());
    /// assert!(resilience::registry().hedge("docs.hedge.registry").is_none());
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        #[cfg(feature = "chaos")]
        {
            self.chaos.registry = self.registry;
        }
        self
    }
}
