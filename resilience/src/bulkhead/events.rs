//! What a bulkhead reports: a metric per refusal and a WARN at most once a second (off
//! the hot path; an admitted call reports nothing).

use std::time::Duration;

/// A call was refused: counted in the metrics; a WARN when `refused` says this refusal
/// is the one a second that is logged (with the refusals since the last WARN).
#[cold]
pub(super) fn refused(
    name: &'static str,
    key: Option<&str>,
    waited: Duration,
    refused: Option<u64>,
) {
    if let Some(refused) = refused {
        tracing::warn!(
            target: "resilience::bulkhead",
            bulkhead = name,
            key,
            refused,
            waited_ms = waited.as_millis() as u64,
            "bulkhead full; calls refused (`refused`: since the last such warning, at most one a second)"
        );
    }
    crate::metrics::bulkhead_rejected(name);
}
