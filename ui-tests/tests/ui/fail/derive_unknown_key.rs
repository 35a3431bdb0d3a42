use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("timed out")]
    #[marcus(colour = red)]
    Timeout,
}

fn main() {}
