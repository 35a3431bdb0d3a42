//! `ErrorAggregator` for batch operations: counts, success rate, errors by code with
//! item examples, and `raise_if_critical`.

use resilience::monitor::BatchSummary;
use resilience::{BatchFailed, Category, ErrorAggregator, MarcusError, Severity};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
enum ImportError {
    #[error("row {0} is malformed")]
    Malformed(u32),
    #[error("the database went away")]
    DatabaseGone,
}

impl MarcusError for ImportError {
    fn code(&self) -> &'static str {
        match self {
            ImportError::Malformed(_) => "MALFORMED_ROW",
            ImportError::DatabaseGone => "DATABASE_GONE",
        }
    }
    fn category(&self) -> Category {
        match self {
            ImportError::Malformed(_) => Category::BusinessLogic,
            ImportError::DatabaseGone => Category::System,
        }
    }
}

fn import(rows: u32, bad: impl Fn(u32) -> Option<ImportError>) -> ErrorAggregator {
    let mut batch = ErrorAggregator::new("import");
    for row in 0..rows {
        match bad(row) {
            Some(e) => batch.add_error(e, json!({ "row": row })),
            None => batch.add_success(),
        }
    }
    batch
}

#[test]
fn summary_counts_successes_errors_and_groups_by_code() {
    let batch = import(20, |row| {
        (row % 4 == 0).then_some(ImportError::Malformed(row))
    });
    let s = batch.summary();
    assert_eq!(s.operation, "import");
    assert_eq!((s.total_operations, s.successes, s.errors), (20, 15, 5));
    assert_eq!(s.success_rate, 0.75);
    let malformed = &s.error_summary["MALFORMED_ROW"];
    assert_eq!(malformed.count, 5);
    assert_eq!(malformed.error_type, "ImportError");
    assert_eq!(
        (malformed.category, malformed.severity),
        (Category::BusinessLogic, Severity::Medium)
    );
    // The first three examples, with their items.
    let rows: Vec<_> = malformed
        .examples
        .iter()
        .map(|e| e.item["row"].clone())
        .collect();
    assert_eq!(rows, [json!(0), json!(4), json!(8)]);
    assert_eq!(malformed.examples[1].message, "row 4 is malformed");
    assert_eq!(s.error_summary.len(), 1);
    assert!(batch.raise_if_critical().is_ok());
}

#[test]
fn summary_is_json_and_round_trips() {
    let batch = import(3, |row| (row == 1).then_some(ImportError::DatabaseGone));
    let json = serde_json::to_value(batch.summary()).unwrap();
    assert_eq!(json["total_operations"], 3);
    assert_eq!(json["successes"], 2);
    assert_eq!(json["errors"], 1);
    assert_eq!(json["error_summary"]["DATABASE_GONE"]["count"], 1);
    assert_eq!(
        json["error_summary"]["DATABASE_GONE"]["severity"],
        "critical"
    );
    assert_eq!(
        json["error_summary"]["DATABASE_GONE"]["examples"][0]["item"],
        json!({"row": 1})
    );
    let back: BatchSummary = serde_json::from_value(json).unwrap();
    assert_eq!(back, batch.summary());
}

#[test]
fn empty_and_all_failed_batches() {
    let empty = ErrorAggregator::new("nothing").summary();
    assert_eq!((empty.total_operations, empty.success_rate), (0, 1.0));
    let failed = import(4, |row| Some(ImportError::Malformed(row))).summary();
    assert_eq!(failed.success_rate, 0.0);
}

#[test]
fn raise_if_critical_names_the_operation_and_the_critical_errors() {
    let batch = import(30, |row| match row % 10 {
        3 => Some(ImportError::DatabaseGone),
        5 => Some(ImportError::Malformed(row)),
        _ => None,
    });
    let failed: BatchFailed = batch.raise_if_critical().unwrap_err();
    assert_eq!(failed.operation(), "import");
    assert_eq!(
        (
            failed.critical_count(),
            failed.errors(),
            failed.total_operations()
        ),
        (3, 6, 30)
    );
    assert!(failed.critical().iter().all(|e| e.code == "DATABASE_GONE"));
    let items: Vec<_> = failed
        .critical()
        .iter()
        .map(|e| e.item["row"].clone())
        .collect();
    assert_eq!(items, [json!(3), json!(13), json!(23)]);

    assert_eq!(failed.code(), "BATCH_FAILED_ERROR");
    assert_eq!(failed.severity(), Severity::Critical);
    assert_eq!(failed.category(), Category::System);
    assert!(!failed.retryable());
    let message = failed.to_string();
    assert!(message.contains("`import`"), "{message}");
    assert!(message.contains("3 of 30"), "{message}");
    assert!(
        message.contains("DATABASE_GONE: the database went away"),
        "{message}"
    );
    let report = failed.report().to_mcp_json();
    assert_eq!(report["error"]["code"], "BATCH_FAILED_ERROR");
    assert_eq!(report["error"]["context"]["operation"], "import");
}

#[test]
fn many_critical_errors_are_counted_but_listed_up_to_a_bound() {
    let batch = import(1000, |_| Some(ImportError::DatabaseGone));
    let failed = batch.raise_if_critical().unwrap_err();
    assert_eq!(failed.critical_count(), 1000);
    assert_eq!(failed.critical().len(), BatchFailed::LISTED);
    assert!(failed.to_string().contains("and 990 more"));
    let summary = batch.summary();
    assert_eq!(
        summary.error_summary["DATABASE_GONE"].examples.len(),
        ErrorAggregator::EXAMPLES
    );
}

#[test]
fn batch_failed_flows_into_an_error_enum_with_question_mark() {
    #[derive(Debug, thiserror::Error)]
    enum JobError {
        #[error(transparent)]
        Batch(#[from] BatchFailed),
    }
    fn job() -> Result<(), JobError> {
        let batch = import(2, |_| Some(ImportError::DatabaseGone));
        batch.raise_if_critical()?;
        Ok(())
    }
    assert!(matches!(job(), Err(JobError::Batch(b)) if b.critical_count() == 2));
}
