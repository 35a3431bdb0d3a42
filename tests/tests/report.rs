//! The four renders of `ErrorReport` and the serde forms of the error model.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use resilience::errors::{
    CorruptedState, ExternalService, KanbanIntegration, RateLimit, Validation,
};
use resilience::{Category, ErrorContext, ErrorReport, MarcusError, Remediation, Severity};
use serde_json::{json, Value};

/// A context as `#[error_context]` would leave it after two calls.
fn board_context() -> ErrorContext {
    let mut ctx = ErrorContext::for_operation("create_task");
    ctx.agent_id = Some("agent_dev_001".into());
    ctx.task_id = Some("task_456".into());
    ctx.integration_name = Some("planka_board".into());
    ctx.attempt = 2;
    ctx.custom.insert("board_id".into(), json!("board_789"));
    ctx
}

/// A board error caused by a search failure caused by a socket timeout.
fn board_error() -> KanbanIntegration {
    let socket = std::io::Error::new(std::io::ErrorKind::TimedOut, "socket timed out");
    let search = ExternalService::new("search lookup failed").with_source(socket);
    KanbanIntegration::new("Failed to create task on board 'Development'")
        .with_context(board_context())
        .with_source(search)
}

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[test]
fn mcp_json_has_exactly_the_framework_shape() {
    let err = board_error();
    let mcp = err.report().to_mcp_json();

    assert_eq!(keys(&mcp), BTreeSet::from(["success", "error"]));
    assert_eq!(mcp["success"], false);
    let e = &mcp["error"];
    assert_eq!(
        keys(e),
        BTreeSet::from([
            "code",
            "message",
            "type",
            "severity",
            "retryable",
            "context",
            "remediation"
        ])
    );
    assert_eq!(e["code"], "KANBAN_INTEGRATION_ERROR");
    assert_eq!(e["message"], "Failed to create task on board 'Development'");
    assert_eq!(e["type"], "KanbanIntegration");
    assert_eq!(e["severity"], "medium");
    assert_eq!(e["retryable"], true);

    let ctx = err.context().unwrap();
    assert_eq!(e["context"]["operation"], "create_task");
    assert_eq!(e["context"]["correlation_id"], ctx.correlation_id.as_str());
    assert_eq!(e["context"]["agent_id"], "agent_dev_001");
    assert_eq!(e["context"]["task_id"], "task_456");
    assert_eq!(e["context"]["attempt"], 2);
    assert_eq!(e["context"]["custom"]["board_id"], "board_789");

    let remediation = &e["remediation"];
    assert_eq!(
        remediation["immediate"],
        "Retry the board operation with exponential backoff"
    );
    assert_eq!(
        remediation["fallback"],
        "Record the change locally and sync it when the board recovers"
    );
    let retry = remediation["retry"]
        .as_str()
        .expect("a retryable error has a retry plan");
    assert!(retry.contains("2 attempt"), "{retry}");
}

#[test]
fn mcp_json_of_an_unset_context_leaves_unset_fields_out() {
    let mcp = Validation::new("email is not an address")
        .report()
        .to_mcp_json();
    let ctx = &mcp["error"]["context"];
    assert_eq!(
        keys(ctx),
        BTreeSet::from(["operation_id", "correlation_id"])
    );
    // Not retryable and no plan of its own: no retry advice.
    assert!(mcp["error"]["remediation"].get("retry").is_none());
    assert_eq!(mcp["error"]["retryable"], false);
    assert_eq!(mcp["error"]["severity"], "low");
}

#[test]
fn api_json_carries_ids_tier_and_delay() {
    let err = RateLimit::new("quota exceeded")
        .with_retry_after(Duration::from_millis(2500))
        .with_context(board_context());
    let api = err.report().to_api_json();
    let e = &api["error"];
    let ctx = err.context().unwrap();

    assert_eq!(keys(&api), BTreeSet::from(["error"]));
    assert_eq!(e["code"], "RATE_LIMIT_ERROR");
    assert_eq!(e["message"], "quota exceeded");
    assert_eq!(e["type"], "RateLimit");
    assert_eq!(e["category"], "transient");
    assert_eq!(e["severity"], "low");
    assert_eq!(e["retryable"], true);
    assert_eq!(e["retry_after_seconds"], 2.5);
    assert_eq!(e["correlation_id"], ctx.correlation_id.as_str());
    assert_eq!(e["operation_id"], ctx.operation_id.as_str());
    let stamp = e["timestamp"].as_str().unwrap();
    assert!(stamp.ends_with('Z') && stamp.contains('T'), "{stamp}");
    assert!(e["remediation"]["immediate"].is_string());
}

#[test]
fn api_json_without_a_delay_says_null() {
    let api = CorruptedState::new("bad checksum").report().to_api_json();
    assert_eq!(api["error"]["retry_after_seconds"], Value::Null);
    assert_eq!(api["error"]["category"], "system");
    assert_eq!(api["error"]["severity"], "critical");
}

#[test]
fn log_json_is_one_record_with_the_source_chain() {
    let err = board_error();
    let log = err.report().to_log_json();
    let ctx = err.context().unwrap();

    assert_eq!(log["level"], "error");
    assert_eq!(log["error_code"], "KANBAN_INTEGRATION_ERROR");
    assert_eq!(log["error_type"], "KanbanIntegration");
    assert_eq!(log["category"], "integration");
    assert_eq!(log["severity"], "medium");
    assert_eq!(log["retryable"], true);
    assert_eq!(log["correlation_id"], ctx.correlation_id.as_str());
    assert_eq!(log["operation_id"], ctx.operation_id.as_str());
    assert_eq!(log["operation"], "create_task");
    assert_eq!(log["agent_id"], "agent_dev_001");
    assert_eq!(log["task_id"], "task_456");
    assert_eq!(log["integration"], "planka_board");
    assert_eq!(log["attempt"], 2);
    assert_eq!(
        log["caused_by"],
        json!(["search lookup failed", "socket timed out"])
    );
    assert_eq!(log["custom_context"], json!({"board_id": "board_789"}));
    // The context's time, in the same RFC 3339 form as the API render.
    assert_eq!(
        log["timestamp"],
        err.report().to_api_json()["error"]["timestamp"]
    );
}

#[test]
fn log_level_follows_severity() {
    let level = |e: &dyn MarcusError| e.report().to_log_json()["level"].clone();
    assert_eq!(level(&RateLimit::new("x")), "warning");
    assert_eq!(level(&KanbanIntegration::new("x")), "error");
    assert_eq!(level(&CorruptedState::new("x")), "critical");
}

#[test]
fn log_json_without_context_has_nulls_not_missing_keys() {
    let report = ErrorReport {
        context: None,
        ..Validation::new("x").report()
    };
    let log = report.to_log_json();
    assert_eq!(log["correlation_id"], Value::Null);
    assert_eq!(log["operation"], Value::Null);
    assert_eq!(log["caused_by"], json!([]));
    assert_eq!(log["custom_context"], json!({}));
    assert!(log["timestamp"].is_string());
}

#[test]
fn user_message_says_what_happened_what_to_do_the_alternative_and_the_plan() {
    let msg = board_error().report().to_user_message();
    let lines: Vec<&str> = msg.lines().collect();
    assert_eq!(lines[0], "Failed to create task on board 'Development'");
    assert!(lines.contains(&"What to do: Retry the board operation with exponential backoff"));
    assert!(lines
        .contains(&"Alternative: Record the change locally and sync it when the board recovers"));
    let retry = lines
        .iter()
        .find(|l| l.starts_with("Retry: "))
        .expect("a retry line");
    assert!(
        retry.contains("exponential backoff") && retry.contains("2 attempt"),
        "{retry}"
    );
    assert!(lines.iter().any(|l| l.starts_with("If it persists: ")));
}

#[test]
fn user_message_gives_the_delay_or_says_not_to_retry() {
    let limited = RateLimit::new("quota exceeded")
        .with_retry_after(Duration::from_secs(30))
        .report()
        .to_user_message();
    assert!(limited.contains("Retry: Retry after 30s."), "{limited}");

    let invalid = Validation::new("email is not an address")
        .report()
        .to_user_message();
    assert!(
        invalid.contains("Retry: Retrying will not help"),
        "{invalid}"
    );
    assert!(!invalid.contains("Alternative:"), "{invalid}");
}

#[test]
fn user_message_uses_the_errors_own_retry_plan() {
    let report = ErrorReport {
        remediation: Remediation {
            retry: Some("Automatic retry in 2.5 seconds (attempt 2/3)".into()),
            ..Remediation::default()
        },
        ..RateLimit::new("slow down").report()
    };
    assert!(report
        .to_user_message()
        .contains("Retry: Automatic retry in 2.5 seconds (attempt 2/3)"));
    assert_eq!(
        report.to_mcp_json()["error"]["remediation"]["retry"],
        "Automatic retry in 2.5 seconds (attempt 2/3)"
    );
}

#[test]
fn an_error_report_round_trips_through_json() {
    let mut report = board_error().report();
    // The wire format keeps milliseconds; compare at that precision.
    let ctx = report.context.as_mut().unwrap();
    ctx.timestamp = UNIX_EPOCH + Duration::from_millis(1_752_507_045_123);
    report.retry_after = Some(Duration::from_millis(1500));

    let text = serde_json::to_string(&report).unwrap();
    let back: ErrorReport = serde_json::from_str(&text).unwrap();
    assert_eq!(back, report);

    let value = serde_json::to_value(&report).unwrap();
    assert_eq!(value["retry_after"], "1s 500ms");
    // Reports written with a number of seconds still load.
    let mut old = value.clone();
    old["retry_after"] = serde_json::json!(1.5);
    assert_eq!(serde_json::from_value::<ErrorReport>(old).unwrap(), report);
    assert_eq!(value["category"], "integration");
    assert_eq!(value["context"]["timestamp"], "2025-07-14T15:30:45.123Z");
}

#[test]
fn an_error_context_round_trips_through_json() {
    let mut ctx = board_context();
    ctx.timestamp = UNIX_EPOCH + Duration::from_millis(1_000_000_000_007);
    let text = serde_json::to_string(&ctx).unwrap();
    let back: ErrorContext = serde_json::from_str(&text).unwrap();
    assert_eq!(back, ctx);

    // A fresh context (sub-millisecond time) comes back within a millisecond.
    let fresh = ErrorContext::new();
    let back: ErrorContext = serde_json::from_value(serde_json::to_value(&fresh).unwrap()).unwrap();
    let drift = fresh
        .timestamp
        .duration_since(back.timestamp)
        .unwrap_or_else(|e| e.duration());
    assert!(drift < Duration::from_millis(1));
    assert_eq!(back.operation_id, fresh.operation_id);
}

#[test]
fn a_bad_timestamp_is_refused() {
    let mut value = serde_json::to_value(ErrorContext::new()).unwrap();
    value["timestamp"] = json!("yesterday");
    assert!(serde_json::from_value::<ErrorContext>(value).is_err());
}

#[test]
fn categories_and_severities_round_trip_as_snake_case() {
    for category in Category::ALL {
        let value = serde_json::to_value(category).unwrap();
        assert_eq!(value, category.as_str());
        assert_eq!(serde_json::from_value::<Category>(value).unwrap(), category);
    }
    assert_eq!(
        serde_json::to_value(Category::BusinessLogic).unwrap(),
        "business_logic"
    );
    for severity in [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ] {
        let value = serde_json::to_value(severity).unwrap();
        assert_eq!(value, severity.as_str());
        assert_eq!(serde_json::from_value::<Severity>(value).unwrap(), severity);
    }
    assert!(serde_json::from_value::<Severity>(json!("catastrophic")).is_err());
}

#[test]
fn remediation_round_trips() {
    let r = Remediation::for_category(Category::Integration);
    let back: Remediation = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let value = serde_json::to_value(&r).unwrap();
    assert_eq!(value["retry"], Value::Null);
    assert!(value["immediate"].is_string());
}

#[test]
fn a_report_made_now_is_stamped_now() {
    let before = SystemTime::now() - Duration::from_secs(1);
    let report = RateLimit::new("x").report();
    assert!(report.context.unwrap().timestamp >= before);
}
