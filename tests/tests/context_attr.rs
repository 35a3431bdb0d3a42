//! `#[error_context]` as a user writes it: filling the error's context, nesting scopes,
//! and correlation across `.await` on a multi-threaded runtime.

use resilience::{error_context, retry, ErrorContext, MarcusError};
use serde::Serialize;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = integration)]
enum SyncError {
    #[error("board unreachable")]
    Unreachable {
        #[context]
        ctx: Box<ErrorContext>,
    },
    #[error("no context here")]
    Bare,
}

fn unreachable() -> SyncError {
    SyncError::Unreachable {
        ctx: Box::new(ErrorContext::new()),
    }
}

#[derive(Serialize)]
struct Board {
    id: u64,
    name: &'static str,
}

#[error_context("sync_board", agent_id = agent, task_id = format!("task-{task}"), integration_name = "planka", board = Board { id: 7, name: "dev" }, priority = 3)]
fn sync_board(agent: &str, task: u32) -> Result<(), SyncError> {
    Err(unreachable())
}

#[test]
fn fills_operation_fields_and_custom_values() {
    let err = sync_board("agent-1", 42).unwrap_err();
    let ctx = err.context().expect("the variant has a context");
    assert_eq!(ctx.operation, "sync_board");
    assert_eq!(ctx.agent_id.as_deref(), Some("agent-1"));
    assert_eq!(ctx.task_id.as_deref(), Some("task-42"));
    assert_eq!(ctx.integration_name.as_deref(), Some("planka"));
    assert_eq!(
        ctx.custom["board"],
        serde_json::json!({"id": 7, "name": "dev"})
    );
    assert_eq!(ctx.custom["priority"], serde_json::json!(3));
}

#[error_context("inner_op")]
fn inner(fail_bare: bool) -> Result<(), SyncError> {
    if fail_bare {
        Err(SyncError::Bare)
    } else {
        let mut e = unreachable();
        if let Some(ctx) = e.context_mut() {
            ctx.operation = "set_by_the_body".into();
        }
        Err(e)
    }
}

#[error_context("outer_op", agent_id = "agent-9")]
fn outer(fail_bare: bool) -> Result<(), SyncError> {
    inner(fail_bare)
}

#[test]
fn an_operation_already_set_is_kept_and_outer_scopes_add_their_fields() {
    let err = outer(false).unwrap_err();
    let ctx = err.context().unwrap();
    assert_eq!(ctx.operation, "set_by_the_body");
    assert_eq!(ctx.agent_id.as_deref(), Some("agent-9"));
    // An error without a context slot passes through untouched.
    assert!(matches!(outer(true), Err(SyncError::Bare)));
}

#[error_context("leaf")]
async fn leaf(i: u32) -> Result<String, SyncError> {
    let seen = resilience::context::current().expect("inside a scope");
    tokio::task::yield_now().await;
    let again = resilience::context::current().expect("still inside after await");
    assert_eq!(seen.correlation_id, again.correlation_id);
    if i.is_multiple_of(2) {
        Err(unreachable())
    } else {
        Ok(seen.correlation_id)
    }
}

#[error_context("root")]
async fn root(i: u32) -> Result<(String, Vec<String>), SyncError> {
    let mine = resilience::context::current().unwrap().correlation_id;
    let mut ids = Vec::new();
    for k in 0..4 {
        tokio::task::yield_now().await;
        match leaf(i * 10 + k).await {
            Ok(id) => ids.push(id),
            Err(e) => ids.push(e.context().unwrap().correlation_id.clone()),
        }
    }
    Ok((mine, ids))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_scopes_share_the_outer_correlation_id_across_await_and_threads() {
    let tasks: Vec<_> = (0..16).map(|i| tokio::spawn(root(i))).collect();
    let mut roots = std::collections::HashSet::new();
    for task in tasks {
        let (mine, ids) = task.await.unwrap().unwrap();
        assert!(
            ids.iter().all(|id| *id == mine),
            "every error in one scope shares its id"
        );
        assert!(roots.insert(mine), "concurrent scopes never share an id");
    }
    assert!(resilience::context::current().is_none());
}

#[retry(max_attempts = 2, backoff = none)]
#[error_context("retried")]
fn retried() -> Result<(), SyncError> {
    Err(unreachable())
}

#[test]
fn context_inside_a_retry_records_the_attempts() {
    let err = retried().unwrap_err();
    let ctx = err.context().unwrap();
    assert_eq!(ctx.operation, "retried");
    assert_eq!(ctx.attempt, 2);
}

fn note_correlation(error: &SyncError, _attempt: u32, _delay: std::time::Duration) {
    let id = error.context().expect("a context").correlation_id.clone();
    SEEN_IDS.lock().unwrap().push(id);
}

static SEEN_IDS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

#[retry(max_attempts = 3, backoff = none, on_retry = note_correlation)]
#[error_context("retried_thrice")]
fn retried_thrice() -> Result<(), SyncError> {
    Err(unreachable())
}

#[test]
fn a_call_keeps_one_correlation_id_across_its_retry_attempts() {
    // Each attempt opens its own `#[error_context]` scope; the call is still one story.
    let err = retried_thrice().unwrap_err();
    let last = err.context().unwrap().correlation_id.clone();
    let seen = SEEN_IDS.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "two retries: {seen:?}");
    assert_eq!(seen, [last.clone(), last.clone()]);
    assert_eq!(err.context().unwrap().attempt, 3);
    // And the next call is another story, with an id of its own.
    SEEN_IDS.lock().unwrap().clear();
    let again = retried_thrice().unwrap_err();
    assert_ne!(again.context().unwrap().correlation_id, last);
}
