//! The registry's named retry budgets: its own state, as its breakers are, so a
//! `Registry::new()` has budgets of its own (on its clock). `#[retry(budget = "name")]`
//! and [`retry_budget`] use the global registry's.

use super::Registry;
use crate::retry::{BudgetSnapshot, RetryBudget};

impl Registry {
    /// The budget called `name` in this registry, made with
    /// [`BudgetConfig::default`](crate::retry::BudgetConfig::default) (100 tokens,
    /// refilled at 10 a second) on the registry's clock on first use.
    ///
    /// ```
    /// use resilience::registry::Registry;
    ///
    /// let reg = Registry::new();
    /// let a = reg.retry_budget("shared");
    /// assert!(a.try_withdraw());
    /// assert_eq!(reg.retry_budget("shared").available(), 99); // one bucket, two handles
    /// // Another registry, another bucket; the global one is untouched too.
    /// assert_eq!(Registry::new().retry_budget("shared").available(), 100);
    /// assert_eq!(resilience::retry_budget("shared").available(), 100);
    /// ```
    pub fn retry_budget(&self, name: &str) -> RetryBudget {
        self.budgets.get_or_make(name, &self.clock)
    }

    /// Snapshots of every named budget of this registry, sorted by name.
    ///
    /// ```
    /// let reg = resilience::registry::Registry::new();
    /// let _ = reg.retry_budget("b");
    /// let _ = reg.retry_budget("a");
    /// let names: Vec<_> = reg.retry_budgets().into_iter().filter_map(|b| b.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn retry_budgets(&self) -> Vec<BudgetSnapshot> {
        self.budgets.snapshots()
    }

    /// The named budgets whose scope is the cluster.
    #[cfg(feature = "redis")]
    pub(crate) fn cluster_budgets(&self) -> Vec<RetryBudget> {
        let mut budgets = self.budgets.handles();
        budgets.retain(RetryBudget::is_cluster);
        budgets
    }
}

/// The process-wide budget called `name`: the global [`registry()`](crate::registry())'s,
/// created with [`BudgetConfig::default`](crate::retry::BudgetConfig::default) on first
/// use (100 tokens, refilled at 10 a second) on the system clock.
///
/// The map is locked only here, to find or create the handle; `#[retry(budget = ..)]`
/// looks its budget up once per call site, and withdrawals never lock.
///
/// ```
/// use resilience::retry_budget;
///
/// let a = retry_budget("docs-shared");
/// let b = retry_budget("docs-shared");
/// assert!(a.try_withdraw());
/// assert_eq!(b.available(), 99); // one bucket, two handles
/// ```
pub fn retry_budget(name: &str) -> RetryBudget {
    crate::registry().retry_budget(name)
}

/// Snapshots of every named budget of the global registry, sorted by name.
///
/// ```
/// let _ = resilience::retry_budget("docs-listed");
/// let all = resilience::retry_budgets();
/// assert!(all.iter().any(|b| b.name.as_deref() == Some("docs-listed")));
/// ```
pub fn retry_budgets() -> Vec<BudgetSnapshot> {
    crate::registry().retry_budgets()
}
