//! Who may change a breaker: the bearer token of a mutating request, compared in
//! constant time.

use axum::http::{header, HeaderMap, StatusCode};
use subtle::ConstantTimeEq;

/// Why a mutating request is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refused {
    /// No token is configured: the routes are read-only (`403`).
    NoToken,
    /// A missing, malformed or wrong `Authorization` (`401`).
    Unauthorized,
}

impl Refused {
    pub(super) fn status(self) -> StatusCode {
        match self {
            Refused::NoToken => StatusCode::FORBIDDEN,
            Refused::Unauthorized => StatusCode::UNAUTHORIZED,
        }
    }
}

/// Whether `headers` carry `Authorization: Bearer <token>` for the configured `token`.
/// The comparison takes the same time wherever the bytes differ (only a length that
/// differs answers sooner, which tells nothing of the token's bytes).
pub(super) fn check(token: Option<&str>, headers: &HeaderMap) -> Result<(), Refused> {
    let token = token.ok_or(Refused::NoToken)?;
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.as_bytes().strip_prefix(b"Bearer "))
        .ok_or(Refused::Unauthorized)?;
    if bool::from(given.ct_eq(token.as_bytes())) {
        Ok(())
    } else {
        Err(Refused::Unauthorized)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn only_the_bearer_token_itself_passes() {
        let token = Some("s3cret");
        assert_eq!(check(token, &with("Bearer s3cret")), Ok(()));
        for wrong in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "bearer s3cret",
            "Basic s3cret",
            "s3cret",
            "Bearer  s3cret",
            "",
        ] {
            assert_eq!(
                check(token, &with(wrong)),
                Err(Refused::Unauthorized),
                "{wrong:?}"
            );
        }
        assert_eq!(check(token, &HeaderMap::new()), Err(Refused::Unauthorized));
    }

    #[test]
    fn without_a_configured_token_nothing_passes() {
        assert_eq!(check(None, &with("Bearer anything")), Err(Refused::NoToken));
        assert_eq!(Refused::NoToken.status(), StatusCode::FORBIDDEN);
    }
}
