fn fetch(id: u64) -> Result<u64, FetchError> {
    {
        static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::new(
            ::core::concat!(::core::module_path!(), "::", "fetch"),
            || ::resilience::RetryConfig {
                max_attempts: 3u32,
                backoff: ::resilience::retry::Backoff::Exponential {
                    base: ::core::time::Duration::from_nanos(100000000u64),
                    factor: 2f64,
                    max: ::core::time::Duration::from_nanos(5000000000u64),
                },
                ..::core::default::Default::default()
            },
        );
        let __resilience_started = __RESILIENCE_RETRY.started();
        let mut __resilience_attempts: ::core::option::Option<
            ::resilience::__private::Attempts,
        > = ::core::option::Option::None;
        loop {
            let __resilience_delay = {
                let __resilience_outcome: Result<u64, FetchError> = {
                    let __resilience_mark = ::resilience::__private::AttemptMark::enter();
                    {
                        #[allow(unreachable_code)]
                        let __resilience_ret: Result<u64, FetchError> = { load(id) };
                        __resilience_ret
                    }
                };
                let __resilience_error = match __resilience_outcome {
                    ::core::result::Result::Ok(__resilience_value) => {
                        __RESILIENCE_RETRY
                            .succeeded(&__resilience_attempts, __resilience_started);
                        break ::core::result::Result::Ok(__resilience_value);
                    }
                    ::core::result::Result::Err(__resilience_error) => __resilience_error,
                };
                match __RESILIENCE_RETRY
                    .failed(
                        &mut __resilience_attempts,
                        __resilience_started,
                        __resilience_error,
                        ::resilience::__private::view!(),
                        ::resilience::__private::RetryArm {
                            observe: ::resilience::__private::Observe::Record(
                                ::core::concat!(::core::module_path!(), "::", "fetch"),
                            ),
                            retry_if: |_: &_| ::core::option::Option::None,
                            on_retry: |_: &_, _, _| {},
                        },
                    )
                {
                    ::core::ops::ControlFlow::Break(__resilience_error) => {
                        break ::core::result::Result::Err(__resilience_error);
                    }
                    ::core::ops::ControlFlow::Continue(__resilience_delay) => {
                        __resilience_delay
                    }
                }
            };
            ::resilience::__private::sleep_blocking(__resilience_delay);
        }
    }
}
