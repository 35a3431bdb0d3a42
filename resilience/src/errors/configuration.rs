//! Tier 2, configuration: a person must fix a setting. None is retryable (the same
//! settings fail the same way); severity high, since nothing works until it is fixed.

ready_made! {
    /// Credentials an operation needs are absent.
    ///
    /// Configuration, high severity, not retryable. Credentials that are present but
    /// refused are [`Authentication`](crate::errors::Authentication).
    ///
    /// ```
    /// use resilience::{errors::MissingCredentials, Category, MarcusError};
    ///
    /// let err = MissingCredentials::new("no kanban token")
    ///     .with_service("kanban")
    ///     .with_variable("KANBAN_TOKEN");
    /// assert_eq!(err.code(), "MISSING_CREDENTIALS_ERROR");
    /// assert_eq!(err.category(), Category::Configuration);
    /// assert!(!err.retryable());
    /// assert_eq!(err.variable(), Some("KANBAN_TOKEN"));
    /// ```
    MissingCredentials: "MISSING_CREDENTIALS_ERROR" marcus(
        category = configuration, severity = high, retryable = false,
        remediation(
            immediate = "Provide the credentials (environment variable or secret store) and run the operation again",
            fallback = "Run without this integration if its feature can be switched off",
            long_term = "Check for required credentials at start-up so the gap shows before work begins",
            escalation = "Ask the operator who manages secrets for this deployment",
        )
    ) {
        service / with_service: str(String) = "kanban" => "the service the credentials are for",
        variable / with_variable: str(String) = "KANBAN_TOKEN" => "the setting or environment variable that should hold them",
    }
}

ready_made! {
    /// A configuration value is malformed or out of range.
    ///
    /// Configuration, high severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::InvalidConfiguration, MarcusError};
    ///
    /// let err = InvalidConfiguration::new("max_attempts must be at least 1")
    ///     .with_key("retry.max_attempts")
    ///     .with_expected("a positive integer");
    /// assert_eq!(err.code(), "INVALID_CONFIGURATION_ERROR");
    /// assert_eq!(err.key(), Some("retry.max_attempts"));
    /// ```
    InvalidConfiguration: "INVALID_CONFIGURATION_ERROR" marcus(
        category = configuration, severity = high, retryable = false,
        remediation(
            immediate = "Correct the configuration value named in the message",
            fallback = "Use the setting's documented default until it is corrected",
            long_term = "Validate configuration against a schema when it is loaded",
            escalation = "Ask the owner of the configuration",
        )
    ) {
        key / with_key: str(String) = "retry.max_attempts" => "the name of the refused setting",
        expected / with_expected: str(String) = "a positive integer" => "what a valid value looks like",
    }
}

ready_made! {
    /// A required library, program or service is not installed.
    ///
    /// Configuration, high severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::MissingDependency, MarcusError};
    ///
    /// let err = MissingDependency::new("git is not on PATH").with_dependency("git");
    /// assert_eq!(err.code(), "MISSING_DEPENDENCY_ERROR");
    /// assert!(!err.retryable());
    /// ```
    MissingDependency: "MISSING_DEPENDENCY_ERROR" marcus(
        category = configuration, severity = high, retryable = false,
        remediation(
            immediate = "Install the missing dependency or enable the feature that provides it",
            fallback = "Switch off the feature that needs it",
            long_term = "List the dependency in the installation steps and check for it at start-up",
            escalation = "Ask whoever provisions this environment",
        )
    ) {
        dependency / with_dependency: str(String) = "git" => "the dependency that is missing",
    }
}

ready_made! {
    /// The environment is set up wrongly (a variable, a path, a runtime version).
    ///
    /// Configuration, high severity, not retryable.
    ///
    /// ```
    /// use resilience::{errors::Environment, MarcusError, Severity};
    ///
    /// let err = Environment::new("MARCUS_HOME points nowhere").with_variable("MARCUS_HOME");
    /// assert_eq!(err.code(), "ENVIRONMENT_ERROR");
    /// assert_eq!(err.severity(), Severity::High);
    /// ```
    Environment: "ENVIRONMENT_ERROR" marcus(
        category = configuration, severity = high, retryable = false,
        remediation(
            immediate = "Fix the environment setting named in the message",
            fallback = "Pass the setting explicitly instead of relying on the environment",
            long_term = "Document the required environment and check it at start-up",
            escalation = "Ask whoever provisions this environment",
        )
    ) {
        variable / with_variable: str(String) = "MARCUS_HOME" => "the environment variable or setting at fault",
    }
}
