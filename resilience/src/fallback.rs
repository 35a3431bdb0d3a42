//! Fallbacks: what `#[fallback(f, g, with_error)]` does when the function fails.
//!
//! The attribute calls `f` with the function's own arguments (and, with `with_error`,
//! the error by value as the last one), then `g` if `f` failed too, and returns the first
//! success or the last error. The calls are written out by the macro, so a fallback whose
//! signature does not fit is a compile error at its name; this module only reports that a
//! fallback was taken.
//!
//! ```
//! use resilience::fallback;
//!
//! fn cached_price(item: &str) -> Result<u32, String> {
//!     Ok(if item == "tea" { 3 } else { 0 })
//! }
//!
//! #[fallback(cached_price)]
//! fn live_price(item: &str) -> Result<u32, String> {
//!     Err(format!("pricing service down while asking for {item}"))
//! }
//!
//! assert_eq!(live_price("tea"), Ok(3));
//! ```

/// What generated code calls.
pub mod glue {
    /// Reports that `function` failed and its fallback number `index` (`fallback`) runs.
    #[inline]
    pub fn fallback_taken(function: &'static str, fallback: &'static str, index: usize) {
        tracing::warn!(
            target: "resilience::fallback",
            function,
            fallback,
            index,
            "call failed; taking fallback"
        );
    }
}
