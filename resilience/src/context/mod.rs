//! Error-context scopes: which operation is running, and the correlation id that ties
//! together every error raised inside one outermost scope.
//!
//! `#[error_context("op", ..)]` opens a [`Scope`] around a function's body. While the body
//! runs (a sync call, or each poll of an `async fn`), the scope is the *current* one on
//! that thread; [`current()`] describes it. Scopes nest: an inner scope reports the
//! **outermost** scope's correlation id, so every error of one request shares it, on one
//! thread and across `.await` on a multi-threaded runtime. Concurrent scopes (other tasks,
//! other threads) never see each other: a spawned task starts outside every scope, as with
//! `tracing` spans.
//!
//! ```
//! use resilience::context::{self, Scope};
//!
//! assert!(context::current().is_none());
//! let outer = Scope::new("import");
//! let (outer_id, inner) = outer.run(|| {
//!     let outer_id = context::current().unwrap().correlation_id;
//!     let inner = Scope::new("import_row").run(context::current).unwrap();
//!     (outer_id, inner)
//! });
//! assert_eq!(inner.operation, "import_row");
//! assert_eq!(inner.correlation_id, outer_id);
//! assert!(context::current().is_none());
//! ```
//!
//! # Cost
//!
//! Opening and entering a scope allocates nothing and makes no system call: the chain of
//! scopes lives in the scope objects and on the stack, found through one thread-local
//! pointer, and the correlation id is generated only when first asked for (an error's
//! context, [`current()`], or a `tracing` subscriber interested in the scope's span).

pub(crate) mod scope;

use serde::{Deserialize, Serialize};

pub use scope::Scope;

/// The innermost scope on this thread or task, as [`current()`] describes it.
///
/// ```
/// use resilience::context::{current, Scope, ScopeInfo};
///
/// let info: ScopeInfo = Scope::new("sync_board").run(current).unwrap();
/// assert_eq!(info.operation, "sync_board");
/// assert_eq!(info.correlation_id.len(), 36); // a UUID
/// let json = serde_json::to_value(&info).unwrap();
/// assert_eq!(json["operation"], "sync_board");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ScopeInfo {
    /// The innermost scope's operation name.
    pub operation: String,
    /// The outermost scope's correlation id, shared by every scope nested in it.
    pub correlation_id: String,
}

/// The innermost scope on this thread or task; `None` outside every scope.
///
/// Inside an `async fn` under `#[error_context]`, this is the scope of the task being
/// polled, whichever worker thread polls it.
///
/// ```
/// use resilience::context::{current, Scope};
///
/// assert_eq!(current(), None);
/// let op = Scope::new("fetch").run(|| current().map(|s| s.operation));
/// assert_eq!(op.as_deref(), Some("fetch"));
/// ```
pub fn current() -> Option<ScopeInfo> {
    scope::with_chain(|innermost, outermost| ScopeInfo {
        operation: innermost.operation().to_owned(),
        correlation_id: outermost.own_correlation_id().to_owned(),
    })
}

/// The outermost current scope's correlation id, for `ErrorContext::new()`.
pub(crate) fn current_correlation_id() -> Option<String> {
    scope::with_chain(|_, outermost| outermost.own_correlation_id().to_owned())
}

/// A fresh unique id (a random UUID, hyphenated): a scope's correlation id.
pub(crate) fn new_id() -> String {
    crate::error::new_id()
}
