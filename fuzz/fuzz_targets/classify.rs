//! The foreign-error classifier on arbitrary text: `classify_message` on the bytes read
//! as (lossy) UTF-8, and `classify` on that text as an `io::Error` of every kind, alone
//! and as the source of another error. It must never panic, must answer the same twice,
//! and must keep its documented shape (a retry hint only on a retryable answer).
#![no_main]

use std::error::Error;
use std::fmt;
use std::io;

use libfuzzer_sys::fuzz_target;
use resilience::{classify, classify_message, Classification};

const KINDS: [io::ErrorKind; 12] = [
    io::ErrorKind::Other,
    io::ErrorKind::TimedOut,
    io::ErrorKind::ConnectionRefused,
    io::ErrorKind::ConnectionReset,
    io::ErrorKind::NotFound,
    io::ErrorKind::PermissionDenied,
    io::ErrorKind::InvalidInput,
    io::ErrorKind::InvalidData,
    io::ErrorKind::WouldBlock,
    io::ErrorKind::Interrupted,
    io::ErrorKind::UnexpectedEof,
    io::ErrorKind::OutOfMemory,
];

/// An error whose source is an `io::Error`, as libraries wrap them.
#[derive(Debug)]
struct Wrapper(io::Error);

impl fmt::Display for Wrapper {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request failed")
    }
}

impl Error for Wrapper {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn check(c: Classification) {
    assert!(
        c.retry_after.is_none() || c.retryable,
        "a retry hint on {c:?}"
    );
    serde_json::to_string(&c).expect("a classification serializes");
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);

    let by_message = classify_message(&text);
    assert_eq!(by_message, classify_message(&text), "not deterministic");
    check(by_message);

    let kind = KINDS[data.first().map_or(0, |b| usize::from(*b) % KINDS.len())];
    let plain = io::Error::other(text.clone().into_owned());
    check(classify(&plain));
    let typed = io::Error::new(kind, text.clone().into_owned());
    check(classify(&typed));
    check(classify(&Wrapper(io::Error::new(kind, text.into_owned()))));
});
