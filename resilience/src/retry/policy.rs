//! Named retry policies: `registry().configure_retry("kanban", RetryConfig { .. })`,
//! used by `#[retry(policy = "kanban")]`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{PoisonError, RwLock};

use super::RetryConfig;
use crate::registry::Registry;
use crate::ConfigError;

static POLICIES: RwLock<Option<HashMap<String, RetryConfig>>> = RwLock::new(None);

/// Moves on every change, so named call sites know to resolve again.
static GENERATION: AtomicU64 = AtomicU64::new(0);

pub(super) fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

pub(super) fn get(name: &str) -> Option<RetryConfig> {
    let policies = POLICIES.read().unwrap_or_else(PoisonError::into_inner);
    policies.as_ref()?.get(name).cloned()
}

impl Registry {
    /// Sets the retry policy `name`, used by every `#[retry(policy = "name")]` call site
    /// from its next call on, before or after its first use; the attribute's own keys are
    /// its defaults until then. An invalid configuration is refused, naming the field.
    ///
    /// ```
    /// use resilience::{registry, retry, RetryConfig};
    /// use resilience::retry::Backoff;
    ///
    /// #[retry(policy = "doc-kanban", max_attempts = 2, backoff = none)]
    /// fn call(calls: &mut u32) -> Result<(), String> {
    ///     *calls += 1;
    ///     Err("down".into())
    /// }
    ///
    /// let mut calls = 0;
    /// call(&mut calls).unwrap_err();
    /// assert_eq!(calls, 2);
    ///
    /// registry().configure_retry("doc-kanban", RetryConfig { max_attempts: 4, backoff: Backoff::None, ..Default::default() })?;
    /// let mut calls = 0;
    /// call(&mut calls).unwrap_err();
    /// assert_eq!(calls, 4);
    ///
    /// let bad = registry().configure_retry("doc-kanban", RetryConfig { max_attempts: 0, ..Default::default() });
    /// assert_eq!(bad.unwrap_err().field(), "max_attempts");
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn configure_retry(&self, name: &str, config: RetryConfig) -> Result<(), ConfigError> {
        config.validate()?;
        let mut policies = POLICIES.write().unwrap_or_else(PoisonError::into_inner);
        policies
            .get_or_insert_with(HashMap::new)
            .insert(name.to_owned(), config);
        GENERATION.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// The retry policy `name`, if one was configured.
    ///
    /// ```
    /// use resilience::{registry, RetryConfig};
    /// registry().configure_retry("doc-lookup", RetryConfig::default())?;
    /// assert_eq!(registry().retry_policy("doc-lookup"), Some(RetryConfig::default()));
    /// assert_eq!(registry().retry_policy("never-set"), None);
    /// # Ok::<(), resilience::ConfigError>(())
    /// ```
    pub fn retry_policy(&self, name: &str) -> Option<RetryConfig> {
        get(name)
    }
}
