//! Classification of foreign errors.
use crate::{Category, Severity};
/// Placeholder.
pub struct Classification { /** c */ pub category: Category, /** s */ pub severity: Severity, /** r */ pub retryable: bool, /** a */ pub retry_after: Option<std::time::Duration> }
/// Placeholder.
pub fn classify(_e: &(dyn std::error::Error + '_)) -> Classification { Classification { category: Category::System, severity: Severity::High, retryable: false, retry_after: None } }
