async fn list(tenant: &str) -> Result<u64, KanbanError> {
    #[allow(unused_imports)]
    use rate_limit as _;
    '__resilience_bulkhead_0: {
        static __RESILIENCE_BULKHEAD: ::resilience::__private::BulkheadSite = ::resilience::__private::BulkheadSite::new(
            "kanban.pool",
            || ::resilience::BulkheadConfig {
                max_concurrent: 4u32,
                ..::core::default::Default::default()
            },
        );
        ::resilience::__private::known!(__RESILIENCE_BULKHEAD.declare_keyed);
        #[allow(unused_imports)]
        use ::resilience::__private::{KeyDisplay as _, KeyStr as _};
        let __resilience_keyed = match __RESILIENCE_BULKHEAD
            .keyed((&&::resilience::__private::KeyProbe(&(tenant))).key().as_str())
        {
            ::core::result::Result::Ok(__resilience_instance) => __resilience_instance,
            ::core::result::Result::Err(__resilience_refused) => {
                break '__resilience_bulkhead_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_refused,
                    ),
                );
            }
        };
        let __resilience_bulkhead = &*__resilience_keyed;
        let __resilience_place = match __resilience_bulkhead.try_acquire() {
            ::core::option::Option::Some(__resilience_place) => __resilience_place,
            ::core::option::Option::None => {
                match ::resilience::__private::bulkhead_wait(__resilience_bulkhead).await
                {
                    ::core::result::Result::Ok(__resilience_place) => __resilience_place,
                    ::core::result::Result::Err(__resilience_full) => {
                        break '__resilience_bulkhead_0 ::core::result::Result::Err(
                            ::resilience::__private::FromRefusal::from_refusal(
                                __resilience_full,
                            ),
                        );
                    }
                }
            }
        };
        let __resilience_outcome = '__resilience_chaos_0: {
            let __resilience_delay = match __RESILIENCE_BULKHEAD
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
                    break '__resilience_bulkhead_0 ::core::result::Result::Err(
                        ::resilience::__private::FromRefusal::from_refusal(
                            __RESILIENCE_BULKHEAD.refused(__resilience_bulkhead),
                        ),
                    );
                }
            };
            if !__resilience_delay.is_zero() {
                ::resilience::__private::sleep(__resilience_delay).await;
            }
            '__resilience_rate_limit_1: {
                static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite = ::resilience::__private::RateLimitSite::new(
                    "kanban.rate",
                    || ::resilience::RateLimitConfig {
                        limit: 10u32,
                        per: ::core::time::Duration::from_nanos(1000000000u64),
                        ..::core::default::Default::default()
                    },
                );
                ::resilience::__private::known!(__RESILIENCE_RATE_LIMIT.declare);
                let __resilience_limiter = __RESILIENCE_RATE_LIMIT.instance();
                let __resilience_admitted = __resilience_limiter.reserve();
                match __resilience_admitted {
                    ::core::result::Result::Ok(__resilience_place) => {
                        if !__resilience_place.is_now() {
                            __resilience_limiter.wait(__resilience_place).await;
                        }
                    }
                    ::core::result::Result::Err(__resilience_limited) => {
                        break '__resilience_rate_limit_1 ::core::result::Result::Err(
                            ::resilience::__private::FromRefusal::from_refusal(
                                __resilience_limited,
                            ),
                        );
                    }
                }
                {
                    let __resilience_outcome: Result<u64, KanbanError> = '__resilience_chaos_1: {
                        static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                            ::core::concat!(::core::module_path!(), "::", "list"),
                        );
                        let __resilience_delay = match __RESILIENCE_RATE_LIMIT
                            .chaos()
                            .draw_refusing_with(
                                &__RESILIENCE_CHAOS,
                                ::resilience::__private::inject!(
                                    Result < u64, KanbanError >
                                ),
                            )
                        {
                            ::resilience::__private::Hit::Run(__resilience_delay) => {
                                __resilience_delay
                            }
                            ::resilience::__private::Hit::Fail(__resilience_failed) => {
                                break '__resilience_chaos_1 __resilience_failed;
                            }
                            ::resilience::__private::Hit::Refuse => {
                                break '__resilience_rate_limit_1 ::core::result::Result::Err(
                                    ::resilience::__private::FromRefusal::from_refusal(
                                        __RESILIENCE_RATE_LIMIT.refused(__resilience_limiter),
                                    ),
                                );
                            }
                        };
                        if !__resilience_delay.is_zero() {
                            ::resilience::__private::sleep(__resilience_delay).await;
                        }
                        {
                            #[allow(unreachable_code)]
                            let __resilience_ret: Result<u64, KanbanError> = {
                                load(tenant).await
                            };
                            __resilience_ret
                        }
                    };
                    match __resilience_outcome {
                        ::core::result::Result::Ok(__resilience_value) => {
                            ::core::result::Result::Ok(__resilience_value)
                        }
                        ::core::result::Result::Err(__resilience_error) => {
                            ::core::result::Result::Err(
                                ::resilience::__private::observed(
                                    __resilience_error,
                                    ::core::concat!(::core::module_path!(), "::", "list"),
                                    ::resilience::__private::view!(),
                                ),
                            )
                        }
                    }
                }
            }
        };
        ::core::mem::drop(__resilience_place);
        __resilience_outcome
    }
}
