async fn fetch(id: u64) -> Result<u64, FetchError> {
    {
        let __resilience_limit: ::core::time::Duration = ::core::time::Duration::from_nanos(
            250000000u64,
        );
        match ::resilience::__private::timeout(
                __resilience_limit,
                async {
                    {
                        let __resilience_outcome: Result<u64, FetchError> = {
                            #[allow(unreachable_code)]
                            let __resilience_ret: Result<u64, FetchError> = {
                                load(id).await
                            };
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
                    }
                },
            )
            .await
        {
            ::core::option::Option::Some(__resilience_done) => __resilience_done,
            ::core::option::Option::None => {
                ::resilience::__private::timed_out(
                    ::core::concat!(::core::module_path!(), "::", "fetch"),
                    __resilience_limit,
                )
            }
        }
    }
}
