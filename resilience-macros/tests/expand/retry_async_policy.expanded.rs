async fn fetch(id: u64) -> Result<u64, FetchError> {
    {
        static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::with_policy(
            ::core::concat!(::core::module_path!(), "::", "fetch"),
            "kanban",
            || ::resilience::RetryConfig {
                max_attempts: 5u32,
                ..::core::default::Default::default()
            },
        );
        let __resilience_started = __RESILIENCE_RETRY.started();
        let mut __resilience_attempts: ::core::option::Option<
            ::resilience::__private::Attempts,
        > = ::core::option::Option::None;
        loop {
            let __resilience_delay = {
                let __resilience_outcome: Result<u64, FetchError> = ::resilience::__private::in_attempt(async {
                        {
                            #[allow(unreachable_code)]
                            let __resilience_ret: Result<u64, FetchError> = '__resilience_body: {
                                let board = (match ::resilience::__private::Question::branch(
                                    load(id).await,
                                ) {
                                    ::core::ops::ControlFlow::Continue(__resilience_value) => {
                                        __resilience_value
                                    }
                                    ::core::ops::ControlFlow::Break(__resilience_error) => {
                                        break '__resilience_body ::resilience::__private::question_error(
                                            __resilience_error,
                                        );
                                    }
                                });
                                Ok(board)
                            };
                            __resilience_ret
                        }
                    })
                    .await;
                let __resilience_error = match ::resilience::__private::Question::branch(
                    __resilience_outcome,
                ) {
                    ::core::ops::ControlFlow::Continue(__resilience_value) => {
                        __RESILIENCE_RETRY
                            .succeeded(&__resilience_attempts, __resilience_started);
                        break ::core::result::Result::Ok(__resilience_value);
                    }
                    ::core::ops::ControlFlow::Break(__resilience_error) => {
                        __resilience_error
                    }
                };
                match __RESILIENCE_RETRY
                    .failed(
                        &mut __resilience_attempts,
                        __resilience_started,
                        __resilience_error,
                        ::resilience::__private::view!(),
                        ::resilience::__private::RetryArm {
                            observe: ::resilience::__private::Observe::Record(
                                ::core::concat!(::core::module_path!(), "::", "fetch"),
                            ),
                            retry_if: |__resilience_e: &_| ::core::option::Option::Some(
                                is_transient(__resilience_e),
                            ),
                            on_retry: log_retry,
                        },
                    )
                {
                    ::core::ops::ControlFlow::Break(__resilience_error) => {
                        break ::core::result::Result::Err(__resilience_error);
                    }
                    ::core::ops::ControlFlow::Continue(__resilience_delay) => {
                        __resilience_delay
                    }
                }
            };
            ::resilience::__private::sleep(__resilience_delay).await;
        }
    }
}
