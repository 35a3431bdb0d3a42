use resilience::MarcusError;

#[derive(Debug, thiserror::Error, MarcusError)]
#[marcus(category = system, code = "STORAGE")]
enum Storage {
    #[error("disk full")]
    Full,
}

fn main() {}
