use resilience::{ErrorContext, MarcusError};

#[derive(Debug, thiserror::Error, MarcusError)]
#[error("disk full")]
#[marcus(category = system)]
struct DiskFull {
    #[context]
    first: ErrorContext,
    #[context]
    second: ErrorContext,
}

fn main() {}
