fn price(item: &str) -> Result<u32, PriceError> {
    {
        static __RESILIENCE_LAST_GOOD: ::resilience::__private::LastGood = ::resilience::__private::LastGood::new();
        match {
            #[allow(unreachable_code)]
            let __resilience_ret: Result<u32, PriceError> = { live_price(item) };
            __resilience_ret
        } {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_LAST_GOOD.store(&__resilience_value);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(mut __resilience_error) => {
                match {
                    let __resilience_failed = ::resilience::__private::calls_made(
                        &mut __resilience_error,
                        ::resilience::__private::view!(),
                    );
                    ::resilience::__private::answered_by_fallback(
                        ::core::concat!(::core::module_path!(), "::", "price"),
                        __resilience_failed,
                        {
                            ::resilience::__private::observed(
                                __resilience_error,
                                ::core::concat!(::core::module_path!(), "::", "price"),
                                ::resilience::__private::view!(),
                            );
                            {
                                ::resilience::__private::fallback_taken(
                                    ::core::concat!(::core::module_path!(), "::", "price"),
                                    "from_replica",
                                    0usize,
                                );
                                match from_replica(item) {
                                    ::core::result::Result::Err(__resilience_error) => {
                                        ::resilience::__private::fallback_taken(
                                            ::core::concat!(::core::module_path!(), "::", "price"),
                                            "from_disk",
                                            1usize,
                                        );
                                        from_disk(item)
                                    }
                                    __resilience_ok => __resilience_ok,
                                }
                            }
                        },
                    )
                } {
                    ::core::result::Result::Err(__resilience_error) => {
                        match __RESILIENCE_LAST_GOOD.load() {
                            ::core::option::Option::Some(__resilience_value) => {
                                ::resilience::__private::fallback_taken(
                                    ::core::concat!(::core::module_path!(), "::", "price"),
                                    "cached",
                                    2usize,
                                );
                                ::core::result::Result::Ok(__resilience_value)
                            }
                            ::core::option::Option::None => {
                                ::core::result::Result::Err(__resilience_error)
                            }
                        }
                    }
                    __resilience_ok => __resilience_ok,
                }
            }
        }
    }
}
async fn quote(item: &str) -> Result<u32, PriceError> {
    match {
        #[allow(unreachable_code)]
        let __resilience_ret: Result<u32, PriceError> = { live_quote(item).await };
        __resilience_ret
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
                ::core::concat!(::core::module_path!(), "::", "quote"),
                __resilience_failed,
                {
                    let __resilience_error = ::resilience::__private::observed(
                        __resilience_error,
                        ::core::concat!(::core::module_path!(), "::", "quote"),
                        ::resilience::__private::view!(),
                    );
                    {
                        ::resilience::__private::fallback_taken(
                            ::core::concat!(::core::module_path!(), "::", "quote"),
                            "explain",
                            0usize,
                        );
                        explain(item, __resilience_error).await
                    }
                },
            )
        }
    }
}
