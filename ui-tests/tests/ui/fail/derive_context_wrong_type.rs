use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = transient)]
enum FetchError {
    #[error("timed out")]
    Timeout {
        #[context]
        ctx: String,
    },
}

fn main() {}
