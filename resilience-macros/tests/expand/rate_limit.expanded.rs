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
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, ApiError> = { load(id).await };
                __resilience_ret
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
                            ::resilience::__private::view!(),
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
        ::resilience::__private::known!(__RESILIENCE_RATE_LIMIT.declare_keyed);
        #[allow(unused_imports)]
        use ::resilience::__private::{KeyDisplay as _, KeyStr as _};
        let __resilience_keyed = match __RESILIENCE_RATE_LIMIT
            .keyed((&&::resilience::__private::KeyProbe(&(tenant))).key().as_str())
        {
            ::core::result::Result::Ok(__resilience_instance) => __resilience_instance,
            ::core::result::Result::Err(__resilience_refused) => {
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_refused,
                    ),
                );
            }
        };
        let __resilience_limiter = &*__resilience_keyed;
        let __resilience_admitted = __resilience_limiter.check();
        match __resilience_admitted {
            ::core::result::Result::Ok(__resilience_delay) => {
                if !__resilience_delay.is_zero() {
                    ::resilience::__private::sleep_blocking(__resilience_delay);
                }
            }
            ::core::result::Result::Err(__resilience_limited) => {
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, ApiError> = { load(tenant) };
                __resilience_ret
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
                            ::resilience::__private::view!(),
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
        ::resilience::__private::known!(__RESILIENCE_RATE_LIMIT.declare);
        let __resilience_limiter = __RESILIENCE_RATE_LIMIT.instance();
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
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, ApiError> = { load(id).await };
                __resilience_ret
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
                            ::resilience::__private::view!(),
                        ),
                    )
                }
            }
        }
    }
}
fn complete(tokens: u32) -> Result<u64, ApiError> {
    '__resilience_rate_limit_0: {
        static __RESILIENCE_RATE_LIMIT: ::resilience::__private::RateLimitSite = ::resilience::__private::RateLimitSite::new(
            "llm",
            || ::resilience::RateLimitConfig {
                limit: 90000u32,
                per: ::core::time::Duration::from_nanos(60000000000u64),
                ..::core::default::Default::default()
            },
        );
        ::resilience::__private::known!(__RESILIENCE_RATE_LIMIT.declare);
        let __resilience_limiter = __RESILIENCE_RATE_LIMIT.instance();
        let __resilience_cost: u32 = ::resilience::__private::Cost::units(tokens);
        let __resilience_admitted = __resilience_limiter.check_n(__resilience_cost);
        match __resilience_admitted {
            ::core::result::Result::Ok(__resilience_delay) => {
                if !__resilience_delay.is_zero() {
                    ::resilience::__private::sleep_blocking(__resilience_delay);
                }
            }
            ::core::result::Result::Err(__resilience_limited) => {
                break '__resilience_rate_limit_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(
                        __resilience_limited,
                    ),
                );
            }
        }
        {
            let __resilience_outcome: Result<u64, ApiError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, ApiError> = { load(tokens) };
                __resilience_ret
            };
            match __resilience_outcome {
                ::core::result::Result::Ok(__resilience_value) => {
                    ::core::result::Result::Ok(__resilience_value)
                }
                ::core::result::Result::Err(__resilience_error) => {
                    ::core::result::Result::Err(
                        ::resilience::__private::observed(
                            __resilience_error,
                            ::core::concat!(::core::module_path!(), "::", "complete"),
                            ::resilience::__private::view!(),
                        ),
                    )
                }
            }
        }
    }
}
