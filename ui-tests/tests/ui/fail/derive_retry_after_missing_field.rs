use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("rate limited")]
    #[marcus(retry_after = wait)]
    RateLimited { delay: std::time::Duration },
}

fn main() {}
