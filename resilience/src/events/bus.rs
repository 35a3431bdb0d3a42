//! The broadcast behind a registry's stream ([`Bus`]) and the handle each of its
//! instances sends through ([`Sink`]).
//!
//! HOT PATH: a sink with no subscriber behind it costs one relaxed load of a flag that
//! only changes when someone subscribes or the last subscriber goes; the event is built
//! only after that load says someone listens. `Sender::receiver_count` is not read on
//! that path: it takes the channel's lock.

#[cfg(not(feature = "tokio"))]
use super::EventKind;

/// How many events a registry's stream holds for a subscriber that has not read them
/// yet; one that falls further behind loses the oldest (`RecvError::Lagged(n)` says how
/// many).
///
/// ```
/// assert_eq!(resilience::events::CAPACITY, 1024);
/// ```
pub const CAPACITY: usize = 1024;

#[cfg(feature = "tokio")]
mod live {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, PoisonError};

    use tokio::sync::broadcast;

    use super::CAPACITY;
    use crate::events::{Event, EventKind};

    /// A registry's stream.
    pub(crate) struct Bus {
        shared: Arc<Shared>,
    }

    struct Shared {
        sender: broadcast::Sender<Event>,
        /// Whether a receiver may exist. Set under `subscribing` when one is made;
        /// cleared under it only once a send found none, so a subscriber made
        /// meanwhile (which takes the lock) is never missed.
        listening: AtomicBool,
        subscribing: Mutex<()>,
    }

    impl Bus {
        pub(crate) fn new() -> Bus {
            let (sender, _) = broadcast::channel(CAPACITY);
            Bus {
                shared: Arc::new(Shared {
                    sender,
                    listening: AtomicBool::new(false),
                    subscribing: Mutex::new(()),
                }),
            }
        }

        /// A new receiver of every event sent from now on.
        pub(crate) fn subscribe(&self) -> broadcast::Receiver<Event> {
            let _guard = self
                .shared
                .subscribing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let receiver = self.shared.sender.subscribe();
            self.shared.listening.store(true, Ordering::Relaxed);
            receiver
        }

        /// The handle an instance of this registry sends through.
        pub(crate) fn sink(&self) -> super::Sink {
            super::Sink {
                shared: Some(Arc::clone(&self.shared)),
                key: None,
            }
        }
    }

    impl core::fmt::Debug for Bus {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Bus")
                .field("listening", &self.shared.listening.load(Ordering::Relaxed))
                .finish()
        }
    }

    /// An instance's handle to its registry's stream, with the instance's key when it is
    /// one of a keyed store's; no stream for an instance made outside a registry.
    // `pub` in a private module (unreachable from outside the crate) so that the
    // `Instance` trait, public for the tower layers' bounds, may name it.
    #[derive(Clone, Default)]
    pub struct Sink {
        shared: Option<Arc<Shared>>,
        key: Option<Arc<str>>,
    }

    impl Sink {
        /// A sink that sends nowhere.
        pub(crate) const NONE: Sink = Sink {
            shared: None,
            key: None,
        };

        /// The sink of the instance for `key` in a keyed store.
        pub(crate) fn for_key(&self, key: Arc<str>) -> Sink {
            Sink {
                shared: self.shared.clone(),
                key: Some(key),
            }
        }

        /// Whether someone may be listening (so an event is worth building).
        #[inline]
        pub(crate) fn listening(&self) -> bool {
            match &self.shared {
                Some(shared) => shared.listening.load(Ordering::Relaxed),
                None => false,
            }
        }

        /// Sends an event of `pattern`'s instance `name` (and this sink's key), of the
        /// kind `kind` builds, if someone listens; `kind` is not called otherwise. Never
        /// waits.
        #[inline]
        pub(crate) fn emit(
            &self,
            pattern: &'static str,
            name: &'static str,
            kind: impl FnOnce() -> EventKind,
        ) {
            if let Some(shared) = &self.shared {
                if shared.listening.load(Ordering::Relaxed) {
                    shared.send(Event::now(pattern, name, self.key.as_deref(), kind()));
                }
            }
        }
    }

    impl Shared {
        #[cold]
        #[inline(never)]
        fn send(&self, event: Event) {
            if self.sender.send(event).is_ok() {
                return;
            }
            // No receiver: the last one went. Stop building events, unless one was
            // made since (it would have taken the lock first).
            let _guard = self
                .subscribing
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if self.sender.receiver_count() == 0 {
                self.listening.store(false, Ordering::Relaxed);
            }
        }
    }

    impl core::fmt::Debug for Sink {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("Sink")
                .field("stream", &self.shared.is_some())
                .field("key", &self.key)
                .finish()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use crate::events::EventKind;
        use tokio::sync::broadcast::error::TryRecvError;

        fn event(n: u32) -> EventKind {
            EventKind::LimitChanged { from: n, to: n + 1 }
        }

        fn send(sink: &Sink, n: u32) {
            sink.emit("adaptive_limit", "x", || event(n));
        }

        #[test]
        fn nothing_is_built_without_a_subscriber() {
            let bus = Bus::new();
            let sink = bus.sink();
            let mut built = 0;
            sink.emit("adaptive_limit", "x", || {
                built += 1;
                event(0)
            });
            assert_eq!(built, 0);
            assert!(!sink.listening());
            Sink::NONE.emit("breaker", "x", || {
                unreachable!("a sink of no registry builds nothing")
            });
        }

        #[test]
        fn a_subscriber_gets_every_event_after_it_subscribed() {
            let bus = Bus::new();
            let sink = bus.sink();
            send(&sink, 0);
            let mut rx = bus.subscribe();
            send(&sink, 1);
            send(&sink, 2);
            assert_eq!(rx.try_recv().unwrap().kind, event(1));
            assert_eq!(rx.try_recv().unwrap().kind, event(2));
            assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        }

        #[test]
        fn a_keyed_instance_names_its_key() {
            let bus = Bus::new();
            let mut rx = bus.subscribe();
            bus.sink()
                .for_key("eu".into())
                .emit("bulkhead", "db", || event(0));
            bus.sink().emit("bulkhead", "db", || event(0));
            assert_eq!(rx.try_recv().unwrap().key.as_deref(), Some("eu"));
            assert_eq!(rx.try_recv().unwrap().key, None);
        }

        #[test]
        fn the_flag_drops_when_the_last_subscriber_goes_and_comes_back() {
            let bus = Bus::new();
            let sink = bus.sink();
            let rx = bus.subscribe();
            assert!(sink.listening());
            drop(rx);
            // The next send finds no receiver and lowers the flag.
            send(&sink, 0);
            assert!(!sink.listening());
            let mut rx = bus.subscribe();
            assert!(sink.listening());
            send(&sink, 5);
            assert!(matches!(
                rx.try_recv().unwrap().kind,
                EventKind::LimitChanged { from: 5, .. }
            ));
        }

        #[test]
        fn a_slow_subscriber_lags_and_is_told_how_many_it_missed() {
            let bus = Bus::new();
            let sink = bus.sink();
            let mut rx = bus.subscribe();
            let sent = CAPACITY as u32 + 10;
            for n in 0..sent {
                send(&sink, n); // never waits for the reader
            }
            assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(10)));
            assert!(matches!(
                rx.try_recv().unwrap().kind,
                EventKind::LimitChanged { from: 10, .. }
            ));
        }
    }
}

#[cfg(feature = "tokio")]
pub(crate) use live::{Bus, Sink};

/// Without the `tokio` feature there is no stream: a sink sends nowhere.
#[cfg(not(feature = "tokio"))]
#[derive(Clone, Debug, Default)]
pub struct Sink;

#[cfg(not(feature = "tokio"))]
impl Sink {
    pub(crate) const NONE: Sink = Sink;

    #[inline]
    pub(crate) fn listening(&self) -> bool {
        false
    }

    pub(crate) fn for_key(&self, _key: std::sync::Arc<str>) -> Sink {
        Sink
    }

    #[inline]
    pub(crate) fn emit(
        &self,
        _pattern: &'static str,
        _name: &'static str,
        _kind: impl FnOnce() -> EventKind,
    ) {
    }
}
