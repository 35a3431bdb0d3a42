//! Tier 1, transient: failures that go away by themselves. All are retryable.

use std::time::Duration;

ready_made! {
    /// A network call exceeded its time limit.
    ///
    /// Transient, medium severity, retryable: the next attempt may well be answered in time.
    ///
    /// ```
    /// use resilience::{errors::NetworkTimeout, Category, MarcusError, Severity};
    /// use std::time::Duration;
    ///
    /// let err = NetworkTimeout::new("board sync timed out")
    ///     .with_service("kanban")
    ///     .with_timeout(Duration::from_secs(30));
    /// assert_eq!(err.code(), "NETWORK_TIMEOUT_ERROR");
    /// assert_eq!(err.category(), Category::Transient);
    /// assert_eq!(err.severity(), Severity::Medium);
    /// assert!(err.retryable());
    /// assert_eq!(err.timeout(), Some(Duration::from_secs(30)));
    /// ```
    NetworkTimeout: "NETWORK_TIMEOUT_ERROR" marcus(
        category = transient, severity = medium, retryable,
        remediation(
            immediate = "Retry the call with exponential backoff",
            fallback = "Serve cached data or queue the work until the service answers",
            long_term = "Measure the service's latency and set the timeout above its slow tail",
            escalation = "Tell the service's owner if timeouts persist across retries",
        )
    ) {
        timeout / with_timeout: copy(Duration) = Duration::from_secs(30) => "the time limit the call exceeded",
        service / with_service: str(String) = "kanban" => "the service that did not answer in time",
    }
}

ready_made! {
    /// An external service is temporarily down (an HTTP 503, a maintenance window).
    ///
    /// Transient, medium severity, retryable, after the delay the service asked for when it
    /// gave one ([`with_retry_after`](Self::with_retry_after)).
    ///
    /// ```
    /// use resilience::{errors::ServiceUnavailable, MarcusError};
    /// use std::time::Duration;
    ///
    /// let err = ServiceUnavailable::new("kanban is down for maintenance")
    ///     .with_service("kanban")
    ///     .with_retry_after(Duration::from_secs(60));
    /// assert_eq!(err.code(), "SERVICE_UNAVAILABLE_ERROR");
    /// assert!(err.retryable());
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    /// ```
    ServiceUnavailable: "SERVICE_UNAVAILABLE_ERROR" marcus(
        category = transient, severity = medium, retryable, retry_after = retry_after,
        remediation(
            immediate = "Wait for the service to come back, honouring the delay it asked for",
            fallback = "Degrade: use cached results or a secondary provider",
            long_term = "Put a circuit breaker in front of the service so an outage fails fast",
            escalation = "Check the service's status page; contact its owner if the outage is long",
        )
    ) {
        service / with_service: str(String) = "kanban" => "the service that is unavailable",
        retry_after / with_retry_after: hint(Duration) = Duration::from_secs(60) => "how long the service asked callers to wait",
    }
}

ready_made! {
    /// A rate limit or quota was hit.
    ///
    /// Transient, **low** severity (back-pressure that clears once the window passes, not a
    /// fault), retryable after [`with_retry_after`](Self::with_retry_after)'s delay when the
    /// provider said how long.
    ///
    /// ```
    /// use resilience::{errors::RateLimit, MarcusError, Severity};
    /// use std::time::Duration;
    ///
    /// let err = RateLimit::new("quota exceeded")
    ///     .with_retry_after(Duration::from_secs(30))
    ///     .with_limit(100);
    /// assert_eq!(err.code(), "RATE_LIMIT_ERROR");
    /// assert_eq!(err.severity(), Severity::Low);
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    /// assert_eq!(err.limit(), Some(100));
    /// ```
    RateLimit: "RATE_LIMIT_ERROR" marcus(
        category = transient, severity = low, retryable, retry_after = retry_after,
        remediation(
            immediate = "Pause calls to this service until the rate-limit window resets",
            fallback = "Serve cached results, or batch the pending requests into fewer calls",
            long_term = "Throttle on the client side and spread requests over the window",
            escalation = "Ask the provider for a higher quota if the limit is routinely hit",
        )
    ) {
        retry_after / with_retry_after: hint(Duration) = Duration::from_secs(30) => "how long the provider asked callers to wait",
        limit / with_limit: copy(u64) = 100 => "the request quota that was exceeded",
        service / with_service: str(String) = "ai-provider" => "the service that limited the calls",
    }
}

ready_made! {
    /// A resource is briefly exhausted (a full pool, a held lock, a busy file).
    ///
    /// Transient, medium severity, retryable: the resource frees up as others finish.
    /// Lasting exhaustion is [`ResourceExhaustion`](crate::errors::ResourceExhaustion).
    ///
    /// ```
    /// use resilience::{errors::TemporaryResource, MarcusError};
    ///
    /// let err = TemporaryResource::new("no free database connection")
    ///     .with_resource("connection pool");
    /// assert_eq!(err.code(), "TEMPORARY_RESOURCE_ERROR");
    /// assert!(err.retryable());
    /// assert_eq!(err.resource(), Some("connection pool"));
    /// ```
    TemporaryResource: "TEMPORARY_RESOURCE_ERROR" marcus(
        category = transient, severity = medium, retryable, retry_after = retry_after,
        remediation(
            immediate = "Retry once the resource is released",
            fallback = "Queue the work and process it when capacity frees up",
            long_term = "Size the pool or limit for peak load",
            escalation = "Raise the limit with the resource's owner if waits keep growing",
        )
    ) {
        resource / with_resource: str(String) = "connection pool" => "the resource that was busy",
        retry_after / with_retry_after: hint(Duration) = Duration::from_millis(500) => "how long until the resource is expected to be free",
    }
}
