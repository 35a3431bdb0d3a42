//! Tier 3, business logic: a rule of the domain was broken. None is retryable: the same
//! request breaks the same rule until the input or the state changes.

use std::path::PathBuf;

ready_made! {
    /// A task could not be assigned (already taken, no capable agent, blocked).
    ///
    /// Business logic, medium severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::TaskAssignment, Category, MarcusError};
    ///
    /// let err = TaskAssignment::new("task-42 is already assigned")
    ///     .with_task("task-42")
    ///     .with_agent("agent-7");
    /// assert_eq!(err.code(), "TASK_ASSIGNMENT_ERROR");
    /// assert_eq!(err.category(), Category::BusinessLogic);
    /// assert_eq!(err.agent(), Some("agent-7"));
    /// ```
    TaskAssignment: "TASK_ASSIGNMENT_ERROR" marcus(
        category = business_logic, severity = medium, retryable = false,
        remediation(
            immediate = "Check that the task is still unassigned and the agent has the skills it needs",
            fallback = "Leave the task in the queue for another agent",
            long_term = "Match tasks to agents by capability before assigning them",
        )
    ) {
        task / with_task: str(String) = "task-42" => "the task that could not be assigned",
        agent / with_agent: str(String) = "agent-7" => "the agent it was meant for",
    }
}

ready_made! {
    /// A workflow transition that the state machine does not allow.
    ///
    /// Business logic, medium severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::WorkflowViolation, MarcusError};
    ///
    /// let err = WorkflowViolation::new("a task cannot go from todo to done")
    ///     .with_from_state("todo")
    ///     .with_to_state("done");
    /// assert_eq!(err.code(), "WORKFLOW_VIOLATION_ERROR");
    /// assert_eq!(err.from_state(), Some("todo"));
    /// ```
    WorkflowViolation: "WORKFLOW_VIOLATION_ERROR" marcus(
        category = business_logic, severity = medium, retryable = false,
        remediation(
            immediate = "Move the item through the allowed intermediate states",
            long_term = "Check transitions against the workflow before requesting them",
            escalation = "Ask the workflow's owner whether this transition should be allowed",
        )
    ) {
        from_state / with_from_state: str(String) = "todo" => "the state the item was in",
        to_state / with_to_state: str(String) = "done" => "the state it was asked to move to",
    }
}

ready_made! {
    /// Data failed validation.
    ///
    /// Business logic, **low** severity (it was refused before anything changed, so
    /// nothing is degraded), not retryable.
    ///
    /// ```
    /// use resilience::{errors::Validation, MarcusError, Severity};
    ///
    /// let err = Validation::new("email is not an address").with_field("email");
    /// assert_eq!(err.code(), "VALIDATION_ERROR");
    /// assert_eq!(err.severity(), Severity::Low);
    /// assert!(!err.retryable());
    /// ```
    Validation: "VALIDATION_ERROR" marcus(
        category = business_logic, severity = low, retryable = false,
        remediation(
            immediate = "Correct the field named in the message and submit again",
            long_term = "Validate input where it enters the system",
        )
    ) {
        field / with_field: str(String) = "email" => "the field that failed validation",
    }
}

ready_made! {
    /// The state changed under the operation (a concurrent edit, a stale version).
    ///
    /// Business logic, medium severity, **not** retryable as is: repeating the same write
    /// conflicts again; reload the state, then decide.
    ///
    /// ```
    /// use resilience::{errors::StateConflict, MarcusError};
    ///
    /// let err = StateConflict::new("task-42 was modified by another agent")
    ///     .with_resource("task-42");
    /// assert_eq!(err.code(), "STATE_CONFLICT_ERROR");
    /// assert!(!err.retryable());
    /// ```
    StateConflict: "STATE_CONFLICT_ERROR" marcus(
        category = business_logic, severity = medium, retryable = false,
        remediation(
            immediate = "Reload the current state and apply the change to it again",
            fallback = "Keep the local change and merge it once the conflict is resolved",
            long_term = "Guard shared state with optimistic locking (version numbers)",
            escalation = "Ask a person to resolve the conflict when an automatic merge is unsafe",
        )
    ) {
        resource / with_resource: str(String) = "task-42" => "the item whose state conflicted",
    }
}

ready_made! {
    /// A task's own fields are invalid (an empty title, an unknown priority).
    ///
    /// Business logic, **low** severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::TaskValidation, MarcusError};
    ///
    /// let err = TaskValidation::new("priority must be low, medium or high")
    ///     .with_task("task-42")
    ///     .with_field("priority");
    /// assert_eq!(err.code(), "TASK_VALIDATION_ERROR");
    /// assert_eq!(err.field(), Some("priority"));
    /// ```
    TaskValidation: "TASK_VALIDATION_ERROR" marcus(
        category = business_logic, severity = low, retryable = false,
        remediation(
            immediate = "Fix the task field named in the message",
            long_term = "Validate tasks when they are created, not when they are used",
        )
    ) {
        task / with_task: str(String) = "task-42" => "the task that is invalid",
        field / with_field: str(String) = "priority" => "the task field at fault",
    }
}

ready_made! {
    /// The project's root directory could not be found.
    ///
    /// Business logic, medium severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::ProjectRootNotFound, MarcusError};
    /// use std::path::Path;
    ///
    /// let err = ProjectRootNotFound::new("no project root above /tmp/work")
    ///     .with_searched_from("/tmp/work");
    /// assert_eq!(err.code(), "PROJECT_ROOT_NOT_FOUND_ERROR");
    /// assert_eq!(err.searched_from(), Some(Path::new("/tmp/work")));
    /// ```
    ProjectRootNotFound: "PROJECT_ROOT_NOT_FOUND_ERROR" marcus(
        category = business_logic, severity = medium, retryable = false,
        remediation(
            immediate = "Run from inside the project, or name its root explicitly",
            fallback = "Use the current directory as the root when that is safe",
            long_term = "Pass the project root as configuration instead of discovering it",
        )
    ) {
        searched_from / with_searched_from: path(PathBuf) = "/tmp/work" => "the directory the search started from",
    }
}
