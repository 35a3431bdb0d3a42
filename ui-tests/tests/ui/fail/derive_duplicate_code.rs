use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("timed out")]
    #[marcus(code = "FETCH_FAILED")]
    Timeout,
    #[error("refused")]
    #[marcus(code = "FETCH_FAILED")]
    Refused,
}

fn main() {}
