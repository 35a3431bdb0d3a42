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
        ::resilience::__private::known!(__RESILIENCE_BULKHEAD.declare);
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
            let __resilience_outcome: Result<u64, DbError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, DbError> = { load(id) };
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
                            ::core::concat!(::core::module_path!(), "::", "query"),
                            ::resilience::__private::view!(),
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
        ::resilience::__private::known!(__RESILIENCE_BULKHEAD.declare);
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
            let __resilience_outcome: Result<u64, DbError> = {
                #[allow(unreachable_code)]
                let __resilience_ret: Result<u64, DbError> = { load(id).await };
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
                            ::core::concat!(::core::module_path!(), "::", "fetch"),
                            ::resilience::__private::view!(),
                        ),
                    )
                }
            }
        };
        ::core::mem::drop(__resilience_place);
        __resilience_outcome
    }
}
