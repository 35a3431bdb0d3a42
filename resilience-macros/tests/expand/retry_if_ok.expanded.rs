async fn job_status(id: u64) -> Result<Status, JobError> {
    {
        static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::new(
            ::core::concat!(::core::module_path!(), "::", "job_status"),
            || ::resilience::RetryConfig {
                max_attempts: 5u32,
                backoff: ::resilience::retry::Backoff::Fixed(
                    ::core::time::Duration::from_nanos(1000000000u64),
                ),
                ..::core::default::Default::default()
            },
        );
        let __resilience_started = __RESILIENCE_RETRY.started();
        let mut __resilience_attempts: ::core::option::Option<
            ::resilience::__private::Attempts,
        > = ::core::option::Option::None;
        loop {
            let __resilience_delay = {
                let __resilience_outcome: Result<Status, JobError> = ::resilience::__private::in_attempt(async {
                        {
                            #[allow(unreachable_code)]
                            let __resilience_ret: Result<Status, JobError> = {
                                poll(id).await
                            };
                            __resilience_ret
                        }
                    })
                    .await;
                let __resilience_error = match ::resilience::__private::Question::branch(
                    __resilience_outcome,
                ) {
                    ::core::ops::ControlFlow::Continue(__resilience_value) => {
                        if still_pending(&__resilience_value) {
                            match __RESILIENCE_RETRY
                                .ok_retried(
                                    &mut __resilience_attempts,
                                    __resilience_started,
                                )
                            {
                                ::core::ops::ControlFlow::Break(()) => {
                                    break ::core::result::Result::Ok(__resilience_value);
                                }
                                ::core::ops::ControlFlow::Continue(__resilience_delay) => {
                                    ::core::mem::drop(__resilience_value);
                                    ::resilience::__private::sleep(__resilience_delay).await;
                                    continue;
                                }
                            }
                        }
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
                                ::core::concat!(::core::module_path!(), "::", "job_status"),
                            ),
                            retry_if: |_: &_| ::core::option::Option::None,
                            on_retry: |_: &_, _, _| {},
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
