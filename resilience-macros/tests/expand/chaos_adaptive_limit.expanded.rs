async fn search(q: &str, priority: Priority) -> Result<Hits, SearchError> {
    '__resilience_adaptive_limit_0: {
        static __RESILIENCE_ADAPTIVE_LIMIT: ::resilience::__private::AdaptiveLimitSite = ::resilience::__private::AdaptiveLimitSite::new(
            "search",
            || ::resilience::AdaptiveLimitConfig {
                max_wait: ::core::time::Duration::from_nanos(50000000u64),
                ..::core::default::Default::default()
            },
        );
        ::resilience::__private::known!(__RESILIENCE_ADAPTIVE_LIMIT.declare);
        let __resilience_limiter = __RESILIENCE_ADAPTIVE_LIMIT.instance();
        let __resilience_priority = {
            let __resilience_p: ::resilience::Priority = priority;
            __resilience_p
        };
        let __resilience_permit = match __resilience_limiter.try_acquire() {
            ::core::option::Option::Some(__resilience_permit) => __resilience_permit,
            ::core::option::Option::None => {
                match ::resilience::__private::adaptive_limit_wait(
                        __resilience_limiter,
                        __resilience_priority,
                    )
                    .await
                {
                    ::core::result::Result::Ok(__resilience_permit) => {
                        __resilience_permit
                    }
                    ::core::result::Result::Err(__resilience_overloaded) => {
                        break '__resilience_adaptive_limit_0 ::core::result::Result::Err(
                            ::resilience::__private::FromRefusal::from_refusal(
                                __resilience_overloaded,
                            ),
                        );
                    }
                }
            }
        };
        let __resilience_outcome: Result<Hits, SearchError> = '__resilience_chaos_0: {
            static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                ::core::concat!(::core::module_path!(), "::", "search"),
            );
            let __resilience_delay = match __RESILIENCE_ADAPTIVE_LIMIT
                .chaos()
                .draw_refusing_with(
                    &__RESILIENCE_CHAOS,
                    ::resilience::__private::inject!(Result < Hits, SearchError >),
                )
            {
                ::resilience::__private::Hit::Run(__resilience_delay) => {
                    __resilience_delay
                }
                ::resilience::__private::Hit::Fail(__resilience_failed) => {
                    break '__resilience_chaos_0 __resilience_failed;
                }
                ::resilience::__private::Hit::Refuse => {
                    break '__resilience_adaptive_limit_0 ::core::result::Result::Err(
                        ::resilience::__private::FromRefusal::from_refusal(
                            __RESILIENCE_ADAPTIVE_LIMIT.refused(__resilience_priority),
                        ),
                    );
                }
            };
            if !__resilience_delay.is_zero() {
                ::resilience::__private::sleep(__resilience_delay).await;
            }
            {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<Hits, SearchError> = { backend(q).await };
                __resilience_ret
            }
        };
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_ADAPTIVE_LIMIT.succeeded(__resilience_permit);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                ::core::result::Result::Err(
                    __RESILIENCE_ADAPTIVE_LIMIT
                        .failed(
                            __resilience_permit,
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::Observe::Record(
                                ::core::concat!(::core::module_path!(), "::", "search"),
                            ),
                        ),
                )
            }
        }
    }
}
fn lookup(id: u64) -> Result<Row, DbError> {
    '__resilience_adaptive_limit_0: {
        static __RESILIENCE_ADAPTIVE_LIMIT: ::resilience::__private::AdaptiveLimitSite = ::resilience::__private::AdaptiveLimitSite::new(
            "lookup",
            || ::resilience::AdaptiveLimitConfig {
                ..::core::default::Default::default()
            },
        );
        ::resilience::__private::known!(__RESILIENCE_ADAPTIVE_LIMIT.declare);
        let __resilience_limiter = __RESILIENCE_ADAPTIVE_LIMIT.instance();
        let __resilience_priority = ::resilience::Priority::Normal;
        let __resilience_permit = match __resilience_limiter
            .acquire_blocking(__resilience_priority)
        {
            ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
            ::core::result::Result::Err(__resilience_overloaded) => {
                break '__resilience_adaptive_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_overloaded,
                    ),
                );
            }
        };
        let __resilience_outcome: Result<Row, DbError> = '__resilience_chaos_0: {
            static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                ::core::concat!(::core::module_path!(), "::", "lookup"),
            );
            let __resilience_delay = match __RESILIENCE_ADAPTIVE_LIMIT
                .chaos()
                .draw_refusing_with(
                    &__RESILIENCE_CHAOS,
                    ::resilience::__private::inject!(Result < Row, DbError >),
                )
            {
                ::resilience::__private::Hit::Run(__resilience_delay) => {
                    __resilience_delay
                }
                ::resilience::__private::Hit::Fail(__resilience_failed) => {
                    break '__resilience_chaos_0 __resilience_failed;
                }
                ::resilience::__private::Hit::Refuse => {
                    break '__resilience_adaptive_limit_0 ::core::result::Result::Err(
                        ::resilience::__private::FromRefusal::from_refusal(
                            __RESILIENCE_ADAPTIVE_LIMIT.refused(__resilience_priority),
                        ),
                    );
                }
            };
            if !__resilience_delay.is_zero() {
                ::resilience::__private::sleep_blocking(__resilience_delay);
            }
            {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<Row, DbError> = { db::get(id) };
                __resilience_ret
            }
        };
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_ADAPTIVE_LIMIT.succeeded(__resilience_permit);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                ::core::result::Result::Err(
                    __RESILIENCE_ADAPTIVE_LIMIT
                        .failed(
                            __resilience_permit,
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::Observe::Record(
                                ::core::concat!(::core::module_path!(), "::", "lookup"),
                            ),
                        ),
                )
            }
        }
    }
}
