fn query(id: u64) -> Result<u64, DbError> {
    '__resilience_bulkhead_0: {
        static __RESILIENCE_BULKHEAD: ::resilience::__private::BulkheadSite = ::resilience::__private::BulkheadSite::new(
            "db",
            || ::resilience::BulkheadConfig {
                max_concurrent: 10u32,
                max_wait: ::core::time::Duration::from_nanos(100000000u64),
                ..::core::default::Default::default()
            },
        );
        let __resilience_bulkhead = __RESILIENCE_BULKHEAD.instance();
        let __resilience_place = match __resilience_bulkhead.acquire_blocking() {
            ::core::result::Result::Ok(__resilience_place) => __resilience_place,
            ::core::result::Result::Err(__resilience_full) => {
                break '__resilience_bulkhead_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(__resilience_full),
                );
            }
        };
        let __resilience_outcome = {
            let __resilience_outcome: Result<u64, DbError> = '__resilience_chaos_0: {
                if ::resilience::__private::chaos_armed() {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                    #[allow(clippy::needless_borrow)]
                    let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                        Result<u64, DbError>,
                    >::new())
                        .injector();
                    let __resilience_delay = match __RESILIENCE_BULKHEAD
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
                    if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                        ::resilience::__private::sleep_blocking(__resilience_delay);
                    }
                    let __resilience_delay = match {
                        static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                            ::core::concat!(::core::module_path!(), "::", "query"),
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
                            break '__resilience_chaos_0 __resilience_failed;
                        }
                        ::resilience::__private::Hit::Refuse => {
                            ::core::option::Option::None
                        }
                    };
                    if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                        ::resilience::__private::sleep_blocking(__resilience_delay);
                    }
                }
                {
                    #[allow(unreachable_code)]
                    let __resilience_ret: Result<u64, DbError> = { load(id) };
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
                            ::core::concat!(::core::module_path!(), "::", "query"),
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
        };
        ::core::mem::drop(__resilience_place);
        __resilience_outcome
    }
}
async fn fetch(id: u64) -> Result<u64, DbError> {
    '__resilience_bulkhead_0: {
        static __RESILIENCE_BULKHEAD: ::resilience::__private::BulkheadSite = ::resilience::__private::BulkheadSite::new(
            ::core::concat!(::core::module_path!(), "::", "fetch"),
            || ::resilience::BulkheadConfig {
                max_concurrent: 4u32,
                ..::core::default::Default::default()
            },
        );
        let __resilience_bulkhead = __RESILIENCE_BULKHEAD.instance();
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
        let __resilience_outcome = {
            let __resilience_outcome: Result<u64, DbError> = '__resilience_chaos_0: {
                if ::resilience::__private::chaos_armed() {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                    #[allow(clippy::needless_borrow)]
                    let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                        Result<u64, DbError>,
                    >::new())
                        .injector();
                    let __resilience_delay = match __RESILIENCE_BULKHEAD
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
                    if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                        ::resilience::__private::sleep(__resilience_delay).await;
                    }
                    let __resilience_delay = match {
                        static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                            ::core::concat!(::core::module_path!(), "::", "fetch"),
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
                            break '__resilience_chaos_0 __resilience_failed;
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
                    let __resilience_ret: Result<u64, DbError> = { load(id).await };
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
                            ::core::concat!(::core::module_path!(), "::", "fetch"),
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
        };
        ::core::mem::drop(__resilience_place);
        __resilience_outcome
    }
}
