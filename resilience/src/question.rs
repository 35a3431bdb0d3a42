//! What `?` does in a function that returns `Result`, for the generated code.
//!
//! The macros write a body inline, in the layers, when they can; a `?` there must still
//! end the body, not the whole function, so they write it as a `break` out of the body's
//! labelled block. This trait is the half of `?` that stable Rust does not expose
//! (`Try::branch`), for exactly the types `?` accepts in such a function.

use core::ops::ControlFlow;
use core::task::Poll;

/// Splits a value the way `?` does: `Continue` with what `expr?` evaluates to, or
/// `Break` with the error it returns (converted by the caller with `From`, as `?` does).
///
/// Implemented for the types stable `?` accepts in a function returning `Result`:
/// `Result`, `Poll<Result<T, E>>` and `Poll<Option<Result<T, E>>>`.
///
/// ```
/// use core::ops::ControlFlow;
/// use resilience::__private::Question;
///
/// let ok: Result<u8, &str> = Ok(1);
/// assert_eq!(ok.branch(), ControlFlow::Continue(1));
/// let err: Result<u8, &str> = Err("down");
/// assert_eq!(err.branch(), ControlFlow::Break("down"));
/// ```
#[diagnostic::on_unimplemented(
    message = "the `?` operator can only be used on `Result`s in a function that returns `Result`",
    label = "cannot use the `?` operator on `{Self}` here"
)]
pub trait Question {
    /// What `expr?` evaluates to.
    type Output;
    /// What `expr?` returns, before `From` converts it.
    type Error;

    /// `Continue(output)` or `Break(error)`.
    fn branch(self) -> ControlFlow<Self::Error, Self::Output>;
}

/// The `Err` that `?` returns for `error`: `Err(From::from(error))`. A function, not
/// written out at the `?`, so lints read it as the `?` it stands for.
///
/// ```
/// let early: Result<u8, String> = resilience::__private::question_error("down");
/// assert_eq!(early, Err(String::from("down")));
/// ```
#[inline(always)]
pub fn question_error<T, E: From<F>, F>(error: F) -> Result<T, E> {
    Err(E::from(error))
}

impl<T, E> Question for Result<T, E> {
    type Output = T;
    type Error = E;

    #[inline(always)]
    fn branch(self) -> ControlFlow<E, T> {
        match self {
            Ok(value) => ControlFlow::Continue(value),
            Err(error) => ControlFlow::Break(error),
        }
    }
}

impl<T, E> Question for Poll<Result<T, E>> {
    type Output = Poll<T>;
    type Error = E;

    #[inline(always)]
    fn branch(self) -> ControlFlow<E, Poll<T>> {
        match self {
            Poll::Ready(Ok(value)) => ControlFlow::Continue(Poll::Ready(value)),
            Poll::Ready(Err(error)) => ControlFlow::Break(error),
            Poll::Pending => ControlFlow::Continue(Poll::Pending),
        }
    }
}

impl<T, E> Question for Poll<Option<Result<T, E>>> {
    type Output = Poll<Option<T>>;
    type Error = E;

    #[inline(always)]
    fn branch(self) -> ControlFlow<E, Poll<Option<T>>> {
        match self {
            Poll::Ready(Some(Ok(value))) => ControlFlow::Continue(Poll::Ready(Some(value))),
            Poll::Ready(Some(Err(error))) => ControlFlow::Break(error),
            Poll::Ready(None) => ControlFlow::Continue(Poll::Ready(None)),
            Poll::Pending => ControlFlow::Continue(Poll::Pending),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Each impl must agree with the `?` it stands in for.

    /// What the generated code makes of `q?`: `Ok` with its value, or the `Err` it leaves with.
    fn split<Q: Question>(q: Q) -> Result<Q::Output, Q::Error> {
        match q.branch() {
            ControlFlow::Continue(value) => Ok(value),
            ControlFlow::Break(error) => Err(error),
        }
    }

    #[test]
    fn poll_of_result_splits_as_question_mark_does() {
        let cases: [Poll<Result<u8, &str>>; 3] =
            [Poll::Ready(Ok(1)), Poll::Ready(Err("down")), Poll::Pending];
        for case in cases {
            let std = (|| -> Result<_, &str> { Ok(case?) })();
            assert_eq!(split(case), std, "{case:?}");
        }
    }

    #[test]
    fn poll_of_option_of_result_splits_as_question_mark_does() {
        let cases: [Poll<Option<Result<u8, &str>>>; 4] = [
            Poll::Ready(Some(Ok(1))),
            Poll::Ready(Some(Err("down"))),
            Poll::Ready(None),
            Poll::Pending,
        ];
        for case in cases {
            let std = (|| -> Result<_, &str> { Ok(case?) })();
            assert_eq!(split(case), std, "{case:?}");
        }
    }
}
