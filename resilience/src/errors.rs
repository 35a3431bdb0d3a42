//! The ready-made error types of the six tiers.
/// Placeholder.
#[derive(Debug, thiserror::Error)]
#[error("placeholder")]
pub enum Error {}
