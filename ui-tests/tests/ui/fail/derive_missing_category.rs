use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("timed out")]
    #[marcus(category = transient)]
    Timeout,
    #[error("refused")]
    Refused,
}

fn main() {}
