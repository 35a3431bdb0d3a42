//! Tier 4, integration: an external service failed or refused. Retryable, except
//! refused credentials.

ready_made! {
    /// A kanban board operation failed.
    ///
    /// Integration, medium severity, retryable.
    ///
    /// ```
    /// use resilience::{errors::KanbanIntegration, Category, MarcusError};
    ///
    /// let err = KanbanIntegration::new("failed to create the task on board Development")
    ///     .with_board("Development")
    ///     .with_operation("create_task");
    /// assert_eq!(err.code(), "KANBAN_INTEGRATION_ERROR");
    /// assert_eq!(err.category(), Category::Integration);
    /// assert!(err.retryable());
    /// assert_eq!(err.operation(), Some("create_task"));
    /// ```
    KanbanIntegration: "KANBAN_INTEGRATION_ERROR" marcus(
        category = integration, severity = medium, retryable,
        remediation(
            immediate = "Retry the board operation with exponential backoff",
            fallback = "Record the change locally and sync it when the board recovers",
            long_term = "Guard the board behind a circuit breaker and keep a local cache",
            escalation = "Check the kanban provider's status; contact its administrator if it persists",
        )
    ) {
        board / with_board: str(String) = "Development" => "the board involved",
        operation / with_operation: str(String) = "create_task" => "the board operation that failed",
    }
}

ready_made! {
    /// An AI provider call failed (an error answer, an unusable completion).
    ///
    /// Integration, medium severity, retryable.
    ///
    /// ```
    /// use resilience::{errors::AiProvider, MarcusError};
    ///
    /// let err = AiProvider::new("the completion was empty")
    ///     .with_provider("local-llm")
    ///     .with_model("large-v2");
    /// assert_eq!(err.code(), "AI_PROVIDER_ERROR");
    /// assert_eq!(err.model(), Some("large-v2"));
    /// ```
    AiProvider: "AI_PROVIDER_ERROR" marcus(
        category = integration, severity = medium, retryable,
        remediation(
            immediate = "Retry the request and check the provider's status",
            fallback = "Use a secondary model or provider, or a rule-based answer",
            long_term = "Configure more than one provider and route by their health",
            escalation = "Contact the provider if errors continue",
        )
    ) {
        provider / with_provider: str(String) = "local-llm" => "the AI provider called",
        model / with_model: str(String) = "large-v2" => "the model asked",
    }
}

ready_made! {
    /// An external service refused the credentials.
    ///
    /// Integration, **high** severity, **not** retryable: the same credentials are refused
    /// again, and repeated failures can lock the account. Absent credentials are
    /// [`MissingCredentials`](crate::errors::MissingCredentials).
    ///
    /// ```
    /// use resilience::{errors::Authentication, MarcusError, Severity};
    ///
    /// let err = Authentication::new("the kanban token was rejected").with_service("kanban");
    /// assert_eq!(err.code(), "AUTHENTICATION_ERROR");
    /// assert_eq!(err.severity(), Severity::High);
    /// assert!(!err.retryable());
    /// ```
    Authentication: "AUTHENTICATION_ERROR" marcus(
        category = integration, severity = high, retryable = false,
        remediation(
            immediate = "Refresh or replace the credentials for this service",
            fallback = "Continue without the integration if its feature allows it",
            long_term = "Rotate credentials before they expire and alert on expiry",
            escalation = "Ask the owner of the service account",
        )
    ) {
        service / with_service: str(String) = "kanban" => "the service that refused the credentials",
    }
}

ready_made! {
    /// Any other external service failed.
    ///
    /// Integration, medium severity, retryable.
    ///
    /// ```
    /// use resilience::{errors::ExternalService, MarcusError};
    ///
    /// let err = ExternalService::new("the search service answered 502")
    ///     .with_service("search")
    ///     .with_status(502);
    /// assert_eq!(err.code(), "EXTERNAL_SERVICE_ERROR");
    /// assert_eq!(err.status(), Some(502));
    /// ```
    ExternalService: "EXTERNAL_SERVICE_ERROR" marcus(
        category = integration, severity = medium, retryable,
        remediation(
            immediate = "Retry with backoff and check the service's status",
            fallback = "Degrade gracefully: serve cached data or queue the work",
            long_term = "Put the service behind a circuit breaker",
            escalation = "Contact the service's owner if it persists",
        )
    ) {
        service / with_service: str(String) = "search" => "the service that failed",
        status / with_status: copy(u16) = 502 => "the status code it answered with",
    }
}
