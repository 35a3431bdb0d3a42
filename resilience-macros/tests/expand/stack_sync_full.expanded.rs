fn fetch_board(agent: &str, id: u64) -> Result<Board, KanbanError> {
    #[allow(unused_imports)]
    use retry as _;
    #[allow(unused_imports)]
    use circuit_breaker as _;
    #[allow(unused_imports)]
    use error_context as _;
    match {
        static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::new(
            ::core::concat!(::core::module_path!(), "::", "fetch_board"),
            || ::resilience::RetryConfig {
                max_attempts: 3u32,
                backoff: ::resilience::retry::Backoff::Fixed(
                    ::core::time::Duration::from_nanos(10000000u64),
                ),
                jitter: ::resilience::retry::Jitter::None,
                ..::core::default::Default::default()
            },
        );
        let __resilience_started = __RESILIENCE_RETRY.started();
        let mut __resilience_attempts: ::core::option::Option<
            ::resilience::__private::Attempts,
        > = ::core::option::Option::None;
        loop {
            let __resilience_delay = {
                let __resilience_outcome: Result<Board, KanbanError> = {
                    let __resilience_mark = ::resilience::__private::AttemptMark::enter();
                    '__resilience_breaker_2: {
                        static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite = ::resilience::__private::BreakerSite::new(
                                "kanban",
                                || ::resilience::BreakerConfig {
                                    ..::core::default::Default::default()
                                },
                            )
                            .at(
                                ::core::concat!(::core::module_path!(), "::", "fetch_board"),
                            );
                        ::resilience::__private::known!(__RESILIENCE_BREAKER.declare);
                        let __resilience_permit = match __RESILIENCE_BREAKER
                            .instance()
                            .acquire()
                        {
                            ::core::result::Result::Ok(__resilience_permit) => {
                                __resilience_permit
                            }
                            ::core::result::Result::Err(__resilience_open) => {
                                break '__resilience_breaker_2 ::core::result::Result::Err(
                                    ::resilience::__private::FromRefusal::from_refusal(
                                        __resilience_open,
                                    ),
                                );
                            }
                        };
                        let __resilience_outcome: Result<Board, KanbanError> = {
                            let __resilience_scope = ::resilience::__private::Scope::new(
                                "fetch_board",
                            );
                            let __resilience_outcome: Result<Board, KanbanError> = __resilience_scope
                                .run(|| -> Result<Board, KanbanError> {
                                    {
                                        #[allow(unreachable_code)]
                                        let __resilience_ret: Result<Board, KanbanError> = {
                                            load(agent, id)
                                        };
                                        __resilience_ret
                                    }
                                });
                            match __resilience_outcome {
                                ::core::result::Result::Ok(__resilience_value) => {
                                    ::core::result::Result::Ok(__resilience_value)
                                }
                                ::core::result::Result::Err(__resilience_error) => {
                                    ::core::result::Result::Err(
                                        __resilience_scope
                                            .failed(
                                                __resilience_error,
                                                ::resilience::__private::view!(),
                                                ::resilience::__private::ContextArm {
                                                    observe: ::resilience::__private::Observe::Skip,
                                                    fill: |__resilience_ctx: &mut ::resilience::ErrorContext| {
                                                        __resilience_ctx.agent_id = ::core::option::Option::Some(
                                                            ::std::string::ToString::to_string(&(agent)),
                                                        );
                                                    },
                                                },
                                            ),
                                    )
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
                                                observe: ::resilience::__private::Observe::Record(
                                                    ::core::concat!(::core::module_path!(), "::", "fetch_board"),
                                                ),
                                                record_if: |_: &_| ::core::option::Option::None,
                                            },
                                        ),
                                )
                            }
                        }
                    }
                };
                let __resilience_error = match __resilience_outcome {
                    ::core::result::Result::Ok(__resilience_value) => {
                        __RESILIENCE_RETRY
                            .succeeded(&__resilience_attempts, __resilience_started);
                        break ::core::result::Result::Ok(__resilience_value);
                    }
                    ::core::result::Result::Err(__resilience_error) => __resilience_error,
                };
                match __RESILIENCE_RETRY
                    .failed(
                        &mut __resilience_attempts,
                        __resilience_started,
                        __resilience_error,
                        ::resilience::__private::view!(),
                        ::resilience::__private::RetryArm {
                            observe: ::resilience::__private::Observe::Skip,
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
            ::resilience::__private::sleep_blocking(__resilience_delay);
        }
    } {
        ::core::result::Result::Ok(__resilience_value) => {
            ::core::result::Result::Ok(__resilience_value)
        }
        ::core::result::Result::Err(mut __resilience_error) => {
            let __resilience_failed = ::resilience::__private::calls_made(
                &mut __resilience_error,
                ::resilience::__private::view!(),
            );
            ::resilience::__private::answered_by_fallback(
                ::core::concat!(::core::module_path!(), "::", "fetch_board"),
                __resilience_failed,
                {
                    ::resilience::__private::fallback_taken(
                        ::core::concat!(::core::module_path!(), "::", "fetch_board"),
                        "cached_board",
                        0usize,
                    );
                    cached_board(agent, id)
                },
            )
        }
    }
}
