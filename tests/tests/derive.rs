//! `#[derive(MarcusError)]` as a user writes it: codes, categories, severities, retry
//! advice, remediation, context, delegation, structs and generics.

use std::time::Duration;

use resilience::{Category, ErrorContext, MarcusError, Severity};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum KanbanError {
    #[error("board {board} timed out")]
    #[marcus(category = transient, severity = low,
             remediation(immediate = "Retry with backoff",
                         fallback = "Create the task locally and sync later"))]
    Timeout {
        board: String,
        #[context]
        ctx: ErrorContext,
    },

    #[error("rate limited")]
    #[marcus(code = "KANBAN_RATE_LIMITED", category = transient, retry_after = wait)]
    RateLimited { wait: Duration },

    #[error("bad credentials")]
    #[marcus(category = configuration, severity = high)]
    Auth,

    #[error("the board service failed")]
    Upstream(#[context] Box<ErrorContext>),

    #[error("the board service is flaky")]
    #[marcus(retryable = false)]
    Flaky,
}

fn timeout() -> KanbanError {
    KanbanError::Timeout {
        board: "b1".into(),
        ctx: ErrorContext::new(),
    }
}

#[test]
fn default_codes_are_the_enum_and_variant_in_screaming_snake_case() {
    assert_eq!(timeout().code(), "KANBAN_ERROR_TIMEOUT");
    assert_eq!(KanbanError::Auth.code(), "KANBAN_ERROR_AUTH");
    assert_eq!(
        KanbanError::Upstream(Box::default()).code(),
        "KANBAN_ERROR_UPSTREAM"
    );
}

#[test]
fn an_explicit_code_replaces_the_default() {
    let e = KanbanError::RateLimited {
        wait: Duration::from_secs(3),
    };
    assert_eq!(e.code(), "KANBAN_RATE_LIMITED");
}

#[test]
fn variants_override_the_enum_defaults_key_by_key() {
    // The enum says integration; these variants say otherwise.
    assert_eq!(timeout().category(), Category::Transient);
    assert_eq!(KanbanError::Auth.category(), Category::Configuration);
    // These inherit the enum's category.
    assert_eq!(
        KanbanError::Upstream(Box::default()).category(),
        Category::Integration
    );
    assert_eq!(KanbanError::Flaky.category(), Category::Integration);
}

#[test]
fn severity_is_explicit_or_the_categorys_default() {
    assert_eq!(timeout().severity(), Severity::Low);
    assert_eq!(KanbanError::Auth.severity(), Severity::High);
    assert_eq!(
        KanbanError::Flaky.severity(),
        Category::Integration.default_severity()
    );
}

#[test]
fn retryable_is_explicit_or_the_categorys_default() {
    // Transient and integration default to retryable, configuration does not.
    assert!(timeout().retryable());
    assert!(KanbanError::Upstream(Box::default()).retryable());
    assert!(!KanbanError::Auth.retryable());
    // `retryable = false` overrides integration's default.
    assert!(!KanbanError::Flaky.retryable());
}

#[test]
fn retry_after_reads_a_duration_field() {
    let e = KanbanError::RateLimited {
        wait: Duration::from_millis(1500),
    };
    assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
    assert_eq!(KanbanError::Auth.retry_after(), None);
}

#[test]
fn remediation_merges_the_given_fields_over_the_categorys_advice() {
    let r = timeout().remediation();
    assert_eq!(r.immediate.as_deref(), Some("Retry with backoff"));
    assert_eq!(
        r.fallback.as_deref(),
        Some("Create the task locally and sync later")
    );
    let transient = resilience::Remediation::for_category(Category::Transient);
    assert!(transient.long_term.is_some());
    assert_eq!(r.long_term, transient.long_term);
    assert_eq!(r.escalation, transient.escalation);
    // Without `remediation(...)`, the category's advice as it is.
    assert_eq!(
        KanbanError::Auth.remediation(),
        resilience::Remediation::for_category(Category::Configuration)
    );
}

#[test]
fn a_context_field_is_found_and_written_through_context_mut() {
    let mut e = timeout();
    assert!(e.context().is_some_and(|c| c.operation.is_empty()));
    if let Some(ctx) = e.context_mut() {
        ctx.operation = "fetch_board".into();
    }
    assert_eq!(
        e.context().map(|c| c.operation.as_str()),
        Some("fetch_board")
    );
    let KanbanError::Timeout { ctx, .. } = &e else {
        unreachable!("built as Timeout")
    };
    assert_eq!(ctx.operation, "fetch_board");
}

#[test]
fn a_boxed_context_field_works_the_same() {
    let mut e = KanbanError::Upstream(Box::new(ErrorContext::new()));
    if let Some(ctx) = e.context_mut() {
        ctx.agent_id = Some("agent-7".into());
    }
    assert_eq!(
        e.context().and_then(|c| c.agent_id.as_deref()),
        Some("agent-7")
    );
}

#[test]
fn variants_without_a_context_field_have_none() {
    let mut e = KanbanError::Auth;
    assert!(e.context().is_none());
    assert!(e.context_mut().is_none());
}

#[test]
fn error_type_is_the_types_name() {
    assert_eq!(KanbanError::Auth.error_type(), "KanbanError");
}

#[test]
fn report_renders_a_derived_error() {
    let mut e = timeout();
    if let Some(ctx) = e.context_mut() {
        ctx.operation = "fetch_board".into();
    }
    let mcp = e.report().to_mcp_json();
    assert_eq!(mcp["success"], false);
    assert_eq!(mcp["error"]["code"], "KANBAN_ERROR_TIMEOUT");
    assert_eq!(mcp["error"]["message"], "board b1 timed out");
    assert_eq!(mcp["error"]["type"], "KanbanError");
    assert_eq!(mcp["error"]["severity"], "low");
    assert_eq!(mcp["error"]["retryable"], true);
    assert_eq!(mcp["error"]["context"]["operation"], "fetch_board");
    let report = serde_json::to_value(e.report()).expect("a report serializes");
    assert_eq!(report["category"], "transient");
    assert_eq!(report["remediation"]["immediate"], "Retry with backoff");
}

// ---- Option<Duration>, tuple fields ------------------------------------------------

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum Quota {
    #[error("quota exceeded")]
    #[marcus(retry_after = reset)]
    Exceeded { reset: Option<Duration> },

    #[error("slow down")]
    #[marcus(retry_after = 0)]
    SlowDown(Duration, &'static str),
}

#[test]
fn retry_after_reads_an_optional_duration_or_a_tuple_field() {
    let known = Quota::Exceeded {
        reset: Some(Duration::from_secs(60)),
    };
    let unknown = Quota::Exceeded { reset: None };
    let tuple = Quota::SlowDown(Duration::from_secs(2), "api");
    assert_eq!(known.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(unknown.retry_after(), None);
    assert_eq!(tuple.retry_after(), Some(Duration::from_secs(2)));
}

// ---- Enum-level defaults: severity, retryable, remediation --------------------------

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = system, severity = low, retryable,
         remediation(escalation = "Page the storage team"))]
enum Storage {
    #[error("disk full")]
    Full,
    #[error("disk gone")]
    #[marcus(severity = critical, retryable = false,
             remediation(immediate = "Fail over to the replica"))]
    Gone,
}

#[test]
fn enum_level_severity_retryable_and_remediation_are_defaults() {
    assert_eq!(Storage::Full.severity(), Severity::Low);
    assert!(
        Storage::Full.retryable(),
        "system is not retryable by default; the enum says so"
    );
    assert_eq!(Storage::Gone.severity(), Severity::Critical);
    assert!(!Storage::Gone.retryable());

    let full = Storage::Full.remediation();
    assert_eq!(full.escalation.as_deref(), Some("Page the storage team"));
    let gone = Storage::Gone.remediation();
    assert_eq!(gone.immediate.as_deref(), Some("Fail over to the replica"));
    assert_eq!(gone.escalation.as_deref(), Some("Page the storage team"));
    let system = resilience::Remediation::for_category(Category::System);
    assert_eq!(full.immediate, system.immediate);
}

// ---- Delegation ---------------------------------------------------------------------

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("the vault is sealed")]
#[marcus(code = "VAULT_SEALED", category = security, severity = critical, retry_after = wait)]
struct VaultSealed {
    wait: Duration,
    #[context]
    ctx: ErrorContext,
}

fn sealed() -> VaultSealed {
    VaultSealed {
        wait: Duration::from_secs(9),
        ctx: ErrorContext::new(),
    }
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = business_logic)]
enum AppError {
    #[error(transparent)]
    #[marcus(transparent)]
    Vault(VaultSealed),

    #[error(transparent)]
    FromVault(#[from] VaultSealed),

    #[error("i/o failed")]
    Io(#[from] std::io::Error),

    #[error("parse failed")]
    #[marcus(category = configuration, code = "APP_BAD_NUMBER")]
    Parse(#[from] std::num::ParseIntError),
}

fn assert_answers_like_the_vault(e: &mut AppError) {
    assert_eq!(e.code(), "VAULT_SEALED");
    assert_eq!(e.category(), Category::Security);
    assert_eq!(e.severity(), Severity::Critical);
    assert!(!e.retryable());
    assert_eq!(e.retry_after(), Some(Duration::from_secs(9)));
    assert_eq!(e.remediation(), sealed().remediation());
    assert_eq!(e.error_type(), "VaultSealed");
    if let Some(ctx) = e.context_mut() {
        ctx.task_id = Some("t-1".into());
    }
    assert_eq!(e.context().and_then(|c| c.task_id.as_deref()), Some("t-1"));
}

#[test]
fn a_transparent_variant_answers_with_the_inner_error() {
    assert_answers_like_the_vault(&mut AppError::Vault(sealed()));
}

#[test]
fn a_from_field_that_is_a_marcus_error_is_delegated_to() {
    let mut e = AppError::from(sealed());
    assert!(matches!(e, AppError::FromVault(_)));
    assert_answers_like_the_vault(&mut e);
}

#[test]
fn a_from_field_that_is_not_a_marcus_error_leaves_the_variant_its_own_values() {
    let mut io = AppError::from(std::io::Error::other("disk"));
    assert_eq!(io.code(), "APP_ERROR_IO");
    assert_eq!(io.category(), Category::BusinessLogic);
    assert_eq!(io.severity(), Category::BusinessLogic.default_severity());
    assert!(io.context_mut().is_none());
    assert_eq!(io.error_type(), "AppError");

    let parse = AppError::from("x".parse::<u8>().unwrap_err());
    assert_eq!(parse.code(), "APP_BAD_NUMBER");
    assert_eq!(parse.category(), Category::Configuration);
    assert_eq!(
        parse.report().caused_by.len(),
        1,
        "the source chain is kept"
    );
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum Guarded {
    #[error("the board is down")]
    Down,
    #[error(transparent)]
    Open(#[from] resilience::CircuitOpen),
}

#[resilience::circuit_breaker(name = "derive.circuit_open", failure_threshold = 1, recovery_timeout = 60s)]
fn guarded() -> Result<(), Guarded> {
    Err(Guarded::Down)
}

#[test]
fn a_from_variant_delegates_to_the_runtimes_circuit_open() {
    assert!(matches!(guarded(), Err(Guarded::Down)));
    let Err(open) = guarded() else {
        panic!("the breaker opened after one failure")
    };
    assert!(matches!(open, Guarded::Open(_)));
    // `CircuitOpen` is a `MarcusError` (integration tier, never retried), so the variant
    // answers with its values, not with the enum's transient default.
    assert_eq!(open.code(), "CIRCUIT_OPEN_ERROR");
    assert_eq!(open.category(), Category::Integration);
    assert!(!open.retryable());
    assert!(open
        .retry_after()
        .is_some_and(|d| d <= Duration::from_secs(60)));
}

// ---- Structs ------------------------------------------------------------------------

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("network timed out")]
#[marcus(category = transient)]
struct NetworkTimeout;

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("disk failed")]
#[marcus(category = system)]
struct DiskError(#[context] ErrorContext);

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("the model provider failed")]
#[marcus(category = integration)]
struct AIProvider;

#[test]
fn struct_codes_end_in_error_once() {
    assert_eq!(NetworkTimeout.code(), "NETWORK_TIMEOUT_ERROR");
    assert_eq!(DiskError(ErrorContext::new()).code(), "DISK_ERROR");
    assert_eq!(AIProvider.code(), "AI_PROVIDER_ERROR");
}

#[test]
fn structs_take_every_key_on_the_struct() {
    let mut disk = DiskError(ErrorContext::new());
    assert_eq!(disk.category(), Category::System);
    assert_eq!(disk.severity(), Severity::Critical);
    assert!(disk.context_mut().is_some());
    assert_eq!(NetworkTimeout.error_type(), "NetworkTimeout");
    let v = sealed();
    assert_eq!(
        (v.code(), v.retry_after()),
        ("VAULT_SEALED", Some(Duration::from_secs(9)))
    );
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[error(transparent)]
#[marcus(transparent)]
struct Wrapped(VaultSealed);

#[test]
fn a_transparent_struct_answers_with_its_field() {
    let w = Wrapped(sealed());
    assert_eq!(w.code(), "VAULT_SEALED");
    assert_eq!(w.category(), Category::Security);
}

// ---- Generics -----------------------------------------------------------------------

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum Remote<E, T: Clone>
where
    T: std::fmt::Debug,
{
    #[error("call failed: {0}")]
    Call(E, T),
    #[error(transparent)]
    #[marcus(transparent)]
    Inner(E),
    #[error("gave up")]
    #[marcus(code = "REMOTE_GAVE_UP", retryable = false)]
    GaveUp,
}

#[test]
fn generic_enums_keep_their_parameters_and_where_clauses() {
    let call: Remote<VaultSealed, u8> = Remote::Call(sealed(), 1);
    assert_eq!(call.code(), "REMOTE_CALL");
    assert!(call.retryable());
    let inner: Remote<VaultSealed, u8> = Remote::Inner(sealed());
    assert_eq!(inner.code(), "VAULT_SEALED");
    let gave_up: Remote<VaultSealed, u8> = Remote::GaveUp;
    assert_eq!(gave_up.code(), "REMOTE_GAVE_UP");
    assert!(!gave_up.retryable());
}

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("{message}")]
#[marcus(category = business_logic, code = "LABELLED")]
struct Labelled<'a, L: std::fmt::Debug> {
    message: &'a str,
    label: L,
}

#[test]
fn generic_structs_with_lifetimes_work() {
    let e = Labelled {
        message: "no",
        label: 7u8,
    };
    assert_eq!((e.code(), e.label), ("LABELLED", 7));
    assert_eq!(e.report().message, "no");
}

#[test]
fn derived_errors_are_usable_as_trait_objects() {
    let errors: Vec<Box<dyn MarcusError>> = vec![Box::new(KanbanError::Auth), Box::new(sealed())];
    let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
    assert_eq!(codes, ["KANBAN_ERROR_AUTH", "VAULT_SEALED"]);
}

// ---- Edge cases ---------------------------------------------------------------------

/// An error type with no values, for APIs that cannot fail.
#[derive(Debug, thiserror::Error, MarcusError)]
enum Never {}

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum HTTPClientError {
    #[error("tls failed")]
    TLSHandshake,
    #[error("a reserved word")]
    r#Type,
}

#[test]
fn an_empty_enum_derives_and_serves_as_an_error_type() {
    fn codes<E: MarcusError>(results: Vec<Result<u8, E>>) -> Vec<&'static str> {
        results
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| e.code()))
            .collect()
    }
    assert!(codes::<Never>(vec![Ok(1), Ok(2)]).is_empty());
}

#[test]
fn acronyms_and_raw_identifiers_make_readable_codes() {
    assert_eq!(
        HTTPClientError::TLSHandshake.code(),
        "HTTP_CLIENT_ERROR_TLS_HANDSHAKE"
    );
    assert_eq!(HTTPClientError::r#Type.code(), "HTTP_CLIENT_ERROR_TYPE");
    assert_eq!(HTTPClientError::r#Type.error_type(), "HTTPClientError");
}
