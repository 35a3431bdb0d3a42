//! Issue 16, item 9: `#[error_context]` on an error with no context slot (a `#[from]`
//! variant) still gives the scope's operation and keys to the error's monitor record.

use resilience::{error_context, monitor, MarcusError};

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum LoadError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[error_context("load_board", agent_id = agent, integration_name = "kanban", board = id)]
fn load(agent: &str, id: u32) -> Result<(), LoadError> {
    let _ = id;
    Err(std::io::Error::other("disk on fire").into())
}

#[test]
fn a_slotless_errors_record_carries_the_scopes_context() {
    assert!(matches!(load("agent-fixes-9", 7), Err(LoadError::Io(_))));
    let record = monitor()
        .history()
        .into_iter()
        .find(|r| r.agent_id.as_deref() == Some("agent-fixes-9"))
        .expect("a record with the scope's agent");
    assert_eq!(record.operation.as_deref(), Some("load_board"));
    assert_eq!(record.integration.as_deref(), Some("kanban"));
    assert!(record.correlation_id.is_some_and(|id| !id.is_empty()));
}
