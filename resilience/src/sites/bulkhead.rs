//! The contract with `#[bulkhead]`'s generated code. Not a public API.
//!
//! Each annotated function owns one `static` [`BulkheadSite`], the generic [`Site`] of
//! a bulkhead (`instance()`, or `keyed(key)` with `key = expr`); this file holds what
//! is the bulkhead's own: the refusal an injected fault returns, and the wait for a
//! place of an async call.

use crate::bulkhead::{Bulkhead, BulkheadFull, BulkheadPermit};
use crate::sites::site::Site;

/// One call site's bulkhead (or, with `key = expr`, its bulkheads, one per key), found
/// once.
///
/// ```
/// use resilience::__private::BulkheadSite;
/// use resilience::BulkheadConfig;
///
/// fn init() -> BulkheadConfig { BulkheadConfig { max_concurrent: 3, ..Default::default() } }
/// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead_site", init);
/// assert_eq!(SITE.instance().config().max_concurrent, 3);
/// assert_eq!(SITE.keyed("eu").unwrap().key(), Some("eu"));
/// ```
pub type BulkheadSite = Site<Bulkhead>;

impl Site<Bulkhead> {
    /// The `BulkheadFull` an injected refusal of a call through `bulkhead` returns
    /// (converted as a real refusal is): its name, key and limit, no wait. Not counted
    /// as a rejection.
    ///
    /// ```
    /// use resilience::__private::BulkheadSite;
    /// static SITE: BulkheadSite = BulkheadSite::new("docs.bulkhead_site.refused", Default::default);
    /// let full = SITE.refused(SITE.keyed("eu").unwrap().as_ref());
    /// assert_eq!((full.name, full.key.as_deref()), ("docs.bulkhead_site.refused", Some("eu")));
    /// ```
    #[cfg(feature = "chaos")]
    #[cold]
    pub fn refused(&'static self, bulkhead: &Bulkhead) -> BulkheadFull {
        BulkheadFull {
            name: bulkhead.name(),
            key: bulkhead.key().map(std::sync::Arc::from),
            max_concurrent: bulkhead.config().max_concurrent,
            waited: std::time::Duration::ZERO,
        }
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
