//! Every attribute's instance, known from the program's start: each site with a name
//! fixed at compile time puts one line in [`KNOWN_SITES`], a slice the linker gathers
//! from every crate linked in (`linkme`), and the first look into any registry
//! ([`declare`]) registers them all, each in its own registry, with the code's
//! configuration. So `registry().health()`, the metrics, a configuration file and the
//! environment see a `#[circuit_breaker(name = "x")]` (bulkhead, rate limit, hedge,
//! adaptive limit) before its first call, and a variable naming it reaches it rather than
//! making another.
//!
//! A method's site named by default (its name holds the `Self` type, read on its first
//! call) cannot be known by name before it, so it has no line here: it registers on its
//! first call, as every site did before. `#[retry]` has none either: it has no instance
//! in a registry, only a policy of its name that `[retry.NAME]` sets whenever it comes
//! and each call reads.

use std::cell::Cell;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// One line per site known at compile time: registers it in its registry.
#[linkme::distributed_slice]
pub static KNOWN_SITES: [fn()];

/// Registers every site of [`KNOWN_SITES`], once per process; called before any
/// registry's table is read. A call from the registering thread itself (a site's
/// registration reads its registry) returns at once; one from another thread waits for
/// the registrations to end, but at most [`MAX_WAIT`]: a lock that thread holds may be
/// one a registration needs (a registry of its own being made in a `LazyLock`), and a
/// site not yet known is then known at its first call, never a deadlock.
///
/// ```
/// use resilience::__private::BulkheadSite;
///
/// static SITE: BulkheadSite = BulkheadSite::new("docs.known", Default::default);
/// resilience::__private::known!(SITE.declare);
/// // Listed before any call, as every attribute's bulkhead is.
/// assert!(resilience::registry().bulkhead("docs.known").is_some());
/// ```
pub(crate) fn declare() {
    static STATE: AtomicU8 = AtomicU8::new(IDLE);
    thread_local!(static REGISTERING: Cell<bool> = const { Cell::new(false) });
    if STATE.load(Ordering::Acquire) == DONE || REGISTERING.with(Cell::get) {
        return;
    }
    if STATE
        .compare_exchange(IDLE, DECLARING, Ordering::AcqRel, Ordering::Acquire)
        .is_ok()
    {
        REGISTERING.with(|r| r.set(true));
        for declare in KNOWN_SITES {
            declare();
        }
        REGISTERING.with(|r| r.set(false));
        STATE.store(DONE, Ordering::Release);
        return;
    }
    // Another thread registers them: a few microseconds for the sites of a program.
    let start = Instant::now();
    while STATE.load(Ordering::Acquire) != DONE && start.elapsed() < MAX_WAIT {
        std::thread::sleep(Duration::from_micros(50));
    }
}

/// The longest another thread's registrations are waited for.
pub(crate) const MAX_WAIT: Duration = Duration::from_secs(1);

const IDLE: u8 = 0;
const DECLARING: u8 = 1;
const DONE: u8 = 2;

/// The line a site puts in [`KNOWN_SITES`]: `known!(SITE.declare)` for a site of one
/// instance (a hedge's too), `known!(SITE.declare_keyed)` for one keyed by `key = expr`.
///
/// ```
/// use resilience::__private::BreakerSite;
///
/// static SITE: BreakerSite = BreakerSite::new("docs.known_keyed", Default::default);
/// resilience::__private::known!(SITE.declare_keyed);
/// let names: Vec<String> = resilience::registry().breakers().into_iter().map(|b| b.name).collect();
/// assert!(!names.contains(&"docs.known_keyed".to_owned())); // no key, no instance yet
/// ```
#[doc(hidden)]
#[macro_export]
macro_rules! __resilience_known {
    ($site:ident . $declare:ident) => {
        #[::resilience::__private::linkme::distributed_slice(::resilience::__private::KNOWN_SITES)]
        #[linkme(crate = ::resilience::__private::linkme)]
        static __RESILIENCE_KNOWN: fn() = || $site.$declare();
    };
}
