//! [`Capture`]: a `tracing` layer that keeps every event a test's code sends, with its
//! target, level and fields as text, for the test to read back. Used with
//! `tracing::subscriber::with_default(capture.subscriber(), || ..)` (or
//! `set_default`), so each test reads its own thread's events.
//!
//! (A test binary that asserts on events should hit each event's callsite with its
//! capture installed first: a callsite first hit with no subscriber at all may stay
//! silent for the rest of the process. Hence the tests that capture have binaries of
//! their own, or install the capture before anything logs.)

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
        tracing_subscriber::registry().with(self.clone())
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
