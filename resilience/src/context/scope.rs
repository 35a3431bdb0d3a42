//! The call site of `#[error_context]`: the [`Scope`] its generated code opens.
//!
//! The generated code opens a [`Scope`] in the function's body, runs the original body in
//! it ([`Scope::run`] or [`Scope::run_async`]), then, on `Err`, calls
//! [`Scope::failed`] (told what to do by a [`ContextArm`]), which writes the error's
//! context. A scope is made per call, not held in a `static`: it is the call's place in
//! the chain of scopes.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::OnceLock;

use super::stack;
use crate::monitor::observe::Observe;
use crate::view::View;
use crate::ErrorContext;

/// What [`Scope::failed`] is told by the call site. (The error's view is an
/// argument of its own: a closure in a struct field would not be inferred as taking a
/// reference of any lifetime.)
pub struct ContextArm<F> {
    /// Whether this layer records the error in the monitor.
    pub observe: Observe,
    /// Writes the attribute's keys into the error's context.
    pub fill: F,
}

/// One `#[error_context]` scope: an operation name, a lazily generated correlation id and
/// a `tracing` span named `error_context`.
///
/// Usable by hand where the attribute does not fit (a closure, a block):
///
/// ```
/// use resilience::context::{self, Scope};
///
/// let scope = Scope::new("nightly_import");
/// let seen = scope.run(|| context::current().map(|s| s.operation));
/// assert_eq!(seen.as_deref(), Some("nightly_import"));
/// ```
#[derive(Debug)]
#[must_use = "a scope does nothing until code runs in it"]
pub struct Scope {
    operation: &'static str,
    /// This scope's own id, generated on first use; only read while it is the outermost.
    correlation_id: OnceLock<String>,
    span: tracing::Span,
}

impl Scope {
    /// A scope for `operation`. Cheap: no allocation, no system call (the span is a no-op
    /// unless a subscriber is interested in it).
    ///
    /// ```
    /// let scope = resilience::context::Scope::new("fetch_board");
    /// assert_eq!(scope.operation(), "fetch_board");
    /// ```
    #[inline]
    pub fn new(operation: &'static str) -> Scope {
        Scope {
            operation,
            correlation_id: OnceLock::new(),
            span: tracing::info_span!(
                "error_context",
                operation = operation,
                correlation_id = tracing::field::Empty
            ),
        }
    }

    /// The operation this scope was opened for.
    ///
    /// ```
    /// assert_eq!(resilience::context::Scope::new("x").operation(), "x");
    /// ```
    #[inline]
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// Runs `f` with this scope current (and its span entered); the previous scope is
    /// current again afterwards, also if `f` panics.
    ///
    /// ```
    /// use resilience::context::{current, Scope};
    ///
    /// let n = Scope::new("count").run(|| { assert!(current().is_some()); 3 });
    /// assert_eq!(n, 3);
    /// assert!(current().is_none());
    /// ```
    #[inline]
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let _entered = self.span.enter();
        stack::enter(self, || {
            self.record_correlation_id();
            f()
        })
    }

    /// Wraps `fut` so this scope is current (and its span entered) during each of its
    /// polls, on whichever thread polls it, as `tracing`'s `Instrumented` does.
    ///
    /// ```
    /// use resilience::context::{current, Scope};
    ///
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let scope = Scope::new("upload");
    /// let op = scope
    ///     .run_async(async {
    ///         tokio::task::yield_now().await;
    ///         current().map(|s| s.operation)
    ///     })
    ///     .await;
    /// assert_eq!(op.as_deref(), Some("upload"));
    /// # }
    /// ```
    #[inline]
    pub fn run_async<F: Future>(&self, fut: F) -> impl Future<Output = F::Output> + use<'_, F> {
        InScope {
            scope: self,
            recorded: false,
            fut,
        }
    }

    /// If `error` carries a context, sets its `operation` (if empty) to this scope's, its
    /// `correlation_id` to the outermost current scope's (this one's outside every other
    /// scope), then calls `fill` for the attribute's other keys. For an error without a
    /// context it does nothing and `fill` is not called.
    ///
    /// ```
    /// use resilience::__private::{Probe, ViewError, ViewMarcus, ViewOpaque};
    /// use resilience::context::Scope;
    /// use resilience::{Category, ErrorContext, MarcusError};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("slow")]
    /// struct Slow(ErrorContext);
    ///
    /// impl MarcusError for Slow {
    ///     fn code(&self) -> &'static str { "SLOW" }
    ///     fn category(&self) -> Category { Category::Transient }
    ///     fn context(&self) -> Option<&ErrorContext> { Some(&self.0) }
    ///     fn context_mut(&mut self) -> Option<&mut ErrorContext> { Some(&mut self.0) }
    /// }
    ///
    /// let scope = Scope::new("fetch");
    /// let mut error = Slow(ErrorContext::new());
    /// scope.fill(&mut error, |e| (&&&&&Probe::new(e)).view(), |ctx| {
    ///     ctx.agent_id = Some("agent-1".into());
    /// });
    /// let ctx = error.0;
    /// assert_eq!((ctx.operation.as_str(), ctx.agent_id.as_deref()), ("fetch", Some("agent-1")));
    /// ```
    #[doc(hidden)] // takes the runtime's view of an error, not a public type
    #[inline]
    pub fn fill<E>(
        &self,
        error: &mut E,
        view: impl for<'a> FnOnce(&'a mut E) -> View<'a>,
        fill: impl FnOnce(&mut ErrorContext),
    ) {
        self.fill_view(view(error), fill);
    }

    /// The `Err` arm of `#[error_context]`: [`fill`](Self::fill)s `error` (the
    /// attribute's keys through `arm.fill`), records it in the monitor if this layer is the
    /// one that does (`arm.observe`), and gives it back. Out of line and by value, so the
    /// decorated function's success path stays small.
    ///
    /// ```
    /// use resilience::__private::{ContextArm, Observe, View};
    /// use resilience::context::Scope;
    ///
    /// let scope = Scope::new("fetch");
    /// let arm = ContextArm { observe: Observe::Skip, fill: |_: &mut resilience::ErrorContext| {} };
    /// assert_eq!(scope.failed(String::from("down"), |_| View::Opaque("String"), arm), "down");
    /// ```
    #[doc(hidden)] // the generated code's, through `__private`
    #[cold]
    #[inline(never)]
    pub fn failed<E, F>(
        &self,
        mut error: E,
        view: impl for<'a> Fn(&'a mut E) -> View<'a>,
        arm: ContextArm<F>,
    ) -> E
    where
        F: FnOnce(&mut ErrorContext),
    {
        let has_slot = view(&mut error).context_mut().is_some();
        if has_slot {
            self.fill(&mut error, &view, arm.fill);
            arm.observe.error(&mut error, view);
            return error;
        }
        // No slot to write into (a `#[from]` variant, a foreign error): the scope's
        // context still goes to the error's monitor record and to a tracing event.
        let mut ctx = ErrorContext::new();
        self.apply(&mut ctx);
        (arm.fill)(&mut ctx);
        {
            let view = view(&mut error);
            let _entered = self.span.enter();
            tracing::debug!(
                target: "resilience::context",
                operation = %ctx.operation,
                correlation_id = %ctx.correlation_id,
                agent_id = ctx.agent_id.as_deref(),
                task_id = ctx.task_id.as_deref(),
                integration = ctx.integration_name.as_deref(),
                custom = %serde_json::Value::Object(ctx.custom.clone()),
                code = view.kind(),
                "error without a context slot; the scope's context is recorded beside it"
            );
        }
        if let crate::monitor::observe::Observe::Record(function) = arm.observe {
            crate::monitor::observe::observe_in(&mut error, function, view, &ctx);
        }
        error
    }

    #[cold]
    fn fill_view(&self, mut view: View<'_>, fill: impl FnOnce(&mut ErrorContext)) {
        let Some(ctx) = view.context_mut() else {
            return;
        };
        self.apply(ctx);
        fill(ctx);
    }

    /// This scope's operation (if `ctx` has none) and correlation id, into `ctx`.
    fn apply(&self, ctx: &mut ErrorContext) {
        if ctx.operation.is_empty() {
            self.operation.clone_into(&mut ctx.operation);
        }
        match stack::with_chain(|_, outermost| {
            outermost
                .own_correlation_id()
                .clone_into(&mut ctx.correlation_id)
        }) {
            Some(()) => {}
            None => self
                .own_correlation_id()
                .clone_into(&mut ctx.correlation_id),
        }
    }

    /// This scope's own id, generated on first use.
    pub(super) fn own_correlation_id(&self) -> &str {
        self.correlation_id.get_or_init(super::new_id)
    }

    /// Writes the outermost scope's id into this span, only if someone listens: an id
    /// costs an allocation and a random number.
    fn record_correlation_id(&self) {
        if !self.span.is_disabled() {
            stack::with_chain(|_, outermost| {
                self.span
                    .record("correlation_id", outermost.own_correlation_id());
            });
        }
    }
}

/// The future of [`Scope::run_async`].
struct InScope<'a, F> {
    scope: &'a Scope,
    recorded: bool,
    fut: F,
}

impl<F: Future> Future for InScope<'_, F> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of `fut`: it is never moved out of `self`, `InScope`
        // has no `Drop` impl and no manual `Unpin` impl (it is `Unpin` only if `F` is),
        // and the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `fut` stays where it is for as long as `self` is pinned.
        let fut = unsafe { Pin::new_unchecked(&mut this.fut) };
        let scope = this.scope;
        let recorded = &mut this.recorded;
        let _entered = scope.span.enter();
        stack::enter(scope, || {
            if !*recorded {
                *recorded = true;
                scope.record_correlation_id();
            }
            fut.poll(cx)
        })
    }
}
