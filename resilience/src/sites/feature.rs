//! The call site of `#[feature_switch]`: what its generated code holds and calls (through
//! `__private`). Not a public API.
//!
//! A function gated by a feature owns one `static` [`FeatureSite`]. Before running its
//! body it asks [`FeatureSite::fallback_if_disabled`]: `Some(value)` means return
//! `Ok(value)` at once. After the body it reports the outcome: [`FeatureSite::succeeded`] or
//! [`FeatureSite::failed`] (told what to do by a [`FeatureArm`]), which answers a failure with the fallback value.
//! Both go to the global [`degradation()`](fn@crate::degradation); the name is looked up
//! once per site, then every call is one atomic load.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use crate::degradation::feature::Entry;
use crate::monitor::observe::Observe;
use crate::view::View;

/// What [`FeatureSite::failed`] is told by the call site. (The error's view is an
/// argument of its own: a closure in a struct field would not be inferred as taking a
/// reference of any lifetime.)
pub struct FeatureArm {
    /// Whether this layer records the error in the monitor.
    pub observe: Observe,
}

/// One gated call site's feature, found once.
///
/// ```
/// use resilience::__private::{FeatureArm, FeatureSite, Observe, View};
///
/// static SITE: FeatureSite = FeatureSite::new("docs.site.feature");
///
/// resilience::degradation().register("docs.site.feature", 42_u32);
/// assert_eq!(SITE.fallback_if_disabled::<u32>(), None); // on: run the body
/// for _ in 0..3 {
///     let answer: Result<u32, &str> =
///         SITE.failed("down", |_| View::Opaque("&str"), FeatureArm { observe: Observe::Skip });
///     assert_eq!(answer, Ok(42)); // a failure is answered by the fallback, and counted
/// }
/// assert_eq!(SITE.fallback_if_disabled::<u32>(), Some(42)); // off: return the fallback
/// ```
pub struct FeatureSite {
    name: &'static str,
    entry: OnceLock<Arc<Entry>>,
    /// Set after the first warning that the feature is off but has no fallback of the
    /// function's type, so a misconfiguration is logged once, not on every call.
    warned: AtomicBool,
}

impl FeatureSite {
    /// A site for the feature `name`.
    ///
    /// ```
    /// static SITE: resilience::__private::FeatureSite = resilience::__private::FeatureSite::new("x");
    /// assert_eq!(SITE.name(), "x");
    /// ```
    pub const fn new(name: &'static str) -> FeatureSite {
        FeatureSite {
            name,
            entry: OnceLock::new(),
            warned: AtomicBool::new(false),
        }
    }

    /// The feature's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// `None` while the feature is on (one atomic load); when it is off, its fallback
    /// value. A feature that is off without a fallback of type `T` (the `Ok` type of the
    /// gated function) yields `None`, so the body runs, and a warning is logged once.
    #[inline]
    pub fn fallback_if_disabled<T: Clone + 'static>(&'static self) -> Option<T> {
        let entry = self.entry();
        if entry.is_enabled() {
            return None;
        }
        self.disabled_fallback(entry)
    }

    /// Counts a success of the body.
    ///
    /// ```
    /// static SITE: resilience::__private::FeatureSite =
    ///     resilience::__private::FeatureSite::new("docs.site.succeeded");
    /// resilience::degradation().register("docs.site.succeeded", 1_u8);
    /// SITE.succeeded();
    /// assert_eq!(SITE.fallback_if_disabled::<u8>(), None);
    /// ```
    #[inline]
    pub fn succeeded(&'static self) {
        self.entry().report_success();
    }

    /// The `Err` arm of `#[feature_switch]`, as the reference's `execute_if_enabled`:
    /// records `error` in the monitor if this layer is the one that does (`arm.observe`),
    /// counts a failure of the body (enough of them in a row switch the feature off, see
    /// the example on [`FeatureSite`]), and answers with the feature's fallback
    /// value; without a fallback of type `T`, with the error. Out of line and by value,
    /// so the success path stays small.
    ///
    /// ```
    /// use resilience::__private::{FeatureArm, FeatureSite, Observe, View};
    ///
    /// static SITE: FeatureSite = FeatureSite::new("docs.site.failed");
    /// let arm = || FeatureArm { observe: Observe::Skip };
    /// let answer: Result<u32, &str> = SITE.failed("down", |_| View::Opaque("&str"), arm());
    /// assert_eq!(answer, Err("down")); // no fallback registered yet
    /// resilience::degradation().register("docs.site.failed", 7_u32);
    /// let answer: Result<u32, &str> = SITE.failed("down", |_| View::Opaque("&str"), arm());
    /// assert_eq!(answer, Ok(7));
    /// ```
    #[cold]
    #[inline(never)]
    pub fn failed<T: Clone + 'static, E>(
        &'static self,
        mut error: E,
        view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
        arm: FeatureArm,
    ) -> Result<T, E> {
        arm.observe.error(&mut error, view);
        let entry = self.entry();
        entry.report_failure();
        match entry.fallback::<T>() {
            Some(value) => {
                tracing::debug!(
                    target: "resilience::degradation",
                    feature = self.name,
                    "feature call failed; answering with its fallback"
                );
                Ok(value)
            }
            None => Err(error),
        }
    }

    #[inline]
    fn entry(&'static self) -> &'static Entry {
        match self.entry.get() {
            Some(entry) => entry,
            None => self.lookup(),
        }
    }

    #[cold]
    fn lookup(&'static self) -> &'static Entry {
        self.entry
            .get_or_init(|| crate::registry::degradation().entry(self.name))
    }

    #[cold]
    #[inline(never)]
    fn disabled_fallback<T: Clone + 'static>(&'static self, entry: &Entry) -> Option<T> {
        let value = entry.fallback::<T>();
        if value.is_none() && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                target: "resilience::degradation",
                feature = self.name,
                expected = core::any::type_name::<T>(),
                registered = entry.fallback_type().unwrap_or("none"),
                "feature is disabled but has no fallback of the function's type; running the function"
            );
        }
        value
    }
}
