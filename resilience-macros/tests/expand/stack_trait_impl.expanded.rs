impl Store for RemoteStore {
    async fn load(&self, id: u64) -> Result<Record, StoreError> {
        #[allow(unused_imports)]
        use resilience::timeout as _;
        {
            static __RESILIENCE_RETRY: ::resilience::__private::RetrySite = ::resilience::__private::RetrySite::new(
                    ::core::concat!(::core::module_path!(), "::", "load"),
                    || ::resilience::RetryConfig {
                        max_attempts: 3u32,
                        backoff: ::resilience::retry::Backoff::None,
                        ..::core::default::Default::default()
                    },
                )
                .in_method();
            let __resilience_started = __RESILIENCE_RETRY
                .started_in(|| ::core::any::type_name::<Self>());
            let mut __resilience_attempts: ::core::option::Option<
                ::resilience::__private::Attempts,
            > = ::core::option::Option::None;
            loop {
                let __resilience_delay = {
                    let __resilience_outcome: Result<Record, StoreError> = ::resilience::__private::in_attempt(async {
                            {
                                let __resilience_limit: ::core::time::Duration = ::core::time::Duration::from_nanos(
                                    1000000000u64,
                                );
                                match ::resilience::__private::timeout(
                                        __resilience_limit,
                                        async {
                                            {
                                                let __resilience_outcome: Result<Record, StoreError> = {
                                                    #[allow(unreachable_code)]
                                                    let __resilience_ret: Result<Record, StoreError> = {
                                                        self.fetch(id).await
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
                                                                {
                                                                    static __RESILIENCE_NAME: ::resilience::__private::MethodName = ::resilience::__private::MethodName::new(
                                                                        ::core::concat!(::core::module_path!(), "::", "load"),
                                                                    );
                                                                    __RESILIENCE_NAME.get(|| ::core::any::type_name::<Self>())
                                                                },
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
                                    ::core::option::Option::Some(__resilience_done) => {
                                        __resilience_done
                                    }
                                    ::core::option::Option::None => {
                                        ::resilience::__private::timed_out(
                                            {
                                                static __RESILIENCE_NAME: ::resilience::__private::MethodName = ::resilience::__private::MethodName::new(
                                                    ::core::concat!(::core::module_path!(), "::", "load"),
                                                );
                                                __RESILIENCE_NAME.get(|| ::core::any::type_name::<Self>())
                                            },
                                            __resilience_limit,
                                        )
                                    }
                                }
                            }
                        })
                        .await;
                    let __resilience_error = match ::resilience::__private::Question::branch(
                        __resilience_outcome,
                    ) {
                        ::core::ops::ControlFlow::Continue(__resilience_value) => {
                            __RESILIENCE_RETRY
                                .succeeded(&__resilience_attempts, __resilience_started);
                            break ::core::result::Result::Ok(__resilience_value);
                        }
                        ::core::ops::ControlFlow::Break(__resilience_error) => {
                            __resilience_error
                        }
                    };
                    match __RESILIENCE_RETRY
                        .failed(
                            &mut __resilience_attempts,
                            __resilience_started,
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::RetryArm {
                                observe: ::resilience::__private::Observe::Skip,
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
                ::resilience::__private::sleep(__resilience_delay).await;
            }
        }
    }
}
