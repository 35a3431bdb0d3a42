//! The ready-made hierarchy (`resilience::errors`) and the `resilience::Error` enum.

use std::collections::HashSet;
use std::error::Error as _;
use std::path::Path;
use std::time::Duration;

use resilience::errors::*;
use resilience::{Category, ErrorContext, MarcusError, Severity};

/// A type's name, one error of it, and the tier, severity and retryability its
/// documentation promises.
type Row = (&'static str, Box<dyn MarcusError>, Category, Severity, bool);

/// One row for each ready-made type.
fn every_type() -> Vec<Row> {
    use Category::*;
    use Severity::*;
    macro_rules! row {
        ($ty:ident, $cat:expr, $sev:expr, $retry:expr) => {
            (
                stringify!($ty),
                Box::new($ty::new(concat!("a ", stringify!($ty)))) as Box<dyn MarcusError>,
                $cat,
                $sev,
                $retry,
            )
        };
    }
    vec![
        row!(NetworkTimeout, Transient, Medium, true),
        row!(ServiceUnavailable, Transient, Medium, true),
        row!(RateLimit, Transient, Low, true),
        row!(TemporaryResource, Transient, Medium, true),
        row!(MissingCredentials, Configuration, High, false),
        row!(InvalidConfiguration, Configuration, High, false),
        row!(MissingDependency, Configuration, High, false),
        row!(Environment, Configuration, High, false),
        row!(TaskAssignment, BusinessLogic, Medium, false),
        row!(WorkflowViolation, BusinessLogic, Medium, false),
        row!(Validation, BusinessLogic, Low, false),
        row!(StateConflict, BusinessLogic, Medium, false),
        row!(TaskValidation, BusinessLogic, Low, false),
        row!(ProjectRootNotFound, BusinessLogic, Medium, false),
        row!(KanbanIntegration, Integration, Medium, true),
        row!(AiProvider, Integration, Medium, true),
        row!(Authentication, Integration, High, false),
        row!(ExternalService, Integration, Medium, true),
        row!(Authorization, Security, High, false),
        row!(WorkspaceSecurity, Security, Critical, false),
        row!(Permission, Security, High, false),
        row!(ResourceExhaustion, System, Critical, false),
        row!(CorruptedState, System, Critical, false),
        row!(Database, System, High, false),
        row!(CriticalDependency, System, Critical, false),
    ]
}

/// `KanbanIntegration` → `KANBAN_INTEGRATION`, independently of the crate's own rule.
fn screaming_snake(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[test]
fn the_hierarchy_has_all_six_tiers_and_twenty_five_types() {
    let types = every_type();
    assert_eq!(types.len(), 25);
    let tiers: HashSet<Category> = types.iter().map(|t| t.2).collect();
    assert_eq!(tiers, Category::ALL.into_iter().collect());
}

#[test]
fn every_code_is_the_screaming_snake_name_with_error_and_distinct() {
    let mut seen = HashSet::new();
    for (name, err, ..) in every_type() {
        let expected = format!("{}_ERROR", screaming_snake(name));
        assert_eq!(err.code(), expected, "code of {name}");
        assert!(err.code().ends_with("_ERROR"));
        assert!(seen.insert(err.code()), "duplicate code {}", err.code());
    }
    assert!(seen.contains("KANBAN_INTEGRATION_ERROR"));
    assert!(seen.contains("NETWORK_TIMEOUT_ERROR"));
    assert!(seen.contains("AI_PROVIDER_ERROR"));
    assert!(seen.contains("PROJECT_ROOT_NOT_FOUND_ERROR"));
}

#[test]
fn every_type_has_its_documented_tier_severity_and_retryability() {
    for (name, err, category, severity, retryable) in every_type() {
        assert_eq!(err.category(), category, "category of {name}");
        assert_eq!(err.severity(), severity, "severity of {name}");
        assert_eq!(err.retryable(), retryable, "retryable of {name}");
        assert_eq!(
            err.retry_after(),
            None,
            "{name} has no delay until given one"
        );
        assert_eq!(err.error_type(), name);
    }
}

#[test]
fn every_type_has_useful_remediation_and_a_fresh_context() {
    let mut operation_ids = HashSet::new();
    for (name, err, ..) in every_type() {
        let r = err.remediation();
        let immediate = r.immediate.as_deref().unwrap_or_default();
        assert!(immediate.len() > 10, "{name} says what to do now");
        assert!(r.long_term.is_some(), "{name} says how to prevent it");
        let ctx = err
            .context()
            .expect("every ready-made type carries a context");
        assert!(ctx.operation.is_empty());
        assert_eq!(ctx.attempt, 0);
        assert!(operation_ids.insert(ctx.operation_id.clone()));
        assert_eq!(err.to_string(), format!("a {name}"));
        assert!(err.source().is_none());
    }
}

#[test]
fn own_remediation_wins_and_the_category_fills_the_rest() {
    let r = Validation::new("bad email").remediation();
    assert_eq!(
        r.immediate.as_deref(),
        Some("Correct the field named in the message and submit again")
    );
    let defaults = resilience::Remediation::for_category(Category::BusinessLogic);
    assert_eq!(r.escalation, defaults.escalation);
    assert_ne!(r.immediate, defaults.immediate);
}

#[test]
fn retry_after_is_read_from_the_types_that_carry_it() {
    let d = Duration::from_millis(1500);
    assert_eq!(
        RateLimit::new("x").with_retry_after(d).retry_after(),
        Some(d)
    );
    assert_eq!(
        ServiceUnavailable::new("x")
            .with_retry_after(d)
            .retry_after(),
        Some(d)
    );
    assert_eq!(
        TemporaryResource::new("x")
            .with_retry_after(d)
            .retry_after(),
        Some(d)
    );
}

#[test]
fn builders_record_each_fact() {
    let t = NetworkTimeout::new("slow")
        .with_timeout(Duration::from_secs(30))
        .with_service("kanban");
    assert_eq!(
        (t.timeout(), t.service()),
        (Some(Duration::from_secs(30)), Some("kanban"))
    );

    let r = RateLimit::new("quota").with_limit(100).with_service("ai");
    assert_eq!((r.limit(), r.service()), (Some(100), Some("ai")));

    let k = KanbanIntegration::new("x")
        .with_board("Dev")
        .with_operation("create_task");
    assert_eq!(
        (k.board(), k.operation()),
        (Some("Dev"), Some("create_task"))
    );

    let a = AiProvider::new("x").with_provider("p").with_model("m");
    assert_eq!((a.provider(), a.model()), (Some("p"), Some("m")));

    let e = ExternalService::new("x")
        .with_service("search")
        .with_status(503);
    assert_eq!((e.service(), e.status()), (Some("search"), Some(503)));

    let w = WorkflowViolation::new("x")
        .with_from_state("todo")
        .with_to_state("done");
    assert_eq!((w.from_state(), w.to_state()), (Some("todo"), Some("done")));

    let p = ProjectRootNotFound::new("x").with_searched_from("/tmp/w");
    assert_eq!(p.searched_from(), Some(Path::new("/tmp/w")));

    let s = WorkspaceSecurity::new("x").with_path(Path::new("/etc").join("passwd"));
    assert_eq!(s.path(), Some(Path::new("/etc/passwd")));

    let d = Database::new("x").with_operation("insert");
    assert_eq!(d.operation(), Some("insert"));
    assert_eq!(Database::new("x").operation(), None);

    let c = MissingCredentials::new("x")
        .with_variable("TOKEN")
        .with_service("kanban");
    assert_eq!((c.variable(), c.service()), (Some("TOKEN"), Some("kanban")));
    assert_eq!(c.message(), "x");
}

#[test]
fn with_context_replaces_the_context_and_context_mut_edits_it() {
    let mut ctx = ErrorContext::for_operation("sync_board");
    ctx.agent_id = Some("agent-7".into());
    let correlation = ctx.correlation_id.clone();

    let mut err = KanbanIntegration::new("failed").with_context(ctx);
    assert_eq!(err.context().unwrap().operation, "sync_board");
    assert_eq!(err.context().unwrap().correlation_id, correlation);

    err.context_mut().unwrap().attempt = 3;
    let report = err.report();
    assert_eq!(report.context.unwrap().attempt, 3);
}

#[test]
fn with_source_builds_a_chain_the_report_shows() {
    let root = std::io::Error::new(std::io::ErrorKind::TimedOut, "socket timed out");
    let middle = ExternalService::new("search failed").with_source(root);
    let top = KanbanIntegration::new("board sync failed").with_source(middle);

    let source = top.source().expect("a source");
    assert_eq!(source.to_string(), "search failed");
    assert!(source.downcast_ref::<ExternalService>().is_some());
    assert_eq!(
        top.report().caused_by,
        ["search failed", "socket timed out"]
    );

    let from_text = Database::new("insert failed").with_source("constraint violated");
    assert_eq!(
        from_text.source().unwrap().to_string(),
        "constraint violated"
    );
}

#[test]
fn ready_made_types_travel_between_threads() {
    fn assert_send_sync_static<T: Send + Sync + 'static>() {}
    assert_send_sync_static::<NetworkTimeout>();
    assert_send_sync_static::<WorkspaceSecurity>();
    assert_send_sync_static::<resilience::Error>();
}

#[test]
fn the_error_enum_converts_from_each_type() {
    fn fails() -> Result<(), resilience::Error> {
        Err(Authorization::new("no"))?;
        Ok(())
    }
    assert!(matches!(fails(), Err(resilience::Error::Authorization(_))));

    let all: Vec<resilience::Error> = vec![
        NetworkTimeout::new("x").into(),
        ServiceUnavailable::new("x").into(),
        RateLimit::new("x").into(),
        TemporaryResource::new("x").into(),
        MissingCredentials::new("x").into(),
        InvalidConfiguration::new("x").into(),
        MissingDependency::new("x").into(),
        Environment::new("x").into(),
        TaskAssignment::new("x").into(),
        WorkflowViolation::new("x").into(),
        Validation::new("x").into(),
        StateConflict::new("x").into(),
        TaskValidation::new("x").into(),
        ProjectRootNotFound::new("x").into(),
        KanbanIntegration::new("x").into(),
        AiProvider::new("x").into(),
        Authentication::new("x").into(),
        ExternalService::new("x").into(),
        Authorization::new("x").into(),
        WorkspaceSecurity::new("x").into(),
        Permission::new("x").into(),
        ResourceExhaustion::new("x").into(),
        CorruptedState::new("x").into(),
        Database::new("x").into(),
        CriticalDependency::new("x").into(),
    ];
    let codes: HashSet<&str> = all.iter().map(|e| e.code()).collect();
    assert_eq!(codes.len(), 25);
    let expected: HashSet<&str> = every_type().iter().map(|t| t.1.code()).collect();
    assert_eq!(codes, expected);
}

#[test]
fn the_error_enum_delegates_every_answer() {
    let inner = RateLimit::new("quota exceeded")
        .with_retry_after(Duration::from_secs(7))
        .with_context(ErrorContext::for_operation("call_ai"))
        .with_source(std::io::Error::other("429 from upstream"));
    let expected = inner.report();
    let mut err = resilience::Error::from(inner);

    assert_eq!(err.code(), "RATE_LIMIT_ERROR");
    assert_eq!(err.category(), Category::Transient);
    assert_eq!(err.severity(), Severity::Low);
    assert!(err.retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert_eq!(err.remediation(), expected.remediation);
    assert_eq!(err.to_string(), "quota exceeded");
    assert_eq!(err.source().unwrap().to_string(), "429 from upstream");
    assert_eq!(err.context().unwrap().operation, "call_ai");

    err.context_mut().unwrap().agent_id = Some("agent-1".into());
    assert_eq!(err.context().unwrap().agent_id.as_deref(), Some("agent-1"));

    let report = err.report();
    assert_eq!(report.code, expected.code);
    assert_eq!(report.error_type, "RateLimit");
    assert_eq!(report.caused_by, expected.caused_by);
    assert_eq!(report.retry_after, Some(Duration::from_secs(7)));
}

#[test]
fn the_error_enum_delegates_for_every_tier() {
    let cases: Vec<(resilience::Error, Category, Severity, bool)> = vec![
        (
            WorkspaceSecurity::new("x").into(),
            Category::Security,
            Severity::Critical,
            false,
        ),
        (
            Database::new("x").into(),
            Category::System,
            Severity::High,
            false,
        ),
        (
            Validation::new("x").into(),
            Category::BusinessLogic,
            Severity::Low,
            false,
        ),
        (
            Environment::new("x").into(),
            Category::Configuration,
            Severity::High,
            false,
        ),
        (
            AiProvider::new("x").into(),
            Category::Integration,
            Severity::Medium,
            true,
        ),
    ];
    for (err, category, severity, retryable) in cases {
        assert_eq!(err.category(), category);
        assert_eq!(err.severity(), severity);
        assert_eq!(err.retryable(), retryable);
    }
}

#[test]
fn the_error_enum_holds_a_circuit_open() {
    use resilience::{BreakerState, CircuitOpen};
    fn guarded() -> Result<(), resilience::Error> {
        Err(CircuitOpen {
            name: "kanban",
            state: BreakerState::Open,
            retry_after: Some(Duration::from_secs(12)),
        })?
    }
    let err = guarded().unwrap_err();
    assert!(matches!(err, resilience::Error::CircuitOpen(_)));
    assert_eq!(err.code(), "CIRCUIT_OPEN_ERROR");
    assert_eq!(err.category(), Category::Integration);
    assert!(!err.retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
    assert!(err.to_string().contains("kanban"));
    assert!(err.context().is_none());
}
