use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("rate limited")]
    #[marcus(retry_after = wait)]
    RateLimited { wait: u64 },
}

fn main() {}
