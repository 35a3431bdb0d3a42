async fn fetch(id: u64) -> Result<u64, KanbanError> {
    #[allow(unused_imports)]
    use retry as _;
    '__resilience_breaker_0: {
        static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite = ::resilience::__private::BreakerSite::new(
                "kanban",
                || ::resilience::BreakerConfig {
                    ..::core::default::Default::default()
                },
            )
            .at(::core::concat!(::core::module_path!(), "::", "fetch"));
        ::resilience::__private::known!(__RESILIENCE_BREAKER.declare);
        let __resilience_permit = match __RESILIENCE_BREAKER.instance().acquire() {
            ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
            ::core::result::Result::Err(__resilience_open) => {
                break '__resilience_breaker_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(__resilience_open),
                );
            }
        };
        let __resilience_outcome: Result<u64, KanbanError> = '__resilience_chaos_0: {
            let __resilience_delay = match __RESILIENCE_BREAKER
                .chaos()
                .draw_refusing(
                    ::resilience::__private::inject!(Result < u64, KanbanError >),
                )
            {
                ::resilience::__private::Hit::Run(__resilience_delay) => {
                    __resilience_delay
                }
                ::resilience::__private::Hit::Fail(__resilience_failed) => {
                    break '__resilience_chaos_0 __resilience_failed;
                }
                ::resilience::__private::Hit::Refuse => {
                    break '__resilience_breaker_0 ::core::result::Result::Err(
                        ::resilience::__private::FromRefusal::from_refusal(
                            __RESILIENCE_BREAKER.refused(),
                        ),
                    );
                }
            };
            if !__resilience_delay.is_zero() {
                ::resilience::__private::sleep(__resilience_delay).await;
            }
            {
                static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::new(
                    ::core::concat!(::core::module_path!(), "::", "fetch"),
                    || ::resilience::RetryConfig {
                        max_attempts: 2u32,
                        backoff: ::resilience::retry::Backoff::None,
                        ..::core::default::Default::default()
                    },
                );
                let __resilience_started = __RESILIENCE_RETRY.started();
                let mut __resilience_attempts: ::core::option::Option<
                    ::resilience::__private::Attempts,
                > = ::core::option::Option::None;
                loop {
                    let __resilience_delay = {
                        let __resilience_outcome: Result<u64, KanbanError> = ::resilience::__private::in_attempt(async {
                                '__resilience_chaos: {
                                    static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                                        ::core::concat!(::core::module_path!(), "::", "fetch"),
                                    );
                                    let __resilience_delay = match __RESILIENCE_CHAOS
                                        .draw(
                                            ::resilience::__private::inject!(
                                                Result < u64, KanbanError >
                                            ),
                                        )
                                    {
                                        ::core::result::Result::Ok(__resilience_delay) => {
                                            __resilience_delay
                                        }
                                        ::core::result::Result::Err(__resilience_failed) => {
                                            break '__resilience_chaos __resilience_failed;
                                        }
                                    };
                                    if !__resilience_delay.is_zero() {
                                        ::resilience::__private::sleep(__resilience_delay).await;
                                    }
                                    {
                                        #[allow(unreachable_code)]
                                        let __resilience_ret: Result<u64, KanbanError> = {
                                            load(id).await
                                        };
                                        __resilience_ret
                                    }
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
        };
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_BREAKER.succeeded(__resilience_permit);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                ::core::result::Result::Err(
                    __RESILIENCE_BREAKER
                        .failed(
                            __resilience_permit,
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::BreakerArm {
                                observe: ::resilience::__private::Observe::Skip,
                                record_if: |_: &_| ::core::option::Option::None,
                            },
                        ),
                )
            }
        }
    }
}
