//! [`Event`]: one thing a pattern did, flat in JSON.

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// One thing a pattern did, as [`Registry::events`](crate::registry::Registry::events)
/// sends it. Flat in JSON: the common fields, `kind`, and the kind's own fields
/// ([`EventKind`]).
///
/// ```
/// use resilience::events::{Event, EventKind};
///
/// let json = r#"{"pattern": "breaker", "name": "kanban", "key": null, "kind": "state_change",
///               "from": "closed", "to": "open", "at": 1765100000000}"#;
/// let event: Event = serde_json::from_str(json)?;
/// assert_eq!(event.kind, EventKind::StateChange { from: "closed".into(), to: "open".into() });
/// assert_eq!(event.at, 1_765_100_000_000);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Event {
    /// Which pattern: `"breaker"`, `"bulkhead"`, `"rate_limit"`, `"adaptive_limit"`,
    /// `"retry"`, `"hedge"`, or `"chaos"` for an injected fault.
    pub pattern: Cow<'static, str>,
    /// The instance's name (a retry's: its function's path or its layer's name; a
    /// fault's: the site it was injected at).
    pub name: Cow<'static, str>,
    /// The instance's key (`key = expr`), if keyed.
    pub key: Option<Cow<'static, str>>,
    /// What happened, with its own fields.
    #[serde(flatten)]
    pub kind: EventKind,
    /// When, in milliseconds since the Unix epoch (the system's wall clock).
    pub at: u64,
}

/// What happened: the `kind` field of an [`Event`], and the fields that kind adds.
///
/// ```
/// use resilience::events::EventKind;
/// let kind = EventKind::LimitChanged { from: 20, to: 24 };
/// assert_eq!(kind.as_str(), "limit_changed");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A breaker moved between states (`closed`, `open`, `half_open`, `forced_open`,
    /// `disabled`), by its own rules, by hand, or applied from the cluster.
    StateChange {
        /// The state it left.
        from: Cow<'static, str>,
        /// The state it is in.
        to: Cow<'static, str>,
    },
    /// A breaker, bulkhead or rate limiter refused calls.
    Refused {
        /// Refusals this event reports: since the last refusal event of the instance
        /// (refusal events are as frequent as the refusal WARNs).
        refused: u64,
        /// When a call may be admitted again, if the refusal knows (milliseconds).
        retry_after_ms: Option<u64>,
    },
    /// A retry is about to sleep, then run the call again.
    Retry {
        /// The front end: `"attribute"`, `"tower"` or `"reqwest"`.
        via: Cow<'static, str>,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// The sleep before the next one.
        delay_ms: u64,
        /// The error's code (its type name for an error that is not a `MarcusError`).
        code: Cow<'static, str>,
        /// The error's message, when the stream's reader shows messages (the admin
        /// routes leave them out unless told otherwise).
        error: Option<String>,
    },
    /// A retry gave up after retrying, and returns the last error.
    GaveUp {
        /// The front end: `"attribute"`, `"tower"` or `"reqwest"`.
        via: Cow<'static, str>,
        /// Calls made.
        attempts: u32,
        /// Why, as the log says it: `"attempts exhausted"`, `"not retryable"`,
        /// `"budget empty"`, `"max_elapsed reached"`, `"retry_after over
        /// max_retry_after"` ([`GiveUp::as_str`](crate::retry::GiveUp::as_str)).
        reason: Cow<'static, str>,
        /// The last error's code.
        code: Cow<'static, str>,
        /// The last error's message (as in [`Retry`](EventKind::Retry)).
        error: Option<String>,
    },
    /// A hedge started an extra run of a slow (or failed) call.
    Hedged {
        /// The run started: 2 for the first hedge.
        run: u32,
        /// `"delay"` (no answer in time) or `"retryable_error"`.
        reason: Cow<'static, str>,
    },
    /// An adaptive limit refused calls (`Overloaded`).
    Overloaded {
        /// Refusals since the last overload event of the instance.
        refused: u64,
        /// The limit in force.
        limit: u32,
        /// The refused call's priority (`critical`, `high`, `normal`, `low`).
        priority: Cow<'static, str>,
    },
    /// An adaptive limit's limit changed (at most one event a second per instance).
    LimitChanged {
        /// The limit the last event said.
        from: u32,
        /// The limit now.
        to: u32,
    },
    /// Chaos injected a fault into a call.
    FaultInjected {
        /// `"error"`, `"latency"` or `"refusal"`.
        fault: Cow<'static, str>,
    },
}

impl EventKind {
    /// The `kind` field's value: `"state_change"`, `"refused"`, `"retry"`, `"gave_up"`,
    /// `"hedged"`, `"overloaded"`, `"limit_changed"`, `"fault_injected"`.
    ///
    /// ```
    /// use resilience::events::EventKind;
    /// assert_eq!(EventKind::Hedged { run: 2, reason: "delay".into() }.as_str(), "hedged");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::StateChange { .. } => "state_change",
            EventKind::Refused { .. } => "refused",
            EventKind::Retry { .. } => "retry",
            EventKind::GaveUp { .. } => "gave_up",
            EventKind::Hedged { .. } => "hedged",
            EventKind::Overloaded { .. } => "overloaded",
            EventKind::LimitChanged { .. } => "limit_changed",
            EventKind::FaultInjected { .. } => "fault_injected",
        }
    }
}

impl Event {
    /// An event of `pattern`'s instance `name` (for `key`), stamped now.
    #[cfg_attr(not(feature = "tokio"), allow(dead_code))]
    pub(crate) fn now(
        pattern: &'static str,
        name: &'static str,
        key: Option<&str>,
        kind: EventKind,
    ) -> Event {
        Event {
            pattern: Cow::Borrowed(pattern),
            name: Cow::Borrowed(name),
            key: key.map(|k| Cow::Owned(k.to_owned())),
            kind,
            at: unix_millis(SystemTime::now()),
        }
    }

    /// The event without its error message (the admin routes' default: a message may
    /// quote what the service's callers sent).
    ///
    /// ```
    /// use resilience::events::{Event, EventKind};
    /// let event: Event = serde_json::from_str(r#"{"pattern": "retry", "name": "f", "key": null,
    ///     "kind": "gave_up", "via": "attribute", "attempts": 3, "reason": "attempts exhausted",
    ///     "code": "DOWN", "error": "down at db.internal", "at": 1}"#).unwrap();
    /// assert!(matches!(event.without_message().kind, resilience::events::EventKind::GaveUp { error: None, .. }));
    /// ```
    pub fn without_message(mut self) -> Event {
        if let EventKind::Retry { error, .. } | EventKind::GaveUp { error, .. } = &mut self.kind {
            *error = None;
        }
        self
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
#[cfg_attr(not(feature = "tokio"), allow(dead_code))]
fn unix_millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis()
        .try_into()
        .unwrap_or(u64::MAX)
}

/// A duration in whole milliseconds, saturating.
pub(crate) fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_json_as_the_contract_writes_it() {
        let event = Event {
            pattern: "breaker".into(),
            name: "kanban".into(),
            key: None,
            kind: EventKind::StateChange {
                from: "closed".into(),
                to: "open".into(),
            },
            at: 1_765_100_000_000,
        };
        assert_eq!(
            serde_json::to_string(&event).unwrap(),
            r#"{"pattern":"breaker","name":"kanban","key":null,"kind":"state_change","from":"closed","to":"open","at":1765100000000}"#
        );
    }

    #[test]
    fn every_kind_round_trips_through_json() {
        let kinds = [
            EventKind::StateChange {
                from: "open".into(),
                to: "half_open".into(),
            },
            EventKind::Refused {
                refused: 7,
                retry_after_ms: Some(1500),
            },
            EventKind::Retry {
                via: "tower".into(),
                attempt: 1,
                delay_ms: 100,
                code: "DOWN".into(),
                error: Some("down".into()),
            },
            EventKind::GaveUp {
                via: "attribute".into(),
                attempts: 3,
                reason: "attempts exhausted".into(),
                code: "DOWN".into(),
                error: None,
            },
            EventKind::Hedged {
                run: 2,
                reason: "delay".into(),
            },
            EventKind::Overloaded {
                refused: 1,
                limit: 20,
                priority: "low".into(),
            },
            EventKind::LimitChanged { from: 20, to: 10 },
            EventKind::FaultInjected {
                fault: "latency".into(),
            },
        ];
        for kind in kinds {
            let name = kind.as_str();
            let event = Event::now("x", "n", Some("k"), kind);
            let json = serde_json::to_value(&event).unwrap();
            assert_eq!(json["kind"], name);
            assert_eq!(json["key"], "k");
            let back: Event = serde_json::from_value(json).unwrap();
            assert_eq!(back, event);
        }
    }

    #[test]
    fn stamped_with_the_wall_clock_in_milliseconds() {
        let before = unix_millis(SystemTime::now());
        let event = Event::now(
            "breaker",
            "b",
            None,
            EventKind::LimitChanged { from: 1, to: 2 },
        );
        assert!(event.at >= before && event.at <= unix_millis(SystemTime::now()));
        assert!(event.at > 1_600_000_000_000, "{}", event.at);
    }
}
