//! [`Cost`]: the values `#[rate_limit(cost = expr)]` takes, the units of the limit a
//! call asks for.

/// A value that can be a call's cost in units of a rate limit: an unsigned integer (or a
/// reference to one). A value above `u32::MAX` is `u32::MAX`, above any burst, so the
/// call is refused as one that can never fit rather than admitted on a wrapped cost.
///
/// ```
/// use resilience::rate_limit::Cost;
/// assert_eq!(Cost::units(5u8), 5);
/// assert_eq!(Cost::units(&7usize), 7);
/// assert_eq!(Cost::units(u64::MAX), u32::MAX);
/// ```
#[diagnostic::on_unimplemented(
    message = "`cost = ...` must be an unsigned integer (u8, u16, u32, u64 or usize), not `{Self}`",
    label = "the units of the limit this call takes",
    note = "convert it, as in `cost = tokens as u32`, or `cost = u32::try_from(n).unwrap_or(u32::MAX)` for a signed value"
)]
pub trait Cost {
    /// The units, as the limiter counts them.
    fn units(self) -> u32;
}

macro_rules! narrow {
    ($($t:ty),*) => {$(
        impl Cost for $t {
            #[inline(always)]
            fn units(self) -> u32 {
                u32::try_from(self).unwrap_or(u32::MAX)
            }
        }
    )*};
}

narrow!(u64, usize, u128);

impl Cost for u32 {
    #[inline(always)]
    fn units(self) -> u32 {
        self
    }
}

impl Cost for u16 {
    #[inline(always)]
    fn units(self) -> u32 {
        u32::from(self)
    }
}

impl Cost for u8 {
    #[inline(always)]
    fn units(self) -> u32 {
        u32::from(self)
    }
}

impl<T: Cost + Copy> Cost for &T {
    #[inline(always)]
    fn units(self) -> u32 {
        (*self).units()
    }
}
