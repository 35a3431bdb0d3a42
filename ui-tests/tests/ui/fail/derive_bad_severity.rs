use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("timed out")]
    #[marcus(category = transient, severity = severe)]
    Timeout,
}

fn main() {}
