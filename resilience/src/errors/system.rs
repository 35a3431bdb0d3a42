//! Tier 6, system: infrastructure failed. Not retryable: retrying into a failing
//! foundation adds load without fixing it.

ready_made! {
    /// A system resource is used up (memory, disk, file handles) and will not free itself.
    ///
    /// System, critical severity, not retryable. A briefly busy resource is
    /// [`TemporaryResource`](crate::errors::TemporaryResource).
    ///
    /// ```
    /// use resilience::{errors::ResourceExhaustion, Category, MarcusError, Severity};
    ///
    /// let err = ResourceExhaustion::new("the disk is full").with_resource("disk");
    /// assert_eq!(err.code(), "RESOURCE_EXHAUSTION_ERROR");
    /// assert_eq!(err.category(), Category::System);
    /// assert_eq!(err.severity(), Severity::Critical);
    /// ```
    ResourceExhaustion: "RESOURCE_EXHAUSTION_ERROR" marcus(
        category = system, severity = critical, retryable = false,
        remediation(
            immediate = "Free the resource (close handles, shed load) before continuing",
            fallback = "Refuse new work until usage drops",
            long_term = "Add capacity and alert well before the limit",
            escalation = "Page the on-call engineer",
        )
    ) {
        resource / with_resource: str(String) = "disk" => "the resource used up",
    }
}

ready_made! {
    /// Stored or in-memory data is corrupted.
    ///
    /// System, critical severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::CorruptedState, MarcusError};
    ///
    /// let err = CorruptedState::new("the task index checksum does not match")
    ///     .with_resource("task_index");
    /// assert_eq!(err.code(), "CORRUPTED_STATE_ERROR");
    /// assert!(!err.retryable());
    /// ```
    CorruptedState: "CORRUPTED_STATE_ERROR" marcus(
        category = system, severity = critical, retryable = false,
        remediation(
            immediate = "Stop writing to the corrupted data and keep a copy for diagnosis",
            fallback = "Restore from the last known good backup",
            long_term = "Checksum stored state and write it atomically",
            escalation = "Page the on-call engineer",
        )
    ) {
        resource / with_resource: str(String) = "task_index" => "the data found corrupted",
    }
}

ready_made! {
    /// A database operation failed.
    ///
    /// System, **high** severity (one operation failed; the database may be fine),
    /// **not** retryable: repeating a write whose outcome is unknown may apply it twice.
    /// Give your own error type `retryable` for operations you know are idempotent.
    ///
    /// ```
    /// use resilience::{errors::Database, MarcusError, Severity};
    ///
    /// let err = Database::new("insert failed: connection lost").with_operation("insert task");
    /// assert_eq!(err.code(), "DATABASE_ERROR");
    /// assert_eq!(err.severity(), Severity::High);
    /// assert_eq!(err.operation(), Some("insert task"));
    /// ```
    Database: "DATABASE_ERROR" marcus(
        category = system, severity = high, retryable = false,
        remediation(
            immediate = "Check the database's health and the connection settings",
            fallback = "Serve read-only or cached data",
            long_term = "Make writes idempotent so they can be retried safely",
            escalation = "Page the database owner if the database is down",
        )
    ) {
        operation / with_operation: str(String) = "insert task" => "the database operation that failed",
    }
}

ready_made! {
    /// A component the system cannot run without has failed.
    ///
    /// System, critical severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::CriticalDependency, MarcusError};
    ///
    /// let err = CriticalDependency::new("the message broker is gone")
    ///     .with_dependency("message broker");
    /// assert_eq!(err.code(), "CRITICAL_DEPENDENCY_ERROR");
    /// assert_eq!(err.dependency(), Some("message broker"));
    /// ```
    CriticalDependency: "CRITICAL_DEPENDENCY_ERROR" marcus(
        category = system, severity = critical, retryable = false,
        remediation(
            immediate = "Restore the failed component; operations that need it cannot proceed",
            fallback = "Enter degraded mode and switch off the features that need it",
            long_term = "Make the component redundant",
            escalation = "Page the on-call engineer",
        )
    ) {
        dependency / with_dependency: str(String) = "message broker" => "the component that failed",
    }
}
