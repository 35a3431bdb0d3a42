// Temporary runner for the derive's cases only; deleted once their .stderr are written.
#[test]
fn derive_only() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/derive_*.rs");
}
