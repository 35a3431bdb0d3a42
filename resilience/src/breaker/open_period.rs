//! How long a breaker stays open: `recovery_timeout` after a closing, then
//! `recovery_factor` times longer for each half-open trial that failed in a row, at most
//! `max_recovery_timeout` (Polly's break duration generator, Envoy's ejection time).
//!
//! Pure arithmetic on nanoseconds: the breaker keeps the count of failed trials beside
//! its deadline (`Hot::strikes`) and asks here for the period at each opening.

/// The open period after `strikes` failed trials in a row: `base × factor^strikes`, at
/// most `cap` (`u64::MAX` for none), at least `base`. With `factor` 1 or no strikes it is
/// `base` exactly, as before the period could grow.
pub(super) fn open_period(base: u64, factor: f64, cap: u64, strikes: u64) -> u64 {
    if strikes == 0 || factor <= 1.0 || !factor.is_finite() {
        return base;
    }
    let exponent = i32::try_from(strikes).unwrap_or(i32::MAX);
    let grown = base as f64 * factor.powi(exponent);
    // `as` saturates (an infinite product is `u64::MAX`); the cap never cuts below the
    // base (a configuration is checked to keep `cap >= base`, but `configure` may race).
    if grown >= cap as f64 {
        cap.max(base)
    } else {
        (grown as u64).max(base)
    }
}

#[cfg(test)]
mod tests {
    use super::open_period;

    const S: u64 = 1_000_000_000;

    #[test]
    fn grows_by_the_factor_up_to_the_cap() {
        let periods: Vec<u64> = (0..5).map(|n| open_period(S, 2.0, 3 * S, n) / S).collect();
        assert_eq!(periods, [1, 2, 3, 3, 3]);
        assert_eq!(open_period(S, 1.5, u64::MAX, 2), 2_250_000_000);
    }

    #[test]
    fn a_factor_of_one_or_no_strikes_is_the_base() {
        assert_eq!(open_period(7, 1.0, u64::MAX, 40), 7);
        assert_eq!(open_period(7, 3.0, u64::MAX, 0), 7);
    }

    #[test]
    fn without_a_cap_it_saturates_instead_of_overflowing() {
        assert_eq!(open_period(S, 2.0, u64::MAX, 10_000), u64::MAX);
        assert_eq!(open_period(S, 2.0, u64::MAX, u64::MAX), u64::MAX);
    }
}
