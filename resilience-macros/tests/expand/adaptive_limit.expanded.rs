async fn search(q: &str, priority: Priority) -> Result<Hits, SearchError> {
    '__resilience_adaptive_limit_0: {
        static __RESILIENCE_ADAPTIVE_LIMIT: ::resilience::__private::AdaptiveLimitSite = ::resilience::__private::AdaptiveLimitSite::new(
            "search",
            || ::resilience::AdaptiveLimitConfig {
                algorithm: ::resilience::adaptive_limit::Algorithm::Vegas,
                min_limit: 2u32,
                max_limit: 100u32,
                initial_limit: 20u32,
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
        let __resilience_outcome: Result<Hits, SearchError> = {
            #[allow(unreachable_code)]
            let __resilience_ret: Result<Hits, SearchError> = { backend(q).await };
            __resilience_ret
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
            ::core::concat!(::core::module_path!(), "::", "lookup"),
            || ::resilience::AdaptiveLimitConfig {
                algorithm: ::resilience::adaptive_limit::Algorithm::Aimd,
                backoff_ratio: 0.8f64,
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
        let __resilience_outcome: Result<Row, DbError> = {
            #[allow(unreachable_code)]
            let __resilience_ret: Result<Row, DbError> = { db::get(id) };
            __resilience_ret
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
