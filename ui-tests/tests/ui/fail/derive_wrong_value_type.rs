use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("timed out")]
    #[marcus(retryable = "yes")]
    Timeout,
}

fn main() {}
