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
        ::resilience::__private::known!(__RESILIENCE_HEDGE.declare);
        ::resilience::__private::hedge(
                &__RESILIENCE_HEDGE,
                ::resilience::__private::Observe::Record(
                    ::core::concat!(::core::module_path!(), "::", "fetch"),
                ),
                || async {
                    let __resilience_run: Result<u64, FetchError> = {
                        #[allow(unreachable_code)]
                        let __resilience_ret: Result<u64, FetchError> = {
                            load(id).await
                        };
                        __resilience_ret
                    };
                    __resilience_run
                },
                ::resilience::__private::view!(),
            )
            .await
    }
}
