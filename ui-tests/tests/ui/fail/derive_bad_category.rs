use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("timed out")]
    #[marcus(category = temporary)]
    Timeout,
}

fn main() {}
