fn recommend(user: u64) -> Result<Vec<u64>, RecoError> {
    {
        static __RESILIENCE_FEATURE: ::resilience::__private::FeatureSite = ::resilience::__private::FeatureSite::new(
            "recommendations",
        );
        match __RESILIENCE_FEATURE.fallback_if_disabled() {
            ::core::option::Option::Some(__resilience_value) => {
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::option::Option::None => {
                let __resilience_outcome: Result<Vec<u64>, RecoError> = {
                    #[allow(unreachable_code)]
                    let __resilience_ret: Result<Vec<u64>, RecoError> = { model(user) };
                    __resilience_ret
                };
                match __resilience_outcome {
                    ::core::result::Result::Ok(__resilience_value) => {
                        __RESILIENCE_FEATURE.succeeded();
                        ::core::result::Result::Ok(__resilience_value)
                    }
                    ::core::result::Result::Err(__resilience_error) => {
                        __RESILIENCE_FEATURE
                            .failed(
                                __resilience_error,
                                ::resilience::__private::view!(),
                                ::resilience::__private::FeatureArm {
                                    observe: ::resilience::__private::Observe::Record(
                                        ::core::concat!(::core::module_path!(), "::", "recommend"),
                                    ),
                                },
                            )
                    }
                }
            }
        }
    }
}
