//! The chaos gate of a call site (feature `chaos`): what generated code holds and calls
//! (through `__private`). Not a public API.
//!
//! Every decorated function has one [`ChaosSite`] for its default name, around its body;
//! every breaker site has one for the breaker's name, inside its permit; every bulkhead
//! and rate limiter site one for its name, inside its place or once admitted. The gate
//! is one call: [`ChaosSite::draw`] (a function's own faults, or a hedge's),
//! [`ChaosSite::draw_refusing`] (a breaker's, bulkhead's or rate limiter's), or
//! [`ChaosSite::draw_with`] and [`ChaosSite::draw_refusing_with`] (the pattern's, then
//! the function's, when the pattern is its innermost layer), each given what the call site knows of its types
//! ([`Inject`], made by the [`inject!`](crate::__private::inject) macro). Inlined, each
//! reads one relaxed atomic while no fault is set anywhere; only then does it call out
//! of line into the site's registry's table.
//!
//! A refusing pattern holds a `ChaosSite::refusing(name)` in its site type (registering
//! where the site does) and returns it from a `chaos()` method; its layer breaks out with
//! its own refusal on [`Hit::Refuse`].

use core::marker::PhantomData;
use std::sync::OnceLock;
use std::time::Duration;

use crate::chaos::{armed, Drawn, NO_FROM};
use crate::injected_fault::InjectedFault;
use crate::registry::Registry;
use crate::sites::registry::SiteRegistry;

/// One site's chaos gate.
///
/// ```
/// use resilience::__private::{inject, ChaosSite};
/// use resilience::chaos::{chaos, Fault};
/// use resilience::InjectedFault;
///
/// static SITE: ChaosSite = ChaosSite::function("docs.gate");
/// chaos().inject("docs.gate", Fault::error(1.0)).unwrap();
/// assert!(matches!(SITE.draw(inject!(Result<(), InjectedFault>)), Err(Err(_))));
/// chaos().clear("docs.gate");
/// assert!(matches!(SITE.draw(inject!(Result<(), InjectedFault>)), Ok(d) if d.is_zero()));
/// ```
pub struct ChaosSite {
    name: &'static str,
    refuses: bool,
    /// Whose table it draws from: the global registry's unless `in_registry` says (a
    /// pattern's site sets it to its own).
    pub(super) registry: SiteRegistry,
    /// A method's name with its `Self` type, set on first use (a `static` cannot name
    /// `Self`): see [`Inject::in_type`].
    method_name: OnceLock<&'static str>,
}

impl ChaosSite {
    /// The gate of a decorated function, named by its default name.
    pub const fn function(name: &'static str) -> ChaosSite {
        ChaosSite {
            name,
            refuses: false,
            registry: SiteRegistry::GLOBAL,
            method_name: OnceLock::new(),
        }
    }

    /// The gate of a site that can refuse calls (a breaker, a bulkhead, a rate limiter).
    pub const fn refusing(name: &'static str) -> ChaosSite {
        ChaosSite {
            name,
            refuses: true,
            registry: SiteRegistry::GLOBAL,
            method_name: OnceLock::new(),
        }
    }

    /// The same gate, drawing from the table of the registry `registry` returns
    /// (`registry = STATIC` on the attribute).
    ///
    /// ```
    /// use resilience::__private::{inject, ChaosSite};
    /// use resilience::chaos::Fault;
    /// use resilience::registry::Registry;
    /// use resilience::InjectedFault;
    /// use std::sync::LazyLock;
    ///
    /// static REG: LazyLock<Registry> = LazyLock::new(Registry::new);
    /// static SITE: ChaosSite = ChaosSite::function("docs.gate.registry").in_registry(|| &REG);
    /// REG.chaos().inject("docs.gate.registry", Fault::error(1.0)).unwrap();
    /// assert!(SITE.draw(inject!(Result<(), InjectedFault>)).is_err());
    /// ```
    pub const fn in_registry(mut self, registry: fn() -> &'static Registry) -> Self {
        self.registry = SiteRegistry::given(registry);
        self
    }

    /// The site's name: a method's carries its `Self` type once known.
    pub fn name(&self) -> &'static str {
        self.method_name.get().copied().unwrap_or(self.name)
    }

    /// Names the site as the breaker a method's site registered (`module::Type::method`).
    pub(crate) fn rename(&self, name: &'static str) {
        let _ = self.method_name.set(name);
    }

    /// A function's own faults around its body, or a hedge's at the start of a run:
    /// `Ok(delay)` to wait (zero: none) before running, `Err(outcome)` to return
    /// instead of running (an injected error).
    #[inline(always)]
    pub fn draw<R>(&'static self, inject: Inject<R>) -> Result<Duration, R> {
        if !armed() {
            return Ok(Duration::ZERO);
        }
        self.draw_cold(None, inject).ran()
    }

    /// A hedge's faults, then (if none hit) those of `function`, the function whose
    /// innermost layer the hedge is: one gate for each run.
    #[inline(always)]
    pub fn draw_with<R>(
        &'static self,
        function: &'static ChaosSite,
        inject: Inject<R>,
    ) -> Result<Duration, R> {
        if !armed() {
            return Ok(Duration::ZERO);
        }
        self.draw_cold(Some(function), inject).ran()
    }

    /// A refusing pattern's faults, inside its permit (or place, or admission).
    #[inline(always)]
    pub fn draw_refusing<R>(&'static self, inject: Inject<R>) -> Hit<R> {
        if !armed() {
            return Hit::Run(Duration::ZERO);
        }
        self.draw_cold(None, inject)
    }

    /// A refusing pattern's faults, then (if none hit) those of `function`, the function
    /// whose innermost layer the pattern is: one gate for the call.
    #[inline(always)]
    pub fn draw_refusing_with<R>(
        &'static self,
        function: &'static ChaosSite,
        inject: Inject<R>,
    ) -> Hit<R> {
        if !armed() {
            return Hit::Run(Duration::ZERO);
        }
        self.draw_cold(Some(function), inject)
    }

    #[cold]
    #[inline(never)]
    fn draw_cold<R>(&'static self, then: Option<&'static ChaosSite>, inject: Inject<R>) -> Hit<R> {
        let mut delay = Duration::ZERO;
        for site in core::iter::once(self).chain(then) {
            let name = match (site.refuses, inject.self_type) {
                (false, Some(self_type)) => site.in_type(self_type),
                _ => site.name(),
            };
            let table = site.registry.get().chaos();
            let takes_error = inject.into.map(|_| ()).ok_or(NO_FROM);
            match table.draw(name, takes_error, site.refuses) {
                Drawn::Pass => {}
                // A slowed call still draws the next site's faults (it may fail too).
                Drawn::Delay(d) => delay = delay.saturating_add(d),
                Drawn::Refuse => return Hit::Refuse,
                Drawn::Error => {
                    if let Some(into) = inject.into {
                        return Hit::Fail(into(InjectedFault::new(name)));
                    }
                }
            }
        }
        Hit::Run(delay)
    }

    /// A method's site is made with its path (`module::method`) and named
    /// `module::Type::method`, as the method's breaker, events and monitor records are,
    /// on its first draw.
    fn in_type(&self, self_type: fn() -> &'static str) -> &'static str {
        self.method_name
            .get_or_init(|| crate::site_name::method_name(self.name, self_type()))
    }
}

/// What a refusing site's draw tells the call.
#[derive(Debug, PartialEq, Eq)]
#[must_use]
pub enum Hit<R> {
    /// Run as written after this delay (zero: at once).
    Run(Duration),
    /// Return this outcome (an `Err` of the injected fault) without running.
    Fail(R),
    /// Refuse as the site refuses (a breaker: its `CircuitOpen`).
    Refuse,
}

impl<R> Hit<R> {
    /// The answer of a site that does not refuse (a refusal cannot be drawn there).
    fn ran(self) -> Result<Duration, R> {
        match self {
            Hit::Run(delay) => Ok(delay),
            Hit::Fail(outcome) => Err(outcome),
            Hit::Refuse => Ok(Duration::ZERO),
        }
    }
}

/// What a call site knows of its types, for its gate: how to turn an [`InjectedFault`]
/// into its outcome `R` (`None` where its error type has no `From<InjectedFault>`), and a
/// method's `Self` type. Made by [`inject!`](crate::__private::inject).
pub struct Inject<R> {
    into: Option<fn(InjectedFault) -> R>,
    self_type: Option<fn() -> &'static str>,
}

impl<R> Clone for Inject<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Inject<R> {}

impl<R> Inject<R> {
    /// What [`InjectProbe`] found.
    #[inline(always)]
    pub const fn new(into: Option<fn(InjectedFault) -> R>) -> Self {
        Inject {
            into,
            self_type: None,
        }
    }

    /// The call site is a method of `self_type` (a closure calling `type_name::<Self>()`).
    #[inline(always)]
    pub const fn in_type(mut self, self_type: fn() -> &'static str) -> Self {
        self.self_type = Some(self_type);
        self
    }
}

/// `inject!(Outcome)`, or `inject!(Outcome, Self)` in a method: the [`Inject`] of a
/// call site whose function returns `Outcome`. It asks, by autoref specialization at
/// the call site where the error type is known, whether the error has
/// `From<InjectedFault>` ([`InjectProbe`]).
///
/// ```
/// use resilience::__private::inject;
/// use resilience::InjectedFault;
///
/// struct Mine;
/// impl From<InjectedFault> for Mine { fn from(_: InjectedFault) -> Mine { Mine } }
/// let _takes_it = inject!(Result<(), Mine>);
/// let _does_not = inject!(Result<(), String>);
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __resilience_inject {
    ($outcome:ty $(, $self_type:ty)?) => {{
        #[allow(unused_imports)]
        use $crate::__private::{InjectFrom as _, InjectNone as _};
        #[allow(clippy::needless_borrow)]
        let into = (&&$crate::__private::InjectProbe::<$outcome>::new()).injector();
        $crate::__private::Inject::new(into)
            $(.in_type(|| ::core::any::type_name::<$self_type>()))?
    }};
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
