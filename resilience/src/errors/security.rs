//! Tier 5, security: a security boundary was crossed. Never retryable: asking again
//! does not grant a permission, and repeated attempts look like an attack.

use std::path::PathBuf;

ready_made! {
    /// The caller lacks the permission for an action.
    ///
    /// Security, high severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::Authorization, Category, MarcusError};
    ///
    /// let err = Authorization::new("agent-7 may not delete boards")
    ///     .with_principal("agent-7")
    ///     .with_action("delete_board");
    /// assert_eq!(err.code(), "AUTHORIZATION_ERROR");
    /// assert_eq!(err.category(), Category::Security);
    /// assert_eq!(err.action(), Some("delete_board"));
    /// ```
    Authorization: "AUTHORIZATION_ERROR" marcus(
        category = security, severity = high, retryable = false,
        remediation(
            immediate = "Stop, and check that the caller holds the permission for this action",
            long_term = "Review the role assignments for this action",
            escalation = "Tell the security team if the request was unexpected",
        )
    ) {
        principal / with_principal: str(String) = "agent-7" => "who asked",
        action / with_action: str(String) = "delete_board" => "the action refused",
    }
}

ready_made! {
    /// An operation reached outside its workspace (a path escape, another tenant's data).
    ///
    /// Security, **critical** severity (an isolation breach, not a refusal), not retryable.
    ///
    /// ```
    /// use resilience::{errors::WorkspaceSecurity, MarcusError, Severity};
    /// use std::path::Path;
    ///
    /// let err = WorkspaceSecurity::new("path escapes the workspace")
    ///     .with_path("/etc/passwd");
    /// assert_eq!(err.code(), "WORKSPACE_SECURITY_ERROR");
    /// assert_eq!(err.severity(), Severity::Critical);
    /// assert_eq!(err.path(), Some(Path::new("/etc/passwd")));
    /// ```
    WorkspaceSecurity: "WORKSPACE_SECURITY_ERROR" marcus(
        category = security, severity = critical, retryable = false,
        remediation(
            immediate = "Stop the operation; touch nothing outside the workspace",
            long_term = "Resolve every path and check it against the workspace root before use",
            escalation = "Report the attempted breach to the security team at once",
        )
    ) {
        path / with_path: path(PathBuf) = "/etc/passwd" => "the path outside the workspace",
    }
}

ready_made! {
    /// A file or resource permission was refused by the operating system.
    ///
    /// Security, high severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::Permission, MarcusError};
    ///
    /// let err = Permission::new("cannot write the state file")
    ///     .with_path("/var/lib/marcus/state.db");
    /// assert_eq!(err.code(), "PERMISSION_ERROR");
    /// assert!(!err.retryable());
    /// ```
    Permission: "PERMISSION_ERROR" marcus(
        category = security, severity = high, retryable = false,
        remediation(
            immediate = "Check the file's owner and mode against the user the process runs as",
            fallback = "Use a location the process is allowed to write",
            long_term = "Set file permissions as part of deployment",
            escalation = "Ask the system administrator",
        )
    ) {
        path / with_path: path(PathBuf) = "/var/lib/marcus/state.db" => "the file or resource refused",
    }
}
