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
//!
//! `#[fallback(f, cached)]` also remembers the function's last success at the call site
//! (`T: Clone + Send + 'static`) and returns it when every fallback failed too. A fallback
//! function named `cached` is still allowed first in the list.

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use crate::metrics::tests::Capture;

    fn cached(id: u32) -> Result<u32, String> {
        Ok(id + 100)
    }

    #[crate::fallback(cached)]
    fn flaky(id: u32) -> Result<u32, String> {
        Err(format!("no {id}"))
    }

    #[test]
    fn a_fallback_taken_is_counted_with_its_function_and_fallback() {
        let capture = Capture::default();
        let answers = ::metrics::with_local_recorder(&capture, || [flaky(1), flaky(2)]);
        assert_eq!(answers, [Ok(101), Ok(102)]);
        assert_eq!(
            capture.read(
                "resilience_fallbacks_total{function=resilience::fallback::tests::flaky,fallback=cached}"
            ),
            Some(2)
        );
    }
}
