//! Circuit breakers.
pub mod glue {}
/// Placeholder.
#[derive(Clone, Debug, Default)]
pub struct BreakerConfig {}
/// Placeholder.
#[derive(Clone, Copy, Debug)]
pub enum BreakerState {
    /// Placeholder.
    Closed,
}
/// Placeholder.
#[derive(Clone, Debug, thiserror::Error)]
#[error("circuit open")]
pub struct CircuitOpen {}
