use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("timed out")]
    #[marcus(category = transient, severity = low, category = system)]
    Timeout,
}

fn main() {}
