async fn fetch_board(agent: &str, id: u64) -> Result<Board, KanbanError> {
    {
        let __resilience_scope = ::resilience::__private::Scope::new("fetch_board");
        let __resilience_outcome: Result<Board, KanbanError> = __resilience_scope
            .run_async(async {
                {
                    #[allow(unreachable_code)]
                    let __resilience_ret: Result<Board, KanbanError> = {
                        load(id).await
                    };
                    __resilience_ret
                }
            })
            .await;
        match __resilience_outcome {
            ::core::result::Result::Ok(__resilience_value) => {
                ::core::result::Result::Ok(__resilience_value)
            }
            ::core::result::Result::Err(__resilience_error) => {
                ::core::result::Result::Err(
                    __resilience_scope
                        .failed(
                            __resilience_error,
                            ::resilience::__private::view!(),
                            ::resilience::__private::ContextArm {
                                observe: ::resilience::__private::Observe::Record(
                                    ::core::concat!(::core::module_path!(), "::", "fetch_board"),
                                ),
                                fill: |__resilience_ctx: &mut ::resilience::ErrorContext| {
                                    __resilience_ctx.agent_id = ::core::option::Option::Some(
                                        ::std::string::ToString::to_string(&(agent)),
                                    );
                                    __resilience_ctx
                                        .custom
                                        .insert(
                                            ::std::string::String::from("board"),
                                            ::resilience::__private::to_json(&(id)),
                                        );
                                },
                            },
                        ),
                )
            }
        }
    }
}
