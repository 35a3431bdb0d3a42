//! The context scopes at run time, driven by hand as the generated code drives them:
//! nesting, correlation across `.await` on a multi-threaded runtime, isolation of
//! concurrent scopes, restoration after a panic, the `tracing` span, and `fill`.

// The probe is written as the generated code writes it, `(&&&&&Probe::new(e)).view()`:
// with a concrete error type some of those borrows are redundant, by design.
#![allow(clippy::needless_borrow)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use resilience::__private::{Probe, ViewError, ViewMarcus, ViewOpaque};
use resilience::context::{current, Scope, ScopeInfo};
use resilience::{Category, ErrorContext, MarcusError};

#[derive(Debug, thiserror::Error)]
#[error("upstream failed")]
struct WithContext(Box<ErrorContext>);

impl MarcusError for WithContext {
    fn code(&self) -> &'static str {
        "UPSTREAM_FAILED"
    }
    fn category(&self) -> Category {
        Category::Integration
    }
    fn context(&self) -> Option<&ErrorContext> {
        Some(&self.0)
    }
    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        Some(&mut self.0)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("no context slot")]
struct Bare;

impl MarcusError for Bare {
    fn code(&self) -> &'static str {
        "BARE"
    }
    fn category(&self) -> Category {
        Category::Transient
    }
}

#[test]
fn no_scope_outside_every_scope() {
    assert_eq!(current(), None);
}

#[test]
fn nested_scopes_report_the_innermost_operation_and_the_outermost_id() {
    let outer = Scope::new("outer");
    outer.run(|| {
        let o = current().unwrap();
        assert_eq!(o.operation, "outer");
        let (middle, inner) = Scope::new("middle").run(|| {
            let middle = current().unwrap();
            (middle, Scope::new("inner").run(|| current().unwrap()))
        });
        assert_eq!(
            (middle.operation.as_str(), inner.operation.as_str()),
            ("middle", "inner")
        );
        assert_eq!(middle.correlation_id, o.correlation_id);
        assert_eq!(inner.correlation_id, o.correlation_id);
        // Back in the outer scope, unchanged.
        assert_eq!(current().unwrap(), o);
    });
    assert_eq!(current(), None);
}

#[test]
fn sibling_outermost_scopes_have_different_ids_and_an_id_is_stable_within_one() {
    let a = Scope::new("a");
    let first = a.run(|| current().unwrap().correlation_id);
    let again = a.run(|| current().unwrap().correlation_id);
    let b = Scope::new("b").run(|| current().unwrap().correlation_id);
    assert_eq!(first, again);
    assert_ne!(first, b);
}

#[test]
fn errors_created_inside_a_scope_take_its_correlation_id() {
    let scope = Scope::new("create");
    let (ctx, id) = scope.run(|| {
        let id = current().unwrap().correlation_id;
        let inner_ctx = Scope::new("deeper").run(ErrorContext::new);
        (inner_ctx, id)
    });
    assert_eq!(ctx.correlation_id, id);
    assert_ne!(ErrorContext::new().correlation_id, id);
}

#[test]
fn a_panic_inside_a_scope_restores_the_enclosing_one() {
    let outer = Scope::new("outer");
    outer.run(|| {
        let result = std::panic::catch_unwind(|| Scope::new("doomed").run(|| panic!("inside")));
        assert!(result.is_err());
        assert_eq!(current().unwrap().operation, "outer");
    });
    assert_eq!(current(), None);
}

#[test]
fn threads_do_not_see_each_others_scopes() {
    let outer = Scope::new("main_thread");
    outer.run(|| {
        let seen = std::thread::spawn(current).join().unwrap();
        assert_eq!(seen, None);
        let ids: Vec<String> = (0..8)
            .map(|_| {
                std::thread::spawn(|| {
                    Scope::new("worker").run(|| current().unwrap().correlation_id)
                })
            })
            .map(|t| t.join().unwrap())
            .collect();
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
        assert_eq!(current().unwrap().operation, "main_thread");
    });
}

/// One request: an outer scope around nested async scopes, yielding between every step
/// so the task moves between worker threads.
async fn request(n: u32) -> (String, Vec<ScopeInfo>) {
    let outer = Scope::new("request");
    outer
        .run_async(async move {
            let mine = current().unwrap().correlation_id;
            let mut seen = Vec::new();
            for step in 0..5 {
                tokio::task::yield_now().await;
                seen.push(current().unwrap());
                let inner = Scope::new("step");
                let info = inner
                    .run_async(async {
                        tokio::task::yield_now().await;
                        let a = current().unwrap();
                        tokio::task::yield_now().await;
                        let b = current().unwrap();
                        assert_eq!(a, b);
                        a
                    })
                    .await;
                seen.push(info);
                if (n + step).is_multiple_of(3) {
                    // A sync scope nested in an async one.
                    seen.push(Scope::new("sync_step").run(|| current().unwrap()));
                }
            }
            (mine, seen)
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn correlation_survives_await_and_concurrent_scopes_stay_isolated() {
    let tasks: Vec<_> = (0..64).map(|n| tokio::spawn(request(n))).collect();
    let mut ids = HashSet::new();
    for task in tasks {
        let (mine, seen) = task.await.unwrap();
        assert!(seen.len() >= 10);
        for info in &seen {
            assert_eq!(
                info.correlation_id, mine,
                "a scope leaked into another task"
            );
            assert!(["request", "step", "sync_step"].contains(&info.operation.as_str()));
        }
        assert!(ids.insert(mine), "two concurrent requests shared an id");
    }
    assert_eq!(current(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_spawned_inside_a_scope_starts_outside_every_scope() {
    let scope = Scope::new("spawner");
    let inside = scope
        .run_async(async {
            let spawned = tokio::spawn(async { current() }).await.unwrap();
            (current().is_some(), spawned)
        })
        .await;
    assert_eq!(inside, (true, None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_scoped_future_leaves_no_scope_behind() {
    let scope = Scope::new("cancelled");
    let fut = scope.run_async(std::future::pending::<()>());
    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(1), fut).await;
    assert!(timed_out.is_err());
    assert_eq!(current(), None);
}

/// What the generated code does: fill on the `Err` arm only.
fn fill_with(scope: &Scope, outcome: &mut Result<u32, WithContext>, called: &mut bool) {
    if let Err(error) = outcome {
        scope.fill(
            error,
            |e| (&&&&&Probe::new(e)).view(),
            |ctx| {
                *called = true;
                ctx.agent_id = Some("agent-7".into());
            },
        );
    }
}

#[test]
fn fill_sets_operation_correlation_and_calls_the_closure_on_err() {
    let scope = Scope::new("fill_op");
    let mut outcome = Err(WithContext(Box::new(ErrorContext::new())));
    let mut called = false;
    fill_with(&scope, &mut outcome, &mut called);
    let ctx = *outcome.unwrap_err().0;
    assert!(called);
    assert_eq!(ctx.operation, "fill_op");
    assert_eq!(ctx.agent_id.as_deref(), Some("agent-7"));
    // Outside any enclosing scope, the id is this scope's own, stable one.
    assert_eq!(
        ctx.correlation_id,
        scope.run(|| current().unwrap().correlation_id)
    );
}

#[test]
fn fill_keeps_an_operation_already_set_and_uses_the_outermost_id() {
    let outer = Scope::new("outer");
    let (ctx, outer_id) = outer.run(|| {
        let inner = Scope::new("inner");
        let mut outcome: Result<u32, _> = Err(WithContext(Box::new(ErrorContext::for_operation(
            "set_by_body",
        ))));
        let mut called = false;
        fill_with(&inner, &mut outcome, &mut called);
        assert!(called);
        (*outcome.unwrap_err().0, current().unwrap().correlation_id)
    });
    assert_eq!(ctx.operation, "set_by_body");
    assert_eq!(ctx.correlation_id, outer_id);
}

#[test]
fn fill_does_nothing_without_a_context() {
    let scope = Scope::new("quiet");
    let mut bare = Bare;
    scope.fill(
        &mut bare,
        |e| (&&&&&Probe::new(e)).view(),
        |_| panic!("not called without a context"),
    );
    let mut plain = std::io::Error::other("x");
    scope.fill(
        &mut plain,
        |e| (&&&&&Probe::new(e)).view(),
        |_| panic!("not called for a std error"),
    );
    let mut opaque = String::from("x");
    scope.fill(
        &mut opaque,
        |e| (&&&&&Probe::new(e)).view(),
        |_| panic!("not called for an opaque error"),
    );
}

/// Captures the `correlation_id` recorded into `error_context` spans.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(String, String)>>>);

impl<S> tracing_subscriber::Layer<S> for Recorded
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    fn on_record(
        &self,
        span: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: tracing_subscriber::layer::Context<'_, S>,
    ) {
        struct Visit(Option<String>);
        impl tracing::field::Visit for Visit {
            fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                if field.name() == "correlation_id" {
                    self.0 = Some(value.to_owned());
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut visit = Visit(None);
        values.record(&mut visit);
        if let (Some(id), Some(meta)) = (visit.0, ctx.metadata(span)) {
            self.0.lock().unwrap().push((meta.name().to_owned(), id));
        }
    }
}

#[test]
fn the_scope_span_carries_the_outermost_correlation_id() {
    use tracing_subscriber::layer::SubscriberExt;

    let recorded = Recorded::default();
    let subscriber = tracing_subscriber::registry().with(recorded.clone());
    let id = tracing::subscriber::with_default(subscriber, || {
        Scope::new("traced_outer").run(|| {
            Scope::new("traced_inner").run(|| ());
            current().unwrap().correlation_id
        })
    });
    let recorded = recorded.0.lock().unwrap().clone();
    assert_eq!(
        recorded,
        vec![
            ("error_context".to_owned(), id.clone()),
            ("error_context".to_owned(), id)
        ]
    );
}

/// Counts the allocations of the watching thread only (the harness allocates on its own).
struct Counting;

thread_local! {
    static WATCHED: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = WATCHED.try_with(|w| w.set(w.get().map(|n| n + 1)));
        // SAFETY: the caller's contract is passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    WATCHED.with(|w| w.set(Some(0)));
    let r = f();
    let n = WATCHED.with(|w| w.replace(None)).unwrap_or(0);
    (r, n)
}

#[test]
fn the_counter_sees_allocations() {
    let (_, n) = allocations_during(|| std::hint::black_box(Box::new(1)));
    assert_eq!(n, 1);
}

#[test]
fn scopes_on_the_success_path_allocate_nothing() {
    use resilience::__private::observe;

    fn body(x: u32) -> Result<u32, WithContext> {
        Ok(x + 1)
    }
    // Warm up: the thread-local and tracing's callsite registration.
    let _ = Scope::new("warm").run(|| body(0));

    let (value, n) = allocations_during(|| {
        let outer = Scope::new("outer");
        outer.run(|| {
            let inner = Scope::new("inner");
            // The generated code's shape: the error arms never run on `Ok`.
            match inner.run(|| body(1)) {
                Ok(value) => Ok(value),
                Err(mut error) => {
                    inner.fill(
                        &mut error,
                        |e| (&&&&&Probe::new(e)).view(),
                        |ctx| ctx.agent_id = Some(String::from("never built on Ok")),
                    );
                    observe(&mut error, "inner", |e| (&&&&&Probe::new(e)).view());
                    Err(error)
                }
            }
        })
    });
    assert_eq!((value.unwrap(), n), (2, 0));

    let (value, n) = allocations_during(|| {
        let scope = Scope::new("async");
        let mut fut = std::pin::pin!(scope.run_async(async {
            let inner = Scope::new("inner_async");
            inner.run_async(async { body(41) }).await
        }));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        std::future::Future::poll(fut.as_mut(), &mut cx)
    });
    assert!(matches!(value, std::task::Poll::Ready(Ok(42))));
    assert_eq!(n, 0);
}
