fn fetch(id: u64) -> Result<u64, KanbanError> {
    '__resilience_breaker_0: {
        static __RESILIENCE_BREAKER: ::resilience::__private::BreakerSite = ::resilience::__private::BreakerSite::new(
                "kanban",
                || ::resilience::BreakerConfig {
                    ..::core::default::Default::default()
                },
            )
            .at(::core::concat!(::core::module_path!(), "::", "fetch"))
            .in_registry(|| -> &'static ::resilience::registry::Registry {
                &TEST_REGISTRY
            });
        ::resilience::__private::known!(__RESILIENCE_BREAKER.declare);
        let __resilience_permit = match __RESILIENCE_BREAKER.instance().acquire() {
            ::core::result::Result::Ok(__resilience_permit) => __resilience_permit,
            ::core::result::Result::Err(__resilience_open) => {
                break '__resilience_breaker_0 ::core::result::Result::Err(
                    ::resilience::__private::FromRefusal::from_refusal(__resilience_open),
                );
            }
        };
        let __resilience_outcome: Result<u64, KanbanError> = {
            #[allow(unreachable_code)]
            let __resilience_ret: Result<u64, KanbanError> = { load(id) };
            __resilience_ret
        };
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                __RESILIENCE_BREAKER.succeeded(__resilience_permit);
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                ::core::result::Result::Err(
                    __RESILIENCE_BREAKER
                        .failed(
                            __resilience_permit,
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::BreakerArm {
                                observe: ::resilience::__private::Observe::Record(
                                    ::core::concat!(::core::module_path!(), "::", "fetch"),
                                ),
                                record_if: |_: &_| ::core::option::Option::None,
                            },
                        ),
                )
            }
        }
    }
}
