//! The error monitor.
pub mod glue {}
/// Placeholder.
pub struct Monitor;
/// Placeholder.
pub fn monitor() -> &'static Monitor { &Monitor }
/// Placeholder.
pub struct ErrorAggregator;
/// Placeholder.
pub struct HealthScore;
