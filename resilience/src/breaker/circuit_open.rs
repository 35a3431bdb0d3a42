//! [`CircuitOpen`]: the error a refused call returns, built without allocating.

use std::time::Duration;

use serde::ser::{Serialize, SerializeStruct, Serializer};

use super::BreakerState;
use crate::{Category, MarcusError, Remediation};

/// A call refused by an open breaker; the body did not run.
///
/// `name` is the breaker that refused: the call's own, or its parent's when the parent
/// is open. `retry_after` is the time left until that breaker lets a trial through, or
/// `None` when no time is scheduled: forced open (closed only by a reset) or half-open
/// with every trial place taken (one frees when a running trial ends).
///
/// Building one copies a few words: the name is the breaker's interned `&'static str`, and
/// the message is formatted only when displayed.
///
/// ```
/// use resilience::{BreakerState, CircuitOpen, MarcusError};
/// use std::time::Duration;
///
/// let open = CircuitOpen {
///     name: "kanban",
///     state: BreakerState::Open,
///     retry_after: Some(Duration::from_secs(12)),
/// };
/// assert_eq!(open.code(), "CIRCUIT_OPEN_ERROR");
/// assert!(!open.retryable());
/// assert_eq!(open.retry_after(), Some(Duration::from_secs(12)));
/// assert_eq!(open.to_string(), "circuit breaker `kanban` is open; next trial in 12s");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CircuitOpen {
    /// The breaker that refused the call.
    pub name: &'static str,
    /// Its state: [`Open`](BreakerState::Open), [`HalfOpen`](BreakerState::HalfOpen)
    /// (every trial place taken) or [`ForcedOpen`](BreakerState::ForcedOpen).
    pub state: BreakerState,
    /// Time left until the next trial call is allowed, if one is scheduled.
    pub retry_after: Option<Duration>,
}

impl core::fmt::Display for CircuitOpen {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "circuit breaker `{}` is ", self.name)?;
        match (self.state, self.retry_after) {
            (BreakerState::ForcedOpen, _) => f.write_str("forced open until it is reset"),
            (BreakerState::HalfOpen, _) => f.write_str("half-open and every trial place is taken"),
            (_, Some(d)) => write!(f, "open; next trial in {}", humantime::format_duration(d)),
            (_, None) => f.write_str("open"),
        }
    }
}

impl std::error::Error for CircuitOpen {}

impl MarcusError for CircuitOpen {
    fn code(&self) -> &'static str {
        "CIRCUIT_OPEN_ERROR"
    }

    fn category(&self) -> Category {
        Category::Integration
    }

    /// Never: retrying into an open breaker only adds load.
    fn retryable(&self) -> bool {
        false
    }

    fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    fn remediation(&self) -> Remediation {
        Remediation {
            immediate: Some(
                "Do not retry now: the dependency behind this circuit breaker is failing".into(),
            ),
            fallback: Some("Serve cached or default data, or queue the work for later".into()),
            retry: Some(
                "The breaker lets a trial call through once its recovery timeout has passed".into(),
            ),
            long_term: Some(
                "Fix the failing dependency; tune the breaker with registry().configure".into(),
            ),
            escalation: Some("Contact the owner of the failing dependency if it persists".into()),
        }
    }
}

/// `{"name": "kanban", "state": "open", "retry_after": "12s"}`.
impl Serialize for CircuitOpen {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("CircuitOpen", 3)?;
        st.serialize_field("name", self.name)?;
        st.serialize_field("state", &self.state)?;
        st.serialize_field(
            "retry_after",
            &self
                .retry_after
                .map(|d| humantime::format_duration(d).to_string()),
        )?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_reads_well_in_each_state_and_serializes() {
        let mut open = CircuitOpen {
            name: "k",
            state: BreakerState::ForcedOpen,
            retry_after: None,
        };
        assert_eq!(
            open.to_string(),
            "circuit breaker `k` is forced open until it is reset"
        );
        open.state = BreakerState::HalfOpen;
        assert!(open.to_string().contains("every trial place is taken"));
        open.state = BreakerState::Open;
        open.retry_after = Some(Duration::from_millis(1500));
        let json = serde_json::to_value(&open).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"name": "k", "state": "open", "retry_after": "1s 500ms"})
        );
        assert_eq!(open.category(), Category::Integration);
        assert!(open.remediation().fallback.is_some());
    }
}
