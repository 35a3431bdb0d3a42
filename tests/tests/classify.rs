//! `resilience::classify` and `classify_message` on foreign errors.

use std::fmt;
use std::io::{self, ErrorKind};
use std::time::Duration;

use resilience::errors::{Authentication, RateLimit, WorkspaceSecurity};
use resilience::{classify, classify_message, Category, Classification, MarcusError, Severity};

/// A foreign error with a message and an optional cause, like a client library's.
#[derive(Debug)]
struct Wrapper {
    message: String,
    cause: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Wrapper {
    fn new(message: &str) -> Self {
        Wrapper {
            message: message.into(),
            cause: None,
        }
    }
    fn caused_by(message: &str, cause: impl std::error::Error + Send + Sync + 'static) -> Self {
        Wrapper {
            message: message.into(),
            cause: Some(Box::new(cause)),
        }
    }
}

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Wrapper {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|c| c as _)
    }
}

fn kind(k: ErrorKind) -> Classification {
    // The message says nothing, so only the kind can decide.
    classify(&io::Error::new(k, "x"))
}

#[test]
fn every_io_kind_maps_as_documented() {
    use Category::*;
    let table: &[(ErrorKind, Category, bool)] = &[
        (ErrorKind::TimedOut, Transient, true),
        (ErrorKind::WouldBlock, Transient, true),
        (ErrorKind::Interrupted, Transient, true),
        (ErrorKind::ConnectionReset, Transient, true),
        (ErrorKind::ConnectionAborted, Transient, true),
        (ErrorKind::NotConnected, Transient, true),
        (ErrorKind::BrokenPipe, Transient, true),
        (ErrorKind::UnexpectedEof, Transient, true),
        (ErrorKind::WriteZero, Transient, true),
        (ErrorKind::ResourceBusy, Transient, true),
        (ErrorKind::ExecutableFileBusy, Transient, true),
        (ErrorKind::Deadlock, Transient, true),
        (ErrorKind::StaleNetworkFileHandle, Transient, true),
        (ErrorKind::ConnectionRefused, Integration, true),
        (ErrorKind::HostUnreachable, Integration, true),
        (ErrorKind::NetworkUnreachable, Integration, true),
        (ErrorKind::NetworkDown, Integration, true),
        (ErrorKind::NotFound, Configuration, false),
        (ErrorKind::AddrInUse, Configuration, false),
        (ErrorKind::AddrNotAvailable, Configuration, false),
        (ErrorKind::Unsupported, Configuration, false),
        (ErrorKind::NotADirectory, Configuration, false),
        (ErrorKind::IsADirectory, Configuration, false),
        (ErrorKind::DirectoryNotEmpty, Configuration, false),
        (ErrorKind::ReadOnlyFilesystem, Configuration, false),
        (ErrorKind::CrossesDevices, Configuration, false),
        (ErrorKind::TooManyLinks, Configuration, false),
        (ErrorKind::InvalidInput, BusinessLogic, false),
        (ErrorKind::InvalidData, BusinessLogic, false),
        (ErrorKind::AlreadyExists, BusinessLogic, false),
        (ErrorKind::NotSeekable, BusinessLogic, false),
        (ErrorKind::FileTooLarge, BusinessLogic, false),
        (ErrorKind::ArgumentListTooLong, BusinessLogic, false),
        (ErrorKind::PermissionDenied, Security, false),
        (ErrorKind::OutOfMemory, System, false),
        (ErrorKind::StorageFull, System, false),
        (ErrorKind::QuotaExceeded, System, false),
    ];
    for &(k, category, retryable) in table {
        let c = kind(k);
        assert_eq!(c.category, category, "{k:?}");
        assert_eq!(c.retryable, retryable, "{k:?}");
        assert_eq!(c.retry_after, None, "{k:?}");
    }
    assert_eq!(kind(ErrorKind::PermissionDenied).severity, Severity::High);
    assert_eq!(kind(ErrorKind::OutOfMemory).severity, Severity::Critical);
    assert_eq!(kind(ErrorKind::TimedOut).severity, Severity::Medium);
    assert_eq!(kind(ErrorKind::Other), Classification::UNKNOWN);
}

#[test]
fn os_errors_are_classified_by_kind() {
    let refused = io::Error::from(ErrorKind::ConnectionRefused);
    assert_eq!(classify(&refused).category, Category::Integration);
    let denied = io::Error::from(ErrorKind::PermissionDenied);
    assert_eq!(classify(&denied).category, Category::Security);
}

#[test]
fn an_io_error_of_kind_other_is_read_by_its_message() {
    let err = io::Error::other("connect: connection refused");
    let c = classify(&err);
    assert_eq!(c.category, Category::Integration);
    assert!(c.retryable);
}

fn class(message: &str) -> (Category, Severity, bool) {
    let c = classify_message(message);
    (c.category, c.severity, c.retryable)
}

#[test]
fn each_message_pattern_is_recognised_case_insensitively() {
    use Category::*;
    use Severity::*;
    let cases: &[(&str, (Category, Severity, bool))] = &[
        ("Rate limit exceeded", (Transient, Low, true)),
        ("HTTP 429", (Transient, Low, true)),
        ("Too Many Requests", (Transient, Low, true)),
        ("request throttled", (Transient, Low, true)),
        ("401", (Integration, High, false)),
        ("Unauthorized", (Integration, High, false)),
        ("token UNAUTHENTICATED", (Integration, High, false)),
        ("status: 403", (Security, High, false)),
        ("Forbidden", (Security, High, false)),
        ("open /etc: permission denied", (Security, High, false)),
        ("404", (BusinessLogic, Medium, false)),
        ("board Not Found", (BusinessLogic, Medium, false)),
        ("500", (Integration, Medium, true)),
        ("Internal Server Error", (Integration, Medium, true)),
        ("502", (Transient, Medium, true)),
        ("503", (Transient, Medium, true)),
        ("504", (Transient, Medium, true)),
        ("Service Unavailable", (Transient, Medium, true)),
        ("Bad Gateway", (Transient, Medium, true)),
        ("operation timed out", (Transient, Medium, true)),
        ("read TIMEOUT", (Transient, Medium, true)),
        (
            "Connection refused (os error 111)",
            (Integration, Medium, true),
        ),
        ("connection reset by peer", (Transient, Medium, true)),
        ("broken pipe", (Transient, Medium, true)),
        ("out of memory", (System, Critical, false)),
        ("write: no space left on device", (System, Critical, false)),
        (
            "No such file or directory (os error 2)",
            (Configuration, High, false),
        ),
        ("400 Bad Request", (BusinessLogic, Medium, false)),
        ("422", (BusinessLogic, Medium, false)),
    ];
    for (message, expected) in cases {
        assert_eq!(class(message), *expected, "{message:?}");
    }
}

#[test]
fn phrases_outrank_numbers_that_happen_to_be_status_codes() {
    // "401" here is a duration, not a status.
    assert_eq!(class("timed out after 401 ms").0, Category::Transient);
    // The status names a rate limit; the phrase of the body agrees.
    assert_eq!(class("503 rate limited").1, Severity::Low);
}

#[test]
fn unknown_messages_get_the_documented_default() {
    for message in ["", "something odd happened", "ok", "error code 42", "é😀ü"] {
        assert_eq!(
            classify_message(message),
            Classification::UNKNOWN,
            "{message:?}"
        );
    }
    let unknown = classify_message("something odd happened");
    assert_eq!(unknown.category, Category::System);
    assert_eq!(unknown.severity, Severity::Medium);
    assert!(!unknown.retryable);
    assert_eq!(unknown.retry_after, None);
}

#[test]
fn status_codes_inside_other_numbers_are_not_matched() {
    for message in [
        "order 14010 shipped",
        "id 4290",
        "took 1.503 seconds",
        "v503",
        "5030 items",
        "build 500123",
        "error_401",
        "4040404",
    ] {
        assert_eq!(
            classify_message(message),
            Classification::UNKNOWN,
            "{message:?}"
        );
    }
    for (message, category) in [
        ("HTTP/1.1 503", Category::Transient),
        ("(404)", Category::BusinessLogic),
        ("code=403;", Category::Security),
        ("status 401.", Category::Integration),
        ("got 500, giving up", Category::Integration),
    ] {
        assert_eq!(classify_message(message).category, category, "{message:?}");
    }
}

#[test]
fn retry_after_is_parsed_in_its_usual_spellings() {
    let cases: &[(&str, Duration)] = &[
        ("429: retry after 30 seconds", Duration::from_secs(30)),
        ("rate limited. Retry-After: 30", Duration::from_secs(30)),
        (
            "rate limited, retry after 1.5s",
            Duration::from_millis(1500),
        ),
        ("503; retry in 250ms", Duration::from_millis(250)),
        (
            "throttled, try again in 2 minutes",
            Duration::from_secs(120),
        ),
        (
            "503 Service Unavailable retry_after=1h",
            Duration::from_secs(3600),
        ),
        (
            "Too many requests (RETRY AFTER 5 SECS)",
            Duration::from_secs(5),
        ),
    ];
    for (message, wait) in cases {
        let c = classify_message(message);
        assert_eq!(c.retry_after, Some(*wait), "{message:?}");
        assert!(c.retryable, "{message:?}");
    }
}

#[test]
fn a_retry_hint_alone_makes_a_message_transient() {
    let c = classify_message("server busy, retry after 10 seconds");
    assert_eq!(c.category, Category::Transient);
    assert_eq!(c.retry_after, Some(Duration::from_secs(10)));
}

#[test]
fn a_retry_hint_does_not_make_a_refusal_retryable() {
    let c = classify_message("403 forbidden; retry after 30 seconds");
    assert_eq!(c.category, Category::Security);
    assert!(!c.retryable);
    assert_eq!(c.retry_after, None);
}

#[test]
fn malformed_retry_hints_give_no_delay() {
    for message in [
        "429 retry after soon",
        "429 retry after",
        "429 retry after -3s",
        "429 retry in progress",
    ] {
        let c = classify_message(message);
        assert_eq!(c.retry_after, None, "{message:?}");
        assert_eq!(c.category, Category::Transient, "{message:?}");
    }
}

#[test]
fn the_source_chain_is_walked() {
    let inner = io::Error::new(ErrorKind::TimedOut, "x");
    let outer = Wrapper::caused_by("failed to fetch the board", inner);
    let c = classify(&outer);
    assert_eq!(c.category, Category::Transient);
    assert!(c.retryable);

    let deep = Wrapper::caused_by(
        "sync failed",
        Wrapper::caused_by("request failed", Wrapper::new("HTTP 403 Forbidden")),
    );
    assert_eq!(classify(&deep).category, Category::Security);
}

#[test]
fn a_typed_cause_outranks_an_outer_message() {
    // The outer words say "not found", but the I/O kind below is a timeout.
    let err = Wrapper::caused_by("board not found?", io::Error::from(ErrorKind::TimedOut));
    assert_eq!(classify(&err).category, Category::Transient);
}

#[test]
fn a_retry_hint_anywhere_in_the_chain_is_kept() {
    let err = Wrapper::caused_by(
        "upstream said: retry after 12 seconds",
        io::Error::from(ErrorKind::TimedOut),
    );
    let c = classify(&err);
    assert_eq!(c.category, Category::Transient);
    assert_eq!(c.retry_after, Some(Duration::from_secs(12)));
}

#[test]
fn resilience_types_answer_with_their_own_facts() {
    let limited = RateLimit::new("quota").with_retry_after(Duration::from_secs(9));
    assert_eq!(classify(&limited), Classification::of(&limited));
    assert_eq!(classify(&limited).retry_after, Some(Duration::from_secs(9)));

    // Words that would say otherwise do not override the type.
    let auth = Authentication::new("503 service unavailable");
    assert_eq!(classify(&auth).category, Category::Integration);
    assert!(!classify(&auth).retryable);

    let wrapped: resilience::Error = WorkspaceSecurity::new("escape").into();
    let c = classify(&wrapped);
    assert_eq!(
        (c.category, c.severity),
        (Category::Security, Severity::Critical)
    );
}

#[test]
fn resilience_types_are_found_inside_foreign_errors() {
    let limited = RateLimit::new("quota").with_retry_after(Duration::from_secs(4));
    let expected = Classification::of(&limited);

    let in_wrapper = Wrapper::caused_by("call failed", limited);
    assert_eq!(classify(&in_wrapper), expected);

    // io::Error hides its payload from source(); classify still looks inside.
    let in_io = io::Error::other(RateLimit::new("quota").with_retry_after(Duration::from_secs(4)));
    assert_eq!(classify(&in_io), expected);

    let in_anyhow = anyhow::Error::new(Authentication::new("bad token")).context("login failed");
    let c = classify(in_anyhow.as_ref());
    assert_eq!(c.category, Category::Integration);
    assert!(!c.retryable);
}

/// An error that claims to be its own cause.
#[derive(Debug)]
struct Ouroboros;

impl fmt::Display for Ouroboros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("I caused myself")
    }
}

impl std::error::Error for Ouroboros {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self)
    }
}

#[test]
fn a_cyclic_chain_ends() {
    assert_eq!(classify(&Ouroboros), Classification::UNKNOWN);
}

#[test]
fn arbitrary_text_never_panics_and_stays_consistent() {
    let pieces = [
        "retry after ",
        "retry-after:",
        "1.",
        "5",
        "0",
        "3",
        "9",
        ".",
        " ",
        "s",
        "ms",
        "m",
        "é",
        "😀",
        "\u{0}",
        "429",
        "timeout",
        "4",
        "01",
        "ı",
        "ß",
        "Ⅻ",
        "rate limit",
        "\n",
        "-",
        "_",
        "e9",
        "99999999999999999999",
        "try again in",
        "K",
    ];
    // A fixed-seed generator, so a failure reproduces.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..5_000 {
        let len = (next() % 12) as usize;
        let text: String = (0..len)
            .map(|_| pieces[(next() % pieces.len() as u64) as usize])
            .collect();
        let c = classify_message(&text);
        if c.retry_after.is_some() {
            assert!(c.retryable, "{text:?}");
        }
        assert_eq!(classify(&Wrapper::new(&text)), c, "{text:?}");
    }
}

#[test]
fn huge_messages_are_handled() {
    let long = "é".repeat(100_000) + " 503";
    assert_eq!(classify_message(&long), Classification::UNKNOWN);
    let early = format!("503 {}", "x".repeat(1_000_000));
    assert_eq!(classify_message(&early).category, Category::Transient);
}

#[test]
fn classifications_serialize_durations_as_text() {
    let c = classify_message("429, retry after 2.5s");
    let value = serde_json::to_value(c).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "category": "transient",
            "severity": "low",
            "retryable": true,
            "retry_after": "2s 500ms",
        })
    );
    let none = serde_json::to_value(Classification::UNKNOWN).unwrap();
    assert_eq!(none["retry_after"], serde_json::Value::Null);
}

#[test]
fn for_category_uses_the_tier_defaults() {
    for category in Category::ALL {
        let c = Classification::for_category(category);
        assert_eq!(c.severity, category.default_severity());
        assert_eq!(c.retryable, category.default_retryable());
    }
    let limited = RateLimit::new("x");
    assert_eq!(Classification::of(&limited).severity, limited.severity());
}

#[test]
fn an_open_circuit_is_recognised() {
    let open = resilience::CircuitOpen {
        name: "kanban",
        state: resilience::BreakerState::Open,
        retry_after: Some(Duration::from_secs(3)),
    };
    let c = classify(&Wrapper::caused_by("board call refused", open.clone()));
    assert_eq!(c, Classification::of(&open));
    assert_eq!(c.category, Category::Integration);
    assert!(!c.retryable);
}
