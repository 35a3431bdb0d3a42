//! The chaos gate of a call site: what generated code holds and calls (through
//! `__private`). Not a public API.
//!
//! Every decorated function has one [`ChaosSite`] for its default name, around its body;
//! every breaker site has one for the breaker's name, inside its permit; every bulkhead
//! and rate limiter site one for its name, inside its place or once admitted. The generated
//! code reads [`chaos_armed`] (one relaxed load) and only when a fault is set calls
//! [`ChaosSite::draw`], out of line, with what the call site knows of its error type
//! (an [`InjectProbe`]'s injector: `Some` where it has `From<InjectedFault>`).
//!
//! A refusing pattern (breaker, bulkhead, rate limiter) holds a `ChaosSite::refusing(name)`
//! in its site type, returns it from a `chaos()` method, and its layer wraps its inner
//! expression with `layers::chaos_gate`, giving the refusal to return.

use core::marker::PhantomData;
use std::time::Duration;

use crate::chaos::{chaos, Drawn, InjectedFault};

/// Whether any fault is set: the one read a call makes while none is.
///
/// ```
/// use resilience::__private::chaos_armed;
/// resilience::chaos::chaos().clear_all();
/// assert!(!chaos_armed());
/// ```
#[inline(always)]
pub fn chaos_armed() -> bool {
    crate::chaos::armed()
}

/// One site's chaos gate.
///
/// ```
/// use resilience::__private::{ChaosSite, Hit};
/// use resilience::chaos::{chaos, Fault};
/// use resilience::InjectedFault;
///
/// static SITE: ChaosSite = ChaosSite::function("docs.gate");
/// chaos().inject("docs.gate", Fault::error(1.0)).unwrap();
/// let inject: Option<fn(InjectedFault) -> Result<(), InjectedFault>> = Some(|f| Err(f));
/// assert!(matches!(SITE.draw(inject), Hit::Fail(Err(_))));
/// chaos().clear("docs.gate");
/// assert!(matches!(SITE.draw(inject), Hit::Pass));
/// ```
pub struct ChaosSite {
    name: &'static str,
    refuses: bool,
    /// A method's name with its `Self` type, set on first use (a `static` cannot name
    /// `Self`): see [`in_type`](Self::in_type).
    method_name: std::sync::OnceLock<&'static str>,
}

impl ChaosSite {
    /// The gate of a decorated function, named by its default name.
    pub const fn function(name: &'static str) -> ChaosSite {
        ChaosSite {
            name,
            refuses: false,
            method_name: std::sync::OnceLock::new(),
        }
    }

    /// The gate of a site that can refuse calls (a breaker, a bulkhead, a rate limiter).
    pub const fn refusing(name: &'static str) -> ChaosSite {
        ChaosSite {
            name,
            refuses: true,
            method_name: std::sync::OnceLock::new(),
        }
    }

    /// The site's name: a method's carries its `Self` type once known.
    pub fn name(&self) -> &'static str {
        self.method_name.get().copied().unwrap_or(self.name)
    }

    /// The gate of a method, whose site was made with its path (`module::method`): named
    /// `module::Type::method` as the method's breaker, events and monitor records are.
    /// `self_type` (a closure calling `type_name::<Self>()`) is called on first use.
    ///
    /// ```
    /// use resilience::__private::ChaosSite;
    /// struct Payments;
    /// static SITE: ChaosSite = ChaosSite::function("app::charge");
    /// let site = SITE.in_type(|| std::any::type_name::<Payments>());
    /// assert_eq!(site.name(), "app::Payments::charge");
    /// ```
    #[cold]
    pub fn in_type(&'static self, self_type: fn() -> &'static str) -> &'static ChaosSite {
        self.method_name
            .get_or_init(|| crate::site_name::method_name(self.name, self_type()));
        self
    }

    /// Names the site as the breaker a method's site registered (`module::Type::method`).
    pub(crate) fn rename(&self, name: &'static str) {
        let _ = self.method_name.set(name);
    }

    /// One call while a fault is set: what to do. `inject` turns an [`InjectedFault`]
    /// into the call's outcome where the error type allows it (`None`: it cannot).
    #[cold]
    #[inline(never)]
    pub fn draw<R>(&'static self, inject: Option<fn(InjectedFault) -> R>) -> Hit<R> {
        match chaos().draw(self.name(), inject.is_some(), self.refuses) {
            Drawn::Pass => Hit::Pass,
            Drawn::Delay(d) => Hit::Delay(d),
            Drawn::Refuse => Hit::Refuse,
            Drawn::Error => match inject {
                Some(inject) => Hit::Fail(inject(InjectedFault::new(self.name()))),
                // `draw` never decides an error for a site that cannot take it.
                None => Hit::Pass,
            },
        }
    }
}

/// What [`ChaosSite::draw`] tells the call.
pub enum Hit<R> {
    /// Run as written.
    Pass,
    /// Wait this long, then run.
    Delay(Duration),
    /// Return this outcome (an `Err` of the injected fault) without running.
    Fail(R),
    /// Refuse as the site refuses (a breaker: its `CircuitOpen`).
    Refuse,
}

/// Asks, at the call site, whether `R` (the function's `Result<T, E>`) can carry an
/// injected error: `(&&InjectProbe::<R>::new()).injector()` picks [`InjectFrom`] where
/// `E: From<InjectedFault>`, [`InjectNone`] otherwise (autoref specialization, as
/// [`Probe`](crate::__private::Probe) does).
///
/// ```
/// use resilience::__private::{InjectFrom as _, InjectNone as _, InjectProbe};
/// use resilience::InjectedFault;
///
/// struct Mine;
/// impl From<InjectedFault> for Mine { fn from(_: InjectedFault) -> Mine { Mine } }
/// assert!((&&InjectProbe::<Result<(), Mine>>::new()).injector().is_some());
/// assert!((&&InjectProbe::<Result<(), String>>::new()).injector().is_none());
/// ```
pub struct InjectProbe<R>(PhantomData<fn() -> R>);

impl<R> InjectProbe<R> {
    /// A probe for the outcome type `R`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        InjectProbe(PhantomData)
    }
}

/// Chosen where the error type has `From<InjectedFault>`.
pub trait InjectFrom<R> {
    /// See [`InjectProbe`].
    fn injector(&self) -> Option<fn(InjectedFault) -> R>;
}

impl<T, E: From<InjectedFault>> InjectFrom<Result<T, E>> for &InjectProbe<Result<T, E>> {
    #[inline]
    fn injector(&self) -> Option<fn(InjectedFault) -> Result<T, E>> {
        Some(|fault| Err(E::from(fault)))
    }
}

/// Chosen otherwise.
pub trait InjectNone<R> {
    /// See [`InjectProbe`].
    fn injector(&self) -> Option<fn(InjectedFault) -> R>;
}

impl<R> InjectNone<R> for InjectProbe<R> {
    #[inline]
    fn injector(&self) -> Option<fn(InjectedFault) -> R> {
        None
    }
}
