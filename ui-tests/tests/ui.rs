//! Compile-fail and compile-pass cases of every macro. The `.stderr` files were written
//! with the toolchain pinned in `rust-toolchain.toml`; regenerate them with
//! `TRYBUILD=overwrite cargo test -p resilience-ui-tests` and read the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
