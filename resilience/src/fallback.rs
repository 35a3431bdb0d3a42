//! Fallbacks.
pub mod glue {}
