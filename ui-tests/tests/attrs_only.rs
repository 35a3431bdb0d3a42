#[test]
fn attrs_only() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/stacked_attributes.rs");
    for prefix in ["retry", "breaker", "fallback", "context", "resilient", "timeout"] {
        t.compile_fail(format!("tests/ui/fail/{prefix}_*.rs"));
    }
}
