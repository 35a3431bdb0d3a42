//! `#[error_context]`'s error arm: what a [`Scope`] does with an error its body
//! returned. It writes the scope's operation and correlation id and the attribute's keys
//! into the error's context, and records the error in the monitor when this layer is the
//! one that does.
//!
//! The scope itself (`context/scope.rs`) knows nothing of errors; this arm is an `impl`
//! of it here, beside the other call sites, so `context` never depends on `error` or
//! the monitor.

use crate::context::Scope;
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

impl Scope {
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
            let _entered = self.span().enter();
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
            self.operation().clone_into(&mut ctx.operation);
        }
        self.correlation_id_into(&mut ctx.correlation_id);
    }
}
