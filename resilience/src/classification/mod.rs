//! Classification of foreign errors (`resilience::classify`): which tier, how bad, whether to retry and when.
//!
//! [`classify`] reads, in order of trust: resilience's own error types (their
//! [`MarcusError`] facts), `std::io::Error` kinds, then the words of each message
//! (phrases, HTTP-like status codes, retry-after hints). The source chain is walked
//! outermost first at each step.
//!
//! [`Verdict`] is what the patterns act on for an outcome (failure or not, retryable or
//! not, after how long, a refusal of this crate's, an overload), built from a
//! [`Classification`] or a [`MarcusError`]'s own facts; [`Classify`] supplies it for a
//! generic error type (tower, reqwest).
//!
//! It sits above `error` (the vocabulary) and the error types built on it, which it
//! recognizes behind a `dyn Error`, so it is a module of its own.

mod io;
mod message;
mod verdict;

pub(crate) use verdict::ours_in;
pub use verdict::{Classify, Refusal, Verdict};

use std::error::Error as StdError;
use std::time::Duration;

use serde::Serialize;

use crate::{Category, MarcusError, Severity};

/// How deep a source chain is followed; a chain that loops back on itself stops here.
const MAX_CHAIN_DEPTH: usize = 64;

/// What [`classify`] concluded about an error.
///
/// ```
/// use resilience::{classify_message, Category, Classification};
///
/// let c = classify_message("HTTP 503 Service Unavailable");
/// assert_eq!(c.category, Category::Transient);
/// assert!(c.retryable);
/// assert_eq!(classify_message("something odd"), Classification::UNKNOWN);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Classification {
    /// The tier.
    pub category: Category,
    /// How bad it is.
    pub severity: Severity,
    /// Whether retrying may succeed.
    pub retryable: bool,
    /// How long to wait before retrying, when the error says (serialized as `"30s"`).
    #[serde(serialize_with = "crate::duration_serde::option::serialize")]
    pub retry_after: Option<Duration>,
}

impl Classification {
    /// What an error nothing is known about gets: system tier, medium severity, not
    /// retryable.
    ///
    /// Not retried, because retrying blindly multiplies the load of a failure nobody
    /// understands; medium, not the system tier's critical, because nothing shows it is
    /// severe. (`#[retry]` still retries foreign error types unless told otherwise; this
    /// is advice for code that asks.)
    ///
    /// ```
    /// use resilience::{classify, Category, Classification};
    ///
    /// let err = std::fmt::Error;
    /// assert_eq!(classify(&err), Classification::UNKNOWN);
    /// assert_eq!(Classification::UNKNOWN.category, Category::System);
    /// assert!(!Classification::UNKNOWN.retryable);
    /// ```
    pub const UNKNOWN: Classification = Classification {
        category: Category::System,
        severity: Severity::Medium,
        retryable: false,
        retry_after: None,
    };

    /// A tier with its default severity and retryability.
    ///
    /// ```
    /// use resilience::{Category, Classification, Severity};
    ///
    /// let c = Classification::for_category(Category::Security);
    /// assert_eq!(c.severity, Severity::High);
    /// assert!(!c.retryable);
    /// ```
    pub const fn for_category(category: Category) -> Self {
        Classification {
            category,
            severity: category.default_severity(),
            retryable: category.default_retryable(),
            retry_after: None,
        }
    }

    /// The facts a [`MarcusError`] states about itself.
    ///
    /// ```
    /// use resilience::{errors::RateLimit, Category, Classification};
    /// use std::time::Duration;
    ///
    /// let err = RateLimit::new("slow down").with_retry_after(Duration::from_secs(5));
    /// let c = Classification::of(&err);
    /// assert_eq!(c.category, Category::Transient);
    /// assert_eq!(c.retry_after, Some(Duration::from_secs(5)));
    /// ```
    pub fn of<E: MarcusError + ?Sized>(error: &E) -> Self {
        Classification {
            category: error.category(),
            severity: error.severity(),
            retryable: error.retryable(),
            retry_after: error.retry_after(),
        }
    }

    /// Adds a retry delay found elsewhere, when this is retryable and has none.
    fn with_hint(self, hint: Option<Duration>) -> Self {
        if self.retryable && self.retry_after.is_none() {
            Classification {
                retry_after: hint,
                ..self
            }
        } else {
            self
        }
    }
}

/// Classifies any error: its tier, severity, whether to retry and after how long.
///
/// Each link of the source chain is examined, outermost first, in three passes of
/// falling trust:
/// 1. resilience's own types ([`crate::Error`], every type of [`crate::errors`]) answer
///    with their [`MarcusError`] facts; an `std::io::Error` by its
///    [`ErrorKind`](std::io::ErrorKind) (see the table below; `Other` says nothing and
///    its inner error is examined instead);
/// 2. the `Display` text of each link, by [`classify_message`];
/// 3. otherwise [`Classification::UNKNOWN`].
///
/// A retryable result without its own delay takes the first retry-after hint written
/// in any message of the chain. Your own `MarcusError` types are not recognised behind
/// a `dyn Error` (Rust cannot ask a `dyn Error` for a trait it may implement); call
/// [`Classification::of`] on them instead.
///
/// | `io::ErrorKind` | category | retryable |
/// |---|---|---|
/// | `TimedOut`, `WouldBlock`, `Interrupted`, `ConnectionReset`, `ConnectionAborted`, `NotConnected`, `BrokenPipe`, `UnexpectedEof`, `WriteZero`, `ResourceBusy`, `ExecutableFileBusy`, `Deadlock`, `StaleNetworkFileHandle` | transient | yes |
/// | `ConnectionRefused`, `HostUnreachable`, `NetworkUnreachable`, `NetworkDown` | integration (the service is down) | yes |
/// | `NotFound`, `AddrInUse`, `AddrNotAvailable`, `Unsupported`, `NotADirectory`, `IsADirectory`, `DirectoryNotEmpty`, `ReadOnlyFilesystem`, `CrossesDevices`, `TooManyLinks` | configuration | no |
/// | `InvalidInput`, `InvalidData`, `AlreadyExists`, `NotSeekable`, `FileTooLarge`, `ArgumentListTooLong` | business logic | no |
/// | `PermissionDenied` | security | no |
/// | `OutOfMemory`, `StorageFull`, `QuotaExceeded` | system (critical) | no |
///
/// It never panics, whatever the error or its messages contain, and follows at most 64
/// links of a chain.
///
/// ```
/// use resilience::{classify, Category};
/// use std::io;
///
/// let timeout = io::Error::new(io::ErrorKind::TimedOut, "board sync");
/// let c = classify(&timeout);
/// assert_eq!(c.category, Category::Transient);
/// assert!(c.retryable);
///
/// let denied = io::Error::from(io::ErrorKind::PermissionDenied);
/// assert_eq!(classify(&denied).category, Category::Security);
/// ```
pub fn classify(error: &(dyn StdError + 'static)) -> Classification {
    let chain = || Chain { next: Some(error) }.take(MAX_CHAIN_DEPTH);
    let typed = chain().find_map(|link| {
        crate::errors::as_marcus(link)
            .map(Classification::of)
            .or_else(|| {
                link.downcast_ref::<std::io::Error>()
                    .and_then(|e| io::classify_kind(e.kind()))
            })
    });
    // Messages are rendered only when the types did not settle everything.
    if let Some(found) = typed {
        if !found.retryable || found.retry_after.is_some() {
            return found;
        }
    }
    let messages: Vec<String> = chain()
        .map(|link| message::normalize(&link.to_string()))
        .collect();
    let found = typed.or_else(|| messages.iter().find_map(|m| message::classify_lower(m)));
    match found {
        Some(found) => found.with_hint(messages.iter().find_map(|m| message::retry_after_lower(m))),
        None => Classification::UNKNOWN,
    }
}

/// Classifies an error message alone, by its words (case-insensitive).
///
/// Phrases are checked first, in this precedence; only when no phrase occurs are
/// HTTP-like status codes read, as whole numbers (`"status 503"`, `"(404)"`, but not
/// `14010` or `1.503`):
///
/// | phrases | codes | category | severity | retryable |
/// |---|---|---|---|---|
/// | rate limit, too many requests, throttled | 429 | transient | low | yes |
/// | unauthorized, unauthenticated, authentication failed, invalid credentials | 401, 407 | integration | high | no |
/// | forbidden, permission denied, access denied | 403 | security | high | no |
/// | service unavailable, bad gateway, gateway timeout, temporarily unavailable, try again later, overloaded | 502, 503, 504 | transient | medium | yes |
/// | timed out, timeout, deadline exceeded | 408 | transient | medium | yes |
/// | connection refused, host/network unreachable, no route to host | | integration | medium | yes |
/// | connection reset/aborted/closed, broken pipe, unexpected eof | | transient | medium | yes |
/// | internal server error | 500 | integration | medium | yes |
/// | out of memory, no space left, disk full, too many open files | 507 | system | critical | no |
/// | no such file or directory | | configuration | high | no |
/// | bad request, unprocessable, invalid argument, validation failed | 400, 409, 412, 422 | business logic | medium | no |
/// | not found, does not exist | 404, 410 | business logic | medium | no |
///
/// A retry hint ("retry after 30 seconds", "Retry-After: 30", "retry in 1.5s", "try
/// again in 2 minutes"; a bare number is seconds; units `ms`, `s`, `m`, `h` and their
/// words) sets `retry_after` of a retryable result, and alone makes the message
/// transient. Anything else is [`Classification::UNKNOWN`]. Only the first 16 KiB of
/// the message are read; it never panics.
///
/// ```
/// use resilience::{classify_message, Category};
/// use std::time::Duration;
///
/// let c = classify_message("429 Too Many Requests; retry after 30 seconds");
/// assert_eq!(c.category, Category::Transient);
/// assert_eq!(c.retry_after, Some(Duration::from_secs(30)));
///
/// assert_eq!(classify_message("HTTP 403").category, Category::Security);
/// assert!(!classify_message("order 14030 shipped").retryable);
/// ```
pub fn classify_message(message: &str) -> Classification {
    message::classify_lower(&message::normalize(message)).unwrap_or(Classification::UNKNOWN)
}

/// The source chain, with the inner error of an `io::Error` as its next link (its
/// `source()` skips it, going to the inner error's source).
struct Chain<'a> {
    next: Option<&'a (dyn StdError + 'static)>,
}

impl<'a> Iterator for Chain<'a> {
    type Item = &'a (dyn StdError + 'static);

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        let inner = current
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn StdError + 'static));
        self.next = inner.or_else(|| current.source());
        Some(current)
    }
}
