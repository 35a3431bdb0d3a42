//! Each attribute's rustdoc carries its key table: every key the parser accepts is
//! documented on the entry point users read (`resilience::retry` re-exports it).

const LIB: &str = include_str!("lib.rs");

/// The `///` lines just above `pub fn name`.
fn doc_of(name: &str) -> String {
    let at = LIB
        .find(&format!("pub fn {name}("))
        .unwrap_or_else(|| panic!("no entry point `{name}`"));
    LIB[..at]
        .lines()
        .rev()
        .skip_while(|line| !line.starts_with("///"))
        .take_while(|line| line.starts_with("///"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_documents(name: &str, keys: &[&str]) {
    let doc = doc_of(name);
    for key in keys {
        assert!(
            doc.contains(&format!("`{key}`")) || doc.contains(&format!("{key} =")),
            "the rustdoc of `#[{name}]` does not document `{key}`"
        );
    }
}

#[test]
fn every_key_is_in_its_attributes_rustdoc() {
    assert_documents("retry", crate::args::retry::KEYS);
    assert_documents("circuit_breaker", crate::args::breaker::KEYS);
    assert_documents("resilient", crate::args::retry::KEYS);
    assert_documents("resilient", crate::args::breaker::KEYS);
    assert_documents("rate_limit", crate::args::rate_limit::KEYS);
    assert_documents("bulkhead", crate::args::bulkhead::KEYS);
    assert_documents("hedge", crate::args::hedge::KEYS);
    assert_documents("fallback", &["with_error", "cached"]);
    assert_documents(
        "error_context",
        &["agent_id", "task_id", "integration_name"],
    );
}
