//! The contract with `#[bulkhead]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`BulkheadSite`]; its first call finds or
//! registers the bulkhead (or, with `key = expr`, the name's keyed store) in the global
//! registry, every later call is one atomic load.

use crate::sites::registry::SiteRegistry;
use std::sync::{Arc, OnceLock};

use crate::bulkhead::{Bulkhead, BulkheadConfig, BulkheadFull, BulkheadPermit};
use crate::keyed::Keyed;
use crate::sites::chaos::ChaosSite;

/// One call site's bulkhead, found once.
///
/// ```
/// use resilience::__private::BulkheadSite;
/// use resilience::BulkheadConfig;
///
/// fn init() -> BulkheadConfig { BulkheadConfig { max_concurrent: 3, ..Default::default() } }
/// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead_site", init);
/// assert_eq!(SITE.bulkhead().config().max_concurrent, 3);
/// assert_eq!(SITE.keyed("eu").key(), Some("eu"));
/// ```
pub struct BulkheadSite {
    name: &'static str,
    init: fn() -> BulkheadConfig,
    bulkhead: OnceLock<Arc<Bulkhead>>,
    keyed: OnceLock<Arc<Keyed<Bulkhead>>>,
    chaos: ChaosSite,
    /// Where the site registers: the global registry unless `in_registry` says.
    registry: SiteRegistry,
}

impl BulkheadSite {
    /// A site for the bulkhead `name`, whose attribute values `init` returns.
    pub const fn new(name: &'static str, init: fn() -> BulkheadConfig) -> BulkheadSite {
        BulkheadSite {
            name,
            init,
            registry: SiteRegistry::GLOBAL,
            bulkhead: OnceLock::new(),
            keyed: OnceLock::new(),
            chaos: ChaosSite::refusing(name),
        }
    }

    /// The chaos gate of the calls through this bulkhead (faults named as the bulkhead,
    /// keyed or not), inside its place.
    ///
    /// ```
    /// use resilience::__private::BulkheadSite;
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead_site.chaos", Default::default);
    /// assert_eq!(SITE.chaos().name(), "docs.bulkhead_site.chaos");
    /// ```
    #[inline(always)]
    pub fn chaos(&'static self) -> &'static ChaosSite {
        &self.chaos
    }

    /// The `BulkheadFull` an injected refusal of a call through `bulkhead` returns
    /// (converted as a real refusal is): its name, key and limit, no wait. Not counted
    /// as a rejection.
    ///
    /// ```
    /// use resilience::__private::BulkheadSite;
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead_site.refused", Default::default);
    /// let full = SITE.refused(SITE.keyed("eu").as_ref());
    /// assert_eq!((full.name, full.key.as_deref()), ("docs.bulkhead_site.refused", Some("eu")));
    /// ```
    #[cold]
    pub fn refused(&'static self, bulkhead: &Bulkhead) -> BulkheadFull {
        BulkheadFull {
            name: bulkhead.name(),
            key: bulkhead.key().map(Arc::from),
            max_concurrent: bulkhead.config().max_concurrent,
            waited: std::time::Duration::ZERO,
        }
    }

    /// The bulkhead, registered on first use. A configuration given to the registry
    /// before that wins over `init`'s values.
    #[inline]
    pub fn bulkhead(&'static self) -> &'static Bulkhead {
        match self.bulkhead.get() {
            Some(b) => b,
            None => self.register(),
        }
    }

    #[cold]
    fn register(&'static self) -> &'static Bulkhead {
        self.bulkhead.get_or_init(|| {
            self.registry
                .get()
                .bulkhead_or_insert(self.name, self.config())
        })
    }

    /// The instance for `key` (the text of the attribute's `key = expr`).
    #[inline]
    pub fn keyed(&'static self, key: &str) -> Arc<Bulkhead> {
        match self.keyed.get() {
            Some(store) => store.get(key),
            None => self.register_keyed().get(key),
        }
    }

    #[cold]
    fn register_keyed(&'static self) -> &'static Keyed<Bulkhead> {
        self.keyed.get_or_init(|| {
            self.registry
                .get()
                .bulkheads_keyed(self.name, self.config())
        })
    }

    fn config(&self) -> BulkheadConfig {
        crate::config_error::valid_fields(
            (self.init)(),
            BulkheadConfig::validate,
            "#[bulkhead]",
            self.name,
        )
    }
}

/// The slow half of an async call's admission: wait up to `max_wait` for a place.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let b = resilience::bulkhead::Bulkhead::new("docs.bulkhead_wait", Default::default()).unwrap();
/// assert!(resilience::__private::bulkhead_wait(&b).await.is_ok());
/// # }
/// ```
pub async fn bulkhead_wait(bulkhead: &Bulkhead) -> Result<BulkheadPermit<'_>, BulkheadFull> {
    bulkhead.wait().await
}

/// `From<BulkheadFull>`, under a name whose absence the compiler explains: the error
/// says which variant to add.
///
/// ```
/// use resilience::__private::FromBulkheadFull;
/// let full = resilience::BulkheadFull { name: "x", key: None, max_concurrent: 1, waited: Default::default() };
/// let e: resilience::BulkheadFull = FromBulkheadFull::from_bulkhead_full(full.clone());
/// assert_eq!(e, full);
/// ```
#[diagnostic::on_unimplemented(
    message = "`#[bulkhead]` returns `Err(E::from(resilience::BulkheadFull))` for a refused call, and `{Self}` has no `From<resilience::BulkheadFull>`",
    label = "`{Self}` needs `From<resilience::BulkheadFull>`",
    note = "add a variant to `{Self}`: `#[error(transparent)] Full(#[from] resilience::BulkheadFull)`"
)]
pub trait FromBulkheadFull: Sized {
    /// `Self::from(full)`.
    fn from_bulkhead_full(full: BulkheadFull) -> Self;
}

impl<E: From<BulkheadFull>> FromBulkheadFull for E {
    #[inline]
    fn from_bulkhead_full(full: BulkheadFull) -> E {
        E::from(full)
    }
}

impl BulkheadSite {
    /// The same site, registering in the registry `registry` returns instead of the
    /// global one (`registry = STATIC` on the attribute). Read only on first use.
    ///
    /// ```
    /// use resilience::__private::BulkheadSite;
    /// use resilience::registry::Registry;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead.registry", Default::default)
    ///     .in_registry(|| &REG);
    /// SITE.bulkhead();
    /// assert!(REG.bulkhead("docs.bulkhead.registry").is_some());
    /// assert!(resilience::registry().bulkhead("docs.bulkhead.registry").is_none());
    /// ```
    pub const fn in_registry(
        mut self,
        registry: fn() -> &'static crate::registry::Registry,
    ) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
    }
}
