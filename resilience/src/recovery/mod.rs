//! Recovery (work in progress).

/// The global recovery manager.
pub fn recovery() -> &'static Recovery {
    static GLOBAL: Recovery = Recovery;
    &GLOBAL
}

/// The recovery manager.
#[derive(Debug)]
pub struct Recovery;
