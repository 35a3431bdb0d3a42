//! Fault injection at a tower layer or the reqwest middleware (feature `chaos`): the
//! faults named as a layer's breaker, bulkhead, rate limiter or hedge, or as the
//! middleware's breakers, drawn from the registry's table where the attribute of the
//! same name draws them.
//!
//! Each layer's service (and the middleware) holds [`Faults`] (its name and its
//! registry's table) and, once a call is admitted, asks [`Faults::draw`] (a refusing pattern, which answers an injected
//! refusal with its own refusal, not counted) or [`Faults::draw_run`] (a hedge's run)
//! what to do, then makes its inner call through [`Fault::gate`]: a [`Gated`] future that
//! waits an injected latency before it polls the inner call (a tower service does its
//! work when its future is polled; one that works in `call` itself starts at once), or
//! answers an injected error without calling the inner service.
//! Without the feature, `Faults` and `Fault` are empty and `Gated<Fut>` is `Fut` itself:
//! a layer pays nothing.
//!
//! An injected error is an [`InjectedFault`](crate::InjectedFault) in the service's error
//! type. A layer's error type is generic, so it is told by its type: `tower::BoxError`
//! (`Box<dyn Error + Send + Sync>`), `Box<dyn Error + Send>`, `Box<dyn Error>`,
//! `std::io::Error`, `reqwest_middleware::Error` (the middleware's) or `InjectedFault`
//! itself take one; for any other, an error fault is refused with the reason (as at an
//! attribute whose error type has no `From<InjectedFault>`).

// Each front end uses a part: the middleware `draw_named`, the tower layers the rest.
#![cfg_attr(
    not(all(feature = "tower", feature = "reqwest")),
    allow(dead_code, unused_imports)
)]

#[cfg(feature = "chaos")]
pub(crate) use on::{draw_named, Fault, Faults, Gated};

#[cfg(not(feature = "chaos"))]
pub(crate) use off::{draw_named, Fault, Faults, Gated};

/// What a refusing pattern answers for an injected refusal: its own refusal, as a real
/// one reads, without counting it as one.
pub(crate) trait Refuses {
    /// `CircuitOpen`, `BulkheadFull`, `RateLimited`.
    type Refusal;

    /// The refusal of a call through this instance, named `name`.
    #[cfg_attr(not(feature = "chaos"), allow(dead_code))]
    fn refused_by_fault(&self, name: &'static str) -> Self::Refusal;
}

impl Refuses for crate::breaker::Breaker {
    type Refusal = crate::CircuitOpen;

    fn refused_by_fault(&self, name: &'static str) -> crate::CircuitOpen {
        crate::CircuitOpen::from_name(name)
    }
}

impl Refuses for crate::bulkhead::Bulkhead {
    type Refusal = crate::BulkheadFull;

    fn refused_by_fault(&self, _: &'static str) -> crate::BulkheadFull {
        crate::BulkheadFull {
            name: self.name(),
            key: self.key().map(std::sync::Arc::from),
            max_concurrent: self.config().max_concurrent,
            waited: std::time::Duration::ZERO,
        }
    }
}

impl Refuses for crate::rate_limit::RateLimiter {
    type Refusal = crate::RateLimited;

    fn refused_by_fault(&self, _: &'static str) -> crate::RateLimited {
        let config = self.config();
        crate::RateLimited::new(
            self.name(),
            self.key().map(std::sync::Arc::from),
            config.per / config.limit.max(1),
        )
    }
}

#[cfg(feature = "chaos")]
mod on {
    use std::any::Any;
    use std::error::Error as StdError;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::Duration;

    use pin_project_lite::pin_project;

    use super::Refuses;
    use crate::chaos::{armed, Chaos, Drawn};
    use crate::clock::sleep::{sleep, Sleep};
    use crate::registry::Registry;
    use crate::InjectedFault;

    const NOT_BOXED: &str = "a tower layer's error type is generic: it takes an injected error only when it is `tower::BoxError` (`Box<dyn Error + Send + Sync>`), `Box<dyn Error + Send>`, `Box<dyn Error>`, `std::io::Error`, `reqwest_middleware::Error` or `InjectedFault`";

    /// A layer's faults: its name and its registry's table.
    #[derive(Clone, Copy)]
    pub(crate) struct Faults {
        name: &'static str,
        table: &'static Chaos,
    }

    impl core::fmt::Debug for Faults {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_tuple("Faults").field(&self.name).finish()
        }
    }

    impl Faults {
        /// The faults named `name` in `registry`'s table.
        pub(crate) fn new(name: &str, registry: &'static Registry) -> Faults {
            Faults {
                name: crate::names::intern(name),
                table: registry.chaos(),
            }
        }

        /// A call admitted by `instance` (a breaker's permit, a bulkhead's place, a rate
        /// limiter's admission): what its faults decide, `Err` with the pattern's own
        /// refusal for an injected one. `E` is the service's error type.
        #[inline(always)]
        pub(crate) fn draw<E: 'static, P: Refuses>(
            &self,
            instance: &P,
        ) -> Result<Fault, P::Refusal> {
            if !armed() {
                return Ok(Fault::None);
            }
            self.draw_cold::<E>(true)
                .ok_or_else(|| instance.refused_by_fault(self.name))
        }

        /// One run of a hedged call: what its faults decide (a hedge never refuses).
        #[inline(always)]
        pub(crate) fn draw_run<E: 'static>(&self) -> Fault {
            if !armed() {
                return Fault::None;
            }
            self.draw_cold::<E>(false).unwrap_or(Fault::None)
        }

        /// `None` for a refusal.
        #[cold]
        #[inline(never)]
        fn draw_cold<E: 'static>(&self, refuses: bool) -> Option<Fault> {
            let takes_error = if takes_error::<E>() {
                Ok(())
            } else {
                Err(NOT_BOXED)
            };
            match self.table.draw(self.name, takes_error, refuses) {
                Drawn::Pass => Some(Fault::None),
                Drawn::Delay(delay) => Some(Fault::Delay(delay)),
                Drawn::Error => Some(Fault::Error(InjectedFault::new(self.name))),
                Drawn::Refuse => None,
            }
        }
    }

    /// [`Faults::draw`] for a front end that keeps no `Faults` (the middleware): its
    /// name is looked up only while a fault is set.
    #[inline(always)]
    pub(crate) fn draw_named<E: 'static, P: Refuses>(
        name: &str,
        registry: &'static Registry,
        instance: &P,
    ) -> Result<Fault, P::Refusal> {
        if !armed() {
            return Ok(Fault::None);
        }
        Faults::new(name, registry).draw::<E, P>(instance)
    }

    /// What a call's faults decided, short of a refusal.
    #[derive(Debug)]
    pub(crate) enum Fault {
        None,
        Delay(Duration),
        Error(InjectedFault),
    }

    impl Fault {
        /// No fault: the call runs as written.
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) fn none() -> Fault {
            Fault::None
        }

        /// The inner call `call` makes, as the fault says: after an injected latency,
        /// or not at all for an injected error (the inner service is not called).
        #[inline(always)]
        pub(crate) fn gate<Fut>(self, call: impl FnOnce() -> Fut) -> Gated<Fut> {
            let (sleep, fault, call) = match self {
                Fault::None => (None, None, Some(call())),
                Fault::Delay(delay) => (Some(sleep(delay)), None, Some(call())),
                Fault::Error(fault) => (None, Some(fault), None),
            };
            Gated { sleep, fault, call }
        }
    }

    pin_project! {
        /// The inner call, after an injected latency, or an injected error instead.
        pub(crate) struct Gated<Fut> {
            sleep: Option<Sleep>,
            fault: Option<InjectedFault>,
            #[pin]
            call: Option<Fut>,
        }
    }

    impl<Fut> core::fmt::Debug for Gated<Fut> {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Gated")
                .field("delayed", &self.sleep.is_some())
                .field("fault", &self.fault)
                .finish_non_exhaustive()
        }
    }

    impl<Fut, T, E: 'static> Future for Gated<Fut>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        type Output = Result<T, E>;

        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            let this = self.project();
            if let Some(fault) = this.fault.take() {
                return Poll::Ready(Err(into_error::<E>(fault)));
            }
            if let Some(delay) = this.sleep {
                core::task::ready!(Pin::new(delay).poll(cx));
                *this.sleep = None;
            }
            match this.call.as_pin_mut() {
                Some(call) => call.poll(cx),
                None => panic!("a layer's call polled after it completed"),
            }
        }
    }

    /// Whether an injected error fits in `E` (see the module docs).
    fn takes_error<E: 'static>() -> bool {
        use std::any::TypeId;
        [
            TypeId::of::<Box<dyn StdError + Send + Sync>>(),
            TypeId::of::<Box<dyn StdError + Send>>(),
            TypeId::of::<Box<dyn StdError>>(),
            TypeId::of::<std::io::Error>(),
            TypeId::of::<InjectedFault>(),
            #[cfg(feature = "reqwest")]
            TypeId::of::<reqwest_middleware::Error>(),
        ]
        .contains(&TypeId::of::<E>())
    }

    /// `fault` as an `E` that [`takes_error`] accepts.
    fn into_error<E: 'static>(fault: InjectedFault) -> E {
        fn boxed<E: 'static>(error: Box<dyn Any>) -> E {
            match error.downcast::<E>() {
                Ok(error) => *error,
                // `takes_error` let only these types draw an error.
                Err(_) => unreachable!("an injected error for a type that takes none"),
            }
        }
        let any: Box<dyn Any> = if takes::<E, Box<dyn StdError + Send + Sync>>() {
            Box::new(Box::<dyn StdError + Send + Sync>::from(fault))
        } else if takes::<E, Box<dyn StdError + Send>>() {
            Box::new(Box::new(fault) as Box<dyn StdError + Send>)
        } else if takes::<E, Box<dyn StdError>>() {
            Box::new(Box::new(fault) as Box<dyn StdError>)
        } else if takes::<E, std::io::Error>() {
            Box::new(std::io::Error::other(fault))
        } else if cfg!(feature = "reqwest") && !takes::<E, InjectedFault>() {
            middleware_error(fault)
        } else {
            Box::new(fault)
        };
        boxed::<E>(any)
    }

    /// The middleware's error holding `fault` (`takes_error` admits no other type here).
    #[cfg(feature = "reqwest")]
    fn middleware_error(fault: InjectedFault) -> Box<dyn Any> {
        Box::new(reqwest_middleware::Error::middleware(fault))
    }

    #[cfg(not(feature = "reqwest"))]
    fn middleware_error(fault: InjectedFault) -> Box<dyn Any> {
        Box::new(fault)
    }

    fn takes<E: 'static, F: 'static>() -> bool {
        std::any::TypeId::of::<E>() == std::any::TypeId::of::<F>()
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_boxed_errors_io_and_the_fault_itself_take_an_injected_error() {
            let fault = || InjectedFault::new("tower.faults.into");
            let boxed: Box<dyn StdError + Send + Sync> = into_error(fault());
            assert!(boxed.downcast_ref::<InjectedFault>().is_some());
            let io: std::io::Error = into_error(fault());
            assert!(io.get_ref().is_some_and(|e| e.is::<InjectedFault>()));
            let itself: InjectedFault = into_error(fault());
            assert_eq!(itself.site(), "tower.faults.into");
            assert!(takes_error::<Box<dyn StdError>>());
            assert!(!takes_error::<String>());
        }
    }
}

#[cfg(not(feature = "chaos"))]
// The signatures of `on`'s, so the front ends read the same in both builds.
#[allow(clippy::extra_unused_type_parameters)]
mod off {
    use super::Refuses;
    use crate::registry::Registry;

    /// Without the `chaos` feature: nothing.
    #[derive(Clone, Copy, Debug)]
    pub(crate) struct Faults;

    impl Faults {
        #[inline(always)]
        pub(crate) fn new(_: &str, _: &'static Registry) -> Faults {
            Faults
        }

        #[inline(always)]
        pub(crate) fn draw<E: 'static, P: Refuses>(&self, _: &P) -> Result<Fault, P::Refusal> {
            Ok(Fault)
        }

        #[inline(always)]
        pub(crate) fn draw_run<E: 'static>(&self) -> Fault {
            Fault
        }
    }

    #[inline(always)]
    pub(crate) fn draw_named<E: 'static, P: Refuses>(
        _: &str,
        _: &'static Registry,
        _: &P,
    ) -> Result<Fault, P::Refusal> {
        Ok(Fault)
    }

    /// Without the `chaos` feature: nothing.
    #[derive(Debug)]
    pub(crate) struct Fault;

    impl Fault {
        #[cfg_attr(not(test), allow(dead_code))]
        pub(crate) fn none() -> Fault {
            Fault
        }

        #[inline(always)]
        pub(crate) fn gate<Fut>(self, call: impl FnOnce() -> Fut) -> Gated<Fut> {
            call()
        }
    }

    /// Without the `chaos` feature, the call itself.
    pub(crate) type Gated<Fut> = Fut;
}
