async fn search(query: &str) -> Result<u64, SearchError> {
    {
        static __RESILIENCE_HEDGE: ::resilience::__private::HedgeSite = ::resilience::__private::HedgeSite::new(
            "search",
            ::core::concat!(::core::module_path!(), "::", "search"),
            || ::resilience::HedgeConfig {
                delay: ::core::time::Duration::from_nanos(50000000u64),
                max_hedges: 2u32,
            },
        );
        ::resilience::__private::known!(__RESILIENCE_HEDGE.declare);
        ::resilience::__private::hedge(
                &__RESILIENCE_HEDGE,
                ::resilience::__private::Observe::Record(
                    ::core::concat!(::core::module_path!(), "::", "search"),
                ),
                || async {
                    let __resilience_run: Result<u64, SearchError> = '__resilience_chaos_0: {
                        static __RESILIENCE_CHAOS: ::resilience::__private::ChaosSite = ::resilience::__private::ChaosSite::function(
                            ::core::concat!(::core::module_path!(), "::", "search"),
                        );
                        let __resilience_delay = match __RESILIENCE_HEDGE
                            .chaos()
                            .draw_with(
                                &__RESILIENCE_CHAOS,
                                ::resilience::__private::inject!(
                                    Result < u64, SearchError >
                                ),
                            )
                        {
                            ::core::result::Result::Ok(__resilience_delay) => {
                                __resilience_delay
                            }
                            ::core::result::Result::Err(__resilience_failed) => {
                                break '__resilience_chaos_0 __resilience_failed;
                            }
                        };
                        if !__resilience_delay.is_zero() {
                            ::resilience::__private::sleep(__resilience_delay).await;
                        }
                        {
                            #[allow(unreachable_code)]
                            let __resilience_ret: Result<u64, SearchError> = {
                                lookup(query).await
                            };
                            __resilience_ret
                        }
                    };
                    __resilience_run
                },
                ::resilience::__private::view!(),
            )
            .await
    }
}
