//! Named retry policies: `registry().configure_retry("kanban", RetryConfig { .. })`,
//! used by `#[retry(policy = "kanban")]`.
//!
//! The policies are a registry's own state ([`RetryPolicies`]): the global registry's are
//! [`GLOBAL`], which `#[retry(policy = ..)]` call sites read, and every
//! `Registry::new()` has its own, so configuring it changes nothing global. This module
//! knows nothing of the registry (the registry depends on it, not the reverse).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use super::RetryConfig;
use crate::ConfigError;

/// One registry's named retry policies.
pub(crate) struct RetryPolicies {
    policies: RwLock<Option<HashMap<String, RetryConfig>>>,
    /// Moves on every change, so named call sites know to resolve again.
    generation: AtomicU64,
}

/// The global registry's policies: what `#[retry(policy = "name")]` call sites follow.
pub(crate) static GLOBAL: RetryPolicies = RetryPolicies::new();

impl RetryPolicies {
    /// No policy.
    pub(crate) const fn new() -> RetryPolicies {
        RetryPolicies {
            policies: RwLock::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// Sets the policy `name`, validated first.
    pub(crate) fn configure(&self, name: &str, config: RetryConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let mut policies = self
            .policies
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        policies
            .get_or_insert_with(HashMap::new)
            .insert(name.to_owned(), config);
        self.generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Moves on every change (0 while no policy was ever configured).
    #[inline]
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The policy `name`, if one was configured.
    pub(crate) fn get(&self, name: &str) -> Option<RetryConfig> {
        let policies = self.policies.read().unwrap_or_else(PoisonError::into_inner);
        policies.as_ref()?.get(name).cloned()
    }
}
