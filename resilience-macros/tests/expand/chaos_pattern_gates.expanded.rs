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
        let __resilience_keyed = {
            #[allow(unused_imports)]
            use ::resilience::__private::{KeyDisplay as _, KeyStr as _};
            __RESILIENCE_BULKHEAD
                .keyed((&&::resilience::__private::KeyProbe(&(tenant))).key().as_str())
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
                            ::resilience::__private::FromBulkheadFull::from_bulkhead_full(
                                __resilience_full,
                            ),
                        );
                    }
                }
            }
        };
        let __resilience_outcome = '__resilience_chaos_0: {
            if ::resilience::__private::chaos_armed() {
                #[allow(unused_imports)]
                use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                #[allow(clippy::needless_borrow)]
                let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                    Result<u64, KanbanError>,
                >::new())
                    .injector();
                let __resilience_delay = match __RESILIENCE_BULKHEAD
                    .chaos()
                    .draw(__resilience_inject)
                {
                    ::resilience::__private::Hit::Pass => ::core::option::Option::None,
                    ::resilience::__private::Hit::Delay(__resilience_delay) => {
                        ::core::option::Option::Some(__resilience_delay)
                    }
                    ::resilience::__private::Hit::Fail(__resilience_failed) => {
                        break '__resilience_chaos_0 __resilience_failed;
                    }
                    ::resilience::__private::Hit::Refuse => {
                        break '__resilience_bulkhead_0 ::core::result::Result::Err(
                            ::resilience::__private::FromBulkheadFull::from_bulkhead_full(
                                __RESILIENCE_BULKHEAD.refused(__resilience_bulkhead),
                            ),
                        );
                    }
                };
                if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                    ::resilience::__private::sleep(__resilience_delay).await;
                }
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
                let __resilience_limiter = __RESILIENCE_RATE_LIMIT.limiter();
                let __resilience_admitted = __resilience_limiter.reserve();
                match __resilience_admitted {
                    ::core::result::Result::Ok(__resilience_place) => {
                        if !__resilience_place.is_now() {
                            __resilience_limiter.wait(__resilience_place).await;
                        }
                    }
                    ::core::result::Result::Err(__resilience_limited) => {
                        break '__resilience_rate_limit_1 ::core::result::Result::Err(
                            ::resilience::__private::FromRateLimited::from_rate_limited(
                                __resilience_limited,
                            ),
                        );
                    }
                }
                {
                    let __resilience_outcome: Result<u64, KanbanError> = '__resilience_chaos_1: {
                        if ::resilience::__private::chaos_armed() {
                            #[allow(unused_imports)]
                            use ::resilience::__private::{
                                InjectFrom as _, InjectNone as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                                Result<u64, KanbanError>,
                            >::new())
                                .injector();
                            let __resilience_delay = match __RESILIENCE_RATE_LIMIT
                                .chaos()
                                .draw(__resilience_inject)
                            {
                                ::resilience::__private::Hit::Pass => {
                                    ::core::option::Option::None
                                }
                                ::resilience::__private::Hit::Delay(__resilience_delay) => {
                                    ::core::option::Option::Some(__resilience_delay)
                                }
                                ::resilience::__private::Hit::Fail(__resilience_failed) => {
                                    break '__resilience_chaos_1 __resilience_failed;
                                }
                                ::resilience::__private::Hit::Refuse => {
                                    break '__resilience_rate_limit_1 ::core::result::Result::Err(
                                        ::resilience::__private::FromRateLimited::from_rate_limited(
                                            __RESILIENCE_RATE_LIMIT.refused(__resilience_limiter),
                                        ),
                                    );
                                }
                            };
                            if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                                ::resilience::__private::sleep(__resilience_delay).await;
                            }
                            let __resilience_delay = match {
                                static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                                    ::core::concat!(::core::module_path!(), "::", "list"),
                                );
                                &__RESILIENCE_CHAOS
                            }
                                .draw(__resilience_inject)
                            {
                                ::resilience::__private::Hit::Pass => {
                                    ::core::option::Option::None
                                }
                                ::resilience::__private::Hit::Delay(__resilience_delay) => {
                                    ::core::option::Option::Some(__resilience_delay)
                                }
                                ::resilience::__private::Hit::Fail(__resilience_failed) => {
                                    break '__resilience_chaos_1 __resilience_failed;
                                }
                                ::resilience::__private::Hit::Refuse => {
                                    ::core::option::Option::None
                                }
                            };
                            if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                                ::resilience::__private::sleep(__resilience_delay).await;
                            }
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
                                    |__resilience_e| {
                                        #[allow(unused_imports)]
                                        use ::resilience::__private::{
                                            ViewDyn as _, ViewDynSync as _, ViewError as _,
                                            ViewMarcus as _, ViewOpaque as _,
                                        };
                                        #[allow(clippy::needless_borrow)]
                                        let __resilience_view = (&&&&&::resilience::__private::Probe::new(
                                            __resilience_e,
                                        ))
                                            .view();
                                        __resilience_view
                                    },
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
