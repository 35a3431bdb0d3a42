//! The global breaker registry.
/// Placeholder.
pub struct Registry;
/// Placeholder.
pub fn registry() -> &'static Registry { &Registry }
/// Placeholder.
pub struct BreakerSnapshot;
