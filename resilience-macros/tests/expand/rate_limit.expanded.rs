async fn call(id: u64) -> Result<u64, ApiError> {
    '__resilience_rate_limit_0: {
        static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite = ::resilience::__private::RateLimitSite::new(
            "api",
            || ::resilience::RateLimitConfig {
                limit: 100u32,
                per: ::core::time::Duration::from_nanos(1000000000u64),
                burst: ::core::option::Option::Some(20u32),
                max_delay: ::core::time::Duration::from_nanos(50000000u64),
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
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRateLimited::from_rate_limited(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = '__resilience_chaos_0: {
                if ::resilience::__private::chaos_armed() {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                    #[allow(clippy::needless_borrow)]
                    let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                        Result<u64, ApiError>,
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
                            break '__resilience_chaos_0 __resilience_failed;
                        }
                        ::resilience::__private::Hit::Refuse => {
                            break '__resilience_rate_limit_0 ::core::result::Result::Err(
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
                            ::core::concat!(::core::module_path!(), "::", "call"),
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
                    let __resilience_ret: Result<u64, ApiError> = { load(id).await };
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
                            ::core::concat!(::core::module_path!(), "::", "call"),
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
}
fn per_tenant(tenant: &str) -> Result<u64, ApiError> {
    '__resilience_rate_limit_0: {
        static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite = ::resilience::__private::RateLimitSite::new(
            ::core::concat!(::core::module_path!(), "::", "per_tenant"),
            || ::resilience::RateLimitConfig {
                limit: 10u32,
                per: ::core::time::Duration::from_nanos(1000000000u64),
                ..::core::default::Default::default()
            },
        );
        let __resilience_keyed = {
            #[allow(unused_imports)]
            use ::resilience::__private::{KeyDisplay as _, KeyStr as _};
            __RESILIENCE_RATE_LIMIT
                .keyed((&&::resilience::__private::KeyProbe(&(tenant))).key().as_str())
        };
        let __resilience_limiter = &*__resilience_keyed;
        let __resilience_admitted = __resilience_limiter.check();
        match __resilience_admitted {
            ::core::result::Result::Ok(__resilience_delay) => {
                ::resilience::__private::sleep_blocking(__resilience_delay);
            }
            ::core::result::Result::Err(__resilience_limited) => {
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRateLimited::from_rate_limited(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = '__resilience_chaos_0: {
                if ::resilience::__private::chaos_armed() {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                    #[allow(clippy::needless_borrow)]
                    let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                        Result<u64, ApiError>,
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
                            break '__resilience_chaos_0 __resilience_failed;
                        }
                        ::resilience::__private::Hit::Refuse => {
                            break '__resilience_rate_limit_0 ::core::result::Result::Err(
                                ::resilience::__private::FromRateLimited::from_rate_limited(
                                    __RESILIENCE_RATE_LIMIT.refused(__resilience_limiter),
                                ),
                            );
                        }
                    };
                    if let ::core::option::Option::Some(__resilience_delay) = __resilience_delay {
                        ::resilience::__private::sleep_blocking(__resilience_delay);
                    }
                    let __resilience_delay = match {
                        static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                            ::core::concat!(::core::module_path!(), "::", "per_tenant"),
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
                    let __resilience_ret: Result<u64, ApiError> = { load(tenant) };
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
                            ::core::concat!(::core::module_path!(), "::", "per_tenant"),
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
}
async fn shared_quota(id: u64) -> Result<u64, ApiError> {
    '__resilience_rate_limit_0: {
        static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite = ::resilience::__private::RateLimitSite::new(
            "openai",
            || ::resilience::RateLimitConfig {
                limit: 500u32,
                per: ::core::time::Duration::from_nanos(60000000000u64),
                scope: ::resilience::Scope::Cluster,
                expected_instances: 3u32,
                ..::core::default::Default::default()
            },
        );
        let __resilience_limiter = __RESILIENCE_RATE_LIMIT.limiter();
        let __resilience_admitted = __RESILIENCE_RATE_LIMIT
            .admit_cluster(__resilience_limiter)
            .await;
        match __resilience_admitted {
            ::core::result::Result::Ok(__resilience_delay) => {
                if !__resilience_delay.is_zero() {
                    ::resilience::__private::sleep(__resilience_delay).await;
                }
            }
            ::core::result::Result::Err(__resilience_limited) => {
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRateLimited::from_rate_limited(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = '__resilience_chaos_0: {
                if ::resilience::__private::chaos_armed() {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{InjectFrom as _, InjectNone as _};
                    #[allow(clippy::needless_borrow)]
                    let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                        Result<u64, ApiError>,
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
                            break '__resilience_chaos_0 __resilience_failed;
                        }
                        ::resilience::__private::Hit::Refuse => {
                            break '__resilience_rate_limit_0 ::core::result::Result::Err(
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
                            ::core::concat!(::core::module_path!(), "::", "shared_quota"),
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
                    let __resilience_ret: Result<u64, ApiError> = { load(id).await };
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
                            ::core::concat!(
                                ::core::module_path!(), "::", "shared_quota"
                            ),
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
}
