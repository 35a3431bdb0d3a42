//! The event stream: every state change, refusal, retry, give-up, hedge, overload, limit
//! change and injected fault of one registry, as flat serde [`Event`]s on a tokio
//! broadcast channel, [`Registry::events`](crate::registry::Registry::events).
//!
//! ```
//! use resilience::events::EventKind;
//! use resilience::{registry::Registry, BreakerConfig};
//!
//! let reg = Registry::new();
//! let mut events = reg.events();
//! let b = reg.register("kanban", BreakerConfig::default())?;
//! b.force_open();
//! let event = events.try_recv().expect("the opening");
//! assert_eq!((event.pattern.as_ref(), event.name.as_ref()), ("breaker", "kanban"));
//! assert!(matches!(event.kind, EventKind::StateChange { ref to, .. } if to == "forced_open"));
//! let json = serde_json::to_value(&event)?;
//! assert_eq!(json["kind"], "state_change");
//! assert_eq!(json["from"], "closed");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **One place.** Each pattern's `events.rs` gives its `tracing` event and this
//!   stream's [`Event`] from the same call with the same values, so the log and the
//!   stream never disagree. A refusal event follows the refusal WARN (its count in
//!   `refused`).
//! - **Never slows a call.** The channel holds the last [`CAPACITY`] events; a
//!   subscriber that falls further behind loses the oldest and is told how many
//!   (`RecvError::Lagged(n)`), and the call that sent carries on: a send never waits.
//! - **Free without a subscriber.** Each instance holds a handle to its registry's
//!   stream; before building anything it reads one flag that says whether anyone
//!   subscribed (a relaxed atomic load), so with no subscriber nothing is built or sent
//!   (`benches/events.rs` measures it).
//! - **One stream per registry.** A [`Registry::new()`](crate::registry::Registry::new)
//!   has its own; an instance made outside any registry (`Breaker::new`) sends nowhere.
//!
//! The stream needs the `tokio` feature (on by default; only tokio's `sync` part, which
//! needs no runtime: `try_recv` and `blocking_recv` work anywhere). Without it the
//! [`Event`] type remains and every emission compiles to nothing.

mod bus;
mod event;

#[cfg(feature = "tokio")]
pub(crate) use bus::Bus;
pub(crate) use bus::Sink;
pub use bus::CAPACITY;
pub(crate) use event::millis;
pub use event::{Event, EventKind};

use std::sync::OnceLock;

/// The global registry's sink: the stream of what belongs to no registry's instance (the
/// global fault table's injections).
static GLOBAL: OnceLock<Sink> = OnceLock::new();

/// The global registry's sink (none before the global registry exists: then no one can
/// have subscribed to it). The global fault table's injections go there.
#[cfg(feature = "chaos")]
pub(crate) fn global() -> &'static Sink {
    static NONE: Sink = Sink::NONE;
    GLOBAL.get().unwrap_or(&NONE)
}

/// Called once, by the global registry as it is made.
pub(crate) fn set_global(sink: Sink) {
    let _ = GLOBAL.set(sink);
}
