#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
pub enum KanbanError {
    #[error("board {board} timed out")]
    #[marcus(
        category = transient,
        severity = medium,
        remediation(immediate = "Retry with backoff")
    )]
    Timeout { board: String, #[context] ctx: resilience::ErrorContext },
    #[error("rate limited")]
    #[marcus(code = "KANBAN_RATE_LIMITED", category = transient, retry_after = wait)]
    RateLimited { wait: std::time::Duration },
    #[error(transparent)]
    CircuitOpen(#[from] resilience::CircuitOpen),
}
#[automatically_derived]
#[allow(unused_qualifications)]
impl ::resilience::MarcusError for KanbanError {
    #[inline]
    fn code(&self) -> &'static str {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => "KANBAN_ERROR_TIMEOUT",
            Self::RateLimited { .. } => "KANBAN_RATE_LIMITED",
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::code(__resilience_error)
                    }
                    ::core::option::Option::None => "KANBAN_ERROR_CIRCUIT_OPEN",
                }
            }
        }
    }
    #[inline]
    fn category(&self) -> ::resilience::Category {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => ::resilience::Category::Transient,
            Self::RateLimited { .. } => ::resilience::Category::Transient,
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .category_or(::resilience::Category::Integration)
            }
        }
    }
    #[inline]
    fn severity(&self) -> ::resilience::Severity {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => ::resilience::Severity::Medium,
            Self::RateLimited { .. } => {
                ::resilience::Category::Transient.default_severity()
            }
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::severity(__resilience_error)
                    }
                    ::core::option::Option::None => {
                        ::resilience::Category::Integration.default_severity()
                    }
                }
            }
        }
    }
    #[inline]
    fn retryable(&self) -> bool {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => ::resilience::Category::Transient.default_retryable(),
            Self::RateLimited { .. } => {
                ::resilience::Category::Transient.default_retryable()
            }
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::retryable(__resilience_error)
                    }
                    ::core::option::Option::None => {
                        ::resilience::Category::Integration.default_retryable()
                    }
                }
            }
        }
    }
    #[inline]
    fn retry_after(&self) -> ::core::option::Option<::core::time::Duration> {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => ::core::option::Option::None,
            Self::RateLimited { wait: __resilience_delay, .. } => {
                ::core::option::Option::Some(*__resilience_delay)
            }
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::retry_after(__resilience_error)
                    }
                    ::core::option::Option::None => ::core::option::Option::None,
                }
            }
        }
    }
    #[inline]
    fn remediation(&self) -> ::resilience::Remediation {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => {
                let mut __resilience_remediation = <::resilience::Remediation as ::core::default::Default>::default();
                __resilience_remediation.immediate = ::core::option::Option::Some(
                    ::std::borrow::Cow::Borrowed("Retry with backoff"),
                );
                __resilience_remediation
                    .or(
                        ::resilience::Remediation::for_category(
                            ::resilience::Category::Transient,
                        ),
                    )
            }
            Self::RateLimited { .. } => {
                ::resilience::Remediation::for_category(
                    ::resilience::Category::Transient,
                )
            }
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::remediation(__resilience_error)
                    }
                    ::core::option::Option::None => {
                        ::resilience::Remediation::for_category(
                            ::resilience::Category::Integration,
                        )
                    }
                }
            }
        }
    }
    #[inline]
    fn context(&self) -> ::core::option::Option<&::resilience::ErrorContext> {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { ctx: __resilience_context, .. } => {
                ::core::option::Option::Some(__resilience_context)
            }
            Self::RateLimited { .. } => ::core::option::Option::None,
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::context(__resilience_error)
                    }
                    ::core::option::Option::None => ::core::option::Option::None,
                }
            }
        }
    }
    #[inline]
    fn context_mut(
        &mut self,
    ) -> ::core::option::Option<&mut ::resilience::ErrorContext> {
        #[allow(unused_imports)]
        use ::resilience::__private::{ViewError as _, ViewMarcus as _, ViewOpaque as _};
        match self {
            Self::Timeout { ctx: __resilience_context, .. } => {
                ::core::option::Option::Some(__resilience_context)
            }
            Self::RateLimited { .. } => ::core::option::Option::None,
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&&&&::resilience::__private::Probe::new(__resilience_inner))
                    .view()
                {
                    ::resilience::__private::View::Marcus(__resilience_error) => {
                        ::resilience::MarcusError::context_mut(__resilience_error)
                    }
                    _ => ::core::option::Option::None,
                }
            }
        }
    }
    #[inline]
    fn error_type(&self) -> &'static str {
        #[allow(unused_imports)]
        use ::resilience::__private::{DelegateMarcus as _, DelegateOwn as _};
        match self {
            Self::Timeout { .. } => "KanbanError",
            Self::RateLimited { .. } => "KanbanError",
            Self::CircuitOpen { 0: __resilience_inner, .. } => {
                match (&&::resilience::__private::Delegate::new(__resilience_inner))
                    .marcus()
                {
                    ::core::option::Option::Some(__resilience_error) => {
                        ::resilience::MarcusError::error_type(__resilience_error)
                    }
                    ::core::option::Option::None => "KanbanError",
                }
            }
        }
    }
}
