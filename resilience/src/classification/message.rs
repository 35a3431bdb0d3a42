//! Classification by the words of an error message: phrases, HTTP-like status codes
//! and retry-after hints.
//!
//! Everything here scans ASCII patterns in an ASCII-lowercased copy of the text and only
//! ever slices it with `str::get`, so no input, however malformed, can panic.

use std::time::Duration;

use super::Classification;
use crate::{Category, Severity};

/// Longest prefix of a message that is examined, so a huge message costs bounded time.
pub(super) const MAX_SCANNED_BYTES: usize = 16 * 1024;

/// One family of messages: the phrases and status codes that name it, and what it means.
struct Rule {
    phrases: &'static [&'static str],
    codes: &'static [u16],
    class: Classification,
}

const fn class(category: Category, severity: Severity, retryable: bool) -> Classification {
    Classification {
        category,
        severity,
        retryable,
        retry_after: None,
    }
}

/// In precedence order: the first rule whose phrase occurs wins; only when no phrase
/// occurs anywhere are status codes consulted (in the same order), because a phrase is
/// less ambiguous than a bare number ("timed out after 401 ms").
const RULES: &[Rule] = &[
    // Back-pressure that resolves itself once the window passes: low severity.
    Rule {
        phrases: &[
            "rate limit",
            "ratelimit",
            "rate-limit",
            "too many requests",
            "throttl",
        ],
        codes: &[429],
        class: class(Category::Transient, Severity::Low, true),
    },
    // Rejected credentials: the integration tier (as `errors::Authentication`), and
    // retrying with the same credentials only fails again.
    Rule {
        phrases: &[
            "unauthorized",
            "unauthenticated",
            "authentication failed",
            "invalid credentials",
        ],
        codes: &[401, 407],
        class: class(Category::Integration, Severity::High, false),
    },
    Rule {
        phrases: &[
            "forbidden",
            "permission denied",
            "access denied",
            "access is denied",
        ],
        codes: &[403],
        class: class(Category::Security, Severity::High, false),
    },
    Rule {
        phrases: &[
            "service unavailable",
            "bad gateway",
            "gateway timeout",
            "temporarily unavailable",
            "try again later",
            "overloaded",
        ],
        codes: &[502, 503, 504],
        class: class(Category::Transient, Severity::Medium, true),
    },
    Rule {
        phrases: &["timed out", "timeout", "time out", "deadline exceeded"],
        codes: &[408],
        class: class(Category::Transient, Severity::Medium, true),
    },
    // The service could not be reached at all: the integration is down (retryable, and
    // the failure a circuit breaker should count), as `io::ErrorKind::ConnectionRefused`.
    Rule {
        phrases: &[
            "connection refused",
            "host unreachable",
            "network unreachable",
            "network is unreachable",
            "no route to host",
        ],
        codes: &[],
        class: class(Category::Integration, Severity::Medium, true),
    },
    // A connection that worked was dropped: a new one will likely work.
    Rule {
        phrases: &[
            "connection reset",
            "connection aborted",
            "connection closed",
            "broken pipe",
            "unexpected eof",
            "unexpected end of file",
        ],
        codes: &[],
        class: class(Category::Transient, Severity::Medium, true),
    },
    Rule {
        phrases: &["internal server error"],
        codes: &[500],
        class: class(Category::Integration, Severity::Medium, true),
    },
    Rule {
        phrases: &[
            "out of memory",
            "no space left",
            "disk full",
            "too many open files",
        ],
        codes: &[507],
        class: class(Category::System, Severity::Critical, false),
    },
    // A missing file is a path someone configured, as `io::ErrorKind::NotFound`.
    Rule {
        phrases: &["no such file or directory"],
        codes: &[],
        class: class(Category::Configuration, Severity::High, false),
    },
    // The request itself is wrong: asking again the same way gets the same answer.
    Rule {
        phrases: &[
            "bad request",
            "unprocessable",
            "invalid argument",
            "validation failed",
        ],
        codes: &[400, 409, 412, 422],
        class: class(Category::BusinessLogic, Severity::Medium, false),
    },
    // The thing asked for does not exist; retrying will not create it.
    Rule {
        phrases: &["not found", "does not exist"],
        codes: &[404, 410],
        class: class(Category::BusinessLogic, Severity::Medium, false),
    },
];

/// Phrases after which a retry delay is written.
const RETRY_HINTS: &[&str] = &[
    "retry after",
    "retry-after",
    "retry_after",
    "retryafter",
    "retry in",
    "try again in",
    "try again after",
];

/// Units of a retry delay, longest first so `ms` wins over `m`, with their length in seconds.
const UNITS: &[(&str, f64)] = &[
    ("milliseconds", 1e-3),
    ("millisecond", 1e-3),
    ("msecs", 1e-3),
    ("msec", 1e-3),
    ("ms", 1e-3),
    ("seconds", 1.0),
    ("second", 1.0),
    ("secs", 1.0),
    ("sec", 1.0),
    ("s", 1.0),
    ("minutes", 60.0),
    ("minute", 60.0),
    ("mins", 60.0),
    ("min", 60.0),
    ("m", 60.0),
    ("hours", 3600.0),
    ("hour", 3600.0),
    ("hrs", 3600.0),
    ("hr", 3600.0),
    ("h", 3600.0),
];

/// The ASCII-lowercased head of `text`, cut at a char boundary.
pub(super) fn normalize(text: &str) -> String {
    let mut end = text.len().min(MAX_SCANNED_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default().to_ascii_lowercase()
}

/// The classification a message's words give, with its retry hint; `None` when no rule
/// and no retry hint matches. `lower` comes from [`normalize`].
pub(super) fn classify_lower(lower: &str) -> Option<Classification> {
    let hint = retry_after_lower(lower);
    let by_phrase = RULES
        .iter()
        .find(|rule| rule.phrases.iter().any(|p| lower.contains(p)));
    let rule = by_phrase.or_else(|| {
        let codes = status_codes(lower);
        RULES
            .iter()
            .find(|rule| rule.codes.iter().any(|c| codes.contains(c)))
    });
    match rule {
        Some(rule) => Some(rule.class.with_hint(hint)),
        // A server that says when to come back expects to be asked again.
        None => hint.map(|wait| Classification {
            retry_after: Some(wait),
            ..class(Category::Transient, Severity::Medium, true)
        }),
    }
}

/// Whether a message says "too much load": a rate limit (429, "too many requests",
/// throttled) or an unavailable, overloaded service (503). What an adaptive limit backs
/// off on, beside the crate's own refusals and timeouts.
pub(super) fn is_overload(message: &str) -> bool {
    let lower = normalize(message);
    const PHRASES: &[&str] = &[
        "rate limit",
        "ratelimit",
        "rate-limit",
        "too many requests",
        "throttl",
        "service unavailable",
        "overloaded",
        // A timeout is the first sign of a queue: an adaptive limit counts it as a drop.
        "timed out",
        "timeout",
        "deadline exceeded",
    ];
    PHRASES.iter().any(|p| lower.contains(p))
        || status_codes(&lower)
            .iter()
            .any(|code| matches!(code, 429 | 503))
}

/// The first retry delay written in `lower` ("retry after 30 seconds", "Retry-After: 30",
/// "retry in 1.5s"); a bare number is seconds, as in HTTP's `Retry-After`.
pub(super) fn retry_after_lower(lower: &str) -> Option<Duration> {
    RETRY_HINTS.iter().find_map(|hint| {
        lower
            .match_indices(hint)
            .find_map(|(at, _)| parse_delay(lower, at + hint.len()))
    })
}

/// The delay written at byte `at` of `lower`: separators, a decimal number, a unit.
fn parse_delay(lower: &str, at: usize) -> Option<Duration> {
    let bytes = lower.as_bytes();
    let mut i = at;
    while i < bytes.len() && matches!(bytes[i], b' ' | b'\t' | b':' | b'=') {
        i += 1;
    }
    let start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    if i == start {
        return None;
    }
    if i + 1 < bytes.len() && bytes[i] == b'.' && bytes[i + 1].is_ascii_digit() {
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
    }
    let number: f64 = lower.get(start..i)?.parse().ok()?;
    while i < bytes.len() && bytes[i] == b' ' {
        i += 1;
    }
    let rest = lower.get(i..).unwrap_or_default();
    let scale = UNITS
        .iter()
        .find(|(unit, _)| {
            rest.starts_with(unit)
                && !rest
                    .as_bytes()
                    .get(unit.len())
                    .is_some_and(|b| b.is_ascii_alphabetic())
        })
        .map_or(1.0, |&(_, scale)| scale);
    Duration::try_from_secs_f64(number * scale).ok()
}

/// Every three-digit whole number in `lower` between 100 and 599: a run of digits not
/// touching a letter, a digit, `_`, or a decimal point between digits, so `14010`,
/// `v503`, `5030` and `1.503` name no status.
fn status_codes(lower: &str) -> Vec<u16> {
    let bytes = lower.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut codes = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let before = start.checked_sub(1).map(|j| bytes[j]);
        let decimal_before = before == Some(b'.')
            && start
                .checked_sub(2)
                .is_some_and(|j| bytes[j].is_ascii_digit());
        let after = bytes.get(i).copied();
        let decimal_after =
            after == Some(b'.') && bytes.get(i + 1).is_some_and(|b| b.is_ascii_digit());
        let whole = !before.is_some_and(is_word)
            && !after.is_some_and(is_word)
            && !decimal_before
            && !decimal_after;
        if whole && i - start == 3 {
            if let Some(code) = lower.get(start..i).and_then(|s| s.parse::<u16>().ok()) {
                if (100..600).contains(&code) {
                    codes.push(code);
                }
            }
        }
    }
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_whole_numbers_only() {
        assert_eq!(status_codes("http 503 (x) 404, code=429;"), [503, 404, 429]);
        assert!(status_codes("14010 5030 v503 503x 1.503 503.5 _401").is_empty());
        assert_eq!(status_codes("http/1.1 502"), [502]);
        assert_eq!(status_codes("(401)"), [401]);
        assert!(status_codes("099 600 42").is_empty());
    }

    #[test]
    fn delays_parse_with_and_without_units() {
        let d = |s: &str| retry_after_lower(&normalize(s));
        assert_eq!(d("retry after 30 seconds"), Some(Duration::from_secs(30)));
        assert_eq!(d("Retry-After: 30"), Some(Duration::from_secs(30)));
        assert_eq!(d("retry after 1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(d("retry in 250ms"), Some(Duration::from_millis(250)));
        assert_eq!(d("try again in 2 minutes"), Some(Duration::from_secs(120)));
        assert_eq!(d("retry_after=1h"), Some(Duration::from_secs(3600)));
        assert_eq!(
            d("retry in progress; retry after 4"),
            Some(Duration::from_secs(4))
        );
        assert_eq!(d("retry after soon"), None);
        assert_eq!(d("retry after 1e999"), Some(Duration::from_secs(1)));
        assert_eq!(d("retry after 99999999999999999999999"), None);
        assert_eq!(d("retry after "), None);
    }

    #[test]
    fn normalize_cuts_at_a_char_boundary() {
        let long = "é".repeat(MAX_SCANNED_BYTES);
        let cut = normalize(&long);
        assert!(cut.len() <= MAX_SCANNED_BYTES);
        assert!(cut.chars().all(|c| c == 'é'));
    }
}
