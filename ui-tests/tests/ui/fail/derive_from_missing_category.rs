use resilience::MarcusError;

// `std::io::Error` is not a `MarcusError`, so the variant needs a category of its own.
#[derive(Debug, thiserror::Error, MarcusError)]
enum FetchError {
    #[error("i/o failed")]
    Io(#[from] std::io::Error),
}

fn main() {}
