//! [`Capture`]: a `tracing` layer that keeps every event a test's code sends, with its
//! target, level and fields as text, for the test to read back. Used with
//! `tracing::subscriber::with_default(capture.subscriber(), || ..)` (or
//! `set_default`), so each test reads its own thread's events.
//!
//! Why a capture also installs a global subscriber that wants everything: `tracing`
//! caches per callsite whether anyone wants its events, and while only one subscriber
//! exists it asks the subscriber of whichever thread reaches the callsite first. A
//! test thread capturing nothing, reaching a line first while another test's capture
//! was the only subscriber alive, cached "never" for it, and the capture then missed
//! its events (tokio-rs/tracing#2874; the flaky state change of `events.rs`). With a
//! second subscriber alive for the whole run, every subscriber is asked, and a
//! capture's events always reach it.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One event: its target, its level, and its fields as text, the message under
/// `"message"`; and apart, the fields of the spans it was sent in.
#[derive(Clone, Debug, PartialEq)]
pub struct Seen {
    pub target: String,
    pub level: Level,
    /// The event's own fields.
    pub fields: BTreeMap<String, String>,
    /// The fields of the spans around it (the innermost span's win).
    pub spans: BTreeMap<String, String>,
}

impl Seen {
    /// The field `name`'s text, or `""` when the event has none.
    pub fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    /// The event's message.
    pub fn message(&self) -> &str {
        self.field("message")
    }

    /// Its own fields and its spans' together (its own win).
    pub fn with_spans(&self) -> BTreeMap<String, String> {
        let mut all = self.spans.clone();
        all.extend(self.fields.clone());
        all
    }
}

/// Keeps every event sent while it is the subscriber's layer. Clones share the events.
#[derive(Clone, Default)]
pub struct Capture(Arc<Mutex<Vec<Seen>>>);

impl Capture {
    /// An empty capture.
    pub fn new() -> Capture {
        Capture::default()
    }

    /// A subscriber with this capture as its only layer.
    pub fn subscriber(&self) -> impl Subscriber + Send + Sync + 'static {
        wanted_everywhere();
        tracing_subscriber::registry().with(self.clone())
    }

    /// Runs `f` with this capture as the thread's subscriber, and returns what it returns.
    pub fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        tracing::subscriber::with_default(self.subscriber(), f)
    }

    /// This capture as the thread's subscriber until the guard is dropped (for a test on
    /// a current-thread runtime, whose tasks all run on its thread).
    pub fn start(&self) -> tracing::subscriber::DefaultGuard {
        tracing::subscriber::set_default(self.subscriber())
    }

    /// The events of `target` whose message is `message`.
    pub fn find(&self, target: &str, message: &str) -> Vec<Seen> {
        self.lock()
            .iter()
            .filter(|e| e.target == target && e.message() == message)
            .cloned()
            .collect()
    }

    /// Every event so far, in the order sent.
    pub fn events(&self) -> Vec<Seen> {
        self.lock().clone()
    }

    /// The events of `target` so far.
    pub fn of(&self, target: &str) -> Vec<Seen> {
        self.lock()
            .iter()
            .filter(|e| e.target == target)
            .cloned()
            .collect()
    }

    /// Every event so far as a log's lines, `LEVEL target: message field=value ..`
    /// (its spans' fields last), to search as one would search a log.
    pub fn text(&self) -> String {
        let mut text = String::new();
        for event in self.lock().iter() {
            text.push_str(&format!(
                "{} {}: {}",
                event.level,
                event.target,
                event.message()
            ));
            let fields = event.fields.iter().chain(&event.spans);
            for (name, value) in fields.filter(|(name, _)| *name != "message") {
                text.push_str(&format!(" {name}={value}"));
            }
            text.push('\n');
        }
        text
    }

    /// Every event so far, leaving none.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Seen>> {
        // A vector of whole events is whole after any panic.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut spans = BTreeMap::new();
        for span in ctx.event_scope(event).into_iter().flatten() {
            if let Some(outer) = span.extensions().get::<Fields>() {
                for (name, value) in &outer.0 {
                    spans.entry(name.clone()).or_insert_with(|| value.clone());
                }
            }
        }
        self.lock().push(Seen {
            target: event.metadata().target().to_owned(),
            level: *event.metadata().level(),
            fields: fields.0,
            spans,
        });
    }
}

/// A `tracing` visitor that writes each field as text: a string as it is (without the
/// quotes `Debug` would add), anything else (`?x`, `%x`, numbers) by `Debug`.
#[derive(Clone, Debug, Default)]
pub struct Fields(pub BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Installs (once) a global subscriber that wants every event and keeps none, so the
/// interest `tracing` caches per callsite never depends on which thread got there
/// first (see the module's docs). A binary that set its own global subscriber keeps it.
fn wanted_everywhere() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        tracing::callsite::rebuild_interest_cache();
    });
}

#[cfg(test)]
mod tests {
    use super::Capture;

    /// A log line of its own, reached by no other test.
    fn probe() {
        tracing::warn!(target: "capture::probe", "probe");
    }

    /// Another thread, capturing nothing, reaches the line first while this capture is
    /// the only subscriber: without the global one, `tracing` cached "never" for it and
    /// the capture saw nothing.
    #[test]
    fn a_line_another_thread_reached_first_is_still_captured() {
        let capture = Capture::new();
        tracing::subscriber::with_default(capture.subscriber(), || {
            std::thread::spawn(probe).join().unwrap();
            probe();
        });
        assert_eq!(capture.of("capture::probe").len(), 1);
    }
}
