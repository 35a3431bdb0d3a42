async fn fetch(id: u64) -> Result<u64, FetchError> {
    {
        static __RESILIENCE_HEDGE: ::resilience::__private::HedgeSite = ::resilience::__private::HedgeSite::new(
            ::core::concat!(::core::module_path!(), "::", "fetch"),
            ::core::concat!(::core::module_path!(), "::", "fetch"),
            || ::resilience::HedgeConfig {
                delay: ::core::time::Duration::from_nanos(50000000u64),
                max_hedges: 1u32,
            },
        );
        ::resilience::__private::hedge(
                &__RESILIENCE_HEDGE,
                ::resilience::__private::Observe::Record(
                    ::core::concat!(::core::module_path!(), "::", "fetch"),
                ),
                || async {
                    let __resilience_run: Result<u64, FetchError> = '__resilience_chaos: {
                        if ::resilience::__private::chaos_armed() {
                            #[allow(unused_imports)]
                            use ::resilience::__private::{
                                InjectFrom as _, InjectNone as _,
                            };
                            #[allow(clippy::needless_borrow)]
                            let __resilience_inject = (&&::resilience::__private::InjectProbe::<
                                Result<u64, FetchError>,
                            >::new())
                                .injector();
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
                                    break '__resilience_chaos __resilience_failed;
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
                            let __resilience_ret: Result<u64, FetchError> = {
                                load(id).await
                            };
                            __resilience_ret
                        }
                    };
                    __resilience_run
                },
                |__resilience_e| {
                    #[allow(unused_imports)]
                    use ::resilience::__private::{
                        ViewDyn as _, ViewDynSync as _, ViewError as _, ViewMarcus as _,
                        ViewOpaque as _,
                    };
                    #[allow(clippy::needless_borrow)]
                    let __resilience_view = (&&&&&::resilience::__private::Probe::new(
                        __resilience_e,
                    ))
                        .view();
                    __resilience_view
                },
            )
            .await
    }
}
