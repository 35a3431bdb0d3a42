//! [`ErrorAggregator`]: the outcome of a batch operation, item by item.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Category, ErrorContext, MarcusError, Severity};

/// Collects the successes and errors of a batch (an import, a sync of many tasks) so the
/// batch can go on past a failed item, then summarise, and fail if anything critical
/// happened.
///
/// Memory stays bounded however large the batch: per error code it keeps a count and
/// the first [`EXAMPLES`](ErrorAggregator::EXAMPLES) examples, and it lists the first
/// [`BatchFailed::LISTED`] critical errors.
///
/// ```
/// use resilience::{Category, ErrorAggregator, MarcusError};
/// use serde_json::json;
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("row {0} is invalid")]
/// struct BadRow(u32);
/// impl MarcusError for BadRow {
///     fn code(&self) -> &'static str { "BAD_ROW" }
///     fn category(&self) -> Category { Category::BusinessLogic }
/// }
///
/// let mut batch = ErrorAggregator::new("import");
/// batch.add_success();
/// batch.add_success();
/// batch.add_success();
/// batch.add_error(BadRow(7), json!({"row": 7}));
///
/// let summary = batch.summary();
/// assert_eq!((summary.total_operations, summary.successes, summary.errors), (4, 3, 1));
/// assert_eq!(summary.success_rate, 0.75);
/// assert_eq!(summary.error_summary["BAD_ROW"].examples[0].item, json!({"row": 7}));
/// assert!(batch.raise_if_critical().is_ok()); // business logic: medium severity
/// ```
#[derive(Clone, Debug)]
pub struct ErrorAggregator {
    operation: String,
    successes: u64,
    errors: u64,
    by_code: BTreeMap<&'static str, ErrorTypeSummary>,
    critical: Vec<ErrorExample>,
    critical_count: u64,
    critical_category: Option<Category>,
}

impl ErrorAggregator {
    /// How many examples are kept per error code.
    pub const EXAMPLES: usize = 3;

    /// An empty aggregator for the batch `operation`.
    ///
    /// ```
    /// let batch = resilience::ErrorAggregator::new("sync_tasks");
    /// assert_eq!(batch.summary().operation, "sync_tasks");
    /// ```
    pub fn new(operation: impl Into<String>) -> Self {
        ErrorAggregator {
            operation: operation.into(),
            successes: 0,
            errors: 0,
            by_code: BTreeMap::new(),
            critical: Vec::new(),
            critical_count: 0,
            critical_category: None,
        }
    }

    /// Counts one item that succeeded.
    ///
    /// ```
    /// let mut batch = resilience::ErrorAggregator::new("import");
    /// batch.add_success();
    /// assert_eq!(batch.summary().successes, 1);
    /// ```
    pub fn add_success(&mut self) {
        self.successes += 1;
    }

    /// Counts one item that failed with `error`; `item` says which item (a row number,
    /// an id), kept with the first examples of each error code. The error itself is
    /// not kept, only its code, type, severity and message.
    ///
    /// ```
    /// use resilience::{Category, ErrorAggregator, MarcusError};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("database down")]
    /// struct DbDown;
    /// impl MarcusError for DbDown {
    ///     fn code(&self) -> &'static str { "DB_DOWN" }
    ///     fn category(&self) -> Category { Category::System }
    /// }
    ///
    /// let mut batch = ErrorAggregator::new("import");
    /// batch.add_error(DbDown, serde_json::json!({"row": 1}));
    /// assert_eq!(batch.summary().error_summary["DB_DOWN"].count, 1);
    /// ```
    pub fn add_error<E: MarcusError>(&mut self, error: E, item: serde_json::Value) {
        self.errors += 1;
        let code = error.code();
        let severity = error.severity();
        let example = || ErrorExample {
            code: code.to_owned(),
            message: error.to_string(),
            item: item.clone(),
        };
        if severity == Severity::Critical {
            self.critical_count += 1;
            self.critical_category.get_or_insert(error.category());
            if self.critical.len() < BatchFailed::LISTED {
                self.critical.push(example());
            }
        }
        let entry = self
            .by_code
            .entry(code)
            .or_insert_with(|| ErrorTypeSummary {
                error_type: error.error_type().to_owned(),
                category: error.category(),
                severity,
                count: 0,
                examples: Vec::new(),
            });
        entry.count += 1;
        entry.severity = entry.severity.max(severity);
        if entry.examples.len() < Self::EXAMPLES {
            entry.examples.push(example());
        }
    }

    /// The batch so far: counts, success rate, and errors by code with examples.
    ///
    /// ```
    /// let summary = resilience::ErrorAggregator::new("empty").summary();
    /// assert_eq!(summary.total_operations, 0);
    /// assert_eq!(summary.success_rate, 1.0); // nothing failed
    /// ```
    pub fn summary(&self) -> BatchSummary {
        let total = self.successes + self.errors;
        BatchSummary {
            operation: self.operation.clone(),
            total_operations: total,
            successes: self.successes,
            errors: self.errors,
            success_rate: if total == 0 {
                1.0
            } else {
                self.successes as f64 / total as f64
            },
            error_summary: self
                .by_code
                .iter()
                .map(|(code, s)| ((*code).to_owned(), s.clone()))
                .collect(),
        }
    }

    /// `Err` naming the operation and its critical errors if any item failed with a
    /// critical error; `Ok(())` otherwise.
    ///
    /// ```
    /// use resilience::{Category, ErrorAggregator, MarcusError, Severity};
    ///
    /// #[derive(Debug, thiserror::Error)]
    /// #[error("state corrupted")]
    /// struct Corrupted;
    /// impl MarcusError for Corrupted {
    ///     fn code(&self) -> &'static str { "CORRUPTED" }
    ///     fn category(&self) -> Category { Category::System }
    /// }
    ///
    /// let mut batch = ErrorAggregator::new("import");
    /// batch.add_error(Corrupted, serde_json::json!({"row": 3}));
    /// let failed = batch.raise_if_critical().unwrap_err();
    /// assert_eq!(failed.code(), "BATCH_FAILED_ERROR");
    /// assert_eq!(failed.severity(), Severity::Critical);
    /// assert!(failed.to_string().contains("import"));
    /// assert!(failed.to_string().contains("CORRUPTED"));
    /// ```
    pub fn raise_if_critical(&self) -> Result<(), BatchFailed> {
        if self.critical_count == 0 {
            return Ok(());
        }
        let mut context = ErrorContext::for_operation(self.operation.clone());
        context
            .custom
            .insert("critical_errors".into(), self.critical_count.into());
        context.custom.insert("errors".into(), self.errors.into());
        context.custom.insert(
            "total_operations".into(),
            (self.successes + self.errors).into(),
        );
        Err(BatchFailed {
            operation: self.operation.clone(),
            critical: self.critical.clone(),
            critical_count: self.critical_count,
            errors: self.errors,
            total_operations: self.successes + self.errors,
            category: self.critical_category.unwrap_or(Category::System),
            context: Box::new(context),
        })
    }
}

/// What [`ErrorAggregator::summary`] reports.
///
/// ```
/// let mut batch = resilience::ErrorAggregator::new("import");
/// batch.add_success();
/// let json = serde_json::to_value(batch.summary()).unwrap();
/// assert_eq!(json["success_rate"], 1.0);
/// assert_eq!(json["error_summary"], serde_json::json!({}));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BatchSummary {
    /// The batch operation's name.
    pub operation: String,
    /// Items counted, successes and errors.
    pub total_operations: u64,
    /// Items that succeeded.
    pub successes: u64,
    /// Items that failed.
    pub errors: u64,
    /// `successes / total_operations`, 0.0 to 1.0 (1.0 for an empty batch: nothing
    /// failed).
    pub success_rate: f64,
    /// The errors by code.
    pub error_summary: BTreeMap<String, ErrorTypeSummary>,
}

/// The errors of one code in a batch.
///
/// ```
/// use resilience::monitor::ErrorTypeSummary;
/// let s: ErrorTypeSummary = serde_json::from_value(serde_json::json!({
///     "error_type": "BadRow", "category": "business_logic", "severity": "medium",
///     "count": 2, "examples": []
/// })).unwrap();
/// assert_eq!(s.count, 2);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorTypeSummary {
    /// The error's type name.
    pub error_type: String,
    /// Its tier.
    pub category: Category,
    /// The highest severity met with this code.
    pub severity: Severity,
    /// How many items failed with it.
    pub count: u64,
    /// The first few of them.
    pub examples: Vec<ErrorExample>,
}

/// One failed item: the error's code and message, and the item's context.
///
/// ```
/// use resilience::monitor::ErrorExample;
/// let e = ErrorExample { code: "X".into(), message: "m".into(), item: serde_json::json!(1) };
/// assert_eq!(serde_json::to_value(&e).unwrap()["item"], 1);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorExample {
    /// The error's code.
    pub code: String,
    /// The error's message.
    pub message: String,
    /// What the caller said about the item.
    pub item: serde_json::Value,
}

/// A batch had critical errors: returned by [`ErrorAggregator::raise_if_critical`].
///
/// A [`MarcusError`] with code `BATCH_FAILED_ERROR`, severity critical, not retryable,
/// the tier of its first critical error, and a context whose operation is the batch's.
///
/// ```
/// use resilience::{Category, ErrorAggregator, MarcusError};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("disk full")]
/// struct DiskFull;
/// impl MarcusError for DiskFull {
///     fn code(&self) -> &'static str { "DISK_FULL" }
///     fn category(&self) -> Category { Category::System }
/// }
///
/// let mut batch = ErrorAggregator::new("export");
/// batch.add_success();
/// batch.add_error(DiskFull, serde_json::json!({"file": "a.csv"}));
/// let failed = batch.raise_if_critical().unwrap_err();
/// assert_eq!((failed.operation(), failed.critical_count()), ("export", 1));
/// assert_eq!(failed.critical()[0].code, "DISK_FULL");
/// assert_eq!(failed.context().unwrap().operation, "export");
/// assert!(!failed.retryable());
/// ```
#[derive(Clone, Debug)]
pub struct BatchFailed {
    operation: String,
    critical: Vec<ErrorExample>,
    critical_count: u64,
    errors: u64,
    total_operations: u64,
    category: Category,
    // Boxed: keeps `Result<(), BatchFailed>` small on the success path.
    context: Box<ErrorContext>,
}

impl BatchFailed {
    /// How many critical errors are listed at most (all are counted).
    pub const LISTED: usize = 10;

    /// The batch operation's name.
    pub fn operation(&self) -> &str {
        &self.operation
    }

    /// The first [`LISTED`](BatchFailed::LISTED) critical errors.
    pub fn critical(&self) -> &[ErrorExample] {
        &self.critical
    }

    /// How many items failed with a critical error.
    pub fn critical_count(&self) -> u64 {
        self.critical_count
    }

    /// How many items failed, critically or not.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// How many items the batch counted.
    pub fn total_operations(&self) -> u64 {
        self.total_operations
    }
}

impl core::fmt::Display for BatchFailed {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "batch operation `{}` failed: {} of {} items hit critical errors",
            self.operation, self.critical_count, self.total_operations
        )?;
        for (i, e) in self.critical.iter().enumerate() {
            f.write_str(if i == 0 { " (" } else { "; " })?;
            write!(f, "{}: {}", e.code, e.message)?;
        }
        let unlisted = self
            .critical_count
            .saturating_sub(self.critical.len() as u64);
        if unlisted > 0 {
            write!(f, "; and {unlisted} more")?;
        }
        if !self.critical.is_empty() {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl std::error::Error for BatchFailed {}

impl MarcusError for BatchFailed {
    fn code(&self) -> &'static str {
        "BATCH_FAILED_ERROR"
    }

    fn category(&self) -> Category {
        self.category
    }

    fn severity(&self) -> Severity {
        Severity::Critical
    }

    fn retryable(&self) -> bool {
        false
    }

    fn context(&self) -> Option<&ErrorContext> {
        Some(&self.context)
    }

    fn context_mut(&mut self) -> Option<&mut ErrorContext> {
        Some(&mut self.context)
    }

    fn error_type(&self) -> &'static str {
        "BatchFailedError"
    }
}
