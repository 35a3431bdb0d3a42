//! [`Site`]: the call site of a pattern whose instances live in a registry (a circuit
//! breaker, a bulkhead, a rate limit): the `static` an attribute's generated code holds.
//! Written once for every [`Pattern`]; each pattern's file in `sites/` adds what is its
//! own (the breaker's arms, the rate limit's cluster admission, the refusals chaos
//! injects).
//!
//! Its first call finds or registers the instance (or, with `key = expr`, the name's
//! keyed store) in its registry, the global one unless `in_registry` says; every later
//! call is one atomic load. The attribute's configuration is validated then: an invalid
//! one is reported (`Pattern::refused_config`) and the defaults used; a configuration
//! the registry holds for the name wins over it.

use std::sync::{Arc, OnceLock};

use crate::keyed::Keyed;
use crate::pattern::{Pattern, PatternConfig};
use crate::registry::Registry;
#[cfg(feature = "chaos")]
use crate::sites::chaos::ChaosSite;
use crate::sites::registry::SiteRegistry;

/// One call site's instance of the pattern `P`, found once; `X` is what the pattern's
/// site adds (`()` for most).
///
/// ```
/// use resilience::__private::BulkheadSite;
/// use resilience::BulkheadConfig;
///
/// fn init() -> BulkheadConfig { BulkheadConfig { max_concurrent: 3, ..Default::default() } }
/// static SITE: BulkheadSite = BulkheadSite::new("docs.site", init);
/// let b = SITE.instance();
/// assert_eq!(b.config().max_concurrent, 3);
/// assert!(std::ptr::eq(b, SITE.instance()));
/// assert_eq!(SITE.keyed("eu").unwrap().key(), Some("eu"));
/// ```
pub struct Site<P: Pattern, X = ()> {
    name: &'static str,
    init: fn() -> P::Config,
    instance: OnceLock<Arc<P>>,
    keyed: OnceLock<Arc<Keyed<P>>>,
    /// A method's default name: `name` is `module::function`, and the `Self` type goes
    /// in between at registration (see [`instance_in`](Self::instance_in)).
    method: bool,
    /// The decorated function (`module::function`), for the patterns that warn when two
    /// sites configure one instance differently; empty when not given.
    function: &'static str,
    #[cfg(feature = "chaos")]
    chaos: ChaosSite,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
    /// The pattern's own part of the site.
    pub(super) extra: X,
}

/// What a pattern's site adds to [`Site`], told when the site first finds its instance
/// (without key) with the attribute's configuration.
pub trait SiteExtra<P: Pattern>: Send + Sync {
    /// The site of `function` found (or made) the instance `name` with the attribute's
    /// configuration `attribute`.
    fn found(
        &self,
        _name: &'static str,
        _function: &'static str,
        _attribute: &P::Config,
        _instance: &P,
    ) {
    }
}

impl<P: Pattern> SiteExtra<P> for () {}

impl<P: Pattern> Site<P> {
    /// A site for the instance `name` of `P`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> P::Config) -> Site<P> {
        Site::with(name, init, ())
    }
}

impl<P: Pattern, X: SiteExtra<P>> Site<P, X> {
    /// A site with the pattern's own part `extra`.
    pub(crate) const fn with(name: &'static str, init: fn() -> P::Config, extra: X) -> Self {
        Site {
            name,
            init,
            instance: OnceLock::new(),
            keyed: OnceLock::new(),
            method: false,
            function: "",
            #[cfg(feature = "chaos")]
            chaos: ChaosSite::refusing(name),
            registry: SiteRegistry::GLOBAL,
            extra,
        }
    }

    /// The site of the function `function` (`module::function`): named in the warning
    /// given when another site configures the same instance differently.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.at", Default::default).at("app::fetch");
    /// assert_eq!(SITE.instance().name(), "docs.at");
    /// ```
    pub const fn at(mut self, function: &'static str) -> Self {
        self.function = function;
        self
    }

    /// The site of a method named by default: its `name` (`module::function`) gets the
    /// method's `Self` type, which [`instance_in`](Self::instance_in) is given.
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    ///
    /// struct Payments;
    /// static SITE: BreakerSite = BreakerSite::new("app::fetch", Default::default).in_method();
    /// let b = SITE.instance_in(|| std::any::type_name::<Payments>());
    /// assert_eq!(b.name(), "app::Payments::fetch");
    /// ```
    pub const fn in_method(mut self) -> Self {
        self.method = true;
        self
    }

    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::{BreakerSite, BulkheadSite};
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.site.registry", Default::default)
    ///     .in_registry(|| &REG);
    /// SITE.instance();
    /// assert!(REG.bulkhead("docs.site.registry").is_some());
    /// assert!(resilience::registry().bulkhead("docs.site.registry").is_none());
    ///
    /// static KEYED: BreakerSite = BreakerSite::new("docs.site.keyed_registry", Default::default)
    ///     .in_registry(|| &REG);
    /// KEYED.keyed("a").unwrap();
    /// assert!(REG.breaker_for("docs.site.keyed_registry", "a").is_some());
    /// ```
    pub const fn in_registry(mut self, registry: fn() -> &'static Registry) -> Self {
        self.registry = SiteRegistry::given(registry);
        #[cfg(feature = "chaos")]
        {
            self.chaos.registry = self.registry;
        }
        self
    }

    /// The instance's name as the attribute gives it.
    ///
    /// ```
    /// static SITE: resilience::__private::BulkheadSite =
    ///     resilience::__private::BulkheadSite::new("docs.site.name", Default::default);
    /// assert_eq!(SITE.name(), "docs.site.name");
    /// ```
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The registry the site registers in.
    pub(crate) fn registry(&self) -> &'static Registry {
        self.registry.get()
    }

    /// The chaos gate of the calls through this site's instances (faults named as the
    /// instance, keyed or not).
    ///
    /// ```
    /// use resilience::__private::BreakerSite;
    /// static SITE: BreakerSite = BreakerSite::new("docs.site.chaos", Default::default);
    /// assert_eq!(SITE.chaos().name(), "docs.site.chaos");
    /// ```
    #[cfg(feature = "chaos")]
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static ChaosSite {
        &self.chaos
    }

    /// The instance, registered on first use. A configuration given to the registry
    /// before that wins over `init`'s values.
    #[inline]
    pub fn instance(&'static self) -> &'static P {
        match self.instance.get() {
            Some(instance) => instance,
            None => self.register_as(self.name),
        }
    }

    /// Registers the instance before the first call, with the site's configuration: the
    /// line `known!(SITE.declare)` puts in the list of sites known from the program's
    /// start (a method's site named by default has none: its name is known only then).
    ///
    /// ```
    /// use resilience::__private::RateLimitSite;
    /// static SITE: RateLimitSite = RateLimitSite::new("docs.site.declare", Default::default);
    /// SITE.declare();
    /// assert!(resilience::registry().rate_limiter("docs.site.declare").is_some());
    /// ```
    #[cold]
    pub fn declare(&'static self) {
        if !self.method {
            self.instance();
        }
    }

    /// [`declare`](Self::declare) for a site keyed by `key = expr`: the name's keyed
    /// store, with the site's configuration (its instances come with their keys).
    ///
    /// ```
    /// use resilience::__private::BulkheadSite;
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.site.declare_keyed", Default::default);
    /// SITE.declare_keyed();
    /// assert_eq!(resilience::registry().bulkhead_config("docs.site.declare_keyed"), Some(Default::default()));
    /// ```
    #[cold]
    pub fn declare_keyed(&'static self) {
        self.register_keyed();
    }

    /// [`instance`](Self::instance) for a site made [`in_method`](Self::in_method):
    /// `self_type` (a closure calling `type_name::<Self>()`) is called only on first use.
    #[inline]
    pub fn instance_in(&'static self, self_type: fn() -> &'static str) -> &'static P {
        match self.instance.get() {
            Some(instance) => instance,
            None => self.register_in(self_type),
        }
    }

    /// The instance for `key` (the text of the attribute's `key = expr`), made on the
    /// key's first call; or, when the name's keyed store is full of instances that may
    /// not go, the refusal of a new key (see `keyed.rs`).
    ///
    /// HOT PATH for a known key: a read lock, a hash and a reference count.
    #[inline]
    pub fn keyed(&'static self, key: &str) -> Result<Arc<P>, P::Refusal> {
        match self.keyed.get() {
            Some(store) => store.get(key),
            None => self.register_keyed().get(key),
        }
    }

    #[cold]
    #[inline(never)]
    fn register_in(&'static self, self_type: fn() -> &'static str) -> &'static P {
        let name = if self.method {
            let name = crate::site_name::method_name(self.name, self_type());
            // Faults are named as the instance, `Self` type included.
            #[cfg(feature = "chaos")]
            self.chaos.rename(name);
            name
        } else {
            self.name
        };
        self.register_as(name)
    }

    #[cold]
    #[inline(never)]
    fn register_as(&'static self, name: &'static str) -> &'static P {
        // The known sites first, outside this site's `OnceLock`: registering them
        // registers this one too, which must not happen from inside its own init.
        crate::registry::known::declare();
        self.instance.get_or_init(|| {
            let table = self.registry.get().table::<P>();
            let attribute = self.config(name);
            // Valid by now: only a parent that would make a cycle is refused.
            let instance = table.register_or_own(name, attribute.clone(), |error| {
                P::refused_config(name, error)
            });
            self.extra.found(name, self.function, &attribute, &instance);
            instance
        })
    }

    #[cold]
    #[inline(never)]
    fn register_keyed(&'static self) -> &'static Keyed<P> {
        crate::registry::known::declare();
        self.keyed.get_or_init(|| {
            self.registry
                .get()
                .table::<P>()
                .keyed(self.name, self.config(self.name))
        })
    }

    /// The attribute's configuration, each invalid field put back to its default
    /// (reported, naming the field and value).
    fn config(&self, name: &str) -> P::Config {
        crate::config_error::valid_fields(
            (self.init)(),
            <P::Config as PatternConfig>::validate,
            P::ATTRIBUTE,
            name,
        )
    }
}

/// An error type a refusal `R` converts into: every `E: From<R>`. Its purpose is the
/// message of a missing `From`, which names the refusal type and the variant to add
/// for it; the generated code of every refusing attribute calls it (`CircuitOpen`,
/// `BulkheadFull`, `RateLimited`; a new pattern's refusal needs nothing more). The type
/// is named as rustc prints it (`BulkheadFull`, or `resilience::CircuitOpen` where the
/// short name is ambiguous), so the message cannot add the crate's path itself.
///
/// ```
/// use resilience::__private::FromRefusal;
/// let full = resilience::BulkheadFull { name: "x", key: None, max_concurrent: 1, waited: Default::default() };
/// let e: resilience::BulkheadFull = FromRefusal::from_refusal(full.clone());
/// assert_eq!(e, full);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `From<{R}>`: this attribute returns `Err({Self}::from({R}))` for a call it refuses",
    label = "`{Self}` cannot hold the refusal `{R}`",
    note = "add a variant to `{Self}` that holds it, as `#[error(transparent)] Refused(#[from] {R})` (one per refusal type, named as you like), or write `impl From<{R}> for {Self}`"
)]
pub trait FromRefusal<R>: Sized {
    /// `Self::from(refusal)`.
    fn from_refusal(refusal: R) -> Self;
}

impl<R, E: From<R>> FromRefusal<R> for E {
    #[inline]
    fn from_refusal(refusal: R) -> E {
        E::from(refusal)
    }
}
