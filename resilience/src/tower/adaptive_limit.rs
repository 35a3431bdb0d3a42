//! [`AdaptiveLimitLayer`]: a service behind the adaptive limit of the same name as
//! `#[adaptive_limit]`'s, in the registry; the outcome of each call (its response, or
//! its error by the same rule as the attribute's, `is_drop`) adapts the limit.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::adaptive_limit::{
    AdaptiveLimitConfig, AdaptiveLimiter, AdaptivePermit, Overloaded, Priority, Wait,
};
use crate::classification::Classify;
use crate::pattern::Pattern;
use crate::registry::clash::Clash;
use crate::registry::Registry;
use crate::ConfigError;

/// Which responses (`Ok`s) mean overload ([`AdaptiveLimitLayer::overload_if`]): an HTTP
/// 429 or 503, say. Implemented by every `Fn(&Response) -> bool`.
///
/// ```
/// use resilience::tower::{NoResponseOverloads, OverloadIf};
/// assert!(!NoResponseOverloads.is_overload(&503));
/// assert!((|status: &u16| *status == 503).is_overload(&503));
/// ```
pub trait OverloadIf<Res> {
    /// Whether `response` says the dependency is over its capacity.
    fn is_overload(&self, response: &Res) -> bool;
}

impl<Res, F: Fn(&Res) -> bool> OverloadIf<Res> for F {
    #[inline]
    fn is_overload(&self, response: &Res) -> bool {
        self(response)
    }
}

/// The default of [`AdaptiveLimitLayer`]: no response means overload (only errors can).
///
/// ```
/// use resilience::tower::{NoResponseOverloads, OverloadIf};
/// assert!(!NoResponseOverloads.is_overload(&"any response"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoResponseOverloads;

impl<Res> OverloadIf<Res> for NoResponseOverloads {
    #[inline]
    fn is_overload(&self, _: &Res) -> bool {
        false
    }
}

/// A request's priority ([`AdaptiveLimitLayer::priority`]). Implemented by every
/// `Fn(&Request) -> Priority`.
///
/// ```
/// use resilience::tower::{NormalPriority, PriorityOf};
/// use resilience::Priority;
/// assert_eq!(NormalPriority.priority(&"request"), Priority::Normal);
/// assert_eq!((|_: &u8| Priority::High).priority(&1), Priority::High);
/// ```
pub trait PriorityOf<Req> {
    /// The priority of `request`.
    fn priority(&self, request: &Req) -> Priority;
}

impl<Req, F: Fn(&Req) -> Priority> PriorityOf<Req> for F {
    #[inline]
    fn priority(&self, request: &Req) -> Priority {
        self(request)
    }
}

/// The default of [`AdaptiveLimitLayer`]: every request is [`Priority::Normal`].
///
/// ```
/// use resilience::tower::{NormalPriority, PriorityOf};
/// assert_eq!(NormalPriority.priority(&()), resilience::Priority::Normal);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NormalPriority;

impl<Req> PriorityOf<Req> for NormalPriority {
    #[inline]
    fn priority(&self, _: &Req) -> Priority {
        Priority::Normal
    }
}

/// Puts a service behind the adaptive limit `name` of the global
/// [`registry`](crate::registry()) (or [`registry`](AdaptiveLimitLayer::registry)'s):
/// the one a `#[adaptive_limit(name = "...")]` of the same name uses, so the two count
/// their calls together and adapt one limit.
///
/// A call takes a place before the inner service is called and holds it until its
/// response future completes or is dropped. Over the limit, `call` answers
/// `Err(E::from(Overloaded { .. }))` without calling the inner service, at once or after
/// waiting up to `max_wait` (served by [`priority`](AdaptiveLimitLayer::priority));
/// `poll_ready` stays the inner service's. An error the rule calls a drop
/// ([`Classify`]: its verdict's `overload`), or a response [`overload_if`](AdaptiveLimitLayer::overload_if) says
/// so, lowers the limit; a call dropped before it ends is not measured.
///
/// ```
/// use resilience::tower::AdaptiveLimitLayer;
/// use resilience::{AdaptiveLimitConfig, Overloaded};
/// use tower::{service_fn, BoxError, Layer, Service, ServiceExt};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let layer = AdaptiveLimitLayer::new("docs.adaptive_layer")
///     .config(AdaptiveLimitConfig { min_limit: 1, max_limit: 1, initial_limit: 1, ..Default::default() });
/// let mut svc = layer.layer(service_fn(|x: u8| async move { Ok::<_, BoxError>(x) }));
/// let running = svc.ready().await.unwrap().call(1); // holds the only place
/// let refused = svc.ready().await.unwrap().call(2).await.unwrap_err();
/// assert!(refused.downcast_ref::<Overloaded>().is_some());
/// assert_eq!(running.await.unwrap(), 1);
/// assert_eq!(svc.oneshot(3).await.unwrap(), 3);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct AdaptiveLimitLayer<P = NormalPriority, O = NoResponseOverloads> {
    limiter: &'static AdaptiveLimiter,
    registry: &'static Registry,
    /// Whether this layer registered the name (no code had before it): then its
    /// [`config`](AdaptiveLimitLayer::config) is the name's; else a differing one clashes.
    first: bool,
    priority: P,
    overload_if: O,
}

impl AdaptiveLimitLayer {
    /// The adaptive limit `name` of the global registry, made with the defaults if new
    /// (a configuration the registry was given for the name wins).
    ///
    /// ```
    /// let layer = resilience::tower::AdaptiveLimitLayer::new("docs.adaptive_layer.new");
    /// assert_eq!(layer.limiter().name(), "docs.adaptive_layer.new");
    /// ```
    pub fn new(name: &str) -> AdaptiveLimitLayer {
        AdaptiveLimitLayer::in_registry(crate::registry(), name, None)
    }

    fn in_registry(
        registry: &'static Registry,
        name: &str,
        config: Option<AdaptiveLimitConfig>,
    ) -> AdaptiveLimitLayer {
        let first = !registry.table::<AdaptiveLimiter>().registered_by_code(name);
        let limiter = registry.adaptive_limit_or_insert(name, config.unwrap_or_default());
        AdaptiveLimitLayer {
            limiter: super::pin(limiter),
            registry,
            first,
            priority: NormalPriority,
            overload_if: NoResponseOverloads,
        }
    }
}

impl<P, O> AdaptiveLimitLayer<P, O> {
    /// The limit's configuration, the code's for the name (a configuration file's fields
    /// lie over it, and one given to `configure_adaptive_limit` wins). A name has one
    /// configuration: when other code (an attribute, another layer) registered the name
    /// before this layer was made, with another, that one stays and this one does not
    /// apply, which a WARN (target `resilience::tower`, once per name) says, naming the
    /// fields that differ. An invalid one is logged and ignored. Use
    /// [`try_config`](Self::try_config) to get either as an error.
    ///
    /// ```
    /// use resilience::{tower::AdaptiveLimitLayer, AdaptiveLimitConfig};
    /// let layer = AdaptiveLimitLayer::new("docs.adaptive_layer.config")
    ///     .config(AdaptiveLimitConfig { initial_limit: 4, ..Default::default() });
    /// assert_eq!(layer.limiter().limit(), 4);
    /// ```
    pub fn config(self, config: AdaptiveLimitConfig) -> Self {
        let name = self.limiter.name();
        match self.apply(config) {
            Ok(()) => {}
            Err(Refused::Invalid(error)) => {
                tracing::error!(target: "resilience::tower", name, %error, "invalid AdaptiveLimitLayer configuration; the limit keeps its own");
            }
            Err(Refused::Clash(clash)) => {
                if self.registry.table::<AdaptiveLimiter>().report_clash(name) {
                    tracing::warn!(
                        target: "resilience::tower",
                        name,
                        layer = "AdaptiveLimitLayer",
                        fields = clash.fields_text(),
                        kept = ?clash.kept,
                        ignored = ?clash.given,
                        "the name is already registered by other code (an attribute or another layer) with another configuration, which stays; this layer's does not apply (give it another name, or configure the name in the registry)"
                    );
                }
            }
        }
        self
    }

    /// Makes `config` the name's code configuration if this layer registered the name;
    /// else it must be the one the name has.
    fn apply(&self, config: AdaptiveLimitConfig) -> Result<(), Refused> {
        config.validate().map_err(Refused::Invalid)?;
        let table = self.registry.table::<AdaptiveLimiter>();
        if self.first {
            return table
                .reregister(self.limiter.name(), config)
                .map_err(Refused::Invalid);
        }
        match table.clash(self.limiter.name(), |_| config) {
            Some(clash) => Err(Refused::Clash(clash)),
            None => Ok(()),
        }
    }

    /// [`config`](Self::config), with the error of an invalid configuration, or of one
    /// that does not apply (naming the first field that differs from the name's).
    ///
    /// ```
    /// use resilience::{tower::AdaptiveLimitLayer, AdaptiveLimitConfig};
    /// let err = AdaptiveLimitLayer::new("docs.adaptive_layer.try")
    ///     .try_config(AdaptiveLimitConfig { max_limit: 0, ..Default::default() })
    ///     .unwrap_err();
    /// assert_eq!(err.field(), "max_limit");
    /// ```
    pub fn try_config(self, config: AdaptiveLimitConfig) -> Result<Self, ConfigError> {
        match self.apply(config) {
            Ok(()) => Ok(self),
            Err(Refused::Invalid(error)) => Err(error),
            Err(Refused::Clash(clash)) => {
                Err(clash.error(<AdaptiveLimiter as Pattern>::KIND, self.limiter.name()))
            }
        }
    }

    /// The limit `name` of `registry` instead of the global one.
    ///
    /// ```
    /// use resilience::{registry::Registry, tower::AdaptiveLimitLayer};
    /// static REG: std::sync::LazyLock<Registry> = std::sync::LazyLock::new(Registry::new);
    /// let layer = AdaptiveLimitLayer::new("docs.adaptive_layer.reg").registry(&REG);
    /// assert!(REG.adaptive_limit("docs.adaptive_layer.reg").is_some());
    /// ```
    pub fn registry(self, registry: &'static Registry) -> Self {
        let config = self.limiter.config();
        let first = !registry
            .table::<AdaptiveLimiter>()
            .registered_by_code(self.limiter.name());
        let limiter = registry.adaptive_limit_or_insert(self.limiter.name(), config);
        AdaptiveLimitLayer {
            limiter: super::pin(limiter),
            registry,
            first,
            ..self
        }
    }

    /// Each request's priority: the waiting calls of a higher one are served first.
    ///
    /// ```
    /// use resilience::{tower::AdaptiveLimitLayer, Priority};
    /// let layer = AdaptiveLimitLayer::new("docs.adaptive_layer.priority")
    ///     .priority(|path: &&str| if path.starts_with("/health") { Priority::Critical } else { Priority::Normal });
    /// # let _ = layer;
    /// ```
    pub fn priority<Q>(self, priority: Q) -> AdaptiveLimitLayer<Q, O> {
        AdaptiveLimitLayer {
            limiter: self.limiter,
            registry: self.registry,
            first: self.first,
            priority,
            overload_if: self.overload_if,
        }
    }

    /// Which responses mean overload, as an error the rule calls a drop does (with HTTP:
    /// `|res: &http::Response<_>| matches!(res.status().as_u16(), 429 | 503)`).
    ///
    /// ```
    /// use resilience::tower::AdaptiveLimitLayer;
    /// let layer = AdaptiveLimitLayer::new("docs.adaptive_layer.overload_if")
    ///     .overload_if(|status: &u16| matches!(status, 429 | 503));
    /// # let _ = layer;
    /// ```
    pub fn overload_if<G>(self, overload_if: G) -> AdaptiveLimitLayer<P, G> {
        AdaptiveLimitLayer {
            limiter: self.limiter,
            registry: self.registry,
            first: self.first,
            priority: self.priority,
            overload_if,
        }
    }

    /// The limiter the layer's services call through.
    ///
    /// ```
    /// let layer = resilience::tower::AdaptiveLimitLayer::new("docs.adaptive_layer.limiter");
    /// assert_eq!(layer.limiter().in_flight(), 0);
    /// ```
    pub fn limiter(&self) -> &'static AdaptiveLimiter {
        self.limiter
    }
}

/// Why a layer's configuration was not applied.
enum Refused {
    Invalid(ConfigError),
    Clash(Clash<AdaptiveLimitConfig>),
}

impl<S, P: Clone, O: Clone> Layer<S> for AdaptiveLimitLayer<P, O> {
    type Service = AdaptiveLimitService<S, P, O>;

    fn layer(&self, inner: S) -> Self::Service {
        AdaptiveLimitService {
            inner,
            limiter: self.limiter,
            priority: self.priority.clone(),
            overload_if: self.overload_if.clone(),
        }
    }
}

/// The service of [`AdaptiveLimitLayer`].
///
/// ```
/// use resilience::tower::AdaptiveLimitLayer;
/// use tower::Layer;
/// let svc = AdaptiveLimitLayer::new("docs.adaptive_service").layer(());
/// assert_eq!(svc.limiter().name(), "docs.adaptive_service");
/// ```
#[derive(Clone, Debug)]
pub struct AdaptiveLimitService<S, P = NormalPriority, O = NoResponseOverloads> {
    inner: S,
    limiter: &'static AdaptiveLimiter,
    priority: P,
    overload_if: O,
}

impl<S, P, O> AdaptiveLimitService<S, P, O> {
    /// The limiter this service calls through.
    ///
    /// ```
    /// use resilience::tower::AdaptiveLimitLayer;
    /// use tower::Layer;
    /// assert_eq!(AdaptiveLimitLayer::new("docs.adaptive_service.of").layer(()).limiter().in_flight(), 0);
    /// ```
    pub fn limiter(&self) -> &'static AdaptiveLimiter {
        self.limiter
    }
}

impl<S, P, O, Req> Service<Req> for AdaptiveLimitService<S, P, O>
where
    S: Service<Req> + Clone,
    S::Error: From<Overloaded> + Classify,
    P: PriorityOf<Req>,
    O: OverloadIf<S::Response> + Clone,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S, Req, O>;

    /// The inner service's readiness: a reached limit never fails it.
    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    /// HOT PATH: with a place free, what the limiter's `try_acquire` costs; nothing is
    /// allocated.
    #[inline]
    fn call(&mut self, req: Req) -> Self::Future {
        let overload_if = self.overload_if.clone();
        if let Some(permit) = self.limiter.try_acquire() {
            return ResponseFuture {
                state: State::Running {
                    call: self.inner.call(req),
                    permit: Some(permit),
                },
                overload_if,
            };
        }
        let priority = self.priority.priority(&req);
        wait(&mut self.inner, self.limiter, priority, req, overload_if)
    }
}

/// No place free: refuse at once, or move the readied service into the future (a clone
/// is left in its place) to call it once a place frees.
#[cold]
fn wait<S: Service<Req> + Clone, Req, O>(
    inner: &mut S,
    limiter: &'static AdaptiveLimiter,
    priority: Priority,
    req: Req,
    overload_if: O,
) -> ResponseFuture<S, Req, O> {
    if limiter.config().max_wait.is_zero() {
        return ResponseFuture {
            state: State::Refused {
                refusal: Some(limiter.refuse(priority, Duration::ZERO)),
            },
            overload_if,
        };
    }
    let clone = inner.clone();
    let service = core::mem::replace(inner, clone);
    ResponseFuture {
        state: State::Waiting {
            wait: limiter.wait(priority),
            service: Some(service),
            req: Some(req),
        },
        overload_if,
    }
}

pin_project! {
    /// The response future of [`AdaptiveLimitService`]: the inner call with its place
    /// (told how the call ended), a call waiting for one, or the refusal.
    pub struct ResponseFuture<S, Req, O>
    where
        S: Service<Req>,
    {
        #[pin]
        state: State<S, Req>,
        overload_if: O,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, Req>
    where
        S: Service<Req>,
    {
        Running { #[pin] call: S::Future, permit: Option<AdaptivePermit<'static>> },
        Waiting { wait: Wait<'static>, service: Option<S>, req: Option<Req> },
        Refused { refusal: Option<Overloaded> },
    }
}

impl<S: Service<Req>, Req, O> core::fmt::Debug for ResponseFuture<S, Req, O> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let state = match &self.state {
            State::Running { .. } => "Running",
            State::Waiting { .. } => "Waiting",
            State::Refused { .. } => "Refused",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<S, Req, O> Future for ResponseFuture<S, Req, O>
where
    S: Service<Req>,
    S::Error: From<Overloaded> + Classify,
    O: OverloadIf<S::Response>,
{
    type Output = Result<S::Response, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state.as_mut().project() {
                StateProj::Running { call, permit } => {
                    let outcome = core::task::ready!(call.poll(cx));
                    if let Some(permit) = permit.take() {
                        let dropped = match &outcome {
                            Ok(response) => this.overload_if.is_overload(response),
                            Err(error) => error.verdict().overload,
                        };
                        permit.record(dropped);
                    }
                    return Poll::Ready(outcome);
                }
                StateProj::Waiting { wait, service, req } => {
                    // `Wait` is `Unpin` (its timer is boxed).
                    match core::task::ready!(Pin::new(wait).poll(cx)) {
                        Ok(permit) => {
                            let (Some(mut service), Some(req)) = (service.take(), req.take())
                            else {
                                panic!("an AdaptiveLimitService future polled after it completed");
                            };
                            let call = service.call(req);
                            this.state.set(State::Running {
                                call,
                                permit: Some(permit),
                            });
                        }
                        Err(refusal) => return Poll::Ready(Err(S::Error::from(refusal))),
                    }
                }
                StateProj::Refused { refusal } => {
                    let refusal = refusal
                        .take()
                        .expect("an AdaptiveLimitService future polled after it completed");
                    return Poll::Ready(Err(S::Error::from(refusal)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    use super::*;
    use crate::__private::AdaptiveLimitSite;

    fn fixed(limit: u32, max_wait: Duration) -> AdaptiveLimitConfig {
        AdaptiveLimitConfig {
            min_limit: limit,
            max_limit: limit,
            initial_limit: limit,
            max_wait,
            ..Default::default()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_call_runs_when_a_place_frees_and_a_dropped_one_gives_it_back() {
        let mut svc = AdaptiveLimitLayer::new("tower.adaptive.waits")
            .config(fixed(1, Duration::from_secs(60)))
            .layer(service_fn(|ms: u64| async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<_, BoxError>(ms)
            }));
        let first = svc.ready().await.unwrap().call(30);
        let second = svc.ready().await.unwrap().call(5);
        let start = tokio::time::Instant::now();
        let (a, b) = tokio::join!(first, second);
        assert_eq!((a.unwrap(), b.unwrap()), (30, 5));
        assert_eq!(start.elapsed(), Duration::from_millis(35));
        let l = svc.limiter();
        let mut held = Box::pin(svc.ready().await.unwrap().call(1000));
        assert!(super::super::is_pending(&mut held).await);
        let mut waiting = Box::pin(svc.ready().await.unwrap().call(1));
        assert!(super::super::is_pending(&mut waiting).await);
        assert_eq!(l.snapshot().waiting, 1);
        drop(waiting);
        drop(held);
        assert_eq!((l.in_flight(), l.snapshot().waiting), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn overloaded_responses_and_errors_are_drops() {
        let svc = AdaptiveLimitLayer::new("tower.adaptive.drops")
            .config(AdaptiveLimitConfig {
                algorithm: crate::adaptive_limit::Algorithm::Aimd,
                min_limit: 1,
                initial_limit: 10,
                ..Default::default()
            })
            .overload_if(|status: &u16| *status == 503)
            .layer(service_fn(|status: u16| async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                if status == 0 {
                    Err::<u16, BoxError>("request timed out".into())
                } else {
                    Ok(status)
                }
            }));
        let l = svc.limiter();
        for status in [503u16, 0] {
            let before = l.limit();
            // Ten calls at a time so the window closes; all dropped.
            let calls: Vec<_> = (0..10).map(|_| svc.clone().oneshot(status)).collect();
            for r in futures_join(calls).await {
                let _ = r;
            }
            assert!(l.limit() < before, "{status}: {} !< {before}", l.limit());
        }
    }

    async fn futures_join<F: Future>(calls: Vec<F>) -> Vec<F::Output> {
        let handles: Vec<_> = calls.into_iter().map(Box::pin).collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await);
        }
        out
    }

    #[test]
    fn a_layer_and_an_attribute_of_one_name_share_the_limit() {
        fn init() -> AdaptiveLimitConfig {
            AdaptiveLimitConfig {
                initial_limit: 7,
                ..Default::default()
            }
        }
        static SITE: AdaptiveLimitSite = AdaptiveLimitSite::new("tower.adaptive.shared", init);
        let attribute = SITE.instance();
        let layer = AdaptiveLimitLayer::new("tower.adaptive.shared");
        assert!(std::ptr::eq(attribute, layer.limiter()));
        assert_eq!(layer.limiter().limit(), 7);
    }
}
