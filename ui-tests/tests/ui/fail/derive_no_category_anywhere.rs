use resilience::MarcusError;

// No category on the enum nor on any variant: one error, at the enum.
#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("timed out")]
    Timeout,
    #[error("refused")]
    Refused,
    #[error("gone")]
    Gone,
}

fn main() {}
